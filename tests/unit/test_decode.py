"""Decoding of tensors and legacy values (event-format §3.3, §4.0) and the batch framing paths."""

from __future__ import annotations

import numpy as np
import pytest

from logger._pb import event_pb2, summary_pb2, tensor_pb2
from logger.records import frame, masked_crc_rows
from vizboard.data import decode as dec
from vizboard.data.fast_scalars import fast_scalars, length_groups
from vizboard.data.models import Kind
from vizboard.data.reader import frame_chunk


def shape(*dims):
    from logger._pb import tensor_shape_pb2

    return tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])


def test_single_element_is_broadcast_and_content_wins():
    t = tensor_pb2.TensorProto(dtype=1, tensor_shape=shape(2, 3), float_val=[2.5])
    assert dec.make_ndarray(t).tolist() == [[2.5] * 3] * 2
    t = tensor_pb2.TensorProto(dtype=2, tensor_shape=shape(2), double_val=[9.0],
                               tensor_content=np.array([1.0, 2.0]).tobytes())
    assert dec.make_ndarray(t).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype,field,raw,want", [
    (19, "half_val", [int(np.float16(0.1).view(np.uint16))], float(np.float16(0.1))),
    (14, "half_val", [0x3FC0], 1.5),  # bfloat16 1.5
    (3, "int_val", [-5], -5.0),
    (9, "int64_val", [2**40], float(2**40)),
    (23, "uint64_val", [2**63], float(2**63)),
    (10, "bool_val", [True], 1.0),
])
def test_scalar_dtypes(dtype, field, raw, want):
    v = summary_pb2.Summary.Value(tag="x", tensor=tensor_pb2.TensorProto(dtype=dtype, **{field: raw}))
    assert dec.decode_value(v, dec.SeriesMeta(Kind.SCALARS, "scalars")).value == want


def test_bad_values_raise_decode_error():
    meta = dec.SeriesMeta(Kind.SCALARS, "scalars")
    v = summary_pb2.Summary.Value(tag="x", tensor=tensor_pb2.TensorProto(dtype=1, tensor_shape=shape(3),
                                                                          float_val=[1, 2]))
    with pytest.raises(dec.DecodeError):
        dec.decode_value(v, meta)
    with pytest.raises(dec.DecodeError):
        dec.decode_value(summary_pb2.Summary.Value(tag="x", tensor=tensor_pb2.TensorProto(dtype=1234)), meta)
    bad_pr = summary_pb2.Summary.Value(tag="p", tensor=tensor_pb2.TensorProto(dtype=1, tensor_shape=shape(5, 2),
                                                                             float_val=[0.0]))
    with pytest.raises(dec.DecodeError):
        dec.decode_value(bad_pr, dec.SeriesMeta(Kind.PR_CURVES, "pr_curves"))


def test_legacy_histogram_drops_empty_end_buckets():
    h = summary_pb2.HistogramProto(min=-1.0, max=3.0, num=5, sum=4.0, bucket_limit=[-2, 0, 1, 2, 5, 9],
                                   bucket=[0, 2, 0, 3, 0, 0])
    out = dec.decode_value(summary_pb2.Summary.Value(tag="h", histo=h), dec.SeriesMeta(Kind.HISTOGRAMS, "histograms"))
    assert out.left.tolist() == [-1.0, 0.0, 1.0] and out.right.tolist() == [0.0, 1.0, 3.0]
    assert out.count.tolist() == [2, 0, 3] and (out.minimum, out.maximum, out.num, out.total) == (-1, 3, 5, 4)
    empty = summary_pb2.HistogramProto(bucket_limit=[1.0], bucket=[0.0])
    out = dec.decode_value(summary_pb2.Summary.Value(tag="h", histo=empty), dec.SeriesMeta(Kind.HISTOGRAMS, "h"))
    assert out.left.size == 0


def test_metadata_first_value_and_unknown_plugin():
    md = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="mystery"))
    v = summary_pb2.Summary.Value(tag="x", metadata=md, tensor=tensor_pb2.TensorProto(dtype=1, float_val=[1]))
    meta = dec.metadata_of(v)
    assert meta.kind is Kind.OTHER and meta.plugin == "mystery"
    assert isinstance(dec.decode_value(v, meta), dec.OtherValue)
    assert dec.metadata_of(summary_pb2.Summary.Value(tag="x", simple_value=1.0)) is None
    assert dec.inferred_metadata(summary_pb2.Summary.Value(tag="x", simple_value=1.0)).kind is Kind.SCALARS


