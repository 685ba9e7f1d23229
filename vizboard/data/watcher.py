"""File-system change notifications that mark runs dirty (never parse anything).

:class:`Watcher` wraps a watchdog ``Observer`` (inotify/FSEvents/...) or, with
``poll=True``, a ``PollingObserver`` (for NFS/SMB/FUSE mounts where native events
do not arrive). Its handler only forwards the changed path to a callback; the
ingest thread does all reading. Symlinked directories are not watched by watchdog;
the ingest loop's periodic full rescan covers them.

What is watched (issue 16: 10,000 runs burned 0.84 cores idle): the kernel is asked only for
creations, deletions, moves and content writes (watchdog's ``event_filter`` sets the inotify
mask), so vizboard's own reads of event files (open, access, close-without-write) raise no
event at all and cannot overflow the inotify queue. Of what arrives, only event files
(``tfevents`` in the name) and directories (created/deleted/moved) reach the callback; a
directory's "modified" and every other file are ignored (trace files are found by
:class:`~vizboard.data.traces.TraceIndex`, the periodic rescan covers anything lost to a
queue overflow).

Re-arming: inotify watches die with the directory. A guard thread owned by the Watcher
checks the root's identity every ``rearm_interval`` seconds (one ``stat``; at once when the
root's deletion is reported) and, when the logdir was deleted and recreated, schedules the
watch again and reports the root as changed, so live latency returns to normal.

Health (how often the ingest loop's safety-net rescan must run): :meth:`Watcher.healthy` is True
while a native (inotify/FSEvents) observer is armed, its emitters are alive and no event was
lost. A kernel queue overflow (watchdog only logs it) is caught from watchdog's log record: the
root is reported as changed at once (the ingest rescans) and the watcher counts as unhealthy
for ``overflow_grace`` seconds, so the ingest falls back to frequent rescans meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from vizboard.data.fs import is_event_file

__all__ = ["Watcher", "WATCHED_EVENTS"]

WATCHED_EVENTS: tuple[type[FileSystemEvent], ...] = (
    FileCreatedEvent, DirCreatedEvent, FileModifiedEvent, FileMovedEvent, DirMovedEvent, FileDeletedEvent,
    DirDeletedEvent,
)
"""The only event types requested from the OS (no opened / closed-no-write / access events)."""

_ACTIONS = frozenset({"created", "modified", "moved", "deleted"})


_WATCHDOG_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")


class _OverflowSpy(logging.Handler):
    """Calls ``on_overflow`` when watchdog logs that the kernel's event queue overflowed."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if "overflow" in str(record.msg).lower():
                self._on_overflow()
        except Exception:  # noqa: BLE001 - a logging handler must never raise
            pass


def _text(path: Any) -> str:
    return path.decode() if isinstance(path, bytes) else str(path)


class _Handler(FileSystemEventHandler):
    def __init__(self, root: str, callback: Callable[[str, bool], None], root_gone: Callable[[], None]) -> None:
        self._root = root
        self._callback = callback
        self._root_gone = root_gone

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind not in _ACTIONS:
            return
        src = _text(event.src_path)
        dest = _text(getattr(event, "dest_path", "") or "")
        if event.is_directory:
            if kind == "modified":
                return  # a file inside changed: that file's own event says which
            if kind == "deleted" and os.path.abspath(src) == self._root:
                self._root_gone()
            self._callback(src, True)
            if dest:
                self._callback(dest, True)
            return
        src_ev = is_event_file(os.path.basename(src))
        dest_ev = bool(dest) and is_event_file(os.path.basename(dest))
        if src_ev:
            self._callback(src, kind != "modified")
        if dest_ev:
            self._callback(dest, True)


