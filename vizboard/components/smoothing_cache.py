"""A byte-bounded LRU cache of smoothed full-resolution series, keyed by series and settings, extended on append."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from vizboard.data.lru import ByteLRU
from vizboard.data.models import ScalarSeries

__all__ = ["SmoothingCache"]

Extend = Callable[[np.ndarray, np.ndarray, str, float], "np.ndarray | None"]
_Entry = tuple[int, int, np.ndarray, "np.ndarray | None"]  # version, length, values smoothed, result


class SmoothingCache:
    """Keeps recently smoothed series so zooming and live updates do not re-smooth 1M points.

    One entry per (run, tag, kind, weight) holds the newest version smoothed. A request for
    another version of a series whose values start with the cached ones (a live append:
    the store never rewrites a series' first ``n`` points) is answered by ``extend``
    (e.g. :func:`vizboard.data.smoothing.extend_smoothed`: O(new points) for the EMA) when
    given and able; otherwise ``smooth`` recomputes the whole series. Total size is bounded
    by ``max_bytes`` (bytes of the smoothed arrays plus a fixed overhead per entry, see
    :class:`vizboard.data.lru.ByteLRU`), so memory does not grow with requests. The values
    an entry was smoothed from are the provider's own (read-only) arrays, held by reference
    and not counted: at most one superseded store buffer per entry stays alive until the
    series is next asked for.
    """

    def __init__(self, smooth: Callable[[ScalarSeries, str, float], np.ndarray | None],
                 max_bytes: int = 128 * 1024 * 1024, extend: Extend | None = None) -> None:
        self._smooth = smooth
        self._extend = extend
        self._lru: ByteLRU[_Entry] = ByteLRU(max_bytes, _entry_size)

    def get(self, series: ScalarSeries, kind: str, weight: float) -> np.ndarray | None:
        """The smoothed values of ``series`` (None for kind ``none``)."""
        if kind == "none":
            return None
        w = round(float(weight), 6)
        key = (series.run, series.tag, kind, w)
        hit, entry = self._lru.get(key)
        n = len(series)
        if hit and entry is not None:
            version, length, values, result = entry
            if version == series.version and length == n:
                return result
            if self._extend is not None and result is not None and n > length and _same_prefix(values, series.value):
                grown = self._extend(result, series.value, kind, w)
                if grown is not None:
                    self._lru.put(key, (series.version, n, series.value, grown))
                    return grown
        result = self._smooth(series, kind, weight)
        self._lru.put(key, (series.version, n, series.value, result))
        return result

    @property
    def nbytes(self) -> int:
        """Bytes currently held (arrays plus a fixed overhead per entry)."""
        return self._lru.nbytes


def _same_prefix(old: np.ndarray, new: np.ndarray) -> bool:
    """Whether ``new`` starts with ``old`` (same memory: free; else one comparison)."""
    k = old.shape[0]
    if new.shape[0] < k:
        return False
    head = new[:k]
    if k and head.__array_interface__["data"][0] == old.__array_interface__["data"][0] and head.dtype == old.dtype:
        return True
    if head.dtype != old.dtype or head.dtype.itemsize != 8 or not (head.flags.c_contiguous and old.flags.c_contiguous):
        return bool(np.array_equal(head, old, equal_nan=True))
    return bool(np.array_equal(head.view(np.int64), old.view(np.int64)))  # bitwise: NaN equals itself


def _entry_size(key: Hashable, value: _Entry) -> int:
    names = key if isinstance(key, tuple) else ()
    result = value[3]
    return (0 if result is None else int(result.nbytes)) + sum(
        len(x) for x in names if isinstance(x, str))
