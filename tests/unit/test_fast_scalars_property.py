"""Property: the vectorised scalar decoder gives exactly the Store the plain protobuf path gives."""

from __future__ import annotations

import math
import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logger._pb import event_pb2, summary_pb2
from logger.records import frame
from vizboard.data.apply import ChunkApplier
from vizboard.data.reader import frame_chunk
from vizboard.data.store import Store

FORMS = ("simple", "float_val", "float_rank0", "double_val", "double_rank0", "content_f32", "int_val", "histo")
PLUGINS = (None, "scalars", "histograms", "text")


def _fields(data: bytes) -> list[bytes]:
    """Split a serialized message into its top-level fields (key + value bytes each)."""
    out, pos = [], 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            n, pos = _varint(data, pos)
            pos += n
        else:
            raise AssertionError(wire)
        out.append(data[start:pos])
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, pos


def _lenfield(key: int, body: bytes) -> bytes:
    n, out = len(body), bytearray([key])
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + body


def _value(tag: str, form: str, plugin: str | None, x: float) -> summary_pb2.Summary.Value:
    v = summary_pb2.Summary.Value(tag=tag)
    if plugin is not None:
        v.metadata.plugin_data.plugin_name = plugin
    if form == "simple":
        v.simple_value = x
    elif form == "histo":
        v.histo.min, v.histo.max, v.histo.num = x, x + 1, 3
        v.histo.bucket_limit.extend([x, x + 1])
        v.histo.bucket.extend([1, 2])
    else:
        t = v.tensor
        if form in ("float_val", "float_rank0", "content_f32"):
            t.dtype = 1
        elif form == "int_val":
            t.dtype = 3
        else:
            t.dtype = 2
        if form.endswith("rank0"):
            t.tensor_shape.SetInParent()
        if form.startswith("float"):
            t.float_val.append(x)
        elif form.startswith("double"):
            t.double_val.append(x)
        elif form == "int_val":
            t.int_val.append(int(max(-2**31, min(2**31 - 1, x))) if math.isfinite(x) else 0)
        else:
            t.tensor_content = struct.pack("<f", x)
    return v


def _event(step: int, wall: float, values: list[summary_pb2.Summary.Value], orders: tuple[int, int]) -> bytes:
    """Serialize an Event, optionally with top-level and Value fields in unusual orders."""
    e = event_pb2.Event(wall_time=wall, step=step)
    e.summary.value.extend(values)
    event_order, value_order = orders
    if event_order == 0 and value_order == 0:
        return e.SerializeToString()
    vals = []
    for v in values:
        f = _fields(v.SerializeToString())
        vals.append(_lenfield(0x0A, b"".join(f[::-1] if value_order else f)))
    summary = _lenfield(0x2A, b"".join(vals))
    head = _fields(event_pb2.Event(wall_time=wall, step=step).SerializeToString())
    parts = [*head, summary]
    return b"".join(parts[::-1] if event_order else parts)


def _store_from(payloads: list[bytes], accelerate: bool) -> Store:
    data = b"".join(frame(p) for p in payloads)
    chunk, consumed = frame_chunk("events.out.tfevents.1", data, 0)
    assert consumed == len(data) and len(chunk) == len(payloads)
    store = Store("/nonexistent-logdir-for-test")
    ChunkApplier(store, accelerate=accelerate).apply("run", chunk)
    return store


def _contents(store: Store) -> dict[str, object]:
    out: dict[str, object] = {}
    for info in store.tags():
        s = store.scalars(info.run, info.tag)
        series = None if s is None else (s.step.tolist(), s.wall_time.tolist(),
                                         [repr(float(x)) for x in s.value])
        out[info.tag] = (info.kind, info.plugin, info.num_points, series)
    out["problems"] = sorted((p.kind, p.offset) for p in store.problems())
    return out


values = st.one_of(st.floats(width=32, allow_nan=True), st.sampled_from([0.0, -0.0, 1e30, -1e-30, math.inf]))
tag_specs = st.lists(
    st.tuples(st.text(min_size=1, max_size=12), st.sampled_from(FORMS), st.sampled_from(PLUGINS),
              st.booleans()),  # metadata on every value, or only on the first
    min_size=1, max_size=3, unique_by=lambda t: t[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tags=tag_specs, n=st.integers(16, 40), per_event=st.integers(1, 2),
       step0=st.sampled_from([0, 1, 120, 5000, 2**40, -7]), orders=st.tuples(st.integers(0, 1), st.integers(0, 1)),
       data=st.data())
def test_fast_path_equals_protobuf_path(tags, n, per_event, step0, orders, data) -> None:
    payloads = []
    for i in range(n):
        k = i % len(tags)
        group = [tags[(k + j) % len(tags)] for j in range(min(per_event, len(tags)))]
        vals = []
        for tag, form, plugin, always in group:
            x = data.draw(values)
            vals.append(_value(tag, form, plugin if (always or i < len(tags)) else None, x))
        odd = orders if data.draw(st.integers(0, 4)) == 0 else (0, 0)
        payloads.append(_event(step0 + i, 1.7e9 + i * 0.25, vals, odd))
    fast = _contents(_store_from(payloads, accelerate=True))
    plain = _contents(_store_from(payloads, accelerate=False))
    assert fast == plain


def test_fast_path_is_used_for_plain_scalars() -> None:
    payloads = [_event(i, 1.7e9 + i, [_value("loss", "simple", None, i * 0.5)], (0, 0)) for i in range(1, 101)]
    data = b"".join(frame(p) for p in payloads)
    chunk, _ = frame_chunk("f", data, 0)
    from vizboard.data.fast_scalars import fast_scalars, length_groups

    recognised = sum(fast_scalars(mat).rows.size for _, mat in length_groups(chunk, np.arange(len(chunk)))
                     if mat is not None)
    assert recognised == 100


@settings(max_examples=80, deadline=None)
@given(version=st.text(max_size=40), step=st.sampled_from([0, 0, 3]), extra=st.booleans(),
       wall=st.floats(allow_nan=True, allow_infinity=True))
def test_header_rows_are_exactly_events_holding_only_a_file_version(version, step, extra, wall) -> None:
    """Rows skipped as file headers store nothing on the protobuf path, and real headers are skipped."""
    from vizboard.data.fast_scalars import header_rows

    ev = event_pb2.Event(wall_time=wall, step=step, file_version=version)
    if extra:
        ev.summary.value.add(tag="x", simple_value=1.0)  # oneof: replaces file_version
    payload = ev.SerializeToString()
    mat = np.frombuffer(payload, dtype=np.uint8)[None, :]
    if header_rows(mat)[0]:
        parsed = event_pb2.Event.FromString(payload)
        assert parsed.WhichOneof("what") == "file_version" and parsed.step == 0
    if not extra and step == 0 and version and version.isascii() and len(version) <= 116 and payload[0] == 0x09:
        assert header_rows(mat)[0]  # wall time (unless 0.0, then omitted), then the version
    payloads = [payload] * 20 + [_event(i, 1.7e9 + i, [_value("loss", "simple", None, i * 0.5)], (0, 0))
                                 for i in range(20)]
    fast = _contents(_store_from(payloads, accelerate=True))
    assert repr(fast) == repr(_contents(_store_from(payloads, accelerate=False)))  # repr: nan == nan
