"""The ingest loop: discovers runs, tails every event file, decodes and applies to the Store.

:class:`Ingestor` owns one ingest thread (and, for local logdirs, a watchdog
:class:`~vizboard.data.watcher.Watcher`). It is the only writer of its Store.

- A change notification marks the file's run dirty and wakes the thread at once
  (``threading.Event``), which reads only the new bytes of that run's files; new
  files or directories anywhere trigger discovery.
- A full rescan (discovery + every file) runs every ``reload_interval`` seconds as the
  safety net: default 5 s with watchdog, 1 s with ``poll=True`` (the polling observer
  already polls every second) and 2 s for remote (fsspec) logdirs, which have no
  notifications at all.
- Each file is read from its saved offset in chunks of at most ``chunk_bytes``
  (16 MiB) per file per round, round-robin over files, so one huge file does not
  starve the others and progress is published during a long initial load.
- Damage (bad CRCs, unparsable payloads, undecodable values, unreadable files) becomes
  ``DataProblem`` records; reading continues after it. A file that shrinks below its
  saved offset, or (local logdirs) is replaced under the same name by a new inode, is
  reported and re-read from offset 0; the store's restart rule (``vizboard.data.store``)
  then replaces the re-read steps. A file that disappears stops being read, its data
  already read is kept; a run whose files are all gone is dropped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import numpy as np

from vizboard.data import decode as dec
from vizboard.data.discovery import discover
from vizboard.data.models import BlobRef, Kind, PrCurveEntry, TextEntry
from vizboard.data.reader import Chunk, FileTail, fast_scalars, length_groups, payload_crc_ok
from vizboard.data.store import Store
from vizboard.data.watcher import Watcher

__all__ = ["Ingestor", "load"]

_log = logging.getLogger(__name__)
_SCALAR_META = dec.SeriesMeta(Kind.SCALARS, "scalars")
_GRAPH_META = dec.SeriesMeta(Kind.GRAPHS, "graphs")
_RUN_METADATA_META = dec.SeriesMeta(Kind.GRAPHS, "graph_tagged_run_metadata")


class Ingestor:
    """Keeps ``store`` up to date with its logdir (see module docstring).

    ``poll`` uses watchdog's PollingObserver (network file systems); ``reload_interval``
    is the full-rescan period in seconds (None = the default for the mode);
    ``watch=False`` disables notifications (rescans only).
    """

    def __init__(self, store: Store, *, poll: bool = False, reload_interval: float | None = None,
                 chunk_bytes: int = 16 << 20, watch: bool = True) -> None:
        if reload_interval is not None and reload_interval <= 0:
            raise ValueError(f"reload_interval must be > 0 seconds, got {reload_interval}")
        if chunk_bytes < 1024:
            raise ValueError(f"chunk_bytes must be >= 1024, got {chunk_bytes}")
        self.store = store
        self.fs = store.fs
        remote = self.fs.remote
        default = 2.0 if remote else (1.0 if poll else 5.0)
        self.reload_interval = reload_interval if reload_interval is not None else default
        self.chunk_bytes = chunk_bytes
        self._tails: dict[str, dict[str, FileTail]] = {}  # run -> path -> tail
        self._by_path: dict[str, FileTail] = {}
        self._dirty: set[str] = set()
        self._rescan = True
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._loaded = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher = None if (remote or not watch) else Watcher(
            self.fs.root, self.notify, poll=poll, poll_interval=1.0)

    # ------------------------------------------------------------------ owner API
    def start(self) -> None:
        """Start the watcher and the ingest thread (returns at once; see wait_until_loaded)."""
        if self._thread is not None:
            return
        self._stop.clear()
        if self._watcher is not None:
            try:
                self._watcher.start()
            except OSError as exc:  # e.g. logdir missing, inotify limits: rescans still work
                _log.warning("file watching unavailable (%s); relying on periodic rescans", exc)
                self._watcher = None
        self._thread = threading.Thread(target=self._loop, name="vizboard-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop and join the ingest thread and the watcher."""
        self._stop.set()
        self._wake.set()
        if self._watcher is not None:
            self._watcher.stop(timeout)
        t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout)

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
        self.store.compact()
        _release_freed_memory()
        self.store.set_progress(loading=False)
        self._loaded.set()

    # ------------------------------------------------------------------ loop
    def _loop(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                self._wake.clear()
                dirty, self._dirty = self._dirty, set()
                full = now >= next_full or self._rescan
                self._rescan = False
            try:
                self._pass(full=full, dirty=dirty)
            except Exception:  # noqa: BLE001 - the loop must survive anything a file does
                _log.exception("ingest pass failed; retrying on the next pass")
            if full:
                next_full = time.monotonic() + self.reload_interval
                if not self._loaded.is_set():
                    self.store.compact()
                    _release_freed_memory()
                    self.store.set_progress(loading=False)
                    self._loaded.set()
            self._wake.wait(max(0.0, next_full - time.monotonic()))

    def _sync_files(self) -> None:
        runs = discover(self.fs)
        for run, entries in runs.items():
            tails = self._tails.get(run, {})
            fresh = {e.path: tails.get(e.path) or FileTail(e.path, run, e.ident) for e in entries}
            for e in entries:
                t = fresh[e.path]
                if e.ident != t.ident and t.offset:
                    self.store.add_problem(run, t.path, 0, t.offset, "unreadable",
                                           "file was replaced under the same name; re-reading it from offset 0")
                    t.offset = 0
                t.ident = e.ident
                self._check_shrink(t, e.size)
                t.size = e.size
            self._tails[run] = fresh
            self.store.set_num_files(run, len(fresh))
        for run in list(self._tails):
            if run not in runs:
                del self._tails[run]
                self.store.drop_run(run)
        self._by_path = {p: t for tails in self._tails.values() for p, t in tails.items()}

    def _check_shrink(self, tail: FileTail, size: int) -> None:
        if size < tail.offset:
            self.store.add_problem(tail.run, tail.path, size, tail.offset - size, "unreadable",
                                   f"file shrank from {tail.offset} to {size} bytes (truncated or replaced); "
                                   "re-reading it from offset 0")
            tail.offset = 0

    def _pass(self, *, full: bool, dirty: set[str]) -> None:
        self.store.drain_reader_problems()
        if full:
            self._sync_files()
            runs = list(self._tails)
        else:
            runs = sorted(r for r in dirty if r in self._tails)
            for run in runs:
                for tail in list(self._tails[run].values()):
                    size = self.fs.size(tail.path)
                    if size is None:
                        tail.gone = True
                        continue
                    self._check_shrink(tail, size)
                    tail.size = size
                self._drop_gone(run)
        active = True
        while active and not self._stop.is_set():
            active = False
            for run in runs:
                for tail in list(self._tails.get(run, {}).values()):
                    if tail.pending() <= 0 or self._stop.is_set():
                        continue
                    before = tail.offset
                    try:
                        chunk = tail.poll(self.fs, self.chunk_bytes, tail.size)
                    except OSError as exc:
                        self.store.add_problem(run, tail.path, tail.offset, 0, "unreadable", str(exc))
                        tail.gone = True
                        continue
                    if chunk is not None:
                        self._apply(run, chunk)
                    if tail.offset > before and tail.pending() > 0:
                        active = True
                self._drop_gone(run)
            self._publish_progress()

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

    # ------------------------------------------------------------------ decoding
    def _apply(self, run: str, chunk: Chunk) -> None:
        store = self.store
        store.run(run)
        for d in chunk.damage:
            store.add_problem(run, chunk.path, d.offset, d.length, d.kind.value,
                              "record framing damaged; skipped to the next valid record")
        scal: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}
        slow: list[np.ndarray] = []
        metas: dict[str, dec.SeriesMeta] = {}
        for rows, mat in length_groups(chunk, np.arange(len(chunk), dtype=np.int64)):
            ok = payload_crc_ok(chunk, rows, mat)
            for r in rows[~ok]:
                store.add_problem(run, chunk.path, chunk.offset(int(r)), chunk.record_length(int(r)),
                                  "payload_crc", "record payload CRC mismatch; record skipped")
            if not ok.all():
                rows = rows[ok]
                mat = mat[ok] if mat is not None else None
            if mat is None or rows.size == 0:
                slow.append(rows)
                continue
            fs = fast_scalars(mat)
            if fs.rows.size < rows.size:
                rest = np.ones(rows.size, dtype=bool)
                rest[fs.rows] = False
                slow.append(rows[rest])
            got = rows[fs.rows]
            for t, grp in _split_by(fs.tag_index, len(fs.tags)):
                tag = fs.tags[t]
                meta = metas.get(tag) or store.series_meta(run, tag)
                if meta is None:
                    if t in fs.meta_rows:
                        meta = _meta_of_record(chunk, int(rows[fs.meta_rows[t]]), tag)
                    elif t not in fs.tensor_tags:
                        meta = _SCALAR_META  # legacy simple_value: scalars by definition (§4.0)
                    if meta is not None:
                        metas[tag] = meta
                if meta is None or meta.kind is not Kind.SCALARS:
                    slow.append(got[grp])  # not a scalar series after all: decode one by one
                    continue
                scal.setdefault(tag, []).append((got[grp], fs.step[grp], fs.wall_time[grp], fs.value[grp]))
        if slow:
            slow_scal: dict[str, list[Any]] = {}
            for r in np.sort(np.concatenate(slow)).tolist():
                self._apply_slow(run, chunk, r, slow_scal, metas)
            for tag, ((rs, steps, walls, values),) in slow_scal.items():
                scal.setdefault(tag, []).append((np.asarray(rs, np.int64), np.asarray(steps, np.int64),
                                                 np.asarray(walls, np.float64), np.asarray(values, np.float64)))
        for tag, parts in scal.items():
            meta = metas.get(tag) or store.series_meta(run, tag) or _SCALAR_META
            if len(parts) == 1:
                _, step, wall, value = parts[0]
            else:
                order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
                step, wall, value = (np.concatenate([p[k] for p in parts])[order] for k in (1, 2, 3))
            store.add_scalars(run, tag, meta, step, wall, value)

    def _apply_slow(self, run: str, chunk: Chunk, r: int, scal: dict[str, list[Any]],
                    metas: dict[str, dec.SeriesMeta]) -> None:
        store = self.store
        try:
            ev = dec.parse_event(chunk.payload(r))
        except dec.DecodeError as exc:
            store.add_problem(run, chunk.path, chunk.offset(r), chunk.record_length(r), "unparsable", str(exc))
            return
        which = ev.WhichOneof("what")
        step, wall = int(ev.step), float(ev.wall_time)
        if which == "summary":
            for value in ev.summary.value:
                tag = value.tag or value.node_name
                meta = metas.get(tag) or store.series_meta(run, tag)
                own = dec.metadata_of(value)
                if meta is None or (own is not None and not meta.from_metadata and meta.kind is Kind.OTHER):
                    meta = own or dec.inferred_metadata(value)
                    metas[tag] = meta
                try:
                    out = dec.decode_value(value, meta)
                except dec.DecodeError as exc:
                    store.add_problem(run, chunk.path, chunk.offset(r), chunk.record_length(r), "bad_value",
                                      f"tag {tag!r} at step {step}: {exc}")
                    continue
                self._store_value(run, chunk, r, tag, meta, step, wall, out, scal)
        elif which in ("graph_def", "meta_graph_def"):
            if which == "meta_graph_def" and store.series_meta(run, dec.RUN_GRAPH_TAG) is not None:
                return  # a real graph_def wins over a MetaGraphDef's graph
            ref = self._ref(run, chunk, r, dec.RUN_GRAPH_TAG, step, wall, dec.BlobItem(0, "application/x-graphdef"))
            store.add_entry(run, dec.RUN_GRAPH_TAG, _GRAPH_META, step, wall, (ref,))
        elif which == "tagged_run_metadata":
            tag = ev.tagged_run_metadata.tag
            ref = self._ref(run, chunk, r, tag, step, wall, dec.BlobItem(0, "application/x-runmetadata"))
            store.add_entry(run, tag, _RUN_METADATA_META, step, wall, (ref,))

    def _ref(self, run: str, chunk: Chunk, r: int, tag: str, step: int, wall: float, item: dec.BlobItem) -> BlobRef:
        return BlobRef(run, tag, step, wall, chunk.path, chunk.offset(r), chunk.record_length(r), item.index,
                       item.content_type, item.width, item.height, item.sample_rate, item.num_channels,
                       item.length_frames, item.label)

    def _store_value(self, run: str, chunk: Chunk, r: int, tag: str, meta: dec.SeriesMeta, step: int,
                     wall: float, out: Any, scal: dict[str, list[Any]]) -> None:
        store = self.store
        if isinstance(out, dec.ScalarValue):
            lists = scal.setdefault(tag, [([], [], [], [])])[0]
            lists[0].append(r)
            lists[1].append(step)
            lists[2].append(wall)
            lists[3].append(out.value)
        elif isinstance(out, dec.BlobValue):
            refs = tuple(self._ref(run, chunk, r, tag, step, wall, it) for it in out.items)
            store.add_entry(run, tag, meta, step, wall, refs)
        elif isinstance(out, dec.TextValue):
            store.add_entry(run, tag, meta, step, wall, TextEntry(step, wall, out.data))
        elif isinstance(out, dec.PrCurveValue):
            store.add_entry(run, tag, meta, step, wall, PrCurveEntry(step, wall, out.data))
        elif isinstance(out, dec.HParamsValue):
            store.set_hparams(run, out.which, out.message, wall)
            store.add_entry(run, tag, meta, step, wall, out)
        elif isinstance(out, dec.ModuleTreeValue):
            store.set_module_tree(run, out.tree, wall)
        elif isinstance(out, dec.LayoutValue):
            store.set_layout(run, out.charts, wall)
        else:  # histograms and other plugins
            store.add_entry(run, tag, meta, step, wall, out)


