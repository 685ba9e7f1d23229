"""torch's SummaryWriter API: lifecycle, leniency, error classes, add_image_with_boxes, add_onnx_graph (vs torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from logger import SummaryWriter
from logger._convert import ArgumentError
from logger._pb import event_pb2
from logger.records import scan

WALL = 1_700_000_000.5


def events(logdir: Path) -> list[event_pb2.Event]:
    return [event_pb2.Event.FromString(r.payload) for f in sorted(logdir.glob("*tfevents*"))
            for r in scan(f.read_bytes(), final=True).records]


def summaries(logdir: Path) -> list[bytes]:
    """Serialized Summary of every summary event (the part both writers build from the call's arguments)."""
    return [e.summary.SerializeToString(deterministic=True) for e in events(logdir) if e.HasField("summary")]


def both(tmp_path: Path, method: str, *args, **kwargs) -> tuple[list[bytes], list[bytes]]:
    """Call ``method`` on torch's writer and ours with the same arguments; return both files' summaries."""
    with TorchWriter(tmp_path / "torch") as tw:
        getattr(tw, method)(*args, **kwargs)
    with SummaryWriter(tmp_path / "ours") as w:
        getattr(w, method)(*args, **kwargs)
    return summaries(tmp_path / "torch"), summaries(tmp_path / "ours")


def test_file_writer_is_none_after_close_and_the_next_add_reopens(tmp_path):
    w = SummaryWriter(tmp_path)
    assert w.file_writer is not None and w.all_writers == {str(tmp_path): w.file_writer}
    assert w.file_writer.get_logdir() == str(tmp_path)
    w.add_scalar("a", 1.0, 0)
    w.close()
    assert w.file_writer is None and w.all_writers is None
    assert w.file_writer is None  # reading it did not reopen anything
    assert len(list(tmp_path.glob("*tfevents*"))) == 1
    w.add_scalar("a", 2.0, 1)  # reopens: a second file, as torch
    assert w.file_writer is not None
    w.close()
    assert len(list(tmp_path.glob("*tfevents*"))) == 2
    assert [(e.step, e.summary.value[0].simple_value) for e in events(tmp_path) if e.HasField("summary")] == [(0, 1.0), (1, 2.0)]


def test_file_writer_add_summary_and_add_event_as_torch(tmp_path):
    from tensorboard.compat.proto.summary_pb2 import Summary as TbSummary  # another Summary class, same wire format

    with SummaryWriter(tmp_path) as w:
        w.file_writer.add_summary(TbSummary(value=[TbSummary.Value(tag="x", simple_value=3.0)]), 7, WALL)
        w.file_writer.add_event(event_pb2.Event(step=9), walltime=WALL)
        w.file_writer.flush()
    evs = events(tmp_path)
    assert [(e.step, e.wall_time, e.summary.value[0].simple_value) for e in evs if e.HasField("summary")] == [(7, WALL, 3.0)]
    assert any(e.step == 9 and not e.HasField("summary") for e in evs)


@pytest.mark.parametrize("method, args", [
    ("add_scalar", ("", 1.0, 0, WALL)),
    ("add_image", ("", np.zeros((3, 4, 4)), 0, WALL)),
    ("add_text", ("", "x", 0, WALL)),
    ("add_histogram", ("", np.arange(5.0), 0, "tensorflow", WALL)),
])
def test_empty_tag_is_accepted_like_torch(tmp_path, method, args):
    theirs, ours = both(tmp_path, method, *args)
    assert ours == theirs


def test_pr_curve_with_one_threshold_matches_torch(tmp_path):
    labels, preds = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.3])
    theirs, ours = both(tmp_path, "add_pr_curve", "pr", labels, preds, 0, num_thresholds=1, walltime=WALL)
    assert ours == theirs


