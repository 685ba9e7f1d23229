"""ProjectorService: the projector's background worker and caches (config index, loaded tensors, projections).

Threads. One service per served logdir, owned by the Projector tab's callbacks. It starts
a two-thread pool on first use (never at construction) and :meth:`ProjectorService.close`
cancels queued work and joins it. Request threads never scan, parse or project: they ask
for a result, get what is cached (or a :class:`Job` saying what is running), and poll.

Index. The logdir is scanned for ``projector_config.pbtxt`` at most every
``rescan_interval`` seconds, in the pool; a config whose (size, mtime) did not change is not
parsed again. Caches. Loaded tensors (plus metadata) are kept in an LRU keyed by the
entry and its file signature; projections in an LRU keyed by (entry, signature, method,
dims, seed, parameters), so switching back and forth is instant and a rewritten tensor
file is loaded again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from vizboard.data.fs import FileSystem
from vizboard.data.projector import (
    ConfigFile,
    EmbeddingEntry,
    Metadata,
    ProjectorError,
    TensorData,
    file_signature,
    find_configs,
    load_metadata,
    load_sprite_thumbnail,
    load_tensor,
    parse_config,
    parse_metadata,
)
from vizboard.data.projector_math import MissingExtraError, Projection, nearest, project

__all__ = ["Job", "LoadedEmbedding", "ProjectorService"]


@dataclass(frozen=True, slots=True)
class LoadedEmbedding:
    """An embedding's tensor and metadata, loaded; ``notes`` are warnings to show (row-count mismatch...)."""

    entry: EmbeddingEntry
    tensor: TensorData
    metadata: Metadata | None
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class Job:
    """A projection being computed: ``state`` is ``running``, ``done`` or ``error``; ``stage`` the current phase."""

    state: str = "running"
    stage: str = "queued"
    started: float = field(default_factory=time.monotonic)
    result: Projection | None = None
    loaded: LoadedEmbedding | None = None
    error: str | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the job was queued."""
        return time.monotonic() - self.started


class _Lru:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


def _match_metadata(tensor: TensorData, meta: Metadata | None) -> tuple[Metadata | None, tuple[str, ...]]:
    """Metadata padded/truncated to the tensor's rows (with a note), and first-column labels as a column."""
    n = tensor.matrix.shape[0]
    notes: list[str] = [tensor.warning] if tensor.warning else []
    if meta is None and tensor.labels is not None:
        meta = parse_metadata(("\n".join(tensor.labels) + "\n").encode("utf-8"))
    if meta is not None and len(meta) != n:
        notes.append(f"the metadata has {len(meta):,} rows but the tensor {n:,} points; rows matched by position")
        values = {c: (v[:n] + [None] * (n - len(v))) for c, v in meta.values.items()}
        meta = Metadata(meta.columns, values, meta.numeric, meta.categories)
    return meta, tuple(notes)


