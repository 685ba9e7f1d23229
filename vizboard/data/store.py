"""The in-memory store of one logdir: implements ``DataProvider`` over immutable snapshots.

Writers and readers
    Only the ingest thread (``vizboard.data.ingest``) calls the ``add_*``/``set_*``/
    ``drop_*`` methods. Reader methods (the ``DataProvider`` protocol) may be called
    from any thread at any time and never block on ingestion: every structure a
    reader can reach is either immutable or only ever grows past what a snapshot
    covers. Dicts of runs and series are replaced, never mutated (copy-on-write).

Storage and the restart rule
    Each (run, tag) is a :class:`~vizboard.data.series.Series`: columnar numpy scalars or
    step-indexed entries, with the restart rule (a value at step ``s`` drops the stored
    points at steps >= ``s``) described in ``vizboard.data.series``. Values reach it in
    read order: files of a run in name order, each file in record order. A batch of many
    small files is stored with :meth:`Store.add_scalars_many`: the series it creates take
    views of the batch's sorted columns as their buffers (no copy per series; a later
    append or restart copies, so snapshots never change).

Selection caches
    ``tags(kind, runs)`` answers are cached per (kind, run selection) and data version
    in a :class:`~vizboard.data.lru.ByteLRU` bounded in bytes (``tags_cache_bytes``,
    default 16 MiB), so many distinct selections of many runs cannot grow memory.

Wall times that are NaN or infinite are kept as they are (TensorBoard's Rust loader
drops +-inf events and stops reading a file at a NaN one; we lose nothing).
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from vizboard.data.blobs import BlobCache
from vizboard.data.decode import (
    RUN_GRAPH_TAG,
    SeriesMeta,
)
from vizboard.data.fs import open_fs
from vizboard.data.hparams_view import build_hparams
from vizboard.data.lru import ByteLRU
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
from vizboard.data.series import EntryList, ScalarColumns, Series, histogram_snapshot, read_only

__all__ = ["Store"]

_MAX_PROBLEMS_PER_RUN = 10_000


_GRAPH_VALUE_PLUGINS = ("graph_run_metadata_graph", "graph_keras_model")
"""Summary-value plugins holding a whole graph (TF2 ``trace_export``, the Keras callback's model graph)."""


class _Run:
    __slots__ = ("name", "series", "version", "last_wall", "num_files", "problems", "num_problems",
                 "module_tree", "layout", "hparams", "_info")

    def __init__(self, name: str, version: int) -> None:
        self.name = name
        self.series: dict[str, Series] = {}
        self.version = version
        self.last_wall = 0.0
        self.num_files = 0
        self.problems: list[DataProblem] = []
        self.num_problems = 0
        self.module_tree: dict[str, Any] | None = None
        self.layout: tuple[ChartLayout, ...] = ()
        self.hparams: dict[str, tuple[Any, float]] = {}  # which -> (proto, wall_time)
        self._info: RunInfo | None = None

    def info(self) -> RunInfo:
        """The run as ``DataProvider.runs`` lists it (rebuilt only after it changed; any thread)."""
        got = self._info
        if (got is None or got.version != self.version or got.last_wall_time != self.last_wall
                or got.num_files != self.num_files or got.num_problems != self.num_problems):
            got = RunInfo(self.name, self.version, self.last_wall, self.num_files, self.num_problems)
            self._info = got
        return got


def _relabel(s: Series, meta: SeriesMeta) -> None:
    """An unlabelled tensor series gets its plugin late (Python loader rule: the first value *with*
    metadata decides). The unlabelled values before it were only counted, not kept."""
    if meta.from_metadata and not s.meta.from_metadata and s.meta.kind is Kind.OTHER:
        s.meta = meta
        if meta.kind is not Kind.OTHER:
            s.data = ScalarColumns() if meta.kind is Kind.SCALARS else EntryList()


class Store:
    """Everything ingested from one logdir (a ``DataProvider``; see module docstring).

    ``logdir`` is a local path or an fsspec URL; ``blob_cache_bytes`` bounds the
    cache of blob bytes read back from disk (default 64 MiB); ``tags_cache_bytes`` the
    cache of ``tags()`` answers per run selection (default 16 MiB).
    """

    def __init__(self, logdir: str, *, blob_cache_bytes: int = 64 << 20, tags_cache_bytes: int = 16 << 20,
                 storage_options: dict[str, Any] | None = None) -> None:
        self._logdir = logdir
        self.fs = open_fs(logdir, storage_options)
        self._runs: dict[str, _Run] = {}
        self._runs_gen = 0  # grows when a run is added or dropped (after _runs is replaced)
        self._order: tuple[int, tuple[_Run, ...]] = (0, ())  # (_runs_gen, runs sorted by name)
        self._version = 0
        self._problems: list[DataProblem] = []
        self._lock = threading.Lock()  # only around version bumps by the writer
        self._blobs = BlobCache(self.fs, blob_cache_bytes)
        self._loading = True
        self._bytes_read = 0
        self._bytes_total = 0
        self._last_update = 0.0
        self._reader_problems: deque[DataProblem] = deque()
        self._tags_cache: ByteLRU[tuple[int, list[TagInfo]]] = ByteLRU(tags_cache_bytes)

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
            self.add_runs((name,))
            r = self._runs[name]
        return r

    def add_runs(self, names: Iterable[str]) -> None:
        """Create every run of ``names`` not known yet, with one copy of the run table (ingest thread).

        Creating 10,000 runs one by one would copy the copy-on-write table 10,000 times.
        """
        new = {n: _Run(n, 0) for n in dict.fromkeys(names) if n not in self._runs}
        if new:
            v = self.bump()
            for r in new.values():
                r.version = v
            self._runs = {**self._runs, **new}
            self._runs_gen += 1

    def drop_run(self, name: str) -> None:
        """Forget a run whose event files are all gone (ingest thread)."""
        if name in self._runs:
            self._runs = {k: v for k, v in self._runs.items() if k != name}
            self._runs_gen += 1
            self.bump()

    def series_meta(self, run: str, tag: str) -> SeriesMeta | None:
        r = self._runs.get(run)
        s = r.series.get(tag) if r else None
        return s.meta if s else None

    def _series(self, run: str, tag: str, meta: SeriesMeta) -> Series:
        r = self.run(run)
        s = r.series.get(tag)
        if s is None:
            s = Series(run, tag, meta, self._version)
            r.series = {**r.series, tag: s}
        else:
            _relabel(s, meta)
        return s

    def _touch(self, r: _Run, s: Series | None, wall: float) -> None:
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
        if not isinstance(s.data, ScalarColumns):
            self.add_problem(run, "", 0, 0, "bad_value", f"scalar values for non-scalar tag {tag!r}")
            return
        s.data.extend(step.astype(np.int64, copy=False), wall.astype(np.float64, copy=False),
                      value.astype(np.float64, copy=False))
        self._touch(self._runs[run], s, float(np.nanmax(wall)) if wall.size and not np.isnan(wall).all() else 0.0)

    def add_scalars_many(self, groups: Sequence[tuple[str, str, SeriesMeta]], bounds: np.ndarray,
                         step: np.ndarray, wall: np.ndarray, value: np.ndarray) -> None:
        """:meth:`add_scalars` for many series at once, with one version bump (ingest thread).

        Group ``i`` = (run, tag, meta) gets rows ``bounds[i]:bounds[i + 1]`` of ``step``/``wall``/
        ``value`` (each group's rows in read order; ``len(bounds) == len(groups) + 1``; a (run, tag)
        appears at most once). Same store as one :meth:`add_scalars` per group; a series that is new
        or empty and whose steps increase within the batch takes views of the arrays as its buffers
        (no per-series copy, no restart-rule pass), and the runs' last wall times come from one
        vectorised per-group reduction. The arrays are owned by the Store afterwards (the caller
        must not modify them).
        """
        if not groups:
            return
        step = step.astype(np.int64, copy=False)
        wall = wall.astype(np.float64, copy=False)
        value = value.astype(np.float64, copy=False)
        lo, hi = bounds[:-1], bounds[1:]
        if step.shape[0] != int(bounds[-1]) or len(groups) != lo.shape[0] or bool((hi <= lo).any()):
            raise ValueError("bounds must cut step/wall/value into one non-empty slice per group")
        # groups whose steps are not strictly increasing need the restart rule inside the batch
        rising = step[1:] > step[:-1]
        rising[lo[1:] - 1] = True  # pairs across a group boundary don't count
        unsorted = np.zeros(len(groups), dtype=bool)
        unsorted[np.searchsorted(bounds, np.flatnonzero(~rising), side="right") - 1] = True
        last_walls = np.fmax.reduceat(wall, lo).tolist()  # NaN only if the whole group is NaN
        los, his, unsorted_l = lo.tolist(), hi.tolist(), unsorted.tolist()
        runs_now = self._runs
        new_series: dict[_Run, dict[str, Series]] = {}
        touched: list[tuple[_Run, Series, float]] = []
        version = self._version
        for i, (run, tag, meta) in enumerate(groups):
            r = runs_now.get(run)
            if r is None:
                r = self.run(run)
                runs_now = self._runs
            a, b = los[i], his[i]
            s = r.series.get(tag)
            if s is None:
                fresh = new_series.setdefault(r, {})
                s = fresh.get(tag)
                if s is None:
                    if meta.kind is Kind.SCALARS and not unsorted_l[i]:  # a new series born with its first batch
                        s = fresh[tag] = Series(run, tag, meta, version,
                                                ScalarColumns((step[a:b], wall[a:b], value[a:b], b - a)))
                        touched.append((r, s, last_walls[i]))
                        continue
                    s = fresh[tag] = Series(run, tag, meta, version)
            else:
                _relabel(s, meta)
            data = s.data
            if not isinstance(data, ScalarColumns):
                self.add_problem(run, "", 0, 0, "bad_value", f"scalar values for non-scalar tag {tag!r}")
                continue
            if data.state[3] == 0 and not unsorted_l[i]:
                data.state = (step[a:b], wall[a:b], value[a:b], b - a)
            else:
                data.extend(step[a:b], wall[a:b], value[a:b])
            touched.append((r, s, last_walls[i]))
        for r, fresh in new_series.items():
            r.series = {**r.series, **fresh}
        v = self.bump()
        for r, s, w in touched:
            s.version = v
            r.version = v
            if w > r.last_wall:  # False for NaN
                r.last_wall = float(w)

    def add_entry(self, run: str, tag: str, meta: SeriesMeta, step: int, wall: float, item: Any) -> None:
        """Append one non-scalar value (histogram, blob refs, text, PR curve, other)."""
        s = self._series(run, tag, meta)
        if not isinstance(s.data, EntryList):
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

    def set_num_files_many(self, counts: dict[str, int]) -> None:
        """:meth:`set_num_files` for many runs, with one version bump (ingest thread)."""
        changed = []
        for name, n in counts.items():
            r = self.run(name)
            if r.num_files != n:
                r.num_files = n
                changed.append(r)
        if changed:
            v = self.bump()
            for r in changed:
                r.version = v

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
                if isinstance(s.data, ScalarColumns):
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
        gen = self._runs_gen
        runs = self._runs
        order = self._order
        if order[0] != gen or len(order[1]) != len(runs):
            order = (gen, tuple(r for _, r in sorted(runs.items())))
            self._order = order
        return [r.info() for r in order[1]]

    def tags(self, kind: Kind | None = None, runs: Sequence[str] | None = None) -> list[TagInfo]:
        key = (kind, None if runs is None else tuple(runs))
        version = self._version
        found, hit = self._tags_cache.get(key)
        if found and hit is not None and hit[0] == version:
            return list(hit[1])
        out = self._tags(kind, runs)
        self._tags_cache.put(key, (version, out))
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

    def _get(self, run: str, tag: str) -> Series | None:
        r = self._runs.get(run)
        return r.series.get(tag) if r else None

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        s = self._get(run, tag)
        if s is None or not isinstance(s.data, ScalarColumns):
            return None
        version = s.version
        step, wall, value, n = s.data.state
        return ScalarSeries(run, tag, read_only(step[:n]), read_only(wall[:n]), read_only(value[:n]), version)

    def histograms(self, run: str, tag: str) -> HistogramSeries | None:
        s = self._get(run, tag)
        if s is None or s.meta.kind is not Kind.HISTOGRAMS or not isinstance(s.data, EntryList):
            return None
        version = s.version
        cached = s.data.cache
        if cached is not None and cached[0] == version:
            hit: HistogramSeries = cached[1]
            return hit
        out = histogram_snapshot(run, tag, s.data, version)
        s.data.cache = (version, out)
        return out

    def _entries(self, run: str, tag: str, kind: Kind | tuple[Kind, ...]) -> list[Any]:
        s = self._get(run, tag)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if s is None or s.meta.kind not in kinds or not isinstance(s.data, EntryList):
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
        refs = s.data.view()[2] if s is not None and isinstance(s.data, EntryList) else []
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