@pytest.mark.parametrize("call", [
    lambda w: w.add_scalar("x", np.array([1.0, 2.0])),
    lambda w: w.add_image("x", np.zeros((3, 4, 4)), dataformats="HW"),
    lambda w: w.add_custom_scalars_marginchart(["a", "b"]),
    lambda w: w.add_embedding(np.zeros(3)),
    lambda w: w.add_audio("x", np.zeros((3, 100))),
])
def test_where_torch_raises_assertion_error_ours_is_caught_the_same_way(tmp_path, call):
    with TorchWriter(tmp_path / "torch") as tw, pytest.raises(AssertionError):
        call(tw)
    with SummaryWriter(tmp_path / "ours") as w:
        with pytest.raises(AssertionError) as exc:
            call(w)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, ArgumentError)
    assert str(exc.value)  # our message, naming the argument


@pytest.mark.parametrize("kwargs", [
    {},
    {"labels": ["cat", "dog"]},
    {"labels": ["only one"]},  # wrong length: ignored, as torch
    {"rescale": 2},
    {"rescale": 0.5, "labels": ["a", "b"]},
])
def test_add_image_with_boxes_is_byte_identical_to_torch(tmp_path, kwargs):
    rng = np.random.default_rng(0)
    img = rng.random((3, 40, 60)).astype(np.float32)
    boxes = np.array([[2, 3, 30, 25], [10.5, 12, 55, 38]], dtype=np.float32)
    theirs, ours = both(tmp_path, "add_image_with_boxes", "det", torch.from_numpy(img), torch.from_numpy(boxes), 3,
                        WALL, **kwargs)
    assert len(ours) == 1 and ours == theirs


def test_add_image_with_boxes_hwc_uint8_and_a_single_label_string(tmp_path):
    img = (np.arange(20 * 30 * 3) % 256).astype(np.uint8).reshape(20, 30, 3)
    theirs, ours = both(tmp_path, "add_image_with_boxes", "det", img, np.array([[1, 1, 20, 15]]), 0, WALL,
                        dataformats="HWC", labels="person")
    assert ours == theirs


def test_add_image_with_boxes_bad_boxes_name_the_argument(tmp_path):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match="box_tensor"):
        w.add_image_with_boxes("det", np.zeros((3, 4, 4)), np.zeros((2, 3)))


def _onnx_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 2], [0.1] * 8)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("LeakyRelu", ["h"], ["y"], alpha=0.2)]
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w])), str(path))


def test_add_onnx_graph_writes_the_graph_torch_writes(tmp_path):
    model = tmp_path / "m.onnx"
    _onnx_model(model)
    with TorchWriter(tmp_path / "torch") as tw:
        tw.add_onnx_graph(str(model))
    with SummaryWriter(tmp_path / "ours") as w:
        w.add_onnx_graph(str(model))
    theirs = [e.graph_def for e in events(tmp_path / "torch") if e.graph_def]
    ours = [e.graph_def for e in events(tmp_path / "ours") if e.graph_def]
    assert len(ours) == 1 and ours == theirs
    from logger._pb import graph_pb2

    gd = graph_pb2.GraphDef.FromString(ours[0])
    assert [(n.name, n.op) for n in gd.node] == [("x", "Variable"), ("y", "Variable"), ("h", "MatMul"), ("y", "LeakyRelu")]


def test_add_onnx_graph_missing_file_is_a_clear_error(tmp_path):
    with SummaryWriter(tmp_path) as w, pytest.raises(FileNotFoundError, match="onnx"):
        w.add_onnx_graph(str(tmp_path / "missing.onnx"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
                                   torch.int16, torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128])
def test_add_tensor_matches_torch_for_every_dtype(tmp_path, dtype):
    t = (torch.arange(6, dtype=torch.float64).reshape(2, 3) * 1.5 - 2).to(dtype)
    theirs, ours = both(tmp_path, "add_tensor", "t", t, 4, WALL)
    assert len(ours) == 1 and ours == theirs


def test_add_tensor_copies_at_call_time(tmp_path):
    t = torch.zeros(3)
    with SummaryWriter(tmp_path) as w:
        w.add_tensor("t", t, 0)
        t += 1
    (v,) = [v for e in events(tmp_path) for v in e.summary.value]
    assert list(v.tensor.float_val) == [0.0, 0.0, 0.0] and v.metadata.plugin_data.plugin_name == "tensor"
