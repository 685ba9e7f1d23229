"""The one read interface that the JSON API and every dashboard use to reach the data.

Modelled on TensorBoard's ``DataProvider``: dashboards never touch files, the store
or the ingest thread; they call these methods, which return immutable snapshots
(see ``vizboard.data.models``). ``vizboard.data.served.ServedProvider`` implements it
over a ``vizboard.data.store.Store`` plus the trace index (``served(store)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

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
from vizboard.data.traces import TraceFile

__all__ = ["DataProvider"]


@runtime_checkable
class DataProvider(Protocol):
    """Read-only access to everything ingested from one logdir.

    All methods are thread-safe and cheap to call: they return snapshots that
    later ingestion never mutates. Unknown runs or tags give None or empty results,
    never an exception.
    """

    @property
    def logdir(self) -> str:
        """The logdir being served, as given by the user (path or fsspec URL)."""
        ...

    def version(self) -> int:
        """A number that grows whenever anything in the store changes (cheap to poll)."""
        ...

    def status(self) -> LoadStatus:
        """Ingest progress and freshness, for the header and ``/api/status``."""
        ...

    def runs(self) -> list[RunInfo]:
        """All runs, sorted by name."""
        ...

    def tags(self, kind: Kind | None = None, runs: Sequence[str] | None = None) -> list[TagInfo]:
        """Series of ``kind`` (all kinds if None) in ``runs`` (all if None), sorted by (tag, run)."""
        ...

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        """The full-resolution scalar series, or None if unknown."""
        ...

    def histograms(self, run: str, tag: str) -> HistogramSeries | None:
        """Every stored histogram step of (run, tag), or None."""
        ...

    def blobs(self, run: str, tag: str) -> list[BlobRef]:
        """Image or audio items of (run, tag), sorted by (step, index); bytes not loaded."""
        ...

    def read_blob(self, ref: BlobRef) -> bytes:
        """The encoded bytes (PNG, WAV, serialized GraphDef, ...) of ``ref``, via a bounded cache."""
        ...

    def text(self, run: str, tag: str) -> list[TextEntry]:
        """Every text value of (run, tag), sorted by step."""
        ...

    def pr_curves(self, run: str, tag: str) -> list[PrCurveEntry]:
        """Every PR curve of (run, tag), sorted by step."""
        ...

    def graph(self, run: str) -> GraphData | None:
        """The run's graph (GraphDef reference and/or logger's module tree), or None."""
        ...

    def hparams(self) -> HParamsData:
        """Hyperparameter sessions across all runs, with their metrics' last values."""
        ...

    def chart_layouts(self) -> list[ChartLayout]:
        """Multi-line charts: merged custom-scalars layouts plus logger's ``add_scalars`` groups."""
        ...

    def problems(self, run: str | None = None) -> list[DataProblem]:
        """Damage found while reading (all runs if None), oldest first."""
        ...

    def read_scalars(self, *, runs: Sequence[str], tag: str, max_points: int,
                     x_range: tuple[float, float] | None = None,
                     x_axis: str = "step") -> dict[str, ScalarSeries]:
        """Batch read in TensorBoard's shape: run -> ``tag``'s series reduced to about ``max_points``
        points (every bucket's min/max kept), restricted to ``x_range`` (units of ``x_axis``) if given.
        See :func:`vizboard.data.scalar_read.read_scalars`."""
        ...

    def traces(self) -> list[TraceFile]:
        """torch.profiler trace files under the logdir (resolving inside it), sorted by (run, path).

        A snapshot published by the server's trace discovery; cheap to call."""
        ...

    def read_trace(self, trace: TraceFile) -> bytes:
        """The stored bytes of a listed ``trace`` (gzipped if the file is); raises
        :class:`~vizboard.data.traces.TraceParseError` if it is gone, unreadable, too big
        or resolves outside the logdir."""
        ...