def _records(n, tag=lambda i: f"t{i % 3}", step=lambda i: i, wall=lambda i: 1.7e9 + i):
    out = []
    for i in range(n):
        e = event_pb2.Event(wall_time=wall(i), step=step(i))
        e.summary.value.add(tag=tag(i), simple_value=i * 0.25)
        out.append(e.SerializeToString())
    return out


def test_crc_rows_matches_reference():
    rng = np.random.default_rng(1)
    mat = rng.integers(0, 256, size=(50, 37), dtype=np.uint8)
    from logger.records import masked_crc32c

    assert masked_crc_rows(mat).tolist() == [masked_crc32c(bytes(r)) for r in mat]


def test_fast_path_equals_protobuf_decode():
    payloads = _records(500, step=lambda i: i * 37 - 100)  # negative steps: 10-byte varints
    data = b"".join(frame(p) for p in payloads)
    chunk, consumed = frame_chunk("f", data, 0)
    assert consumed == len(data) and len(chunk) == 500
    got = {}
    for rows, mat in length_groups(chunk, np.arange(len(chunk))):
        if mat is None:
            continue
        fs = fast_scalars(mat)
        for k, r in enumerate(rows[fs.rows]):
            got[int(r)] = (fs.tags[fs.tag_index[k]], int(fs.step[k]), float(fs.wall_time[k]), float(fs.value[k]))
    assert len(got) > 400
    for r, val in got.items():
        e = event_pb2.Event.FromString(payloads[r])
        assert val == (e.summary.value[0].tag, e.step, e.wall_time, float(np.float32(e.summary.value[0].simple_value)))


def test_torn_tail_not_consumed():
    data = b"".join(frame(p) for p in _records(5))
    cut = len(data) - 7
    chunk, consumed = frame_chunk("f", data[:cut], 0)
    assert len(chunk) == 4 and consumed < cut and chunk.damage == []


def _tensor_event(i, tag, form):
    e = event_pb2.Event(wall_time=1.7e9 + i, step=i)
    v = e.summary.value.add(tag=tag)
    if form == "float":
        v.tensor.dtype = 1
        v.tensor.float_val.append(i * 0.5)
    elif form == "float_rank0":
        v.tensor.dtype = 1
        v.tensor.tensor_shape.SetInParent()
        v.tensor.float_val.append(i * 0.5)
    elif form == "double":
        v.tensor.dtype = 2
        v.tensor.double_val.append(i * 0.1)
    else:
        v.simple_value = i * 0.5
    if i < 10 or i % 2 == 0:  # metadata on the first values of each tag, then on some
        v.metadata.plugin_data.plugin_name = "tensor" if tag.startswith("raw") else "scalars"
    return e.SerializeToString()


def test_fast_path_tensor_forms_and_metadata(tmp_path):
    from vizboard.data import load

    forms = ["float", "float_rank0", "double", "simple"]
    payloads = [_tensor_event(i, f"{'raw' if i % 5 == 0 else 's'}_{f}", f) for i in range(400) for f in forms]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "events.out.tfevents.1.h").write_bytes(b"".join(frame(p) for p in payloads))
    store = load(str(tmp_path))
    want: dict[str, list] = {}
    for p in payloads:
        e = event_pb2.Event.FromString(p)
        v = e.summary.value[0]
        x = v.simple_value if v.WhichOneof("value") == "simple_value" else dec.make_ndarray(v.tensor).item()
        want.setdefault(v.tag, []).append((e.step, float(x)))
    for tag, pts in want.items():
        kind = {t.tag: t.kind for t in store.tags()}[tag]
        if tag.startswith("raw") and not tag.endswith("simple"):
            assert kind is Kind.OTHER, tag  # plugin "tensor": not a scalar even though it looks like one
            continue
        s = store.scalars("r", tag)
        assert kind is Kind.SCALARS and list(zip(s.step.tolist(), s.value.tolist())) == pts, tag
    assert store.problems() == []


def test_simple_value_is_a_scalar_whatever_plugin_it_claims():
    # Found by the fast-path property test: the protobuf path reported bad_value where the fast
    # path (and TensorBoard's data_compat, which migrates every simple_value) reads a scalar.
    v = summary_pb2.Summary.Value(tag="x", simple_value=2.5)
    v.metadata.plugin_data.plugin_name = "histograms"
    v.metadata.display_name = "shown"
    meta = dec.metadata_of(v)
    assert meta is not None and meta.kind is Kind.SCALARS and meta.plugin == "scalars"
    assert meta.display_name == "shown"
    assert dec.decode_value(v, meta).value == 2.5
