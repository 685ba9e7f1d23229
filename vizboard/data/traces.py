"""torch.profiler trace files: discovery under a logdir, contained reads, and the index the server publishes.

``torch.profiler.tensorboard_trace_handler(dir)`` writes ``<worker>.<timestamp ns>.pt.trace.json``
(``.gz`` with ``use_gzip=True``) directly into ``dir``. Users pass either
``<run_dir>/plugins/profile`` (TensorBoard's layout, sometimes with one more sub-directory) or
the run directory itself, so a trace's *profile run* is its directory with a trailing
``plugins/profile[/<name>]`` removed, relative to the logdir (``.`` for the logdir itself). A
profile run need not hold an event file.

Containment: a trace is listed and read only if its real path (symlinks resolved) lies in the
logdir (:func:`vizboard.data.safe_paths.resolve_within`); a symlink named like a trace that
points elsewhere is never listed nor read. Remote (fsspec) logdirs get the same check on
their normalised URLs.

:class:`TraceIndex` is the discovery step the server owns: a thread started by
``VizboardServer`` refreshes the list every ``interval`` seconds while someone looked at it
recently, and :class:`~vizboard.data.provider.DataProvider` ``traces()`` returns its snapshot,
so Dash threads never walk the logdir.
"""

from __future__ import annotations

import os
import posixpath
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vizboard.data.fs import ReadAllError, open_fs, read_all
from vizboard.data.safe_paths import OutsideLogdirError, is_within, resolve_within

__all__ = [
    "TRACE_SUFFIXES",
    "MAX_TRACE_BYTES",
    "TraceFile",
    "TraceParseError",
    "TraceIndex",
    "find_traces",
    "profile_run_name",
    "read_trace_bytes",
]

TRACE_SUFFIXES: tuple[str, ...] = (".pt.trace.json", ".pt.trace.json.gz")
"""File name endings of torch.profiler traces (what ``tensorboard_trace_handler`` writes)."""

MAX_TRACE_BYTES = 1 << 30
"""Largest (decompressed) trace read, in bytes; bigger ones are reported, not loaded."""


class TraceParseError(ValueError):
    """A trace file that is not (yet) a readable torch.profiler trace; the message says why."""


@dataclass(frozen=True, slots=True)
class TraceFile:
    """One trace file: its profile ``run``, absolute ``path`` (or URL), ``worker`` (host_pid),
    ``timestamp`` from the name (an integer the profiler chose, or None), ``size`` (bytes) and
    ``mtime`` (seconds since the epoch; 0.0 when the file system cannot tell)."""

    run: str
    path: str
    worker: str
    timestamp: int | None
    size: int
    mtime: float

    @property
    def key(self) -> tuple[str, float, int]:
        """Cache key: changes whenever the file is rewritten."""
        return (self.path, self.mtime, self.size)

    @property
    def label(self) -> str:
        """Short human-readable name: ``run · worker (file name)``."""
        return f"{self.run} · {self.worker} ({posixpath.basename(self.path.replace(os.sep, '/'))})"


def profile_run_name(rel_dir: str) -> str:
    """The profile run of a trace directory ``rel_dir`` (relative to the logdir, ``/``-separated).

    A trailing ``plugins/profile`` or ``plugins/profile/<name>`` is removed; the logdir itself is ``.``.
    """
    parts = [p for p in rel_dir.replace(os.sep, "/").split("/") if p and p != "."]
    if len(parts) >= 2 and parts[-2:] == ["plugins", "profile"]:
        parts = parts[:-2]
    elif len(parts) >= 3 and parts[-3:-1] == ["plugins", "profile"]:
        parts = parts[:-3]
    return "/".join(parts) if parts else "."


def _worker_and_time(basename: str) -> tuple[str, int | None]:
    stem = basename
    for suffix in sorted(TRACE_SUFFIXES, key=len, reverse=True):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    worker, _, ts = stem.rpartition(".")
    if worker and ts.isdigit():
        return worker, int(ts)
    return stem, None


