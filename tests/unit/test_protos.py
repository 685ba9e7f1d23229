"""Checks that the committed logger._pb modules are up to date and wire-compatible with TensorBoard's protos."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest
from google.protobuf import descriptor as _d
from google.protobuf import struct_pb2

from logger._pb import (
    event_pb2,
    graph_pb2,
    hparams_pb2,
    layout_pb2,
    plugins_pb2,
    projector_pb2,
    run_metadata_pb2,
    summary_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)

REPO = Path(__file__).resolve().parents[2]
PB_DIR = REPO / "logger" / "_pb"

try:
    from tensorboard.compat.proto import config_pb2 as tb_config_pb2
    from tensorboard.compat.proto import event_pb2 as tb_event_pb2
    from tensorboard.compat.proto import graph_pb2 as tb_graph_pb2
    from tensorboard.compat.proto import meta_graph_pb2 as tb_meta_graph_pb2
    from tensorboard.compat.proto import step_stats_pb2 as tb_step_stats_pb2
    from tensorboard.compat.proto import summary_pb2 as tb_summary_pb2
    from tensorboard.compat.proto import tensor_pb2 as tb_tensor_pb2
    from tensorboard.compat.proto import types_pb2 as tb_types_pb2
    from tensorboard.plugins.audio import plugin_data_pb2 as tb_audio_pb2
    from tensorboard.plugins.custom_scalar import layout_pb2 as tb_layout_pb2
    from tensorboard.plugins.histogram import plugin_data_pb2 as tb_histogram_pb2
    from tensorboard.plugins.hparams import api_pb2 as tb_hp_api_pb2
    from tensorboard.plugins.hparams import plugin_data_pb2 as tb_hp_pb2
    from tensorboard.plugins.image import plugin_data_pb2 as tb_image_pb2
    from tensorboard.plugins.mesh import plugin_data_pb2 as tb_mesh_pb2
    from tensorboard.plugins.pr_curve import plugin_data_pb2 as tb_pr_curve_pb2
    from tensorboard.plugins.projector import projector_config_pb2 as tb_projector_pb2
    from tensorboard.plugins.scalar import plugin_data_pb2 as tb_scalar_pb2
    from tensorboard.plugins.text import plugin_data_pb2 as tb_text_pb2
except ImportError:  # pragma: no cover - tensorboard is a test dependency
    HAVE_TB = False
else:
    HAVE_TB = True

requires_tb = pytest.mark.skipif(not HAVE_TB, reason="tensorboard not installed")


# --------------------------------------------------------------------------
# Generated code is up to date and deterministic


# test_generated_code_matches_committed lives in tests/integration/test_logger_envs.py: the committed
# modules come from grpcio-tools 1.62.3 (protoc 25.1, the oldest gencode every protobuf runtime from
# 3.20.3 to the newest loads), which needs protobuf < 5, so it runs in its own throwaway venv.


def test_every_proto_has_a_module() -> None:
    protos = sorted(p.stem for p in (REPO / "proto" / "logger" / "_pb").glob("*.proto"))
    assert protos == [
        "event",
        "graph",
        "hparams",
        "layout",
        "plugins",
        "projector",
        "run_metadata",
        "summary",
        "tensor",
        "tensor_shape",
        "types",
    ]
    for stem in protos:
        mod = importlib.import_module(f"logger._pb.{stem}_pb2")
        assert mod.DESCRIPTOR.package == "vizboard.tb"


# --------------------------------------------------------------------------
# Descriptor-level comparison with TensorBoard's protos

_VARINT_SCALARS = {_d.FieldDescriptor.TYPE_INT32, _d.FieldDescriptor.TYPE_ENUM}

# Our messages that intentionally model only part of TensorBoard's message.
_PARTIAL = {
    "vizboard.tb.FunctionDefLibrary",
    "vizboard.tb.GraphDebugInfo",
    "vizboard.tb.CostGraphDef",
    "vizboard.tb.ResourceHandleProto",
    "vizboard.tb.MetaGraphDef",
    "vizboard.tb.MetaGraphDef.MetaInfoDef",
    "vizboard.tb.FullTypeDef",
}


def _same_type(ours: _d.FieldDescriptor, theirs: _d.FieldDescriptor) -> bool:
    if ours.type == theirs.type:
        return True
    # FullTypeDef.type_id is declared as int32 here (same varint encoding).
    return {ours.type, theirs.type} == _VARINT_SCALARS


def _is_repeated(field: _d.FieldDescriptor) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 5.28; `label` is gone in 7.x
        return bool(field.is_repeated)
    return field.label == _d.FieldDescriptor.LABEL_REPEATED


# vizboard's own extension fields (TensorBoard ignores unknown fields): name -> number.
_EXTENSIONS = {"vizboard.tb.ScalarPluginData.vizboard_chart": 1000}


def _compare(ours: _d.Descriptor, theirs: _d.Descriptor, seen: set[str], problems: list[str]) -> None:
    if ours.full_name in seen:
        return
    seen.add(ours.full_name)
    theirs_by_number = {f.number: f for f in theirs.fields}
    for f in ours.fields:
        where = f"{ours.full_name}.{f.name} (#{f.number})"
        if _EXTENSIONS.get(f.full_name) == f.number and f.number not in theirs_by_number:
            continue
        t = theirs_by_number.get(f.number)
        if t is None:
            problems.append(f"{where}: not in {theirs.full_name}")
            continue
        if f.name != t.name:
            problems.append(f"{where}: named {t.name} in TensorBoard")
        if not _same_type(f, t):
            problems.append(f"{where}: type {f.type} vs {t.type}")
        if _is_repeated(f) != _is_repeated(t):
            problems.append(f"{where}: repeated mismatch")
        if _is_repeated(f) and f.is_packed != t.is_packed:
            problems.append(f"{where}: packed mismatch")
        if (f.containing_oneof is None) != (t.containing_oneof is None):
            problems.append(f"{where}: oneof membership mismatch")
        elif f.containing_oneof is not None and f.containing_oneof.name != t.containing_oneof.name:
            problems.append(f"{where}: oneof {f.containing_oneof.name} vs {t.containing_oneof.name}")
        if f.type == _d.FieldDescriptor.TYPE_ENUM and t.type == _d.FieldDescriptor.TYPE_ENUM:
            ours_values = {v.number: v.name for v in f.enum_type.values}
            theirs_values = {v.number: v.name for v in t.enum_type.values}
            if ours_values != theirs_values:
                problems.append(f"{where}: enum values {ours_values} vs {theirs_values}")
        if f.type == _d.FieldDescriptor.TYPE_MESSAGE:
            _compare(f.message_type, t.message_type, seen, problems)
    if ours.full_name not in _PARTIAL and not ours.full_name.startswith("google.protobuf."):
        missing = sorted(set(theirs_by_number) - {f.number for f in ours.fields})
        if missing:
            problems.append(f"{ours.full_name}: missing TensorBoard fields {missing}")


@requires_tb
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (event_pb2.Event, tb_event_pb2.Event),
        (summary_pb2.Summary, tb_summary_pb2.Summary),
        (summary_pb2.SummaryDescription, tb_summary_pb2.SummaryDescription),
        (tensor_pb2.TensorProto, tb_tensor_pb2.TensorProto),
        (graph_pb2.GraphDef, tb_graph_pb2.GraphDef),
        (graph_pb2.MetaGraphDef, tb_meta_graph_pb2.MetaGraphDef),
        (run_metadata_pb2.RunMetadata, tb_config_pb2.RunMetadata),
        (run_metadata_pb2.StepStats, tb_step_stats_pb2.StepStats),
        (plugins_pb2.ScalarPluginData, tb_scalar_pb2.ScalarPluginData),
        (plugins_pb2.HistogramPluginData, tb_histogram_pb2.HistogramPluginData),
        (plugins_pb2.ImagePluginData, tb_image_pb2.ImagePluginData),
        (plugins_pb2.AudioPluginData, tb_audio_pb2.AudioPluginData),
        (plugins_pb2.TextPluginData, tb_text_pb2.TextPluginData),
        (plugins_pb2.PrCurvePluginData, tb_pr_curve_pb2.PrCurvePluginData),
        (plugins_pb2.MeshPluginData, tb_mesh_pb2.MeshPluginData),
        (hparams_pb2.HParamsPluginData, tb_hp_pb2.HParamsPluginData),
        (layout_pb2.Layout, tb_layout_pb2.Layout),
        (projector_pb2.ProjectorConfig, tb_projector_pb2.ProjectorConfig),
    ]
    if HAVE_TB
    else [],
    ids=lambda cls: cls.DESCRIPTOR.name,
)
def test_descriptor_matches_tensorboard(ours: type, theirs: type) -> None:
    problems: list[str] = []
    _compare(ours.DESCRIPTOR, theirs.DESCRIPTOR, set(), problems)
    assert not problems, "\n".join(problems)


@requires_tb
def test_top_level_enums_match_tensorboard() -> None:
    pairs = [
        (types_pb2.DataType, tb_types_pb2.DataType),
        (summary_pb2.DataClass, tb_summary_pb2.DataClass),
        (hparams_pb2.HParamDataType, tb_hp_api_pb2.DataType),
        (hparams_pb2.Status, tb_hp_api_pb2.Status),
        (hparams_pb2.DatasetType, tb_hp_api_pb2.DatasetType),
    ]
    for ours, theirs in pairs:
        ours_values = {v.number: v.name for v in ours.DESCRIPTOR.values}
        theirs_values = {v.number: v.name for v in theirs.DESCRIPTOR.values}
        assert ours_values == theirs_values, ours.DESCRIPTOR.name


# --------------------------------------------------------------------------
# Round trips through the wire format


def _roundtrip(message, other_cls):
    """Serialize message, parse as other_cls, and check the bytes survive a re-serialization."""
    data = message.SerializeToString(deterministic=True)
    other = other_cls.FromString(data)
    assert other.SerializeToString(deterministic=True) == data
    return other


def _tensor(cls_module, shape_module, types_module):
    tensor = cls_module.TensorProto(dtype=types_module.DT_FLOAT, float_val=[1.5, -2.0, 3.25])
    tensor.tensor_shape.dim.add(size=3, name="x")
    return tensor


def _summary(pb, tensor_pb, shape_pb, types_pb):
    summary = pb.Summary()
    v = summary.value.add(tag="img")
    v.image.height = 2
    v.image.width = 3
    v.image.colorspace = 4
    v.image.encoded_image_string = b"\x89PNG\r\n\x1a\n..."
    h = summary.value.add(tag="hist").histo
    h.min, h.max, h.num, h.sum, h.sum_squares = -1.0, 2.0, 5.0, 3.0, 7.0
    h.bucket_limit.extend([0.0, 1.0, 2.0])
    h.bucket.extend([1.0, 3.0, 1.0])
    t = summary.value.add(tag="t")
    t.tensor.CopyFrom(_tensor(tensor_pb, shape_pb, types_pb))
    t.metadata.plugin_data.plugin_name = "scalars"
    t.metadata.plugin_data.content = b"\x08\x00"
    t.metadata.display_name = "Tee"
    t.metadata.summary_description = "*md*"
    t.metadata.data_class = pb.DATA_CLASS_TENSOR
    s = summary.value.add(tag="s", simple_value=0.25)
    s.metadata.display_name = "Ess"
    a = summary.value.add(tag="a").audio
    a.sample_rate = 44100.0
    a.num_channels = 1
    a.length_frames = 10
    a.encoded_audio_string = b"RIFF"
    a.content_type = "audio/wav"
    return summary


def _assert_summary_fields(summary) -> None:
    img, hist, tensor, scalar, audio = summary.value
    assert img.tag == "img" and img.WhichOneof("value") == "image"
    assert (img.image.height, img.image.width, img.image.colorspace) == (2, 3, 4)
    assert img.image.encoded_image_string == b"\x89PNG\r\n\x1a\n..."
    assert hist.WhichOneof("value") == "histo"
    assert (hist.histo.min, hist.histo.max, hist.histo.num, hist.histo.sum, hist.histo.sum_squares) == (
        -1.0,
        2.0,
        5.0,
        3.0,
        7.0,
    )
    assert list(hist.histo.bucket_limit) == [0.0, 1.0, 2.0]
    assert list(hist.histo.bucket) == [1.0, 3.0, 1.0]
    assert tensor.WhichOneof("value") == "tensor"
    assert tensor.tensor.dtype == 1
    assert list(tensor.tensor.float_val) == [1.5, -2.0, 3.25]
    assert [(d.size, d.name) for d in tensor.tensor.tensor_shape.dim] == [(3, "x")]
    md = tensor.metadata
    assert (md.plugin_data.plugin_name, md.plugin_data.content) == ("scalars", b"\x08\x00")
    assert (md.display_name, md.summary_description, md.data_class) == ("Tee", "*md*", 2)
    assert scalar.WhichOneof("value") == "simple_value" and scalar.simple_value == 0.25
    assert scalar.metadata.display_name == "Ess"
    assert audio.WhichOneof("value") == "audio"
    assert (audio.audio.sample_rate, audio.audio.num_channels, audio.audio.length_frames) == (44100.0, 1, 10)
    assert (audio.audio.encoded_audio_string, audio.audio.content_type) == (b"RIFF", "audio/wav")


def test_event_format_vector() -> None:
    event = event_pb2.Event(wall_time=1700000000.0, file_version="brain.Event:2")
    payload = event.SerializeToString()
    assert len(payload) == 24
    assert payload == bytes.fromhex("09000000 40fc54d9 41 1a0d 627261696e2e4576656e743a32".replace(" ", ""))


@requires_tb
@pytest.mark.parametrize("direction", ["ours_to_tb", "tb_to_ours"])
def test_summary_roundtrip(direction: str) -> None:
    if direction == "ours_to_tb":
        src = _summary(summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2)
        dst = _roundtrip(src, tb_summary_pb2.Summary)
    else:
        from tensorboard.compat.proto import tensor_shape_pb2 as tb_shape_pb2

        src = _summary(tb_summary_pb2, tb_tensor_pb2, tb_shape_pb2, tb_types_pb2)
        dst = _roundtrip(src, summary_pb2.Summary)
    _assert_summary_fields(src)
    _assert_summary_fields(dst)


def _event(pb, summary_pb):
    events = [
        pb.Event(wall_time=1.5, step=7, file_version="brain.Event:2"),
        pb.Event(wall_time=2.0, step=1, graph_def=b"\x0a\x03\x0a\x01a"),
        pb.Event(wall_time=3.0, step=2, summary=summary_pb.Summary(value=[summary_pb.Summary.Value(tag="x", simple_value=1.0)])),
        pb.Event(wall_time=4.0, log_message=pb.LogMessage(level=pb.LogMessage.WARN, message="hi")),
        pb.Event(
            wall_time=5.0,
            step=3,
            session_log=pb.SessionLog(status=pb.SessionLog.START, checkpoint_path="ck", msg="m"),
        ),
        pb.Event(wall_time=6.0, tagged_run_metadata=pb.TaggedRunMetadata(tag="step1", run_metadata=b"\x0a\x00")),
        pb.Event(wall_time=7.0, meta_graph_def=b"\x12\x00"),
    ]
    events[0].source_metadata.writer = "vizboard"
    return events


def _assert_events(events) -> None:
    kinds = [e.WhichOneof("what") for e in events]
    assert kinds == [
        "file_version",
        "graph_def",
        "summary",
        "log_message",
        "session_log",
        "tagged_run_metadata",
        "meta_graph_def",
    ]
    e0, e1, e2, e3, e4, e5, e6 = events
    assert (e0.wall_time, e0.step, e0.file_version, e0.source_metadata.writer) == (1.5, 7, "brain.Event:2", "vizboard")
    assert e1.graph_def == b"\x0a\x03\x0a\x01a"
    assert (e2.summary.value[0].tag, e2.summary.value[0].simple_value) == ("x", 1.0)
    assert (e3.log_message.level, e3.log_message.message) == (30, "hi")
    assert (e4.step, e4.session_log.status, e4.session_log.checkpoint_path, e4.session_log.msg) == (3, 1, "ck", "m")
    assert (e5.tagged_run_metadata.tag, e5.tagged_run_metadata.run_metadata) == ("step1", b"\x0a\x00")
    assert e6.meta_graph_def == b"\x12\x00"


@requires_tb
@pytest.mark.parametrize("direction", ["ours_to_tb", "tb_to_ours"])
def test_event_roundtrip(direction: str) -> None:
    if direction == "ours_to_tb":
        src = _event(event_pb2, summary_pb2)
        dst = [_roundtrip(e, tb_event_pb2.Event) for e in src]
    else:
        src = _event(tb_event_pb2, tb_summary_pb2)
        dst = [_roundtrip(e, event_pb2.Event) for e in src]
    _assert_events(src)
    _assert_events(dst)


def _graph(pb, shape_pb, types_pb):
    graph = pb.GraphDef()
    graph.versions.producer = 22
    graph.versions.min_consumer = 1
    graph.versions.bad_consumers.extend([3, 4])
    n = graph.node.add(name="input/x", op="IO Node", device="/device:CPU:0")
    n.attr["attr"].s = b"{}"
    shape = n.attr["_output_shapes"].list.shape.add()
    shape.dim.add(size=-1)
    shape.dim.add(size=4)
    m = graph.node.add(name="Seq/Linear[0]/y", op="aten::linear", input=["input/x", "^ctl"])
    m.attr["i"].i = -5
    m.attr["f"].f = 0.5
    m.attr["b"].b = True
    m.attr["t"].type = types_pb.DT_INT64
    m.attr["lst"].list.i.extend([1, 2, 3])
    m.attr["fn"].func.name = "f"
    m.attr["fn"].func.attr["k"].s = b"v"
    return graph


def _assert_graph(graph) -> None:
    assert (graph.versions.producer, graph.versions.min_consumer, list(graph.versions.bad_consumers)) == (22, 1, [3, 4])
    n, m = graph.node
    assert (n.name, n.op, n.device) == ("input/x", "IO Node", "/device:CPU:0")
    assert n.attr["attr"].s == b"{}"
    assert [d.size for d in n.attr["_output_shapes"].list.shape[0].dim] == [-1, 4]
    assert (m.name, m.op, list(m.input)) == ("Seq/Linear[0]/y", "aten::linear", ["input/x", "^ctl"])
    assert (m.attr["i"].i, m.attr["f"].f, m.attr["b"].b, m.attr["t"].type) == (-5, 0.5, True, 9)
    assert list(m.attr["lst"].list.i) == [1, 2, 3]
    assert m.attr["fn"].func.name == "f" and m.attr["fn"].func.attr["k"].s == b"v"


@requires_tb
@pytest.mark.parametrize("direction", ["ours_to_tb", "tb_to_ours"])
def test_graph_roundtrip(direction: str) -> None:
    from tensorboard.compat.proto import tensor_shape_pb2 as tb_shape_pb2

    if direction == "ours_to_tb":
        src = _graph(graph_pb2, tensor_shape_pb2, types_pb2)
        dst = _roundtrip(src, tb_graph_pb2.GraphDef)
    else:
        src = _graph(tb_graph_pb2, tb_shape_pb2, tb_types_pb2)
        dst = _roundtrip(src, graph_pb2.GraphDef)
    _assert_graph(src)
    _assert_graph(dst)
    # A MetaGraphDef's graph_def is readable through our minimal MetaGraphDef.
    meta = tb_meta_graph_pb2.MetaGraphDef()
    meta.meta_info_def.tags.append("serve")
    meta.graph_def.CopyFrom(tb_graph_pb2.GraphDef.FromString(src.SerializeToString()))
    ours = graph_pb2.MetaGraphDef.FromString(meta.SerializeToString())
    assert list(ours.meta_info_def.tags) == ["serve"]
    _assert_graph(ours.graph_def)


def _hparams(pb):
    def value(**kw):
        return struct_pb2.Value(**kw)

    exp = pb.HParamsPluginData()
    e = exp.experiment
    e.name, e.description, e.user, e.time_created_secs = "exp", "desc", "me", 12.5
    h = e.hparam_infos.add(name="lr", display_name="LR", description="d", differs=True)
    h.type = 3  # DATA_TYPE_FLOAT64
    h.domain_interval.min_value = 0.0
    h.domain_interval.max_value = 1.0
    h2 = e.hparam_infos.add(name="opt", type=1)
    h2.domain_discrete.values.extend([value(string_value="adam"), value(string_value="sgd")])
    mi = e.metric_infos.add(display_name="Loss", description="dd", dataset_type=2)
    mi.name.group, mi.name.tag = "eval", "loss"

    start = pb.HParamsPluginData()
    s = start.session_start_info
    s.hparams["lr"].number_value = 0.1
    s.hparams["opt"].string_value = "adam"
    s.hparams["flag"].bool_value = True
    s.model_uri, s.monitor_url, s.group_name, s.start_time_secs = "m", "u", "g", 99.0

    end = pb.HParamsPluginData()
    end.session_end_info.status = 1  # STATUS_SUCCESS
    end.session_end_info.end_time_secs = 100.0
    return [exp, start, end]


def _assert_hparams(msgs) -> None:
    exp, start, end = msgs
    assert [m.WhichOneof("data") for m in msgs] == ["experiment", "session_start_info", "session_end_info"]
    assert all(m.version == 0 for m in msgs)
    e = exp.experiment
    assert (e.name, e.description, e.user, e.time_created_secs) == ("exp", "desc", "me", 12.5)
    lr, opt = e.hparam_infos
    assert (lr.name, lr.display_name, lr.description, lr.type, lr.differs) == ("lr", "LR", "d", 3, True)
    assert lr.WhichOneof("domain") == "domain_interval"
    assert (lr.domain_interval.min_value, lr.domain_interval.max_value) == (0.0, 1.0)
    assert opt.WhichOneof("domain") == "domain_discrete"
    assert [v.string_value for v in opt.domain_discrete.values] == ["adam", "sgd"]
    (mi,) = e.metric_infos
    assert (mi.name.group, mi.name.tag, mi.display_name, mi.description, mi.dataset_type) == (
        "eval",
        "loss",
        "Loss",
        "dd",
        2,
    )
    s = start.session_start_info
    assert s.hparams["lr"].number_value == 0.1
    assert s.hparams["opt"].string_value == "adam"
    assert s.hparams["flag"].bool_value is True
    assert (s.model_uri, s.monitor_url, s.group_name, s.start_time_secs) == ("m", "u", "g", 99.0)
    assert (end.session_end_info.status, end.session_end_info.end_time_secs) == (1, 100.0)


@requires_tb
@pytest.mark.parametrize("direction", ["ours_to_tb", "tb_to_ours"])
def test_hparams_roundtrip(direction: str) -> None:
    if direction == "ours_to_tb":
        src = _hparams(hparams_pb2)
        dst = [_roundtrip(m, tb_hp_pb2.HParamsPluginData) for m in src]
    else:
        src = _hparams(tb_hp_pb2)
        dst = [_roundtrip(m, hparams_pb2.HParamsPluginData) for m in src]
    _assert_hparams(src)
    _assert_hparams(dst)


def _layout(pb):
    layout = pb.Layout()
    cat = layout.category.add(title="Losses", closed=True)
    cat.chart.add(title="all", multiline=pb.MultilineChartContent(tag=[r"loss/.*", "acc"]))
    margin = cat.chart.add(title="band").margin
    margin.series.add(value="m", lower="lo", upper="hi")
    layout.category.add(title="Empty")
    return layout


def _assert_layout(layout) -> None:
    assert layout.version == 0
    cat, empty = layout.category
    assert (cat.title, cat.closed, empty.title, empty.closed) == ("Losses", True, "Empty", False)
    c1, c2 = cat.chart
    assert c1.title == "all" and c1.WhichOneof("content") == "multiline"
    assert list(c1.multiline.tag) == [r"loss/.*", "acc"]
    assert c2.title == "band" and c2.WhichOneof("content") == "margin"
    assert [(s.value, s.lower, s.upper) for s in c2.margin.series] == [("m", "lo", "hi")]


@requires_tb
@pytest.mark.parametrize("direction", ["ours_to_tb", "tb_to_ours"])
def test_layout_roundtrip(direction: str) -> None:
    if direction == "ours_to_tb":
        src = _layout(layout_pb2)
        dst = _roundtrip(src, tb_layout_pb2.Layout)
    else:
        src = _layout(tb_layout_pb2)
        dst = _roundtrip(src, layout_pb2.Layout)
    _assert_layout(src)
    _assert_layout(dst)


def _run_metadata(pb, stats_pb):
    rm = pb.RunMetadata()
    dev = rm.step_stats.dev_stats.add(device="/device:CPU:0")
    dev.thread_names[3] = "worker"
    ns = dev.node_stats.add(
        node_name="n",
        all_start_micros=1,
        op_start_rel_micros=2,
        op_end_rel_micros=3,
        all_end_rel_micros=4,
        timeline_label="lbl",
        scheduled_micros=9,
        thread_id=3,
        all_start_nanos=13,
        op_start_rel_nanos=14,
        op_end_rel_nanos=15,
        all_end_rel_nanos=16,
        scheduled_nanos=17,
    )
    mem = ns.memory.add(allocator_name="cpu", total_bytes=10, peak_bytes=8, live_bytes=2, allocator_bytes_in_use=5)
    mem.allocation_records.add(alloc_micros=1, alloc_bytes=-4)
    out = ns.output.add(slot=1)
    out.tensor_description.dtype = 1
    out.tensor_description.shape.dim.add(size=2)
    out.tensor_description.allocation_description.requested_bytes = 8
    ns.referenced_tensor.add(allocated_bytes=16, allocator_name="cpu", allocation_id=7, ptr=123)
    ns.memory_stats.temp_memory_size = 11
    ns.memory_stats.persistent_tensor_alloc_ids.extend([1, 2])
    rm.partition_graphs.add().versions.producer = 22
    rm.session_metadata.name = "sess"
    rm.session_metadata.version = 4
    return rm


def _assert_run_metadata(rm) -> None:
    (dev,) = rm.step_stats.dev_stats
    assert dev.device == "/device:CPU:0" and dict(dev.thread_names) == {3: "worker"}
    (ns,) = dev.node_stats
    got = [
        getattr(ns, f)
        for f in (
            "node_name",
            "all_start_micros",
            "op_start_rel_micros",
            "op_end_rel_micros",
            "all_end_rel_micros",
            "timeline_label",
            "scheduled_micros",
            "thread_id",
            "all_start_nanos",
            "op_start_rel_nanos",
            "op_end_rel_nanos",
            "all_end_rel_nanos",
            "scheduled_nanos",
        )
    ]
    assert got == ["n", 1, 2, 3, 4, "lbl", 9, 3, 13, 14, 15, 16, 17]
    (mem,) = ns.memory
    assert (mem.allocator_name, mem.total_bytes, mem.peak_bytes, mem.live_bytes, mem.allocator_bytes_in_use) == (
        "cpu",
        10,
        8,
        2,
        5,
    )
    assert [(r.alloc_micros, r.alloc_bytes) for r in mem.allocation_records] == [(1, -4)]
    (out,) = ns.output
    assert (out.slot, out.tensor_description.dtype, out.tensor_description.shape.dim[0].size) == (1, 1, 2)
    assert out.tensor_description.allocation_description.requested_bytes == 8
    (ref,) = ns.referenced_tensor
    assert (ref.allocated_bytes, ref.allocator_name, ref.allocation_id, ref.ptr) == (16, "cpu", 7, 123)
    assert ns.memory_stats.temp_memory_size == 11
    assert list(ns.memory_stats.persistent_tensor_alloc_ids) == [1, 2]
    assert rm.partition_graphs[0].versions.producer == 22
    assert (rm.session_metadata.name, rm.session_metadata.version) == ("sess", 4)


@requires_tb
@pytest.mark.parametrize("direction", ["ours_to_tb", "tb_to_ours"])
def test_run_metadata_roundtrip(direction: str) -> None:
    if direction == "ours_to_tb":
        src = _run_metadata(run_metadata_pb2, run_metadata_pb2)
        dst = _roundtrip(src, tb_config_pb2.RunMetadata)
    else:
        src = _run_metadata(tb_config_pb2, tb_step_stats_pb2)
        dst = _roundtrip(src, run_metadata_pb2.RunMetadata)
    _assert_run_metadata(src)
    _assert_run_metadata(dst)


@requires_tb
def test_plugin_data_roundtrip() -> None:
    pairs = [
        (plugins_pb2.PrCurvePluginData(num_thresholds=127), tb_pr_curve_pb2.PrCurvePluginData),
        (
            plugins_pb2.AudioPluginData(encoding=plugins_pb2.AudioPluginData.WAV, converted_to_tensor=True),
            tb_audio_pb2.AudioPluginData,
        ),
        (plugins_pb2.ImagePluginData(converted_to_tensor=True), tb_image_pb2.ImagePluginData),
    ]
    for ours, theirs_cls in pairs:
        theirs = _roundtrip(ours, theirs_cls)
        back = _roundtrip(theirs, type(ours))
        assert back == ours
    pr = tb_pr_curve_pb2.PrCurvePluginData.FromString(plugins_pb2.PrCurvePluginData(num_thresholds=127).SerializeToString())
    assert pr.num_thresholds == 127
    audio = tb_audio_pb2.AudioPluginData.FromString(
        plugins_pb2.AudioPluginData(encoding=plugins_pb2.AudioPluginData.WAV).SerializeToString()
    )
    assert audio.encoding == tb_audio_pb2.AudioPluginData.WAV == 11
    # Version-0-only content serializes to zero bytes (event-format.md §3.5).
    assert plugins_pb2.ScalarPluginData().SerializeToString() == b""
    assert plugins_pb2.TextPluginData().SerializeToString() == b""


@requires_tb
def test_projector_text_format_roundtrip() -> None:
    from google.protobuf import text_format

    cfg = projector_pb2.ProjectorConfig()
    emb = cfg.embeddings.add(tensor_name="default:00000", metadata_path="metadata.tsv", tensor_path="tensors.tsv")
    emb.tensor_shape.extend([10, 3])
    emb.sprite.image_path = "sprite.png"
    emb.sprite.single_image_dim.extend([28, 28])
    text = text_format.MessageToString(cfg)
    theirs = text_format.Parse(text, tb_projector_pb2.ProjectorConfig())
    assert theirs.embeddings[0].tensor_name == "default:00000"
    assert list(theirs.embeddings[0].sprite.single_image_dim) == [28, 28]
    back = text_format.Parse(text_format.MessageToString(theirs), projector_pb2.ProjectorConfig())
    assert back == cfg
