"""Live tailing: a writer process appends while the ingest thread runs; restarts replace steps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from logger._pb import event_pb2
from logger.records import frame
from vizboard.data import Ingestor, Store, load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from logger._pb import event_pb2
    from logger.records import frame
    path, n = sys.argv[1], int(sys.argv[2])
    with open(path, "ab", buffering=0) as f:
        f.write(frame(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString()))
        for i in range(n):
            e = event_pb2.Event(wall_time=time.time(), step=i)
            e.summary.value.add(tag="loss", simple_value=i * 0.5)
            e.summary.value.add(tag="acc", simple_value=-i)
            rec = frame(e.SerializeToString())
            half = len(rec) // 2
            f.write(rec[:half])  # a reader may see a torn record here
            time.sleep(0.003)
            f.write(rec[half:])
            if i % 10 == 0:
                time.sleep(0.03)
""")


def wait_for(cond, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("poll", [False, True], ids=["watchdog", "polling"])
def test_every_point_arrives_once_in_order(tmp_path, poll):
    n = 400
    run_dir = tmp_path / "live"
    run_dir.mkdir()
    path = run_dir / "events.out.tfevents.1700000000.host.1.0"
    store = Store(str(tmp_path))
    with Ingestor(store, poll=poll, reload_interval=30.0) as ing:
        assert ing.wait_until_loaded(20)
        proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=ROOT), str(path), str(n)])
        seen_lengths = []
        try:
            def check() -> bool:
                s = store.scalars("live", "loss")
                if s is not None:
                    k = len(s)
                    # every snapshot is an exact prefix of what was written
                    assert s.step.tolist() == list(range(k))
                    assert s.value.tolist() == [i * 0.5 for i in range(k)]
                    seen_lengths.append(k)
                return s is not None and len(s) == n

            assert wait_for(check, 60)
        finally:
            proc.wait(30)
        assert proc.returncode == 0
        assert store.scalars("live", "acc").value.tolist() == [-float(i) for i in range(n)]
        assert store.problems() == []
        assert len(set(seen_lengths)) > 2  # it really was read incrementally


def test_restart_in_a_newer_file_replaces_steps(tmp_path):
    run = tmp_path / "run"
    run.mkdir()

    def write(name, pts):
        recs = []
        for step, v in pts:
            e = event_pb2.Event(wall_time=1.0 + step, step=step)
            e.summary.value.add(tag="loss", simple_value=v)
            recs.append(frame(e.SerializeToString()))
        (run / name).write_bytes(b"".join(recs))

    write("events.out.tfevents.1700000000.h.1.0", [(i, float(i)) for i in range(5)])
    write("events.out.tfevents.1700000100.h.2.0", [(2, 20.0), (3, 30.0)])
    s = load(str(tmp_path)).scalars("run", "loss")
    assert s.step.tolist() == [0, 1, 2, 3] and s.value.tolist() == [0.0, 1.0, 20.0, 30.0]


def test_new_runs_are_discovered_while_running(tmp_path):
    store = Store(str(tmp_path))
    with Ingestor(store, reload_interval=30.0) as ing:
        assert ing.wait_until_loaded(20)
        assert store.runs() == []
        d = tmp_path / "a" / "b"
        d.mkdir(parents=True)
        e = event_pb2.Event(wall_time=1.0, step=7)
        e.summary.value.add(tag="x", simple_value=1.0)
        (d / "events.out.tfevents.1.h").write_bytes(frame(e.SerializeToString()))
        assert wait_for(lambda: store.scalars("a/b", "x") is not None)
        assert store.scalars("a/b", "x").step.tolist() == [7]
        assert not store.status().loading and store.status().bytes_read == store.status().bytes_total
        assert np.isfinite(store.status().last_update)
