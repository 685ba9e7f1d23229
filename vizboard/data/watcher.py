"""File-system change notifications that mark runs dirty (never parse anything).

:class:`Watcher` wraps a watchdog ``Observer`` (inotify/FSEvents/...) or, with
``poll=True``, a ``PollingObserver`` (for NFS/SMB/FUSE mounts where native events
do not arrive). Its handler only forwards the changed path to a callback; the
ingest thread does all reading. Symlinked directories are not watched by watchdog;
the ingest loop's periodic full rescan covers them.
"""

from __future__ import annotations

from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

__all__ = ["Watcher"]


class _Handler(FileSystemEventHandler):
    def __init__(self, callback: Callable[[str, bool], None]) -> None:
        self._callback = callback

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        structural = event.is_directory or event.event_type not in ("modified", "closed")
        src = event.src_path.decode() if isinstance(event.src_path, bytes) else event.src_path
        self._callback(src, structural)
        dest = getattr(event, "dest_path", "")
        if dest:
            self._callback(dest.decode() if isinstance(dest, bytes) else dest, True)


class Watcher:
    """Watch ``root`` recursively; call ``callback(path, structural)`` for every change.

    ``structural`` is True for creations, deletions, moves and directory events (the
    set of files may have changed) and False for plain content modifications.
    ``poll_interval`` (seconds) applies only with ``poll=True``.
    """

    def __init__(self, root: str, callback: Callable[[str, bool], None], *, poll: bool = False,
                 poll_interval: float = 1.0) -> None:
        self._root = root
        self._callback = callback
        self._poll = poll
        self._poll_interval = poll_interval
        self._observer: Observer | PollingObserver | None = None

    def start(self) -> None:
        """Start the observer thread (owned by this object; :meth:`stop` joins it)."""
        if self._observer is not None:
            return
        obs = PollingObserver(timeout=self._poll_interval) if self._poll else Observer()
        obs.schedule(_Handler(self._callback), self._root, recursive=True)
        obs.daemon = True
        obs.start()
        self._observer = obs

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop and join the observer thread."""
        obs, self._observer = self._observer, None
        if obs is not None:
            obs.stop()
            obs.join(timeout)
