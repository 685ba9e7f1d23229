"""Per-series storage of the Store and the restart rule: columnar scalars, step-indexed entries.

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
    same step the last one read is kept. Values are applied in read order (the
    order is the ingest's job: files of a run in name order, each file in record
    order), so data appended later to an older file preempts newer files' points,
    exactly like TensorBoard's Rust loader.

Only the ingest thread writes (through :class:`~vizboard.data.store.Store`); ``state``
tuples are replaced whole, so a reader that takes one sees a consistent prefix.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from vizboard.data.decode import HistogramValue, SeriesMeta
from vizboard.data.models import HistogramSeries, Kind, TagInfo

__all__ = ["ScalarColumns", "EntryList", "Series", "histogram_snapshot", "read_only"]

_GROWTH = 1.25


def read_only(a: np.ndarray) -> np.ndarray:
    """``a``, marked read-only (snapshots handed to readers are never written)."""
    a.flags.writeable = False
    return a


class ScalarColumns:
    """Growable columnar buffers of one scalar series (ingest thread only).

    ``state`` = (step, wall, value, n) is replaced as one tuple after every change, so a
    reader that takes it once sees arrays whose first ``n`` entries are complete and
    will never be written again (appends go past ``n``; truncation copies).
    """

    __slots__ = ("state",)

    def __init__(self, state: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None) -> None:
        """``state``: (step, wall, value, n) to start from (buffers the series then owns); empty if None."""
        self.state: tuple[np.ndarray, np.ndarray, np.ndarray, int] = state if state is not None else (
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


class EntryList:
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
        """Append one item in read order, applying preemption (see module docstring)."""
        steps, walls, items, n = self.state
        if n and steps[n - 1] >= step:
            k = bisect.bisect_left(steps, step, 0, n)
            steps, walls, items, n = steps[:k], walls[:k], items[:k], k
        steps.append(step)
        walls.append(wall)
        items.append(item)
        self.state = (steps, walls, items, n + 1)

    def view(self) -> tuple[list[int], list[float], list[Any]]:
        """(steps, walls, items) of the filled prefix (copies of the lists, safe to keep)."""
        steps, walls, items, n = self.state
        return steps[:n], walls[:n], items[:n]


class Series:
    """One (run, tag) series: its metadata, its data and the version of its last change."""

    __slots__ = ("run", "tag", "meta", "data", "version")

    def __init__(self, run: str, tag: str, meta: SeriesMeta, version: int,
                 data: ScalarColumns | EntryList | None = None) -> None:
        """``data``: the series' buffers if already built (a scalar series' first batch); empty ones if None."""
        self.run, self.tag, self.meta, self.version = run, tag, meta, version
        self.data: ScalarColumns | EntryList = (data if data is not None else
                                                ScalarColumns() if meta.kind is Kind.SCALARS else EntryList())

    def num_points(self) -> int:
        """Points (or items) held."""
        return self.data.n

    def info(self) -> TagInfo:
        """The series as the ``DataProvider`` lists it."""
        m = self.meta
        display = m.display_name
        if not display and self.tag.endswith("/text_summary") and m.kind is Kind.TEXT:
            display = self.tag[: -len("/text_summary")]
        return TagInfo(self.run, self.tag, m.kind, m.plugin, self.data.n, self.version,
                       display, m.description, m.chart)


def histogram_snapshot(run: str, tag: str, data: EntryList, version: int) -> HistogramSeries:
    """The histogram items of ``data`` as one columnar, read-only :class:`HistogramSeries` (bucket
    edges and counts concatenated, ``offsets[i]:offsets[i + 1]`` = step i's buckets)."""
    steps, walls, items = data.view()
    h: list[HistogramValue] = items
    sizes = np.fromiter((len(x.left) for x in h), dtype=np.int64, count=len(h))
    offsets = np.zeros(len(h) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])

    def cat(attr: str) -> np.ndarray:
        parts = [getattr(x, attr) for x in h]
        return read_only(np.concatenate(parts).astype(np.float64) if parts else np.zeros(0))

    def col(attr: str) -> np.ndarray:
        return read_only(np.fromiter((getattr(x, attr) for x in h), dtype=np.float64, count=len(h)))

    return HistogramSeries(run, tag, read_only(np.asarray(steps, np.int64)), read_only(np.asarray(walls, np.float64)),
                           read_only(offsets), cat("left"), cat("right"), cat("count"), col("minimum"),
                           col("maximum"), col("num"), col("total"), version)
