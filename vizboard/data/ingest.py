"""The ingest loop: discovers runs, tails every event file, decodes and applies to the Store.

:class:`Ingestor` owns one ingest thread (and, for local logdirs, a watchdog
:class:`~vizboard.data.watcher.Watcher`, armed by the ingest thread once the first pass has
stored everything, so arming 10,000 directory watches does not delay the cold load; the
rescan 2 s after the first pass covers changes made before the watch was armed). It is the
only writer of its Store.

- A change notification marks the file's run dirty and wakes the thread at once
  (``threading.Event``), which reads only the new bytes of that run's files; new
  files or directories anywhere trigger discovery.
- A full rescan (discovery + every file) is the safety net. While a native watcher is
  healthy (armed, alive, no lost events: :meth:`Watcher.healthy`) and no symlinked directory
  (which watchers do not see into) holds runs, it runs every 60 s, or 100x the cost of the
  last discovery if that is longer (10,000 runs: one walk a minute instead of every 5 s, so
  idle costs next to nothing); a rescan also follows every structural change 2 s later
  (files created in a new directory before its watch was armed). Otherwise it runs every
  ``reload_interval`` seconds: default 5 s with watchdog, 1 s with ``poll=True`` (the
  polling observer already polls every second) and 2 s for remote (fsspec) logdirs, which
  have no notifications at all. An explicit ``reload_interval`` is always obeyed. A lost
  event (queue overflow) or a re-armed watch triggers a rescan at once.
- Each file is read from its saved offset in chunks of at most ``chunk_bytes``
  (4 MiB), one chunk per run per round, round-robin over runs, so one huge (or junk)
  file does not starve other runs and progress is published during a long initial
  load. A run's files are read in name order (see ``_pass``). Files whose new bytes are
  small (<= 256 KiB) are read whole, up to 1,024 files and ``chunk_bytes`` per batch, and
  framed and decoded together (``reader.poll_many``, ``ChunkApplier.apply_batch``): a
  10,000-run logdir costs a few vectorised passes instead of 10,000 (CPU of a cold load of
  10k tensorboardX runs: 12.4 s -> 3.3 s). A batch holding damage or a torn tail is split
  until the file is read alone with the full damage rules.
- Damage (bad CRCs, unparsable payloads, undecodable values, unreadable files) becomes
  ``DataProblem`` records; reading continues after it. An unreadable file is reported
  once, stays listed (its run is not hidden) and is retried when its size changes. A file that shrinks below its
  saved offset, or (local logdirs) is replaced under the same name by a new inode, is
  reported and re-read from offset 0; the store's restart rule (``vizboard.data.store``)
  then replaces the re-read steps. A file that disappears stops being read, its data
  already read is kept; a run whose files are all gone is dropped.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from vizboard.data.apply import ChunkApplier
from vizboard.data.discovery import discover
from vizboard.data.first_read import FirstReader, GroupedBatch, Listing, ReadBatch
from vizboard.data.heap import release_freed_memory
from vizboard.data.reader import Chunk, FileTail, poll_many
from vizboard.data.store import Store
from vizboard.data.watcher import Watcher

__all__ = ["Ingestor", "load"]

_log = logging.getLogger(__name__)
_WATCHED_RESCAN_S = 60.0  # safety-net period while a healthy native watcher reports every change
_RESCAN_COST_FACTOR = 100.0  # ... or this multiple of the last discovery's cost (<= 1 % of a core)
_MAX_WATCHED_RESCAN_S = 600.0
_SETTLE_S = 2.0  # a structural change is followed by one more rescan this much later
_SMALL_FILE_BYTES = 256 << 10  # new bytes up to this are read whole and framed/decoded in batches
_BATCH_FILES = 1024  # ... up to this many files per batch
_FIRST_READ_TIMEOUT_S = 60.0  # the forked first read's longest silence before the ingest thread reads alone
_FIRST_READ_WORKERS_MAX = 4  # more children than this: the ingest thread applying their batches is the limit


def first_read_workers() -> int:
    """How many children the forked first read uses: one per core this process may run on, at most
    ``_FIRST_READ_WORKERS_MAX`` (a child reads and decodes ~4x slower than the ingest thread applies)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(_FIRST_READ_WORKERS_MAX, cores))


def _new_tail(path: str, run: str, ident: int, size: int) -> FileTail:
    """A file not read yet, ``size`` bytes long."""
    t = FileTail(path, run, ident)
    t.size = size
    return t


