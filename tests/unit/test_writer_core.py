"""SummaryWriter + EventFileWriter: round trip through logger.records.scan, validation, flushing, errors."""

from __future__ import annotations

import errno
import glob
import math
import os
import re
import threading
import time

import numpy as np
import pytest

from logger import SummaryWriter, records
from logger._pb import event_pb2, plugins_pb2
from logger.event_file import EventFileWriter, WriterThreadError


def read_events(logdir: str) -> list[event_pb2.Event]:
    events = []
    # in writing order: <time>.<host>.<pid>.<counter>, the counter compared as a number (".10" after ".9")
    def order(path: str) -> tuple[int, int]:
        parts = os.path.basename(path).split(".")
        return int(parts[3]), int(parts[-1]) if parts[-1].isdigit() else 0

    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")), key=order):
        with open(path, "rb") as f:
            result = records.scan(f.read(), final=True)
        assert not result.damage
        events += [event_pb2.Event.FromString(r.payload) for r in result.records]
    return events


def scalars(events: list[event_pb2.Event]) -> list[tuple[str, int, float]]:
    return [(v.tag, e.step, v.simple_value)
            for e in events if e.HasField("summary") for v in e.summary.value if v.HasField("simple_value")]


def test_file_name_and_first_record(tmp_path) -> None:
    w = SummaryWriter(str(tmp_path), filename_suffix=".sfx")
    w.close()
    (name,) = os.listdir(tmp_path)
    assert re.fullmatch(r"events\.out\.tfevents\.\d{10}\.[^.]+(\.[^.]+)*\.\d+\.\d+\.sfx", name), name
    assert f".{os.getpid()}." in name
    first = read_events(str(tmp_path))[0]
    assert first.file_version == "brain.Event:2"
    assert first.source_metadata.writer == "vizboard.logger"
    assert abs(first.wall_time - time.time()) < 60


def test_two_writers_same_dir_get_distinct_files(tmp_path) -> None:
    a, b = SummaryWriter(str(tmp_path)), SummaryWriter(str(tmp_path))
    a.close(), b.close()
    assert len(os.listdir(tmp_path)) == 2


