"""System metrics and step timing written through the real SummaryWriter, read back from the event file."""

from __future__ import annotations

import glob
import time
from pathlib import Path

import pytest

from logger import SummaryWriter
from logger._pb import event_pb2
from logger.records import scan
from logger.system_metrics import SystemMetricsSampler
from logger.timing import THROUGHPUT_TAG, StepTimer
from vizboard.data.ingest import load

BASE_TAGS = {"system/cpu_percent", "system/process_cpu_percent", "system/process_rss_mb",
             "system/memory_used_mb", "system/memory_percent"}


def wait_for(cond, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.01)


def events_of(run_dir: Path) -> list[event_pb2.Event]:
    out = []
    for path in sorted(glob.glob(str(run_dir / "*tfevents*"))):
        res = scan(Path(path).read_bytes(), final=True)
        assert not res.damage
        for rec in res.records:
            ev = event_pb2.Event()
            ev.ParseFromString(rec.payload)
            out.append(ev)
    return out


def emit_to(writer: SummaryWriter):
    return lambda tag, value, step, walltime: writer.add_scalar(tag, value, step, walltime)


def test_system_metrics_reach_the_event_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with SummaryWriter(run) as w:
        sampler = SystemMetricsSampler(emit_to(w), interval=0.02)
        t_start = time.time()
        sampler.start()
        wait_for(lambda: sampler.samples >= 3)
        sampler.stop()
        t_end = time.time()
    n = sampler.samples
    points: dict[str, list[tuple[int, float, float]]] = {}
    for ev in events_of(run):
        for v in ev.summary.value:
            points.setdefault(v.tag, []).append((ev.step, ev.wall_time, v.simple_value))
    assert BASE_TAGS <= set(points)
    for tag in BASE_TAGS:
        steps = [s for s, _, _ in points[tag]]
        assert steps == list(range(n)), tag
        assert all(t_start <= wt <= t_end for _, wt, _ in points[tag])
    assert all(v > 0 for _, _, v in points["system/process_rss_mb"])

    store = load(str(tmp_path))
    s = store.scalars("run", "system/memory_percent")
    assert s is not None and len(s) == n
    assert all(0 < v <= 100 for v in s.value)


def test_timer_scalars_reach_the_event_file(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with SummaryWriter(run) as w:
        timer = StepTimer(emit_to(w))
        for _ in range(3):
            with timer("step", batch_size=16):
                with timer("data"):
                    time.sleep(0.001)
                with timer("forward"):
                    time.sleep(0.001)
            timer.step()
    store = load(str(tmp_path))
    tags = {t.tag for t in store.tags()}
    assert {"time/step", "time/data", "time/forward", THROUGHPUT_TAG} <= tags
    step_s = store.scalars("run", "time/step")
    rate = store.scalars("run", THROUGHPUT_TAG)
    assert list(step_s.step) == [0, 1, 2] == list(rate.step)
    assert all(v > 0 for v in step_s.value)
    for d, r in zip(step_s.value, rate.value):
        assert r == pytest.approx(16 / d, rel=1e-6)  # float32 on disk
    data = store.scalars("run", "time/data")
    assert all(dv < sv for dv, sv in zip(data.value, step_s.value))


def test_summary_writer_system_metrics_and_timer(tmp_path: Path) -> None:
    run = tmp_path / "run"
    w = SummaryWriter(run, system_metrics=0.02)
    sampler = w._system
    assert sampler is not None and sampler.running
    wait_for(lambda: sampler.samples >= 2)
    for _step in range(3):
        with w.timer("step", batch_size=4):
            with w.timer("data"):
                time.sleep(0.001)
        w.timer.step()
    w.close()
    assert not sampler.running  # close() stopped and joined it
    n = sampler.samples
    store = load(str(tmp_path))
    tags = {t.tag for t in store.tags()}
    assert BASE_TAGS | {"time/step", "time/data", THROUGHPUT_TAG} <= tags
    assert list(store.scalars("run", "system/process_rss_mb").step) == list(range(n))
    assert list(store.scalars("run", "time/data").step) == [0, 1, 2]


def test_summary_writer_system_metrics_argument(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="system_metrics"):
        SummaryWriter(tmp_path / "bad", system_metrics=-1)
    assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())
    with SummaryWriter(tmp_path / "off") as w:
        assert w._system is None
        with w.timer("x", step=0):
            pass
    w = SummaryWriter(tmp_path / "on", system_metrics=True)
    try:
        assert w._system.interval == 10.0
    finally:
        w.close()
    assert w._system.samples == 1  # the final sample on close


def test_logger_init_system_metrics(tmp_path: Path) -> None:
    import logger

    w = logger.init(tmp_path, "r", system_metrics=0.02)
    sampler = w._system
    wait_for(lambda: sampler.samples >= 2)
    logger.log({"loss": 1.0})
    logger.finish()
    assert not sampler.running
    store = load(str(tmp_path))
    assert {"loss", "system/cpu_percent"} <= {t.tag for t in store.tags()}
