"""The in-memory store of one logdir: implements ``DataProvider`` over immutable snapshots.

Writers and readers
    Only the ingest thread (``vizboard.data.ingest``) calls the ``add_*``/``set_*``/
    ``drop_*`` methods. Reader methods (the ``DataProvider`` protocol) may be called
    from any thread at any time and never block on ingestion: every structure a
    reader can reach is either immutable or only ever grows past what a snapshot
    covers. Dicts of runs and series are replaced, never mutated (copy-on-write).

Scalars
    Full resolution, columnar numpy per (run, tag): step int64, wall_time float64,
    value float64. Buffers grow geometrically by 1.25x (amortised O(1) appends,
    at most ~25 % slack: 24 bytes per point + slack). A snapshot is a read-only
    view of the filled prefix; appends write past it, and a truncation (restart)
    copies into new buffers, so no snapshot ever changes after it is handed out.

Restarts (event-format §5.5, as TensorBoard's default Rust loader)
    When a value of a tag arrives with step ``s``, every stored point of that tag
    with step >= ``s`` is dropped first, so a restarted job's newer session wins
    and each series stays strictly increasing in step; of several values at the
    same step the last one read is kept. Values are applied in read order: files
    of a run in name order, each file in record order. Data appended later to an
    older file is therefore applied after newer files and preempts their points,
    exactly like TensorBoard's Rust loader.

Wall times that are NaN or infinite are kept as they are (TensorBoard's Rust loader
drops +-inf events and stops reading a file at a NaN one; we lose nothing).
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from vizboard.data.blobs import BlobCache
from vizboard.data.decode import (
    RUN_GRAPH_TAG,
    HistogramValue,
    SeriesMeta,
)
from vizboard.data.fs import open_fs
from vizboard.data.hparams_view import build_hparams
from vizboard.data.models import (
    BlobRef,
    ChartLayout,
    DataProblem,
    GraphData,
    HistogramSeries,
    HParamsData,
    Kind,
    LoadStatus,
    PrCurveEntry,
    RunInfo,
    ScalarSeries,
    TagInfo,
    TextEntry,
)

__all__ = ["Store"]

_GROWTH = 1.25
_MAX_PROBLEMS_PER_RUN = 10_000


def _ro(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class _Scalars:
    """Growable columnar buffers of one scalar series (ingest thread only).

    ``state`` = (step, wall, value, n) is replaced as one tuple after every change, so a
    reader that takes it once sees arrays whose first ``n`` entries are complete and
    will never be written again (appends go past ``n``; truncation copies).
    """

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state: tuple[np.ndarray, np.ndarray, np.ndarray, int] = (
            np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64), 0)

    @property
    def n(self) -> int:
        return self.state[3]

    def capacity(self) -> int:
        return int(self.state[0].shape[0])

    @staticmethod
    def _grown(old: tuple[np.ndarray, np.ndarray, np.ndarray], keep: int,
               cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = []
        for a in old:
            new = np.empty(cap, a.dtype)
            new[:keep] = a[:keep]
            out.append(new)
        return out[0], out[1], out[2]

    def compact(self) -> None:
        """Drop growth slack (new exact-size buffers; snapshots keep the old ones)."""
        step, wall, value, n = self.state
        if step.shape[0] > n + n // 32 + 16:
            self.state = (*self._grown((step, wall, value), n, n), n)

    def extend(self, step: np.ndarray, wall: np.ndarray, value: np.ndarray) -> None:
        """Append points in read order, applying preemption (see module docstring)."""
        m = step.shape[0]
        if m == 0:
            return
        # Batch point i survives iff its step < every later batch step.
        if m > 1:
            later_min = np.minimum.accumulate(step[::-1])[::-1]
            survive = np.ones(m, dtype=bool)
            survive[:-1] = step[:-1] < later_min[1:]
            if not survive.all():
                step, wall, value = step[survive], wall[survive], value[survive]
            first_min = int(later_min[0])
        else:
            first_min = int(step[0])
        bufs = self.state[:3]
        n = keep = self.state[3]
        if keep and int(bufs[0][keep - 1]) >= first_min:
            keep = int(np.searchsorted(bufs[0][:n], first_min, side="left"))
        need = keep + step.shape[0]
        if keep < n or need > bufs[0].shape[0]:
            # copy-on-write: snapshots keep the old buffers untouched
            if keep == 0:
                cap = need  # a fresh (or fully replaced) series: exact size
            else:
                cap = max(need, int(need * _GROWTH) if need > 1024 else need * 2, 16)
            bufs = self._grown(bufs, keep, cap)
        bufs[0][keep:need] = step
        bufs[1][keep:need] = wall
        bufs[2][keep:need] = value
        self.state = (bufs[0], bufs[1], bufs[2], need)


class _Entries:
    """Step-indexed items of one non-scalar series, with the same preemption rule.

    ``state`` = (steps, walls, items, n) is replaced as one tuple; the lists only grow
    past ``n`` in place, and a truncation builds new lists (copy-on-write).
    """

    __slots__ = ("state", "cache")

    def __init__(self) -> None:
        self.state: tuple[list[int], list[float], list[Any], int] = ([], [], [], 0)
        self.cache: tuple[int, Any] | None = None

    @property
    def n(self) -> int:
        return self.state[3]

    def add(self, step: int, wall: float, item: Any) -> None:
        steps, walls, items, n = self.state
        if n and steps[n - 1] >= step:
            k = bisect.bisect_left(steps, step, 0, n)
            steps, walls, items, n = steps[:k], walls[:k], items[:k], k
        steps.append(step)
        walls.append(wall)
        items.append(item)
        self.state = (steps, walls, items, n + 1)

    def view(self) -> tuple[list[int], list[float], list[Any]]:
        steps, walls, items, n = self.state
        return steps[:n], walls[:n], items[:n]


class _Series:
    __slots__ = ("run", "tag", "meta", "data", "version")

    def __init__(self, run: str, tag: str, meta: SeriesMeta, version: int) -> None:
        self.run, self.tag, self.meta, self.version = run, tag, meta, version
        self.data: _Scalars | _Entries = _Scalars() if meta.kind is Kind.SCALARS else _Entries()

    def num_points(self) -> int:
        return self.data.n

    def info(self) -> TagInfo:
        m = self.meta
        display = m.display_name
        if not display and self.tag.endswith("/text_summary") and m.kind is Kind.TEXT:
            display = self.tag[: -len("/text_summary")]
        return TagInfo(self.run, self.tag, m.kind, m.plugin, self.data.n, self.version,
                       display, m.description, m.chart)


_GRAPH_VALUE_PLUGINS = ("graph_run_metadata_graph", "graph_keras_model")
"""Summary-value plugins holding a whole graph (TF2 ``trace_export``, the Keras callback's model graph)."""


class _Run:
    __slots__ = ("name", "series", "version", "last_wall", "num_files", "problems", "num_problems",
                 "module_tree", "layout", "hparams")

    def __init__(self, name: str, version: int) -> None:
        self.name = name
        self.series: dict[str, _Series] = {}
        self.version = version
        self.last_wall = 0.0
        self.num_files = 0
        self.problems: list[DataProblem] = []
        self.num_problems = 0
        self.module_tree: dict[str, Any] | None = None
        self.layout: tuple[ChartLayout, ...] = ()
        self.hparams: dict[str, tuple[Any, float]] = {}  # which -> (proto, wall_time)


class Store:
    """Everything ingested from one logdir (a ``DataProvider``; see module docstring).

    ``logdir`` is a local path or an fsspec URL; ``blob_cache_bytes`` bounds the
    cache of blob bytes read back from disk (default 64 MiB).
    """

    def __init__(self, logdir: str, *, blob_cache_bytes: int = 64 << 20,
                 storage_options: dict[str, Any] | None = None) -> None:
        self._logdir = logdir
        self.fs = open_fs(logdir, storage_options)
        self._runs: dict[str, _Run] = {}
        self._version = 0
        self._problems: list[DataProblem] = []
        self._lock = threading.Lock()  # only around version bumps by the writer
        self._blobs = BlobCache(self.fs, blob_cache_bytes)
        self._loading = True
        self._bytes_read = 0
        self._bytes_total = 0
        self._last_update = 0.0
        self._reader_problems: deque[DataProblem] = deque()
        self._tags_cache: dict[tuple[Any, ...], tuple[int, list[TagInfo]]] = {}

    # ------------------------------------------------------------------ writer side
    def bump(self) -> int:
        """Advance and return the global version (ingest thread)."""
        with self._lock:
            self._version += 1
            self._last_update = time.time()
            return self._version

    def run(self, name: str) -> _Run:
        """The run ``name``, created if new (ingest thread)."""
        r = self._runs.get(name)
        if r is None:
            r = _Run(name, self.bump())
            self._runs = {**self._runs, name: r}
        return r

    def drop_run(self, name: str) -> None:
        """Forget a run whose event files are all gone (ingest thread)."""
        if name in self._runs:
            self._runs = {k: v for k, v in self._runs.items() if k != name}
            self.bump()

    def series_meta(self, run: str, tag: str) -> SeriesMeta | None:
        r = self._runs.get(run)
        s = r.series.get(tag) if r else None
        return s.meta if s else None

    def _series(self, run: str, tag: str, meta: SeriesMeta) -> _Series:
        r = self.run(run)
        s = r.series.get(tag)
        if s is None:
            s = _Series(run, tag, meta, self._version)
            r.series = {**r.series, tag: s}
        elif meta.from_metadata and not s.meta.from_metadata and s.meta.kind is Kind.OTHER:
            # An unlabelled tensor series gets its plugin late (Python loader rule: the first value
            # *with* metadata decides). The unlabelled values before it were only counted, not kept.
            s.meta = meta
            if meta.kind is not Kind.OTHER:
                s.data = _Scalars() if meta.kind is Kind.SCALARS else _Entries()
        return s

    def _touch(self, r: _Run, s: _Series | None, wall: float) -> None:
        v = self.bump()
        r.version = v
        if s is not None:
            s.version = v
        if wall > r.last_wall:
            r.last_wall = float(wall)

    def add_scalars(self, run: str, tag: str, meta: SeriesMeta, step: np.ndarray,
                    wall: np.ndarray, value: np.ndarray) -> None:
        """Append scalar points (arrays in read order) to (run, tag)."""
        s = self._series(run, tag, meta)
        if not isinstance(s.data, _Scalars):
            self.add_problem(run, "", 0, 0, "bad_value", f"scalar values for non-scalar tag {tag!r}")
            return
        s.data.extend(step.astype(np.int64, copy=False), wall.astype(np.float64, copy=False),
                      value.astype(np.float64, copy=False))
        self._touch(self._runs[run], s, float(np.nanmax(wall)) if wall.size and not np.isnan(wall).all() else 0.0)

    def add_entry(self, run: str, tag: str, meta: SeriesMeta, step: int, wall: float, item: Any) -> None:
        """Append one non-scalar value (histogram, blob refs, text, PR curve, other)."""
        s = self._series(run, tag, meta)
        if not isinstance(s.data, _Entries):
            self.add_problem(run, "", 0, 0, "bad_value", f"non-scalar value for scalar tag {tag!r}")
            return
        s.data.add(step, wall, item)
        self._touch(self._runs[run], s, wall)

    def set_module_tree(self, run: str, tree: dict[str, Any], wall: float) -> None:
        r = self.run(run)
        r.module_tree = tree
        self._touch(r, None, wall)

    def set_layout(self, run: str, charts: tuple[ChartLayout, ...], wall: float) -> None:
        r = self.run(run)
        r.layout = charts
        self._touch(r, None, wall)

    def set_hparams(self, run: str, which: str, message: Any, wall: float) -> None:
        r = self.run(run)
        r.hparams = {**r.hparams, which: (message, wall)}
        self._touch(r, None, wall)

    def set_num_files(self, run: str, n: int) -> None:
        r = self.run(run)
        if r.num_files != n:
            r.num_files = n
            self._touch(r, None, 0.0)

    def add_problem(self, run: str, file: str, offset: int, length: int, kind: str, detail: str = "") -> None:
        """Record damage found while reading (kept up to 10,000 per run; all are counted)."""
        r = self.run(run)
        p = DataProblem(run, file, offset, length, kind, detail)
        r.num_problems += 1
        if len(r.problems) < _MAX_PROBLEMS_PER_RUN:
            r.problems.append(p)
            self._problems.append(p)
        self._touch(r, None, 0.0)

    def compact(self) -> None:
        """Trim every scalar buffer to its size (ingest thread, after a bulk load)."""
        for r in self._runs.values():
            for s in r.series.values():
                if isinstance(s.data, _Scalars):
                    s.data.compact()

    def set_progress(self, *, loading: bool | None = None, bytes_read: int | None = None,
                     bytes_total: int | None = None) -> None:
        if loading is not None and loading != self._loading:
            self._loading = loading
            self.bump()
        if bytes_read is not None:
            self._bytes_read = bytes_read
        if bytes_total is not None:
            self._bytes_total = bytes_total

    # ------------------------------------------------------------------ DataProvider
    @property
    def logdir(self) -> str:
        return self._logdir

    def version(self) -> int:
        return self._version

    def status(self) -> LoadStatus:
        runs = self._runs
        return LoadStatus(self._loading, self._bytes_read, self._bytes_total, len(runs),
                          sum(r.num_problems for r in runs.values()), self._last_update, self._version)

    def runs(self) -> list[RunInfo]:
        return [RunInfo(r.name, r.version, r.last_wall, r.num_files, r.num_problems)
                for _, r in sorted(self._runs.items())]

    def tags(self, kind: Kind | None = None, runs: Sequence[str] | None = None) -> list[TagInfo]:
        key = (kind, None if runs is None else tuple(runs))
        version = self._version
        hit = self._tags_cache.get(key)
        if hit is not None and hit[0] == version:
            return list(hit[1])
        out = self._tags(kind, runs)
        if len(self._tags_cache) >= 64:
            self._tags_cache = {}
        self._tags_cache = {**self._tags_cache, key: (version, out)}
        return list(out)

    def _tags(self, kind: Kind | None, runs: Sequence[str] | None) -> list[TagInfo]:
        all_runs = self._runs
        names = all_runs.keys() if runs is None else [n for n in runs if n in all_runs]
        out = []
        for name in names:
            for s in all_runs[name].series.values():
                if kind is None or s.meta.kind is kind:
                    out.append(s.info())
        out.sort(key=lambda t: (t.tag, t.run))
        return out

    def _get(self, run: str, tag: str) -> _Series | None:
        r = self._runs.get(run)
        return r.series.get(tag) if r else None

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        s = self._get(run, tag)
        if s is None or not isinstance(s.data, _Scalars):
            return None
        version = s.version
        step, wall, value, n = s.data.state
        return ScalarSeries(run, tag, _ro(step[:n]), _ro(wall[:n]), _ro(value[:n]), version)

    def histograms(self, run: str, tag: str) -> HistogramSeries | None:
        s = self._get(run, tag)
        if s is None or s.meta.kind is not Kind.HISTOGRAMS or not isinstance(s.data, _Entries):
            return None
        version = s.version
        cached = s.data.cache
        if cached is not None and cached[0] == version:
            hit: HistogramSeries = cached[1]
            return hit
        steps, walls, items = s.data.view()
        h: list[HistogramValue] = items
        sizes = np.fromiter((len(x.left) for x in h), dtype=np.int64, count=len(h))
        offsets = np.zeros(len(h) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])

        def cat(attr: str) -> np.ndarray:
            parts = [getattr(x, attr) for x in h]
            return _ro(np.concatenate(parts).astype(np.float64) if parts else np.zeros(0))

        def col(attr: str) -> np.ndarray:
            return _ro(np.fromiter((getattr(x, attr) for x in h), dtype=np.float64, count=len(h)))

        out = HistogramSeries(run, tag, _ro(np.asarray(steps, np.int64)), _ro(np.asarray(walls, np.float64)),
                              _ro(offsets), cat("left"), cat("right"), cat("count"), col("minimum"),
                              col("maximum"), col("num"), col("total"), version)
        s.data.cache = (version, out)
        return out

    def _entries(self, run: str, tag: str, kind: Kind | tuple[Kind, ...]) -> list[Any]:
        s = self._get(run, tag)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if s is None or s.meta.kind not in kinds or not isinstance(s.data, _Entries):
            return []
        return s.data.view()[2]

    def blobs(self, run: str, tag: str) -> list[BlobRef]:
        return [ref for refs in self._entries(run, tag, (Kind.IMAGES, Kind.AUDIO, Kind.GRAPHS)) for ref in refs]

    def read_blob(self, ref: BlobRef) -> bytes:
        """Blob bytes via the bounded cache; b"" if the record is gone or damaged."""
        meta = self.series_meta(ref.run, ref.tag)
        kind = meta.kind if meta else Kind.GRAPHS
        data, problem = self._blobs.get(ref, kind)
        if problem is not None:  # recorded by the ingest thread (readers never write the store)
            self._reader_problems.append(DataProblem(ref.run, ref.file, ref.offset, ref.length, "unreadable", problem))
        return data

    def drain_reader_problems(self) -> None:
        """Record problems that reader threads met (e.g. a blob gone from disk); ingest thread."""
        while self._reader_problems:
            p = self._reader_problems.popleft()
            if p.run in self._runs:
                self.add_problem(p.run, p.file, p.offset, p.length, p.kind, p.detail)

    def text(self, run: str, tag: str) -> list[TextEntry]:
        return self._entries(run, tag, Kind.TEXT)

    def pr_curves(self, run: str, tag: str) -> list[PrCurveEntry]:
        return self._entries(run, tag, Kind.PR_CURVES)

    def graph(self, run: str) -> GraphData | None:
        r = self._runs.get(run)
        if r is None:
            return None
        s = r.series.get(RUN_GRAPH_TAG)
        if s is None:  # no graph_def event: a TF2 trace or a Keras model graph (vizboard.data.graph_blobs reads both)
            s = next((x for t, x in sorted(r.series.items()) if x.meta.plugin in _GRAPH_VALUE_PLUGINS), None)
        refs = s.data.view()[2] if s is not None and isinstance(s.data, _Entries) else []
        graph_def = refs[-1][-1] if refs and refs[-1] else None
        if graph_def is None and r.module_tree is None:
            return None
        return GraphData(run, graph_def, r.module_tree)

    def hparams(self) -> HParamsData:
        runs = self._runs
        infos = {name: r.hparams for name, r in runs.items() if r.hparams}
        scalar_tags = {name: [t for t, s in r.series.items() if s.meta.kind is Kind.SCALARS]
                       for name, r in runs.items()}

        def last(run: str, tag: str) -> float | None:
            s = self.scalars(run, tag)
            return float(s.value[-1]) if s is not None and len(s) else None

        return build_hparams(infos, scalar_tags, last)

    def chart_layouts(self) -> list[ChartLayout]:
        runs = self._runs
        out: list[ChartLayout] = []
        seen: set[tuple[str, str]] = set()
        for _, r in sorted(runs.items()):
            for c in r.layout:
                if (c.category, c.title) not in seen:
                    seen.add((c.category, c.title))
                    out.append(c)
        charts: dict[str, set[str]] = {}
        for r in runs.values():
            for s in r.series.values():
                if s.meta.chart:
                    charts.setdefault(s.meta.chart, set()).add(s.tag)
        for title in sorted(charts):
            if ("", title) not in seen:
                out.append(ChartLayout("", title, tuple(re.escape(t) for t in sorted(charts[title]))))
        return out

    def problems(self, run: str | None = None) -> list[DataProblem]:
        if run is None:
            return list(self._problems)
        r = self._runs.get(run)
        return list(r.problems) if r else []

    def run_files(self, run: str, pattern: str) -> list[str]:
        if run not in self._runs or ".." in pattern.split("/"):
            return []
        return self.fs.glob(run, pattern)