def test_scalar_round_trip_types_and_steps(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("f", 0.5, 1)
        w.add_scalar("i", 3, 2)
        w.add_scalar("b", True, 3)
        w.add_scalar("np", np.float32(1.25), np.int64(4))
        w.add_scalar("np0d", np.array([[2.5]]), 5)
        w.add_scalar("t", torch.tensor(4.5), torch.tensor(6))
        w.add_scalar("nan", float("nan"), 7)
        w.add_scalar("inf", float("inf"), 8)
        w.add_scalar("ninf", -math.inf, 9)
        w.add_scalar("nostep", 1.0)
        w.add_scalar("big", 1e300, 10)
        w.add_scalar("wall", 1.0, 11, walltime=1234.5)
    got = scalars(read_events(str(tmp_path)))
    d = {tag: (step, val) for tag, step, val in got}
    assert d["f"] == (1, 0.5) and d["i"] == (2, 3.0) and d["b"] == (3, 1.0) and d["np"] == (4, 1.25)
    assert d["np0d"] == (5, 2.5) and d["t"] == (6, 4.5) and d["nostep"] == (0, 1.0)
    assert math.isnan(d["nan"][1]) and d["inf"][1] == math.inf and d["ninf"][1] == -math.inf
    assert d["big"][1] == math.inf
    wall = [e.wall_time for e in read_events(str(tmp_path)) if e.HasField("summary") and e.summary.value[0].tag == "wall"]
    assert wall == [1234.5]


def test_many_scalars_in_order(tmp_path) -> None:
    w = SummaryWriter(str(tmp_path), max_queue=16)
    for i in range(5000):
        w.add_scalar("x", float(i), i)
    w.close()
    got = scalars(read_events(str(tmp_path)))
    assert [s for _, s, _ in got] == list(range(5000))
    assert [v for _, _, v in got] == [float(i) for i in range(5000)]


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda w: w.add_scalar(3, 1.0), "tag"),
        (lambda w: w.add_scalar("a", "1.0"), "scalar_value"),
        (lambda w: w.add_scalar("a", [1.0, 2.0]), "scalar_value"),
        (lambda w: w.add_scalar("a", np.zeros(3)), "scalar_value"),
        (lambda w: w.add_scalar("a", object()), "scalar_value"),
        (lambda w: w.add_scalar("a", 1.0, walltime=float("nan")), "walltime"),
        (lambda w: w.add_scalar("a", 1.0, walltime=math.inf), "walltime"),
        (lambda w: w.add_scalar("a", 1.0, walltime="now"), "walltime"),
        (lambda w: w.add_scalar("a", 1.0, global_step="x"), "global_step"),
        (lambda w: w.add_scalar("a", 1.0, global_step=1.5), "global_step"),
        (lambda w: w.add_histogram("h", np.array([])), "values"),
        (lambda w: w.add_histogram("h", ["a", "b"]), "values"),
        (lambda w: w.add_histogram(None, np.ones(3)), "tag"),
        (lambda w: w.add_image("i", np.zeros((2, 3, 4, 5, 6))), "dataformats"),
        (lambda w: w.add_image("i", np.zeros((3, 4, 5)), dataformats="HW"), "dataformats"),
        (lambda w: w.add_image("i", np.zeros((5, 4, 6)), dataformats="CHW"), "channels"),
        (lambda w: w.add_image("i", np.zeros((3, 4, 5)), dataformats="ABC"), "dataformats"),
        (lambda w: w.add_images("i", np.zeros((3, 4, 5))), "dataformats"),
        (lambda w: w.add_audio("a", np.zeros((3, 100))), "snd_tensor"),
        (lambda w: w.add_audio("a", np.zeros(10), sample_rate=-1), "sample_rate"),
        (lambda w: w.add_text("t", 5), "text_string"),
        (lambda w: w.add_scalars("m", {"a": "x"}), "tag_scalar_dict"),
        (lambda w: w.add_scalars("m", [1, 2]), "tag_scalar_dict"),
        (lambda w: w.add_hparams({"lr": [1]}, {}), "lr"),
        (lambda w: w.add_hparams([1], {}), "hparam_dict"),
        (lambda w: w.add_pr_curve("p", np.zeros(3), np.zeros(4)), "labels"),
        (lambda w: w.add_histogram_raw("h", 0, 1, 1, 1, 1, [1, 2], [1]), "bucket_limits"),
        (lambda w: w.add_custom_scalars({"c": {"t": ["Margin", ["a"]]}}), "Margin"),
        (lambda w: w.add_video("v", np.zeros((2, 3, 4))), "vid_tensor"),
    ],
)
def test_bad_input_names_the_argument(tmp_path, call, match) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises((TypeError, ValueError), match=match):
            call(w)


def test_add_scalars_same_run_with_chart_metadata(tmp_path) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalars("loss", {"train": 1.0, "val": 2.0}, 3)
    assert os.listdir(tmp_path) == [f for f in os.listdir(tmp_path) if f.startswith("events")]  # no sub-runs
    values = [(e.step, v) for e in read_events(str(tmp_path)) if e.HasField("summary") for v in e.summary.value]
    assert [(s, v.tag, v.simple_value) for s, v in values] == [(3, "loss/train", 1.0), (3, "loss/val", 2.0)]
    for _, v in values:
        assert v.metadata.plugin_data.plugin_name == "scalars"
        assert plugins_pb2.ScalarPluginData.FromString(v.metadata.plugin_data.content).vizboard_chart == "loss"


def test_new_style_scalar(tmp_path) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("n", 2.5, 1, new_style=True)
        w.add_scalar("d", 2.5, 1, new_style=True, double_precision=True)
    vals = {v.tag: v for e in read_events(str(tmp_path)) if e.HasField("summary") for v in e.summary.value}
    assert list(vals["n"].tensor.float_val) == [2.5] and not vals["n"].tensor.HasField("tensor_shape")
    assert list(vals["d"].tensor.double_val) == [2.5]


def test_flush_makes_data_visible_and_thread_writes_within_flush_secs(tmp_path) -> None:
    w = SummaryWriter(str(tmp_path), flush_secs=0.05)
    w.add_scalar("a", 1.0, 0)
    w.flush()
    assert scalars(read_events(str(tmp_path))) == [("a", 0, 1.0)]
    w.add_scalar("a", 2.0, 1)
    deadline = time.monotonic() + 10
    while len(scalars(read_events(str(tmp_path)))) < 2:
        assert time.monotonic() < deadline, "the writer thread did not write within flush_secs"
        time.sleep(0.01)
    w.flush(sync=True)
    w.close()