def _meta_of_record(chunk: Chunk, r: int, tag: str) -> dec.SeriesMeta | None:
    """The series metadata carried by ``tag``'s value in record ``r`` (None if it does not parse)."""
    try:
        ev = dec.parse_event(chunk.payload(r))
    except dec.DecodeError:
        return None
    for value in ev.summary.value:
        if (value.tag or value.node_name) == tag:
            return dec.metadata_of(value) or dec.inferred_metadata(value)
    return None


def _release_freed_memory() -> None:
    """Return freed heap pages to the OS after a big load (glibc keeps large freed buffers)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _split_by(index: np.ndarray, k: int) -> list[tuple[int, np.ndarray]]:
    """(value, positions) for each value of ``index`` in 0..k-1, positions in increasing order."""
    if k <= 32:
        out = []
        for t in range(k):
            pos = np.flatnonzero(index == t)
            if pos.size:
                out.append((t, pos))
        return out
    order = np.argsort(index, kind="stable")
    cuts = np.flatnonzero(np.diff(index[order])) + 1
    return [(int(index[g[0]]), g) for g in np.split(order, cuts) if g.size]


def load(logdir: str, **store_kwargs: Any) -> Store:
    """Load ``logdir`` completely, synchronously, and return the Store (no threads left running)."""
    store = Store(logdir, **store_kwargs)
    Ingestor(store, watch=False).run_once()
    return store