class Ingestor:
    """Keeps ``store`` up to date with its logdir (see module docstring).

    ``poll`` uses watchdog's PollingObserver (network file systems); ``reload_interval``
    is the full-rescan period in seconds (None = the default for the mode);
    ``watch=False`` disables notifications (rescans only).
    """

    def __init__(self, store: Store, *, poll: bool = False, reload_interval: float | None = None,
                 chunk_bytes: int = 4 << 20, watch: bool = True,
                 on_first_load: Callable[[], object] | None = None, fork_first_read: bool = False) -> None:
        """``fork_first_read``: :meth:`start` forks a child that does the first pass's discovery and
        small-file reads on another core (:mod:`vizboard.data.first_read`; local logdirs only; a
        server process sets it, a notebook or a test need not).

        ``on_first_load`` runs once in the ingest thread when the first full pass is done, before
        freed memory is trimmed and before :meth:`wait_until_loaded` returns True (the server tunes
        the allocator there: :func:`vizboard.data.heap.return_freed_memory_eagerly`)."""
        if reload_interval is not None and reload_interval <= 0:
            raise ValueError(f"reload_interval must be > 0 seconds, got {reload_interval}")
        if chunk_bytes < 1024:
            raise ValueError(f"chunk_bytes must be >= 1024, got {chunk_bytes}")
        self.store = store
        self.fs = store.fs
        remote = self.fs.remote
        default = 2.0 if remote else (1.0 if poll else 5.0)
        self.reload_interval = reload_interval if reload_interval is not None else default
        self._fixed_interval = reload_interval is not None
        self._discovery_cost = 0.0  # seconds the last discovery (_sync_files) took
        self.chunk_bytes = chunk_bytes
        self._small_bytes = min(_SMALL_FILE_BYTES, chunk_bytes)
        self._applier = ChunkApplier(store)
        self._tails: dict[str, dict[str, FileTail]] = {}  # run -> path -> tail
        self._by_path: dict[str, FileTail] = {}
        self._dirty: set[str] = set()
        self._rescan = True
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._loaded = threading.Event()
        self._on_first_load = on_first_load
        self._thread: threading.Thread | None = None
        self._armed = False  # the watcher was started (by the ingest thread, after the first pass)
        self._fork_first_read = fork_first_read and not remote
        self._first_reader: FirstReader | None = None
        self._watcher = None if (remote or not watch) else Watcher(
            self.fs.root, self.notify, poll=poll, poll_interval=1.0)

    # ------------------------------------------------------------------ owner API
    def start(self) -> None:
        """Start the watcher and the ingest thread (returns at once; see wait_until_loaded)."""
        if self._thread is not None:
            return
        self._stop.clear()
        if self._fork_first_read and not self._loaded.is_set():
            reader = FirstReader(self.fs, small_bytes=self._small_bytes, batch_bytes=self.chunk_bytes,
                                 batch_files=_BATCH_FILES, timeout_s=_FIRST_READ_TIMEOUT_S,
                                 workers=first_read_workers())
            if reader.start():  # before our thread exists
                self._first_reader = reader
        self._thread = threading.Thread(target=self._loop, name="vizboard-ingest", daemon=True)
        self._thread.start()

    def _arm_watcher(self) -> None:
        """Start the watcher (ingest thread, once the first pass has stored everything).

        Arming watches every directory (10,000 runs: ~0.3 s of CPU and ~1 s on a busy machine),
        so it comes after the cold load instead of before it; the rescan that follows the first
        pass 2 s later (and always after this) picks up whatever changed before the watch was armed.
        """
        w = self._watcher
        if w is None or self._armed or self._stop.is_set():
            return
        self._armed = True
        try:
            w.start()
        except OSError as exc:  # e.g. logdir missing, inotify limits: rescans still work
            _log.warning("file watching unavailable (%s); relying on periodic rescans", exc)
            self._watcher = None

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop and join the ingest thread, then the watcher (which the ingest thread starts)."""
        self._stop.set()
        self._wake.set()
        reader = self._first_reader
        if reader is not None:
            reader.close()  # ends a first read still running, so the ingest thread is not kept waiting
        t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout)
        if reader is not None:
            reader.close()  # reaps it if the ingest thread never took its answer
        if self._watcher is not None:
            self._watcher.stop(timeout)
        self._armed = False

    def __enter__(self) -> Ingestor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_until_loaded(self, timeout: float | None = None) -> bool:
        """Block until the first full pass is done (True) or ``timeout`` seconds pass (False)."""
        return self._loaded.wait(timeout)

    def notify(self, path: str, structural: bool = True) -> None:
        """Mark the run of ``path`` dirty and wake the ingest thread (any thread may call it)."""
        tail = self._by_path.get(path)
        with self._lock:
            if tail is not None:
                self._dirty.add(tail.run)
            if tail is None or structural:
                if tail is None and not structural and "tfevents" not in os.path.basename(path):
                    return  # a side file changed (e.g. a profiler trace): nothing to ingest
                self._rescan = True
        self._wake.set()

    def run_once(self) -> None:
        """One synchronous full pass: discover and read every file to its end."""
        self._pass(full=True, dirty=set())
        self._first_load_done()
        self.store.set_progress(loading=False)
        self._loaded.set()

    def _first_load_done(self) -> None:
        """Compact the store, run ``on_first_load`` once, give freed memory back (before loaded is set)."""
        self.store.compact()
        hook, self._on_first_load = self._on_first_load, None
        if hook is not None:
            try:
                hook()
            except Exception:  # noqa: BLE001 - a tuning hook must not stop ingestion
                _log.exception("on_first_load hook failed")
        release_freed_memory()

    # ------------------------------------------------------------------ loop
    def rescan_interval(self) -> float:
        """Seconds until the next safety-net full rescan, given the watcher's health (module docstring)."""
        w = self._watcher
        if self._fixed_interval or w is None or not w.healthy() or int(getattr(self.fs, "linked_dirs", 0)) > 0:
            return self.reload_interval
        return min(_MAX_WATCHED_RESCAN_S, max(_WATCHED_RESCAN_S, _RESCAN_COST_FACTOR * self._discovery_cost))

    def _loop(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                self._wake.clear()
                dirty, self._dirty = self._dirty, set()
                structural = self._rescan
                full = now >= next_full or structural
                self._rescan = False
            try:
                self._pass(full=full, dirty=dirty)
            except Exception:  # noqa: BLE001 - the loop must survive anything a file does
                _log.exception("ingest pass failed; retrying on the next pass")
            if full:
                if not self._loaded.is_set():
                    self._first_load_done()
                    self.store.set_progress(loading=False)
                    self._arm_watcher()
                    self._loaded.set()
                interval = self.rescan_interval()
                if structural:
                    interval = min(interval, _SETTLE_S)
                next_full = time.monotonic() + interval
            self._wake.wait(max(0.0, next_full - time.monotonic()))

    def _adopt_listing(self, listing: Listing) -> None:
        """The first pass's discovery, as the forked first read found it (no file is known yet)."""
        self._discovery_cost = listing.discovery_s
        if hasattr(self.fs, "linked_dirs"):
            self.fs.linked_dirs = listing.linked_dirs
        tails: dict[str, dict[str, FileTail]] = {}
        for run, path, size, ident in zip(listing.runs, listing.paths, listing.sizes, listing.idents):
            got = tails.get(run)
            if got is None:
                got = tails[run] = {}
            got[path] = _new_tail(path, run, ident, size)
        self.store.add_runs(tails)
        self._install_tails(tails)

    def _sync_files(self) -> None:
        t0 = time.monotonic()
        runs = discover(self.fs)
        self._discovery_cost = time.monotonic() - t0
        self.store.add_runs(runs)
        known: dict[str, dict[str, FileTail]] = {}
        for run, entries in runs.items():
            tails = self._tails.get(run)
            if tails is None:  # a new run (all of them on a cold load): fresh tails, nothing to compare
                known[run] = {e.path: _new_tail(e.path, run, e.ident, e.size) for e in entries}
                continue
            fresh = {e.path: tails.get(e.path) or FileTail(e.path, run, e.ident) for e in entries}
            for e in entries:
                t = fresh[e.path]
                if e.ident != t.ident and t.offset:
                    self.store.add_problem(run, t.path, 0, t.offset, "unreadable",
                                           "file was replaced under the same name; re-reading it from offset 0")
                    t.offset = 0
                if t.failed and (e.ident != t.ident or e.size != t.size):
                    t.failed = False  # it changed: try reading it again
                t.ident = e.ident
                self._check_shrink(t, e.size)
                t.size = e.size
            known[run] = fresh
        gone = [run for run in self._tails if run not in known]
        self._install_tails(known)
        for run in gone:
            self.store.drop_run(run)

    def _install_tails(self, tails: dict[str, dict[str, FileTail]]) -> None:
        """Make ``tails`` (run -> path -> tail) the files known: the Store's file counts and the path index follow."""
        self._tails = tails
        self.store.set_num_files_many({run: len(files) for run, files in tails.items()})
        self._by_path = {p: t for files in tails.values() for p, t in files.items()}

    def _check_shrink(self, tail: FileTail, size: int) -> None:
        if size < tail.offset:
            self.store.add_problem(tail.run, tail.path, size, tail.offset - size, "unreadable",
                                   f"file shrank from {tail.offset} to {size} bytes (truncated or replaced); "
                                   "re-reading it from offset 0")
            tail.offset = 0

    def _pass(self, *, full: bool, dirty: set[str]) -> None:
        """Read every run's new bytes, interleaving runs: one chunk of one file per run per round.

        Within a run, files are read in name order (a later file only once the earlier ones
        are caught up or wait on a torn tail), so the restart rule sees records in the same
        order however the bytes are chunked. Runs notified during a long pass join it at the
        next round, so one big file delays another run's new points by one chunk's work.
        """
        self.store.drain_reader_problems()
        if full:
            reader = self._first_reader  # kept until the pass is done: stop() may kill it meanwhile
            items = reader.items() if reader is not None else None
            listing = next(items, None) if items is not None else None
            runs = None
            try:
                with _gc_paused():
                    if items is not None and isinstance(listing, Listing) and not self._tails:
                        self._adopt_listing(listing)
                        runs = self._apply_first(items)
                    else:
                        self._sync_files()
            finally:
                if items is not None:
                    items.close()  # reaps the child (killed first if it is still sending)
                self._first_reader = None
            if runs is None:
                runs = list(self._tails)
        else:
            runs = self._restat(dirty)
        stuck: set[str] = set()  # files that cannot progress until they grow (this pass)
        while runs and not self._stop.is_set():
            active: list[str] = []
            small: list[tuple[str, FileTail]] = []
            for run in runs:
                tail = next((t for _, t in sorted(self._tails.get(run, {}).items())
                             if t.has_work() and t.path not in stuck and not t.failed), None)
                if tail is None or self._stop.is_set():
                    continue
                if tail.batchable(self._small_bytes):
                    small.append((run, tail))
                    continue
                self._read_one(run, tail, active, stuck)
            if small:
                with _gc_paused():
                    self._read_small(small, active, stuck)
            self._publish_progress()
            with self._lock:
                woken, self._dirty = self._dirty, set()
            late = [r for r in self._restat(woken) if r not in active]
            for r in late:
                stuck.difference_update(self._tails.get(r, {}))
            runs = [r for r in dict.fromkeys(active + late) if r in self._tails]

    def _apply_first(self, items: Iterable[Listing | ReadBatch | GroupedBatch]) -> list[str]:
        """Apply the batches the forked first read frames, in its order, as they arrive; their files' tails
        move to the end of what was read (whole, intact records only: the offset is all the reading state
        there is). Returns the runs left with files to read: whatever the child did not send (it failed,
        or left a file to us) is read as usual."""
        for batch in items:
            if self._stop.is_set() or not isinstance(batch, (ReadBatch, GroupedBatch)):
                break
            tails = [self._by_path.get(f[0]) for f in batch.files]
            if any(t is None or t.offset != 0 or t.size < f[1] for t, f in zip(tails, batch.files)):
                break  # cannot happen with the child's own listing; the rest is read the usual way then
            if isinstance(batch, GroupedBatch):
                runs: list[str] = []
                for (_, nbytes, _), tail in zip(batch.files, tails):
                    assert tail is not None
                    tail.offset = nbytes
                    runs.append(tail.run)
                self._applier.apply_groups(runs, batch.groups)
                continue
            whole = Chunk("", batch.data, 0, batch.starts, batch.lengths)
            ends = [f[2] for f in batch.files[1:]] + [len(whole)]
            parts: list[tuple[str, Chunk, int]] = []
            at = 0  # where the file starts in batch.data
            for (path, nbytes, lo), hi, tail in zip(batch.files, ends, tails):
                assert tail is not None
                parts.append((tail.run, Chunk(path, batch.data, -at, batch.starts[lo:hi], batch.lengths[lo:hi]), lo))
                tail.offset = nbytes
                at += nbytes
            self._applier.apply_batch(whole, parts, batch.decoded)
        self._publish_progress()
        return [run for run, tails in self._tails.items() if any(t.offset < t.size for t in tails.values())]

    def _restat(self, runs: set[str]) -> list[str]:
        """Refresh the sizes of the files of ``runs`` (dirty runs); return those still known."""
        known = sorted(r for r in runs if r in self._tails)
        for run in known:
            for tail in list(self._tails[run].values()):
                size = self.fs.size(tail.path)
                if size is None:
                    tail.gone = True
                    continue
                self._check_shrink(tail, size)
                if tail.failed and size != tail.size:
                    tail.failed = False  # it changed: try reading it again
                tail.size = size
            self._drop_gone(run)
        return [r for r in known if r in self._tails]

    def _read_one(self, run: str, tail: FileTail, active: list[str], stuck: set[str]) -> None:
        if not self._read_once(run, tail):
            stuck.add(tail.path)
        active.append(run)  # after no progress, its next file may have work
        self._drop_gone(run)

    def _read_small(self, small: list[tuple[str, FileTail]], active: list[str], stuck: set[str]) -> None:
        """Read files whose new bytes are small in batches framed and decoded together (``poll_many``).

        A batch holding anything but whole intact records (damage, a torn tail being written) is
        split in halves and retried, down to single files read with the full damage rules, so one
        such file costs a few extra framings, not the batching of the others.
        """
        i = 0
        while i < len(small) and not self._stop.is_set():
            j, total = i, 0
            while j < len(small) and j - i < _BATCH_FILES and (j == i or total + small[j][1].pending() <= self.chunk_bytes):
                total += small[j][1].pending()
                j += 1
            self._read_batch(small[i:j], active, stuck)
            i = j

    def _read_batch(self, batch: list[tuple[str, FileTail]], active: list[str], stuck: set[str]) -> None:
        got = None
        if len(batch) > 1:
            try:
                got = poll_many(self.fs, [t for _, t in batch])
            except OSError:
                got = None  # the failing file is reported when read alone
        if got is not None:
            whole, parts = got
            self._applier.apply_batch(whole, [(t.run, chunk, first) for t, chunk, first in parts])
            active.extend(run for run, _ in batch)
        elif len(batch) > 4:
            half = len(batch) // 2
            self._read_batch(batch[:half], active, stuck)
            self._read_batch(batch[half:], active, stuck)
        else:
            for run, tail in batch:
                self._read_one(run, tail, active, stuck)

    def _read_once(self, run: str, tail: FileTail) -> bool:
        """Read one chunk of ``tail`` and apply it; True if the file made progress."""
        before = tail.progress()
        try:
            chunk = tail.poll(self.fs, self.chunk_bytes, tail.size)
        except OSError as exc:
            # Reported once; the file is kept (its run stays listed) and retried when it changes.
            tail.failed = True
            self.store.add_problem(run, tail.path, tail.offset, 0, "unreadable", f"cannot read the file: {exc}")
            return False
        if chunk is not None:
            self._applier.apply(run, chunk)
        return tail.progress() != before

    def _drop_gone(self, run: str) -> None:
        tails = self._tails.get(run)
        if tails is None:
            return
        if any(t.gone for t in tails.values()):
            self._tails[run] = {p: t for p, t in tails.items() if not t.gone}
            self._by_path = {p: t for ts in self._tails.values() for p, t in ts.items()}
            if not self._tails[run]:
                del self._tails[run]
                self.store.drop_run(run)
            else:
                self.store.set_num_files(run, len(self._tails[run]))

    def _publish_progress(self) -> None:
        done = total = 0
        for tails in self._tails.values():
            for t in tails.values():
                done += min(t.offset, t.size)
                total += t.size
        self.store.set_progress(bytes_read=done, bytes_total=total)

@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector around a burst of allocations that form no cycles.

    Discovery and the batched reads of many small files create a few long-lived objects per run
    and per series (runs, tails, series: 10,000 runs = ~200,000); each collection the allocations
    trigger walks every object of the process (a server's heap holds Dash's too), which was
    ~20 % of a 10,000-run cold load's CPU. The pause lasts one discovery or one round of small-file
    batches, and the collector's previous state is restored (a process that disabled it keeps it so).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load(logdir: str, **store_kwargs: Any) -> Store:
    """Load ``logdir`` completely, synchronously, and return the Store (no threads left running)."""
    store = Store(logdir, **store_kwargs)
    Ingestor(store, watch=False).run_once()
    return store