def test_purge_step_writes_start_marker(tmp_path) -> None:
    with SummaryWriter(str(tmp_path), purge_step=7) as w:
        w.add_scalar("a", 1.0, 7)
    events = read_events(str(tmp_path))
    assert events[1].step == 7 and events[1].file_version == "brain.Event:2"
    assert events[2].step == 7 and events[2].session_log.status == event_pb2.SessionLog.START


def test_close_is_idempotent_and_add_after_close_reopens(tmp_path) -> None:
    w = SummaryWriter(str(tmp_path))
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.close()
    w.add_scalar("a", 2.0, 1)  # torch reopens a new file
    w.close()
    assert len(os.listdir(tmp_path)) == 2
    assert [s for _, s, _ in scalars(read_events(str(tmp_path)))] == [0, 1]


def test_default_logdir_like_torch(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp")
    w.close()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_.+_exp", w.get_logdir().replace(os.sep, "/"))
    assert os.path.isdir(w.get_logdir())


def test_writer_thread_error_surfaces_on_training_thread(tmp_path, monkeypatch) -> None:
    w = SummaryWriter(str(tmp_path))
    w.flush()
    real_write = os.write
    fail = {"on": True}

    def flaky_write(fd, data):
        if fail["on"] and threading.current_thread().name.startswith("logger-writer"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", flaky_write)
    w.add_scalar("a", 1.0, 0)
    with pytest.raises(WriterThreadError, match="No space left"):
        w.flush()
    fail["on"] = False  # space freed: the kept bytes are written on the next cycle
    w.add_scalar("a", 2.0, 1)
    w.flush()
    w.close()
    assert [s for _, s, _ in scalars(read_events(str(tmp_path)))] == [0, 1]


def test_encoder_failure_is_raised_not_swallowed(tmp_path) -> None:
    fw = EventFileWriter(str(tmp_path), flush_secs=0.05)

    def boom(a, b, step, wall):
        raise RuntimeError("encoder bug")

    fw.put((boom, None, None, 0, 0.0))
    with pytest.raises(WriterThreadError, match="encoder bug"):
        fw.flush()
    fw.close()


def test_full_queue_blocks_instead_of_dropping(tmp_path) -> None:
    fw = EventFileWriter(str(tmp_path), max_queue=4, flush_secs=5)
    from logger.event_file import SCALAR

    for i in range(1000):
        fw.put((SCALAR, "x", float(i), i, 1.0))
        assert len(fw._core.queue) <= 4
    fw.close()
    assert len(scalars(read_events(str(tmp_path)))) == 1000


def test_garbage_collected_writer_is_flushed(tmp_path) -> None:
    import gc

    w = SummaryWriter(str(tmp_path), flush_secs=100)
    w.add_scalar("a", 1.0, 0)
    del w
    gc.collect()
    assert scalars(read_events(str(tmp_path))) == [("a", 0, 1.0)]


class _FakeCudaScalar:
    """Stands in for a CUDA 0-d tensor: records which thread calls .item()."""

    __module__ = "torch.fake"

    def __init__(self, value: float, calls: list) -> None:
        self.value, self.calls = value, calls
        self.device = type("D", (), {"type": "cuda"})()
        self.shape = ()

    def detach(self):
        return self

    def reshape(self, shape):
        return self

    def clone(self):
        return _FakeCudaScalar(self.value, self.calls)

    def numel(self):
        return 1

    def is_complex(self):
        return False

    def item(self):
        self.calls.append(threading.current_thread().name)
        return self.value


def test_cuda_scalar_is_read_on_the_writer_thread(tmp_path) -> None:
    calls: list[str] = []
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("gpu", _FakeCudaScalar(3.5, calls), 2)
        w.add_scalar("gpu_ns", _FakeCudaScalar(4.5, calls), 3, new_style=True)
    assert scalars(read_events(str(tmp_path))) == [("gpu", 2, 3.5)]
    assert calls and all(name.startswith("logger-writer") for name in calls)


def test_tensors_are_snapshotted_at_call_time(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    weights = torch.ones(1000)
    arr = np.ones(1000)
    with SummaryWriter(str(tmp_path), flush_secs=100) as w:
        w.add_histogram("t", weights, 0)
        w.add_histogram("a", arr, 0)
        weights.mul_(5)  # in-place update after the call must not leak into the log
        arr *= 5
    hist = {v.tag: v.histo for e in read_events(str(tmp_path)) if e.HasField("summary") for v in e.summary.value}
    assert hist["t"].max == 1.0 and hist["a"].max == 1.0


def test_writer_thread_scalar_encoding_equals_protobuf(tmp_path) -> None:
    from logger._pb import summary_pb2

    steps = [0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**40, -1, -(2**40)]
    values = [0.0, 1.5, float("nan"), float("inf"), 1e39, -1e39, 3.0e-45, 7]
    tags = ["a", "ü/x", "t" * 130]
    expected = []
    with SummaryWriter(str(tmp_path)) as w:
        for tag in tags:
            for step in steps:
                for value in values:
                    w.add_scalar(tag, value, step, walltime=1700000000.25 + step % 7)
                    v = summary_pb2.Summary.Value(tag=tag, simple_value=value)
                    expected.append(event_pb2.Event(wall_time=1700000000.25 + step % 7, step=step,
                                                    summary=summary_pb2.Summary(value=[v])).SerializeToString())
    (path,) = glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*"))
    with open(path, "rb") as f:
        payloads = [r.payload for r in records.scan(f.read(), final=True).records]
    assert payloads[1:] == expected


def test_remaining_methods_write_values(tmp_path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = []
    for _ in range(2):
        fig = plt.figure(figsize=(1, 1), dpi=20)
        fig.gca().plot([0, 1], [1, 0])
        figs.append(fig)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_mesh("m", np.random.rand(1, 4, 3), faces=np.zeros((1, 2, 3), dtype=np.int64), global_step=1)
        w.add_video("v", np.random.rand(1, 3, 3, 4, 4), 2, fps=10)
        w.add_figure("f", figs[0], 3)
        w.add_figure("fs", figs[1:], 3)
        w.add_histogram_raw("hr", 0.0, 2.0, 3, 3.0, 5.0, [1.0, 2.0], [1, 2], 4)
        w.add_pr_curve_raw("prr", *[np.arange(5.0)] * 6, global_step=5, num_thresholds=5)
        w.add_custom_scalars_marginchart(["a", "b", "c"])
        w.add_images("imgs", np.zeros((2, 4, 4, 1)), 6, dataformats="NHWC")
    vals = {v.tag: (e.step, v) for e in read_events(str(tmp_path)) if e.HasField("summary") for v in e.summary.value}
    assert vals["m_VERTEX"][0] == 1 and vals["m_FACE"][1].metadata.plugin_data.plugin_name == "mesh"
    assert vals["v"][1].image.encoded_image_string[:3] == b"GIF"
    assert vals["f"][1].image.width == 20 and vals["fs"][1].image.width == 20
    assert list(vals["hr"][1].histo.bucket) == [1.0, 2.0] and vals["hr"][1].histo.num == 3
    assert list(vals["prr"][1].tensor.tensor_shape.dim) and vals["prr"][0] == 5
    assert vals["custom_scalars__config__"][1].metadata.plugin_data.plugin_name == "custom_scalars"
    assert (vals["imgs"][1].image.width, vals["imgs"][1].image.height) == (8, 4)


def test_dead_writer_thread_keeps_raising(tmp_path, monkeypatch) -> None:
    from logger import event_file

    w = SummaryWriter(str(tmp_path))
    w.flush()

    def broken(self, sync):
        raise MemoryError("simulated")

    monkeypatch.setattr(event_file._Core, "write_pending", broken)
    w.add_scalar("a", 1.0, 0)
    with pytest.raises(WriterThreadError, match="simulated"):
        w.flush()
    w._fw._core.thread.join(5)
    assert not w._fw._core.thread.is_alive()
    for _ in range(2):
        with pytest.raises(WriterThreadError, match="simulated"):
            w.add_scalar("a", 2.0, 1)


def test_logger_version_matches_the_distribution() -> None:
    import re
    from pathlib import Path

    import logger
    import vizboard

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.M)
    assert declared is not None
    assert logger.__version__ == vizboard.__version__ == declared.group(1)