class Watcher:
    """Watch ``root`` recursively; call ``callback(path, structural)`` for every relevant change.

    ``structural`` is True for creations, deletions, moves and directory events (the
    set of files may have changed) and False for plain content writes of an event file.
    ``poll_interval`` (seconds) applies only with ``poll=True``; ``rearm_interval`` (seconds)
    is how often the guard thread checks that the root is still the directory being watched.
    """

    def __init__(self, root: str, callback: Callable[[str, bool], None], *, poll: bool = False,
                 poll_interval: float = 1.0, rearm_interval: float = 2.0, overflow_grace: float = 60.0) -> None:
        self._root = os.path.abspath(root)
        self._overflow_grace = overflow_grace
        self._overflow_at = -float("inf")
        self._spy = _OverflowSpy(self._overflowed)
        self._callback = callback
        self._poll = poll
        self._poll_interval = poll_interval
        self._rearm_interval = rearm_interval
        self._observer: Any = None
        self._armed_id: tuple[int, int] | None = None
        self._gone = threading.Event()
        self._stop = threading.Event()
        self._guard: threading.Thread | None = None
        self._lock = threading.Lock()
        self.rearms = 0
        """How many times the watch was re-armed after the root was replaced (tests, diagnostics)."""
        self.overflows = 0
        """How many kernel queue overflows (lost events) were reported (tests, diagnostics)."""

    def _overflowed(self) -> None:
        self.overflows += 1
        self._overflow_at = time.monotonic()
        self._callback(self._root, True)  # events were lost: rescan now

    def healthy(self) -> bool:
        """True if change notifications can be trusted: a native observer is armed, its emitters are
        alive, the root is still the watched directory and no event was lost in the last
        ``overflow_grace`` seconds. A polling observer never counts as healthy (rescan as often as before)."""
        if self._poll or self._stop.is_set() or self._gone.is_set():
            return False
        if time.monotonic() - self._overflow_at < self._overflow_grace:
            return False
        obs = self._observer
        if obs is None or not any(e.is_alive() for e in list(obs.emitters)):
            return False
        return self._root_id() == self._armed_id

    def _root_id(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._root)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _arm(self) -> None:
        obs = PollingObserver(timeout=self._poll_interval) if self._poll else Observer()
        handler = _Handler(self._root, self._callback, self._gone.set)
        obs.schedule(handler, self._root, recursive=True, event_filter=list(WATCHED_EVENTS))
        obs.daemon = True
        obs.start()
        self._observer = obs
        self._armed_id = self._root_id()

    def start(self) -> None:
        """Start the observer and the guard thread (both owned by this object; :meth:`stop` joins them)."""
        with self._lock:
            if self._observer is not None:
                return
            self._stop.clear()
            self._gone.clear()
            self._arm()
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).addHandler(self._spy)
        self._guard = threading.Thread(target=self._guard_loop, name="vizboard-watch-guard", daemon=True)
        self._guard.start()

    def _guard_loop(self) -> None:
        while not self._stop.is_set():
            if self._gone.is_set():
                self._stop.wait(0.2)  # the root's deletion was reported: look for it often
            else:
                self._gone.wait(self._rearm_interval)
            if self._stop.is_set():
                return
            current = self._root_id()
            if current is None:
                self._gone.set()
                continue
            obs = self._observer
            watching = obs is not None and any(e.is_alive() for e in list(obs.emitters))
            if self._gone.is_set() or current != self._armed_id or not watching:
                self._rearm()

    def _rearm(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            old, self._observer = self._observer, None
            if old is not None:
                old.stop()
                old.join(5.0)
            self._gone.clear()
            try:
                self._arm()
            except OSError:
                self._observer = None
                self._armed_id = None
                return
            self.rearms += 1
        self._callback(self._root, True)  # whatever happened while unwatched: rescan

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop and join the observer and the guard thread."""
        self._stop.set()
        self._gone.set()
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).removeHandler(self._spy)
        guard, self._guard = self._guard, None
        if guard is not None:
            guard.join(timeout)
        with self._lock:
            obs, self._observer = self._observer, None
        if obs is not None:
            obs.stop()
            obs.join(timeout)
