"""Immutable, typed records that the data layer hands to the API and the dashboards.

Every object here is a snapshot: frozen, never mutated after it is handed out, so
Dash workers may read it on any thread while the ingest thread keeps loading.
Arrays are numpy arrays that the store treats as read-only (``flags.writeable``
is False). Times are seconds since the Unix epoch; steps are training steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

__all__ = [
    "Kind",
    "RunInfo",
    "TagInfo",
    "ScalarSeries",
    "HistogramSeries",
    "BlobRef",
    "TextEntry",
    "PrCurveEntry",
    "GraphData",
    "HParamsSession",
    "HParamsData",
    "ChartLayout",
    "DataProblem",
    "LoadStatus",
]


class Kind(str, Enum):
    """The kind of a series, which decides the tab that shows it."""

    SCALARS = "scalars"
    HISTOGRAMS = "histograms"
    IMAGES = "images"
    AUDIO = "audio"
    TEXT = "text"
    PR_CURVES = "pr_curves"
    GRAPHS = "graphs"
    HPARAMS = "hparams"
    OTHER = "other"
    """A plugin vizboard does not draw (listed, never crashed on)."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run: a directory under the logdir that directly holds an event file.

    ``name`` is the path relative to the logdir with ``/`` separators (``.`` for the
    logdir itself). ``version`` grows whenever anything in the run changes.
    ``last_wall_time`` is the newest event wall time seen (seconds, 0.0 if none).
    """

    name: str
    version: int
    last_wall_time: float
    num_files: int
    num_problems: int


@dataclass(frozen=True, slots=True)
class TagInfo:
    """One series (run, tag) and how to draw it.

    ``plugin`` is the writer's plugin name (``scalars``, ``histograms``, ...).
    ``chart`` groups scalar tags drawn on one chart (logger's ``add_scalars``
    writes ``main_tag/key`` tags with ``chart = main_tag``); None for a normal tag.
    ``num_points`` counts stored steps (for blobs: events); ``version`` grows when
    the series changes.
    """

    run: str
    tag: str
    kind: Kind
    plugin: str
    num_points: int
    version: int
    display_name: str = ""
    description: str = ""
    chart: str | None = None


@dataclass(frozen=True, slots=True)
class ScalarSeries:
    """A scalar series at full resolution, sorted by step.

    ``step`` int64, ``wall_time`` float64 (seconds), ``value`` float64 (float32
    inputs are widened exactly). NaN and ±inf are kept as they were logged.
    """

    run: str
    tag: str
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray
    version: int

    def __len__(self) -> int:
        return int(self.step.shape[0])


@dataclass(frozen=True, slots=True)
class HistogramSeries:
    """Every logged histogram of one (run, tag), normalised to buckets (left, right, count).

    Step ``i``'s buckets are ``left[offsets[i]:offsets[i+1]]`` (and likewise
    ``right``, ``count``). ``minimum``, ``maximum``, ``num`` and ``total`` (the sum
    of values, NaN when the writer did not record it) are per step.
    """

    run: str
    tag: str
    step: np.ndarray
    wall_time: np.ndarray
    offsets: np.ndarray
    left: np.ndarray
    right: np.ndarray
    count: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    num: np.ndarray
    total: np.ndarray
    version: int

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def buckets(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (left, right, count) of the ``i``-th stored step."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.left[lo:hi], self.right[lo:hi], self.count[lo:hi]


@dataclass(frozen=True, slots=True)
class BlobRef:
    """Where one media item (image, audio clip) or graph lives on disk.

    The bytes are not held in memory: ``file`` (absolute path or fsspec URL),
    ``offset`` and ``length`` (bytes) locate the framed record, and ``index``
    selects the item within that record's value (images: the k-th image of a
    TB 2.x image tensor; audio: the k-th clip). Read them through
    ``DataProvider.read_blob``.
    """

    run: str
    tag: str
    step: int
    wall_time: float
    file: str
    offset: int
    length: int
    index: int = 0
    content_type: str = ""
    width: int = 0
    height: int = 0
    sample_rate: float = 0.0
    num_channels: int = 0
    length_frames: int = 0
    label: str = ""


@dataclass(frozen=True, slots=True)
class TextEntry:
    """One text value: ``data`` is a numpy array of ``str`` of the logged rank (0, 1 or 2)."""

    step: int
    wall_time: float
    data: np.ndarray


@dataclass(frozen=True, slots=True)
class PrCurveEntry:
    """One PR curve: ``data`` is float64 [6, T] (TP, FP, TN, FN, precision, recall)."""

    step: int
    wall_time: float
    data: np.ndarray


@dataclass(frozen=True, slots=True)
class GraphData:
    """A run's model graph.

    ``graph_def`` is a BlobRef to the newest ``graph_def`` event (TensorBoard's
    GraphDef), ``module_tree`` the decoded JSON of logger's module hierarchy
    (see ``logger.graph``), either may be None.
    """

    run: str
    graph_def: BlobRef | None
    module_tree: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class HParamsSession:
    """One hparams session: a run that recorded its hyperparameters.

    ``hparams`` values keep their types (bool, float, str). ``metrics`` maps a
    metric tag to the last value logged under it; ``status`` is ``success``,
    ``failure``, ``running`` or ``unknown``; times in seconds (0.0 if unknown).
    """

    run: str
    group: str
    hparams: dict[str, bool | float | str]
    metrics: dict[str, float]
    status: str = "unknown"
    start_time: float = 0.0
    end_time: float = 0.0


@dataclass(frozen=True, slots=True)
class HParamsData:
    """Everything the HParams tab needs: the column lists and the sessions."""

    hparam_names: tuple[str, ...]
    metric_tags: tuple[str, ...]
    sessions: tuple[HParamsSession, ...]
    hparam_domains: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChartLayout:
    """A multi-line chart from a custom-scalars layout or logger's ``add_scalars``.

    ``tags`` are regular expressions (custom scalars) matched against whole tag
    names; ``margin`` holds (value, lower, upper) tags for margin charts.
    """

    category: str
    title: str
    tags: tuple[str, ...] = ()
    margin: tuple[tuple[str, str, str], ...] = ()
    closed: bool = False


@dataclass(frozen=True, slots=True)
class DataProblem:
    """A damaged or unreadable part of an event file, shown in the UI and the API.

    ``kind`` is one of ``length_crc``, ``payload_crc``, ``unparsable``,
    ``unreadable`` (I/O error) or ``bad_value`` (a value that could not be decoded);
    ``offset`` and ``length`` in bytes; ``detail`` a human-readable sentence.
    """

    run: str
    file: str
    offset: int
    length: int
    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LoadStatus:
    """Progress of the ingest loop.

    ``bytes_read``/``bytes_total`` cover the files known so far; ``loading`` is
    True until the first full pass over the logdir is done; ``last_update`` is
    the monotonic-free wall time (seconds) of the last change applied to the store.
    """

    loading: bool
    bytes_read: int
    bytes_total: int
    num_runs: int
    num_problems: int
    last_update: float
    version: int