class ProjectorService:
    """Background scans, loads and projections for one logdir's file system ``fs``.

    ``rescan_interval``: seconds between looks for new or changed configs. ``seed``: the
    seed of every sampling and projection (results are reproducible).
    """

    def __init__(self, fs: FileSystem, rescan_interval: float = 10.0, seed: int = 0,
                 max_tensors: int = 4, max_projections: int = 16) -> None:
        if rescan_interval <= 0:
            raise ValueError(f"rescan_interval must be > 0 seconds, got {rescan_interval}")
        self.fs = fs
        self.rescan_interval = rescan_interval
        self.seed = seed
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._scan: Future[None] | None = None
        self._scanned_at = -1.0
        self._configs: dict[str, tuple[ConfigFile, list[EmbeddingEntry]]] = {}
        self._entries: tuple[EmbeddingEntry, ...] = ()
        self._problems: tuple[str, ...] = ()
        self._tensors = _Lru(max_tensors)
        self._jobs = _Lru(max_projections)

    # -- threads -----------------------------------------------------------------------------
    def _submit(self, fn: Any, *args: Any) -> Future[Any]:
        with self._lock:
            if self._closed:
                raise RuntimeError("ProjectorService is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vizboard-projector")
            return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Cancel queued work and join the worker threads (a running projection is waited for)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    # -- index -------------------------------------------------------------------------------
    def _rescan(self) -> None:
        found = find_configs(self.fs)
        configs: dict[str, tuple[ConfigFile, list[EmbeddingEntry]]] = {}
        problems: list[str] = []
        for cfg in found:
            old = self._configs.get(cfg.path)
            if old is not None and (old[0].size, old[0].mtime) == (cfg.size, cfg.mtime):
                configs[cfg.path] = old
                continue
            try:
                configs[cfg.path] = (cfg, parse_config(self.fs, cfg))
            except ProjectorError as exc:
                problems.append(str(exc))
        entries = tuple(e for _cfg, es in configs.values() for e in es)
        with self._lock:
            self._configs = configs
            self._entries = entries
            self._problems = tuple(problems)
            self._scanned_at = time.monotonic()

    def entries(self, wait: float = 0.0) -> list[EmbeddingEntry]:
        """Every embedding found, from the last scan; starts a scan in the background when stale.

        ``wait``: seconds to wait for the very first scan (later scans are never waited for).
        """
        with self._lock:
            never = self._scanned_at < 0
            stale = never or time.monotonic() - self._scanned_at > self.rescan_interval
            scan = self._scan
            pending = scan is not None and not scan.done()
        if stale and not pending and not self._closed:
            scan = self._submit(self._rescan)
            with self._lock:
                self._scan = scan
        if wait > 0 and never and scan is not None:
            try:
                scan.result(timeout=wait)
            except Exception:  # a timeout or a scan error: answer from what is known
                pass
        with self._lock:
            return list(self._entries)

    def problems(self) -> list[str]:
        """Configs that could not be read in the last scan (one message each)."""
        with self._lock:
            return list(self._problems)

    def entry(self, key: str) -> EmbeddingEntry | None:
        """The entry with :attr:`EmbeddingEntry.key` ``key``, from the last scan."""
        with self._lock:
            return next((e for e in self._entries if e.key == key), None)

    # -- loading and projecting ----------------------------------------------------------------
    def _signature(self, entry: EmbeddingEntry) -> tuple[Any, ...]:
        return (entry.key, file_signature(self.fs, entry.tensor_path) if entry.tensor_path else None)

    def load(self, entry: EmbeddingEntry) -> LoadedEmbedding:
        """The entry's tensor and metadata (cached by file signature); raises ProjectorError."""
        sig = self._signature(entry)
        with self._lock:
            hit = self._tensors.get(sig)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        tensor = load_tensor(self.fs, entry)
        meta, notes = _match_metadata(tensor, load_metadata(self.fs, entry))
        loaded = LoadedEmbedding(entry, tensor, meta, notes)
        with self._lock:
            self._tensors.put(sig, loaded)
        return loaded

    def cached(self, entry: EmbeddingEntry) -> LoadedEmbedding | None:
        """The loaded embedding if it is in the cache (never loads)."""
        with self._lock:
            return self._tensors.get(self._signature(entry))  # type: ignore[no-any-return]

    def projection(self, entry: EmbeddingEntry, method: str, dims: int, **params: Any) -> Job:
        """The job computing ``method`` of ``entry`` in ``dims`` dimensions: cached, or started now.

        ``params``: ``perplexity`` (t-SNE), ``n_neighbors`` (UMAP). Never blocks.
        """
        key = (self._signature(entry), method, dims, self.seed, tuple(sorted(params.items())))
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "error":
                return job  # type: ignore[no-any-return]
            job = Job()
            self._jobs.put(key, job)
        self._submit(self._run, job, entry, method, dims, params)
        return job

    def _run(self, job: Job, entry: EmbeddingEntry, method: str, dims: int, params: dict[str, Any]) -> None:
        def stage(text: str) -> None:
            job.stage = text

        try:
            stage("loading the tensor")
            loaded = self.load(entry)
            job.loaded = loaded
            job.result = project(loaded.tensor.matrix, method, dims, seed=self.seed, stage=stage, **params)
            job.state = "done"
        except (ProjectorError, MissingExtraError, ValueError, MemoryError) as exc:
            job.error = str(exc)
            job.state = "error"
        except Exception as exc:  # a library failure must show as a message, not kill the worker
            job.error = f"{method} failed: {type(exc).__name__}: {exc}"
            job.state = "error"

    def neighbours(self, loaded: LoadedEmbedding, index: int, k: int, metric: str) -> list[tuple[int, float]]:
        """(row, distance) of the ``k`` nearest points to row ``index`` in the original space."""
        idx, dist = nearest(loaded.tensor.matrix, index, k, metric)
        return [(int(i), float(d)) for i, d in zip(idx, dist, strict=True)]

    def thumbnail(self, entry: EmbeddingEntry, index: int) -> bytes | None:
        """PNG thumbnail of point ``index`` from the entry's sprite, None without a sprite or cell."""
        if entry.sprite is None:
            return None
        return load_sprite_thumbnail(self.fs, entry.sprite, index)
