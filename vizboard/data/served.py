"""The provider the server hands to the app: a Store's data plus the trace index and the batch scalar read.

:class:`ServedProvider` implements :class:`~vizboard.data.provider.DataProvider` by delegating
every data method to the wrapped provider (the Store) and adding :meth:`traces` /
:meth:`read_trace` from a :class:`~vizboard.data.traces.TraceIndex` and :meth:`read_scalars`
(:func:`vizboard.data.scalar_read.read_scalars`). The server owns the index's thread;
:func:`served` wraps any provider that lacks these methods (a plain Store from ``load()``),
leaving a complete provider unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from vizboard.data.traces import TraceFile, TraceIndex

__all__ = ["ServedProvider", "served"]


class ServedProvider:
    """A DataProvider over ``base`` (any object with the data methods) and a trace ``index``."""

    def __init__(self, base: Any, index: TraceIndex | None = None) -> None:
        self.base = base
        self.index = index if index is not None else TraceIndex(base.logdir)

    @property
    def logdir(self) -> str:
        """The logdir being served (path or fsspec URL)."""
        return str(self.base.logdir)

    def version(self) -> int:
        """See DataProvider.version."""
        return int(self.base.version())

    def status(self) -> LoadStatus:
        """See DataProvider.status."""
        result: LoadStatus = self.base.status()
        return result

    def runs(self) -> list[RunInfo]:
        """See DataProvider.runs."""
        return list(self.base.runs())

    def tags(self, kind: Kind | None = None, runs: Sequence[str] | None = None) -> list[TagInfo]:
        """See DataProvider.tags."""
        return list(self.base.tags(kind, runs))

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        """See DataProvider.scalars."""
        result: ScalarSeries | None = self.base.scalars(run, tag)
        return result

    def read_scalars(self, *, runs: Sequence[str], tag: str, max_points: int,
                     x_range: tuple[float, float] | None = None, x_axis: str = "step") -> dict[str, ScalarSeries]:
        """See :func:`vizboard.data.scalar_read.read_scalars`."""
        return read_scalars(self, runs=runs, tag=tag, max_points=max_points, x_range=x_range, x_axis=x_axis)

    def histograms(self, run: str, tag: str) -> HistogramSeries | None:
        """See DataProvider.histograms."""
        result: HistogramSeries | None = self.base.histograms(run, tag)
        return result

    def blobs(self, run: str, tag: str) -> list[BlobRef]:
        """See DataProvider.blobs."""
        return list(self.base.blobs(run, tag))

    def read_blob(self, ref: BlobRef) -> bytes:
        """See DataProvider.read_blob."""
        return bytes(self.base.read_blob(ref))

    def text(self, run: str, tag: str) -> list[TextEntry]:
        """See DataProvider.text."""
        return list(self.base.text(run, tag))

    def pr_curves(self, run: str, tag: str) -> list[PrCurveEntry]:
        """See DataProvider.pr_curves."""
        return list(self.base.pr_curves(run, tag))

    def graph(self, run: str) -> GraphData | None:
        """See DataProvider.graph."""
        result: GraphData | None = self.base.graph(run)
        return result

    def hparams(self) -> HParamsData:
        """See DataProvider.hparams."""
        result: HParamsData = self.base.hparams()
        return result

    def chart_layouts(self) -> list[ChartLayout]:
        """See DataProvider.chart_layouts."""
        return list(self.base.chart_layouts())

    def problems(self, run: str | None = None) -> list[DataProblem]:
        """See DataProvider.problems."""
        return list(self.base.problems(run))

    def traces(self) -> list[TraceFile]:
        """See DataProvider.traces."""
        return self.index.traces()

    def read_trace(self, trace: TraceFile) -> bytes:
        """See DataProvider.read_trace."""
        return self.index.read(trace)


def served(provider: Any, index: TraceIndex | None = None) -> Any:
    """``provider`` if it already offers ``traces``/``read_trace``/``read_scalars``, else a ServedProvider."""
    if all(hasattr(provider, m) for m in ("traces", "read_trace", "read_scalars")):
        return provider
    return ServedProvider(provider, index)
