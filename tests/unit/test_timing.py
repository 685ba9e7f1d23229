"""StepTimer: tags, steps (explicit and advanced), durations and throughput."""

from __future__ import annotations

import time

import pytest

from logger.timing import THROUGHPUT_TAG, StepTimer


class Collect(list):
    def __call__(self, tag, value, step, walltime):
        self.append((tag, value, step, walltime))


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_phases_are_logged_with_tags_steps_and_positive_durations() -> None:
    got = Collect()
    timer = StepTimer(got)
    for _ in range(3):
        with timer("data"):
            busy(0.001)
        with timer("forward") as fw:
            busy(0.001)
        assert fw.duration is not None and fw.duration > 0
        timer.step()
    assert [(t, s) for t, _, s, _ in got] == [
        ("time/data", 0), ("time/forward", 0), ("time/data", 1), ("time/forward", 1),
        ("time/data", 2), ("time/forward", 2),
    ]
    assert all(v > 0 for _, v, _, _ in got)
    now = time.time()
    assert all(abs(w - now) < 60 for *_, w in got)
    assert timer.current_step == 3


def test_duration_covers_the_block() -> None:
    got = Collect()
    timer = StepTimer(got)
    t0 = time.perf_counter()
    with timer("step"):
        busy(0.01)
    outer = time.perf_counter() - t0
    (_, value, _, _), = got
    assert 0.01 <= value <= outer


def test_throughput_is_batch_size_over_duration() -> None:
    got = Collect()
    timer = StepTimer(got)
    with timer("step", batch_size=32, step=7) as ph:
        busy(0.002)
    assert [t for t, *_ in got] == ["time/step", THROUGHPUT_TAG]
    (_, dur, s1, w1), (_, rate, s2, w2) = got
    assert s1 == s2 == 7 and w1 == w2
    assert dur == ph.duration
    assert rate == pytest.approx(32 / dur)


def test_explicit_step_and_set_step() -> None:
    got = Collect()
    timer = StepTimer(got, start_step=100)
    with timer("a"):
        pass
    with timer("a", step=5):
        pass
    assert timer.step(42) == 42
    with timer("a"):
        pass
    assert [s for _, _, s, _ in got] == [100, 5, 42]


def test_step_is_read_on_entry() -> None:
    got = Collect()
    timer = StepTimer(got)
    with timer("step"):
        timer.step()
    assert got[0][2] == 0


def test_nested_phases() -> None:
    got = Collect()
    timer = StepTimer(got)
    with timer("step", batch_size=4):
        with timer("forward"):
            busy(0.001)
    tags = [t for t, *_ in got]
    assert tags == ["time/forward", "time/step", THROUGHPUT_TAG]
    assert got[1][1] >= got[0][1]


def test_block_that_raises_logs_nothing() -> None:
    got = Collect()
    timer = StepTimer(got)
    with pytest.raises(KeyError):
        with timer("data"):
            raise KeyError("boom")
    assert got == []


@pytest.mark.parametrize("kwargs, match", [
    ({"name": ""}, "name"),
    ({"name": 3}, "name"),
    ({"name": "x", "batch_size": 0}, "batch_size"),
    ({"name": "x", "batch_size": True}, "batch_size"),
    ({"name": "x", "batch_size": float("nan")}, "batch_size"),
    ({"name": "x", "step": -1}, "step"),
    ({"name": "x", "step": 1.5}, "step"),
])
def test_bad_arguments(kwargs, match) -> None:
    timer = StepTimer(Collect())
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=match):
        timer(name, **kwargs)


def test_bad_step_value() -> None:
    timer = StepTimer(Collect())
    with pytest.raises(ValueError, match="step"):
        timer.step(-3)


def test_for_writer_uses_add_scalar_without_keeping_the_writer_alive() -> None:
    import gc
    import weakref

    class W:
        def __init__(self):
            self.got = []
            self.timer = StepTimer.for_writer(self)

        def add_scalar(self, tag, value, global_step=None, walltime=None):
            self.got.append((tag, global_step))

    w = W()
    with w.timer("data", step=3):
        pass
    assert w.got == [("time/data", 3)]
    ref = weakref.ref(w)
    timer = w.timer
    del w
    gc.collect()
    assert ref() is None
    with pytest.raises(ReferenceError):
        with timer("data"):
            pass
