"""A byte-bounded LRU cache of smoothed full-resolution series, keyed by series version and settings."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from vizboard.data.lru import ByteLRU
from vizboard.data.models import ScalarSeries

__all__ = ["SmoothingCache"]


class SmoothingCache:
    """Keeps recently smoothed series so zooming and live updates do not re-smooth 1M points.

    Entries are keyed by (run, tag, series version, kind, weight); a new version of
    a series makes its old entries unreachable and they age out. Total size is bounded
    by ``max_bytes`` (bytes of arrays held plus a fixed overhead per entry, see
:class:`vizboard.data.lru.ByteLRU`), so memory does not grow with requests.
    """

    def __init__(self, smooth: Callable[[ScalarSeries, str, float], np.ndarray | None],
                 max_bytes: int = 128 * 1024 * 1024) -> None:
        self._smooth = smooth
        self._lru: ByteLRU[np.ndarray | None] = ByteLRU(max_bytes, _entry_size)

    def get(self, series: ScalarSeries, kind: str, weight: float) -> np.ndarray | None:
        """The smoothed values of ``series`` (None for kind ``none``)."""
        if kind == "none":
            return None
        key = (series.run, series.tag, series.version, len(series), kind, round(float(weight), 6))
        hit, value = self._lru.get(key)
        if hit:
            return value
        result = self._smooth(series, kind, weight)
        self._lru.put(key, result)
        return result

    @property
    def nbytes(self) -> int:
        """Bytes currently held (arrays plus a fixed overhead per entry)."""
        return self._lru.nbytes


def _entry_size(key: Hashable, value: np.ndarray | None) -> int:
    names = key if isinstance(key, tuple) else ()
    return (0 if value is None else int(value.nbytes)) + sum(len(x) for x in names if isinstance(x, str))
