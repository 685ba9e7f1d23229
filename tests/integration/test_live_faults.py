"""Live faults: a writer SIGKILLed at random times and restarted from an older step while the server is polled.

A real server (``VizboardServer`` serving in a thread on a free port, default settings: file
watcher and rescans) is polled over HTTP (``/api/scalars``, ``/api/status``, ``/api/problems``)
the whole time. Every step the writer reported as flushed must be shown with the value of the
session that wrote it last (the restart rule), no answer is an error once the run is listed,
and no answer ever shows a value its step was not logged with.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from vizboard.config import ServeConfig
from vizboard.data.downsample import MAX_POINTS_LIMIT
from vizboard.server import VizboardServer

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


def _get(base: str, path: str, **params: Any) -> tuple[int, Any]:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _series(base: str) -> tuple[int, Any]:
    return _get(base, "/api/scalars", run="run", tag="x", max_points=MAX_POINTS_LIMIT)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkilled_writer_restarted_from_older_steps(tmp_path, seed: int) -> None:
    rng = random.Random(seed)
    logdir = str(tmp_path / "run")
    errors: list[BaseException] = []
    answers = [0]
    stop = threading.Event()
    srv = VizboardServer(ServeConfig(logdir=str(tmp_path), host="127.0.0.1", port=0)).start_background()
    base = f"http://127.0.0.1:{srv.port}"

    def poll() -> None:
        listed = False
        while not stop.is_set():
            try:
                status, body = _series(base)
                if status == 404 and not listed:
                    time.sleep(0.01)
                    continue  # the writer has not flushed the run's first file yet
                assert status == 200, (status, body)
                listed = True
                answers[0] += 1
                steps, values = body["step"], body["value"]
                # num_points comes from a second snapshot taken just after (it may have grown since)
                assert len(steps) <= body["num_points"], "more points than the series holds"
                assert all(b > a for a, b in zip(steps, steps[1:])), "steps not strictly increasing"
                sessions = [v - k * 10 for k, v in zip(steps, values)]
                assert all(0 <= x < 10 for x in sessions), "a value its step was never logged with"
                for path in ("/api/status", "/api/problems"):
                    code, got = _get(base, path)
                    assert code == 200, (path, code, got)
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                errors.append(exc)
                return
            time.sleep(0.01)

    expected: dict[int, int] = {}  # step -> session that flushed it last (after the restart rule)
    try:
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
            body: Any = None
            while time.monotonic() < deadline and not errors:
                status, body = _series(base)
                if status == 200 and body["step"] and body["step"][-1] >= final_step:
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            poller.join(timeout=30)
        assert not errors, errors
        assert answers[0] > 0
        status, body = _series(base)
        assert status == 200, body
        assert len(body["step"]) == body["num_points"], "the final answer is not at full resolution"
        shown = dict(zip(body["step"], body["value"]))
        missing = [k for k in expected if k not in shown]
        assert not missing, f"flushed steps not shown: {missing[:10]}"
        wrong = [(k, shown[k], k * 10 + v) for k, v in expected.items() if shown[k] != k * 10 + v]
        assert not wrong, f"wrong values: {wrong[:10]}"
        code, problems = _get(base, "/api/problems")
        assert code == 200 and not problems, problems
    finally:
        srv.stop()
