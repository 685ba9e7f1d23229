"""A small in-memory DataProvider for unit tests of the API, the shell and the Scalars tab."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

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
from vizboard.data.scalar_read import read_scalars
from vizboard.data.traces import TraceFile, TraceParseError

__all__ = ["FakeProvider"]


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


class FakeProvider:
    """Holds scalars, blobs, texts, ... in dicts; ``add_*`` methods bump the version."""

    def __init__(self, logdir: str = "/fake/logdir") -> None:
        self._logdir = logdir
        self._lock = threading.Lock()
        self._version = 1
        self._scalars: dict[tuple[str, str], ScalarSeries] = {}
        self._charts: dict[tuple[str, str], str | None] = {}
        self._hist: dict[tuple[str, str], HistogramSeries] = {}
        self._blobs: dict[tuple[str, str], list[BlobRef]] = {}
        self._blob_bytes: dict[tuple[str, int], bytes] = {}
        self._text: dict[tuple[str, str], list[TextEntry]] = {}
        self._pr: dict[tuple[str, str], list[PrCurveEntry]] = {}
        self._graphs: dict[str, GraphData] = {}
        self._problems: list[DataProblem] = []
        self._layouts: list[ChartLayout] = []
        self._hparams = HParamsData((), (), ())
        self._blob_kind: dict[tuple[str, str], Kind] = {}
        self._traces: list[TraceFile] = []
        self._trace_bytes: dict[str, bytes] = {}
        self.loading = False
        self.bytes_read = 0
        self.bytes_total = 0
        self._last_update = time.time()

    # -- writing (tests only) ---------------------------------------------------------------
    def _bump(self) -> int:
        self._version += 1
        self._last_update = time.time()
        return self._version

    def add_scalars(self, run: str, tag: str, steps, values, wall_times=None, chart: str | None = None) -> None:
        """Append points to (run, tag) (steps int, values float, wall times s)."""
        steps = np.asarray(steps, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if wall_times is None:
            wall_times = 1_700_000_000.0 + steps.astype(np.float64)
        wall_times = np.asarray(wall_times, dtype=np.float64)
        with self._lock:
            v = self._bump()
            old = self._scalars.get((run, tag))
            if old is not None:
                steps = np.concatenate([old.step, steps])
                values = np.concatenate([old.value, values])
                wall_times = np.concatenate([old.wall_time, wall_times])
            self._scalars[(run, tag)] = ScalarSeries(run, tag, _ro(steps), _ro(wall_times), _ro(values), v)
            self._charts[(run, tag)] = chart

    def add_blob(self, run: str, tag: str, step: int, data: bytes, kind: Kind = Kind.IMAGES, index: int = 0,
                 content_type: str = "image/png", wall_time: float | None = None) -> BlobRef:
        with self._lock:
            self._bump()
            offset = len(self._blob_bytes) * 100
            wall = 1_700_000_000.0 + step if wall_time is None else wall_time
            ref = BlobRef(run, tag, step, wall, f"{self._logdir}/{run}/events", offset,
                          len(data), index, content_type, 2, 2)
            self._blob_bytes[(ref.file, offset)] = data
            self._blobs.setdefault((run, tag), []).append(ref)
            self._blob_kind[(run, tag)] = kind
            return ref

    def add_text(self, run: str, tag: str, step: int, text: str, wall_time: float | None = None) -> None:
        wall = 1_700_000_000.0 + step if wall_time is None else wall_time
        with self._lock:
            self._bump()
            self._text.setdefault((run, tag), []).append(TextEntry(step, wall, np.array(text)))

    def add_pr_curve(self, run: str, tag: str, step: int, data, wall_time: float | None = None) -> None:
        """One PR curve: ``data`` is the (6, thresholds) array tp, fp, tn, fn, precision, recall."""
        wall = 1_700_000_000.0 + step if wall_time is None else wall_time
        with self._lock:
            self._bump()
            self._pr.setdefault((run, tag), []).append(PrCurveEntry(step, wall, np.asarray(data, np.float64)))

    def add_histogram(self, run: str, tag: str, step: int, left, right, count, wall_time: float | None = None) -> None:
        left, right, count = (np.asarray(x, dtype=np.float64) for x in (left, right, count))
        with self._lock:
            v = self._bump()
            n = len(left)
            self._hist[(run, tag)] = HistogramSeries(
                run, tag, np.array([step]), np.array([1.0 * step if wall_time is None else wall_time]),
                np.array([0, n]), left, right, count,
                np.array([left.min()]), np.array([right.max()]), np.array([count.sum()]), np.array([np.nan]), v)

    def add_problem(self, problem: DataProblem) -> None:
        with self._lock:
            self._bump()
            self._problems.append(problem)

    def add_layout(self, layout: ChartLayout) -> None:
        with self._lock:
            self._bump()
            self._layouts.append(layout)

    def set_graph(self, graph: GraphData) -> None:
        with self._lock:
            self._bump()
            self._graphs[graph.run] = graph

    def set_hparams(self, data: HParamsData) -> None:
        with self._lock:
            self._bump()
            self._hparams = data

    # -- DataProvider -----------------------------------------------------------------------
    @property
    def logdir(self) -> str:
        return self._logdir

    def version(self) -> int:
        return self._version

    def status(self) -> LoadStatus:
        return LoadStatus(self.loading, self.bytes_read, self.bytes_total, len(self.runs()), len(self._problems),
                          self._last_update, self._version)

    def _run_names(self) -> set[str]:
        keys = list(self._scalars) + list(self._hist) + list(self._blobs) + list(self._text) + list(self._pr)
        return {r for r, _ in keys} | set(self._graphs)

    def runs(self) -> list[RunInfo]:
        out = []
        for name in sorted(self._run_names()):
            last = max((s.wall_time[-1] for (r, _), s in self._scalars.items() if r == name and len(s)), default=0.0)
            out.append(RunInfo(name, self._version, float(last), 1,
                               sum(1 for p in self._problems if p.run == name)))
        return out

    def tags(self, kind: Kind | None = None, runs: Sequence[str] | None = None) -> list[TagInfo]:
        out: list[TagInfo] = []
        blob_kind = self._blob_kind
        items = (
            [((r, t), Kind.SCALARS, "scalars", len(s), s.version, self._charts.get((r, t)))
             for (r, t), s in self._scalars.items()]
            + [((r, t), Kind.HISTOGRAMS, "histograms", len(h), h.version, None) for (r, t), h in self._hist.items()]
            + [((r, t), blob_kind[(r, t)], blob_kind[(r, t)].value, len(b), 1, None) for (r, t), b in self._blobs.items()]
            + [((r, t), Kind.TEXT, "text", len(x), 1, None) for (r, t), x in self._text.items()]
            + [((r, t), Kind.PR_CURVES, "pr_curves", len(x), 1, None) for (r, t), x in self._pr.items()]
        )
        for (r, t), k, plugin, n, v, chart in items:
            if kind is not None and k != kind:
                continue
            if runs is not None and r not in runs:
                continue
            out.append(TagInfo(r, t, k, plugin, n, v, chart=chart))
        return sorted(out, key=lambda ti: (ti.tag, ti.run))

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        return self._scalars.get((run, tag))

    def histograms(self, run: str, tag: str) -> HistogramSeries | None:
        return self._hist.get((run, tag))

    def blobs(self, run: str, tag: str) -> list[BlobRef]:
        return list(self._blobs.get((run, tag), []))

    def read_blob(self, ref: BlobRef) -> bytes:
        return self._blob_bytes[(ref.file, ref.offset)]

    def text(self, run: str, tag: str) -> list[TextEntry]:
        return list(self._text.get((run, tag), []))

    def pr_curves(self, run: str, tag: str) -> list[PrCurveEntry]:
        return list(self._pr.get((run, tag), []))

    def graph(self, run: str) -> GraphData | None:
        return self._graphs.get(run)

    def hparams(self) -> HParamsData:
        return self._hparams

    def chart_layouts(self) -> list[ChartLayout]:
        charts = sorted({c for c in self._charts.values() if c})
        return list(self._layouts) + [ChartLayout("", c, (f"{c}/.*",)) for c in charts]

    def problems(self, run: str | None = None) -> list[DataProblem]:
        return [p for p in self._problems if run is None or p.run == run]

    def read_scalars(self, *, runs: Sequence[str], tag: str, max_points: int,
                     x_range: tuple[float, float] | None = None, x_axis: str = "step") -> dict[str, ScalarSeries]:
        return read_scalars(self, runs=runs, tag=tag, max_points=max_points, x_range=x_range, x_axis=x_axis)

    def add_trace(self, run: str, name: str, data: bytes, *, subdir: str = "plugins/profile") -> TraceFile:
        """Publish an in-memory trace file ``name`` of profile run ``run`` (no disk involved)."""
        base = self._logdir if run == "." else f"{self._logdir}/{run}"
        path = f"{base}/{subdir}/{name}" if subdir else f"{base}/{name}"
        worker, _, ts = name.split(".pt.trace")[0].rpartition(".")
        trace = TraceFile(run, path, worker or name, int(ts) if ts.isdigit() else None, len(data),
                          float(len(self._trace_bytes)))
        with self._lock:
            self._bump()
            self._trace_bytes[path] = data
            self._traces = sorted([t for t in self._traces if t.path != path] + [trace], key=lambda t: (t.run, t.path))
        return trace

    def traces(self) -> list[TraceFile]:
        return list(self._traces)

    def read_trace(self, trace: TraceFile) -> bytes:
        data = self._trace_bytes.get(trace.path)
        if data is None:
            raise TraceParseError(f"the trace {trace.path} is no longer in the logdir")
        return data

    def with_version(self, version: int) -> FakeProvider:
        """Force the version number (tests of the live check)."""
        self._version = version
        return self

