"""Live faults: a writer SIGKILLed at random times and restarted from an older step while the reader is polled.

Every step the writer reported as flushed must be shown with the value of the session
that wrote it last (the restart rule), reads during the run never fail, and no point
ever shows a value its step was not logged with.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from vizboard.data import Ingestor, Store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from logger import SummaryWriter
    logdir, start, session = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w = SummaryWriter(logdir, flush_secs=0.05)
    for step in range(start, start + 1_000_000):
        w.add_scalar("x", step * 10 + session, step)
        if step % 7 == 0:
            w.flush()
            print(step, flush=True)
        time.sleep(0.0005)
""")


def _session(logdir: str, start: int, session: int, flushes: int) -> int:
    """Run one writer session until it reported ``flushes`` flushes, SIGKILL it; return its last flushed step."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=ROOT), logdir, str(start), str(session)],
                            stdout=subprocess.PIPE, text=True)
    last = start - 1
    try:
        assert proc.stdout is not None
        for _ in range(flushes):
            line = proc.stdout.readline()
            if not line:
                break
            last = int(line)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return last


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkilled_writer_restarted_from_older_steps(tmp_path, seed: int) -> None:
    rng = random.Random(seed)
    logdir = str(tmp_path / "run")
    store = Store(str(tmp_path))
    errors: list[BaseException] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                s = store.scalars("run", "x")
                if s is not None and len(s):
                    steps, values = s.step, s.value
                    assert (steps[1:] > steps[:-1]).all(), "steps not strictly increasing"
                    sessions = values - steps * 10
                    assert ((sessions >= 0) & (sessions < 10)).all(), "a value its step was never logged with"
                store.status()
                store.problems()
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                errors.append(exc)
                return
            time.sleep(0.01)

    expected: dict[int, int] = {}  # step -> session that flushed it last (after the restart rule)
    with Ingestor(store, reload_interval=0.2, watch=False):
        poller = threading.Thread(target=poll, name="test-poller")
        poller.start()
        try:
            start = 0
            for session in range(5):
                sec = int(time.time())
                while int(time.time()) == sec:  # a new file name that sorts after the previous one
                    time.sleep(0.02)
                last = _session(logdir, start, session, rng.randint(3, 25))
                expected = {k: v for k, v in expected.items() if k < start}
                expected.update({k: session for k in range(start, last + 1)})
                start = max(0, last - rng.randint(0, 60))  # the next session restarts from an older step
            final_step = max(expected)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                s = store.scalars("run", "x")
                if s is not None and len(s) and int(s.step[-1]) >= final_step:
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            poller.join(timeout=10)
    assert not errors, errors
    s = store.scalars("run", "x")
    assert s is not None
    shown = dict(zip(s.step.tolist(), s.value.tolist()))
    missing = [k for k in expected if k not in shown]
    assert not missing, f"flushed steps not shown: {missing[:10]}"
    wrong = [(k, shown[k], k * 10 + v) for k, v in expected.items() if shown[k] != k * 10 + v]
    assert not wrong, f"wrong values: {wrong[:10]}"
    assert store.problems() == []
