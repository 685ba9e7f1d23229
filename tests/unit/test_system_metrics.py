"""SystemMetricsSampler: tags and units, its own thread started and joined, clear errors."""

from __future__ import annotations

import builtins
import math
import os
import sys
import threading
import time

import psutil
import pytest

from logger.system_metrics import DEFAULT_INTERVAL, SystemMetricsSampler, resolve_interval

BASE_TAGS = {
    "system/cpu_percent",
    "system/process_cpu_percent",
    "system/process_rss_mb",
    "system/memory_used_mb",
    "system/memory_percent",
}


class Collect:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[str, float, int, float, str]] = []

    def __call__(self, tag: str, value: float, step: int, walltime: float) -> None:
        with self.lock:
            self.items.append((tag, value, step, walltime, threading.current_thread().name))


def wait_for(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.01)


def test_resolve_interval() -> None:
    assert resolve_interval(False) is None
    assert resolve_interval(None) is None
    assert resolve_interval(True) == DEFAULT_INTERVAL == 10.0
    assert resolve_interval(2.5) == 2.5
    assert resolve_interval(3) == 3.0
    for bad in (0, -1, float("nan"), float("inf"), "10"):
        with pytest.raises(ValueError, match="system_metrics"):
            resolve_interval(bad)


def test_sample_now_values_and_units() -> None:
    got = Collect()
    s = SystemMetricsSampler(got, interval=60)
    values = s.sample_now()
    assert BASE_TAGS <= set(values)
    rss_mb = psutil.Process(os.getpid()).memory_info().rss / 2**20
    assert values["system/process_rss_mb"] == pytest.approx(rss_mb, rel=0.5)
    assert 0 <= values["system/memory_percent"] <= 100
    assert values["system/memory_used_mb"] > 0
    assert {t for t, *_ in got.items} == set(values)
    assert {step for _, _, step, _, _ in got.items} == {0}
    walltimes = {w for *_, w, _ in got.items}
    assert len(walltimes) == 1 and abs(walltimes.pop() - time.time()) < 60
    s.sample_now()
    assert {step for _, _, step, _, _ in got.items[len(values):]} == {1}


def test_background_thread_samples_and_stop_joins() -> None:
    got = Collect()
    before = set(threading.enumerate())
    s = SystemMetricsSampler(got, interval=0.02)
    s.start()
    assert s.running
    wait_for(lambda: s.samples >= 3)
    s.stop()
    assert not s.running
    assert set(threading.enumerate()) - before == set()
    steps = sorted({step for _, _, step, _, _ in got.items})
    assert steps == list(range(s.samples))
    # every emit happened on the sampler's thread, never on ours
    assert {name for *_, name in got.items} == {"vizboard-system-metrics"}
    n = len(got.items)
    s.stop()  # idempotent
    assert len(got.items) == n


def test_stop_writes_a_final_sample_even_before_the_first_interval() -> None:
    got = Collect()
    s = SystemMetricsSampler(got, interval=3600)
    s.start()
    s.stop()
    assert s.samples == 1
    assert BASE_TAGS <= {t for t, *_ in got.items}


def test_emit_failure_ends_thread_quietly() -> None:
    def broken(tag, value, step, walltime):
        raise RuntimeError("writer closed")

    s = SystemMetricsSampler(broken, interval=0.01)
    s.start()
    wait_for(lambda: s.error is not None)
    s.stop()
    assert not s.running
    assert "writer closed" in str(s.error)


def test_missing_psutil_gives_clear_error(monkeypatch) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError("No module named 'psutil'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install \"vizboard\[system\]\" \(or pip install psutil\)"):
        SystemMetricsSampler(Collect(), interval=1)


def test_gpu_fallback_never_imports_torch(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` fail
    s = SystemMetricsSampler(Collect(), interval=1)
    values = s.sample_now()
    assert "torch" not in sys.modules
    assert not any(t.startswith("system/gpu") for t in values)  # CPU-only machine


def test_gpu_from_already_imported_torch(monkeypatch) -> None:
    class FakeCuda:
        @staticmethod
        def is_available():
            return True

        @staticmethod
        def device_count():
            return 2

        @staticmethod
        def memory_allocated(i):
            return (i + 1) * 2**20 * 100

        @staticmethod
        def utilization(i):
            return 40 + i

    class FakeTorch:
        cuda = FakeCuda

    monkeypatch.setitem(sys.modules, "pynvml", None)
    monkeypatch.setitem(sys.modules, "torch", FakeTorch)
    values = SystemMetricsSampler(Collect(), interval=1).sample_now()
    assert values["system/gpu0_mem_mb"] == 100.0
    assert values["system/gpu1_mem_mb"] == 200.0
    assert values["system/gpu0_util"] == 40.0 and values["system/gpu1_util"] == 41.0
    assert all(math.isfinite(v) for v in values.values())


class FakeWriter:
    def __init__(self) -> None:
        self.got = Collect()

    def add_scalar(self, tag, value, global_step=None, walltime=None):
        self.got(tag, value, global_step, walltime)


def test_sampler_for_writer_off_and_validation() -> None:
    from logger.system_metrics import sampler_for_writer

    assert sampler_for_writer(FakeWriter(), False) is None
    with pytest.raises(ValueError, match="system_metrics"):
        sampler_for_writer(FakeWriter(), -2)
    s = sampler_for_writer(FakeWriter(), True)
    assert s.interval == DEFAULT_INTERVAL and not s.running


def test_sampler_for_writer_writes_and_stops_when_the_writer_is_collected() -> None:
    import gc

    from logger.system_metrics import sampler_for_writer

    w = FakeWriter()
    got = w.got
    s = sampler_for_writer(w, 0.01)
    s.start()
    wait_for(lambda: s.samples >= 2)
    assert BASE_TAGS <= {t for t, *_ in got.items}
    del w
    gc.collect()
    wait_for(lambda: not s.running)  # the finalizer stopped and joined it
