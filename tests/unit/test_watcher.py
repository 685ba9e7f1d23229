"""vizboard.data.watcher: only event-file writes and directory changes reach the ingest; re-armed when the logdir is recreated."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from vizboard.data import watcher as watcher_mod
from vizboard.data.watcher import Watcher

TIMEOUT = 20.0


class Calls:
    def __init__(self) -> None:
        self.items: list[tuple[str, bool]] = []
        self.cond = threading.Condition()

    def __call__(self, path: str, structural: bool) -> None:
        with self.cond:
            self.items.append((path, structural))
            self.cond.notify_all()

    def wait_for(self, pred, timeout: float = TIMEOUT) -> list[tuple[str, bool]]:
        with self.cond:
            assert self.cond.wait_for(lambda: pred(self.items), timeout), self.items
            return list(self.items)

    def clear(self) -> None:
        with self.cond:
            self.items.clear()


@pytest.fixture()
def seen_types(monkeypatch) -> list[str]:
    """Every event type watchdog delivers to the handler (before our filtering)."""
    seen: list[str] = []
    orig = watcher_mod._Handler.on_any_event

    def spy(self, event):
        seen.append(event.event_type)
        return orig(self, event)

    monkeypatch.setattr(watcher_mod._Handler, "on_any_event", spy)
    return seen


def _sentinel(root: Path, calls: Calls, name: str) -> None:
    """Write a new event file and wait until its creation is reported (the queue is drained up to here;
    the file's own 'modified' may still follow, so callers ignore the sentinel's path)."""
    p = root / f"events.out.tfevents.{name}"
    p.write_bytes(b"x")
    calls.wait_for(lambda items: any(i[0] == str(p) for i in items))


def test_own_reads_raise_no_events_and_appends_are_not_structural(tmp_path: Path, seen_types: list[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    f = run / "events.out.tfevents.1.h"
    f.write_bytes(b"a" * 100)
    calls = Calls()
    w = Watcher(str(tmp_path), calls)
    w.start()
    try:
        _sentinel(run, calls, "warmup")
        calls.clear()
        seen_types.clear()
        for _ in range(50):  # what the ingest thread and the blob cache do
            with open(f, "rb") as fh:
                fh.read()
        with open(f, "ab") as fh:  # a writer appends and flushes
            fh.write(b"more")
        items = calls.wait_for(lambda items: (str(f), False) in items)
        _sentinel(run, calls, "after")
        assert "opened" not in seen_types and "closed_no_write" not in seen_types, seen_types
        items = [i for i in calls.items if not i[0].endswith(("tfevents.after", "tfevents.warmup"))]
        assert set(items) == {(str(f), False)}, items  # no directory "modified" -> no full rescan
    finally:
        w.stop()


def test_side_files_and_directory_modifications_are_ignored(tmp_path: Path) -> None:
    calls = Calls()
    w = Watcher(str(tmp_path), calls)
    w.start()
    try:
        (tmp_path / "ckpt.pt").write_bytes(b"x" * 10)
        (tmp_path / "notes.txt").write_text("x")
        os.remove(tmp_path / "notes.txt")
        (tmp_path / "newrun").mkdir()
        calls.wait_for(lambda items: (str(tmp_path / "newrun"), True) in items)
        _sentinel(tmp_path, calls, "s")
        assert not [p for p, _ in calls.items if p.endswith(("ckpt.pt", "notes.txt"))], calls.items
    finally:
        w.stop()


def test_watch_is_rearmed_after_the_logdir_is_deleted_and_recreated(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    calls = Calls()
    w = Watcher(str(root), calls, rearm_interval=0.2)
    w.start()
    try:
        _sentinel(root, calls, "one")
        shutil.rmtree(root)
        deadline = time.monotonic() + TIMEOUT
        while w.rearms == 0 and time.monotonic() < deadline:
            if not root.exists():
                root.mkdir()
            time.sleep(0.05)
        assert w.rearms >= 1
        calls.wait_for(lambda items: (str(root), True) in items)  # a rescan is requested after re-arming
        calls.clear()
        (root / "run").mkdir()
        f = root / "run" / "events.out.tfevents.2.h"
        f.write_bytes(b"x")
        calls.wait_for(lambda items: (str(f), True) in items)
    finally:
        w.stop()


def test_health_follows_overflow_and_poll_mode(tmp_path: Path) -> None:
    """A queue overflow (watchdog only logs it) requests a rescan at once and makes the watcher
    unhealthy for the grace period; a polling watcher is never healthy (the ingest keeps short rescans)."""
    import logging

    calls = Calls()
    w = Watcher(str(tmp_path), calls, overflow_grace=3600.0)
    w.start()
    try:
        assert w.healthy()
        logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
        assert w.overflows == 1 and not w.healthy()
        calls.wait_for(lambda items: (str(tmp_path), True) in items)
    finally:
        w.stop()
    assert not w.healthy()
    p = Watcher(str(tmp_path), Calls(), poll=True)
    p.start()
    try:
        assert not p.healthy()
    finally:
        p.stop()


def test_ingest_rescans_rarely_only_while_the_watcher_is_healthy(tmp_path: Path) -> None:
    from vizboard.data import Store
    from vizboard.data.ingest import Ingestor

    (tmp_path / "run").mkdir()
    ing = Ingestor(Store(str(tmp_path)))
    ing.start()
    try:
        assert ing.wait_until_loaded(TIMEOUT)
        assert ing.rescan_interval() >= 60.0  # healthy native watcher: the safety net is rare
        logging_overflow = __import__("logging").getLogger("watchdog.observers.inotify_c")
        logging_overflow.warning("Inotify queue overflowed; filesystem events were lost")
        assert ing.rescan_interval() == ing.reload_interval == 5.0  # events lost: back to frequent rescans
    finally:
        ing.stop()
    assert Ingestor(Store(str(tmp_path)), poll=True).rescan_interval() == 1.0
    assert Ingestor(Store(str(tmp_path)), reload_interval=3.0).rescan_interval() == 3.0
    linked = tmp_path / "linked"
    os.symlink(tmp_path / "run", linked)
    fixed = Ingestor(Store(str(tmp_path)))
    fixed.start()
    try:
        assert fixed.wait_until_loaded(TIMEOUT)
        assert fixed.rescan_interval() == 5.0  # a symlinked directory: watchers do not see into it
    finally:
        fixed.stop()
