"""A byte-bounded LRU cache of smoothed full-resolution series, keyed by series version and settings."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from vizboard.data.models import ScalarSeries

__all__ = ["SmoothingCache"]


class SmoothingCache:
    """Keeps recently smoothed series so zooming and live updates do not re-smooth 1M points.

    Entries are keyed by (run, tag, series version, kind, weight); a new version of
    a series makes its old entries unreachable and they age out. Total size is bounded
    by ``max_bytes`` (bytes of float64 arrays held), so memory does not grow with requests.
    """

    def __init__(self, smooth: Callable[[ScalarSeries, str, float], np.ndarray | None],
                 max_bytes: int = 128 * 1024 * 1024) -> None:
        self._smooth = smooth
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, np.ndarray | None] = OrderedDict()

    def get(self, series: ScalarSeries, kind: str, weight: float) -> np.ndarray | None:
        """The smoothed values of ``series`` (None for kind ``none``)."""
        if kind == "none":
            return None
        key = (series.run, series.tag, series.version, len(series), kind, round(float(weight), 6))
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        result = self._smooth(series, kind, weight)
        size = 0 if result is None else int(result.nbytes)
        if size > self._max_bytes:
            return result
        with self._lock:
            if key not in self._entries:
                self._entries[key] = result
                self._bytes += size
            while self._bytes > self._max_bytes and self._entries:
                _, old = self._entries.popitem(last=False)
                self._bytes -= 0 if old is None else int(old.nbytes)
        return result

    @property
    def nbytes(self) -> int:
        """Bytes currently held."""
        return self._bytes