def find_traces(logdir: str, storage_options: dict[str, Any] | None = None) -> list[TraceFile]:
    """Every torch.profiler trace under ``logdir`` that resolves inside it, sorted by (run, path).

    Never raises for a missing or unreadable logdir (returns what it could list).
    """
    try:
        fs = open_fs(logdir, storage_options)
        paths = fs.glob(".", "*.pt.trace.json*")
    except (OSError, ValueError, ImportError):
        return []
    root = fs.root.replace(os.sep, "/").rstrip("/")
    out: list[TraceFile] = []
    for path in paths:
        norm = path.replace(os.sep, "/")
        base = posixpath.basename(norm)
        if not base.endswith(TRACE_SUFFIXES) or not is_within(fs.root, path):
            continue
        rel_dir = posixpath.dirname(norm[len(root) :].lstrip("/")) if norm.startswith(root) else ""
        mtime = 0.0
        if not fs.remote:
            try:
                st = os.stat(path)
            except OSError:
                continue
            size, mtime = int(st.st_size), float(st.st_mtime)
        else:
            got = fs.size(path)
            if got is None:
                continue
            size = got
        worker, ts = _worker_and_time(base)
        out.append(TraceFile(profile_run_name(rel_dir), path, worker, ts, size, mtime))
    out.sort(key=lambda t: (t.run, t.path))
    return out


def read_trace_bytes(logdir: str, trace: TraceFile, storage_options: dict[str, Any] | None = None) -> bytes:
    """The file's bytes as stored (still gzipped for ``.gz``).

    Raises TraceParseError if the path resolves (symlinks followed) outside ``logdir``, cannot
    be read, or exceeds :data:`MAX_TRACE_BYTES`. The resolved path is what gets opened.
    """
    fs = open_fs(logdir, storage_options)
    try:
        path = resolve_within(fs.root, trace.path)
    except OutsideLogdirError as exc:
        raise TraceParseError(f"refused: {exc}") from None
    try:
        return read_all(fs, path, MAX_TRACE_BYTES, "trace")
    except ReadAllError as exc:
        raise TraceParseError(str(exc)) from exc


class TraceIndex:
    """The trace files of one logdir, refreshed by a thread this object owns.

    :meth:`traces` returns the last snapshot (it walks the tree itself only before the first
    refresh, or when no thread runs and the snapshot is older than ``interval``).
    The thread refreshes every ``interval`` seconds, but only while
    :meth:`traces` was called within the last ``idle_after`` seconds, so an idle server with
    no client open does no walking. :meth:`start`/:meth:`stop` start and join the thread.
    """

    def __init__(self, logdir: str, *, interval: float = 5.0, idle_after: float = 60.0,
                 storage_options: dict[str, Any] | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.logdir = logdir
        self.interval = interval
        self.idle_after = idle_after
        self._options = storage_options
        self._lock = threading.Lock()
        self._traces: list[TraceFile] | None = None
        self._asked = 0.0
        self._refreshed = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._after: Callable[[float], bool] | None = None
        self.refreshes = 0
        """How many walks ran (for tests and diagnostics)."""

    def refresh(self) -> list[TraceFile]:
        """Walk the logdir now and publish the result."""
        found = find_traces(self.logdir, self._options)
        with self._lock:
            self._traces = found
            self._refreshed = time.monotonic()
            self.refreshes += 1
        return found

    def traces(self) -> list[TraceFile]:
        """The last published list of traces (a copy), sorted by (run, path).

        Without the thread (a one-shot app) a list older than ``interval`` is refreshed here.
        """
        now = time.monotonic()
        with self._lock:
            self._asked = now
            current = self._traces
            stale = self._thread is None and now - self._refreshed > self.interval
        return list(current) if current is not None and not stale else list(self.refresh())

    def read(self, trace: TraceFile) -> bytes:
        """Bytes of ``trace`` if it is a published trace; else TraceParseError."""
        with self._lock:
            known = self._traces or []
        match = next((t for t in known if t.path == trace.path), None)
        if match is None:
            raise TraceParseError(f"the trace {trace.path} is no longer in the logdir")
        return read_trace_bytes(self.logdir, match, self._options)

    def start(self, after: Callable[[float], bool] | None = None) -> None:
        """Start the refresh thread (returns at once; the first walk runs in it at once, or once
        ``after(timeout)`` returns True, e.g. ``Ingestor.wait_until_loaded``: a walk of 10,000 run
        directories costs ~0.1 s of CPU that the cold load needs more; a client asking for traces
        before then gets a walk of its own)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._after = after
        # Not "asked": after the first walk, nothing is walked until a client asks (an idle 10,000-run
        # server used to walk every directory every 5 s for its first minute).
        self._thread = threading.Thread(target=self._loop, name="vizboard-traces", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop and join the refresh thread."""
        self._stop.set()
        t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout)

    def _loop(self) -> None:
        after = self._after
        while after is not None and not self._stop.is_set() and not after(0.2):
            pass
        if self._stop.is_set():
            return
        with self._lock:
            walked = self._traces is not None  # a client asked meanwhile
        if not walked:
            self.refresh()
        while not self._stop.wait(self.interval):
            with self._lock:
                wanted = time.monotonic() - self._asked < self.idle_after
            if wanted:
                self.refresh()
