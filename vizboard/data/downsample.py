"""Spike-preserving downsampling and chart point selection for scalar series (pure numpy).

The scalar chart pipeline is :func:`vizboard.data.smoothing.smooth` on the full series (so
the curve does not depend on zoom), then :func:`select_indices` / :func:`downsample` to
about the chart's pixel width, then gather ``step``, ``wall_time``, ``value`` and the
smoothed values with the same indices. No I/O, no Dash, no Plotly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from vizboard.data.models import ScalarSeries

__all__ = ["X_AXES", "MAX_POINTS_LIMIT", "downsample", "x_values", "select_indices", "value_range"]

X_AXES = ("step", "relative", "wall_time")
"""Accepted ``x_axis`` values: step, seconds since the series' first point, wall time (s)."""
MAX_POINTS_LIMIT = 4000
"""Hard cap on the points per trace sent to a browser."""

_MIN_POINTS = 8


def downsample(
    x: np.ndarray,
    y: np.ndarray,
    max_points: int,
    *,
    x_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Pick at most ``max_points`` indices of a series so the drawn chart looks the same.

    ``x`` (steps or seconds) should be non-decreasing (a series as the store keeps it);
    an unsorted ``x`` still works, only slower (one stable sort). ``y`` is the value.

    The visible x range is cut into equal-width buckets (about ``max_points / 4`` of
    them, i.e. a few pixels each) and each bucket keeps its first and last point (so
    lines stay continuous) and the points holding its smallest and largest finite value
    (so every spike survives, and so do the global minimum and maximum). Non-finite
    values are kept too, so markers can be drawn for them: in each bucket the first NaN,
    the first +inf and the first -inf survive (later ones of the same kind in the same
    bucket fall on the same pixel column).

    With ``x_range=(x0, x1)`` only points with ``x0 <= x <= x1`` are considered, plus
    the point just before and just after that range (for sorted ``x``; for unsorted ``x``
    every index-neighbour of an in-range point is a candidate, bucketed at the nearer
    edge), so lines reach the chart's edges. A (filtered) series of at most
    ``max_points`` points is returned whole. If non-finite markers would push the result
    past ``max_points``, fewer and wider buckets are used until it fits.

    Returns sorted, unique int64 indices into the original arrays, so callers gather
    step, wall_time, value and smoothed values consistently. ``max_points`` must be >= 8.
    """
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D arrays of one length (got shapes {x.shape} and {y.shape})")
    if x.dtype.kind not in "iuf":
        x = x.astype(np.float64)
    max_points = int(max_points)
    if max_points < _MIN_POINTS:
        raise ValueError(f"max_points must be >= {_MIN_POINTS} (got {max_points})")
    n = x.shape[0]
    is_sorted = n < 2 or not bool(np.any(x[1:] < x[:-1]))
    sel: np.ndarray | slice
    if x_range is None:
        sel, extras = slice(0, n), np.empty(0, dtype=np.int64)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if x.dtype.kind == "f":
            finite_x = x if bool(np.isfinite(x[[0, -1]]).all()) and is_sorted else x[np.isfinite(x)]
        else:
            finite_x = x
        if finite_x.size == 0:
            lo_x = hi_x = 0.0
        elif is_sorted:
            lo_x, hi_x = float(finite_x[0]), float(finite_x[-1])
        else:
            lo_x, hi_x = float(finite_x.min()), float(finite_x.max())
    else:
        lo_x, hi_x = (float(v) for v in x_range)
        if not (math.isfinite(lo_x) and math.isfinite(hi_x)) or lo_x > hi_x:
            raise ValueError(f"x_range must be finite (x0, x1) with x0 <= x1 (got {x_range!r})")
        sel, extras = _in_range(x, lo_x, hi_x, is_sorted)
    xs, ys = x[sel], y[sel]
    if xs.shape[0] + extras.size <= max_points:
        kept = np.arange(sel.start, sel.stop, dtype=np.int64) if isinstance(sel, slice) else sel
        return np.union1d(kept, extras).astype(np.int64)
    budget = max_points - extras.size
    nb = max(1, budget // 4)
    while True:
        keep = _bucket_extremes(xs, ys, lo_x, hi_x, nb, is_sorted)
        if keep.size <= budget or nb == 1:
            break
        nb = max(1, min(nb - 1, int(nb * budget / keep.size)))
    if keep.size > budget:  # one bucket still holds too many kinds: thin evenly
        keep = keep[np.linspace(0, keep.size - 1, budget).round().astype(np.int64)]
    kept = keep + sel.start if isinstance(sel, slice) else sel[keep]
    return np.union1d(kept, extras).astype(np.int64)


def _in_range(
    x: np.ndarray, x0: float, x1: float, is_sorted: bool
) -> tuple[np.ndarray | slice, np.ndarray]:
    """Points with x in [x0, x1] (a slice if x is sorted), and the neighbours just outside."""
    n = x.shape[0]
    if is_sorted:
        lo = int(np.searchsorted(x, x0, side="left"))
        hi = int(np.searchsorted(x, x1, side="right"))
        extras = [i for i in (lo - 1, hi) if 0 <= i < n]
        return slice(lo, hi), np.asarray(extras, dtype=np.int64)
    # Unsorted x (a restarted run's wall time): the neighbours can be many, so they join
    # the candidates and fall into the edge buckets instead of being kept unconditionally.
    inside = (x >= x0) & (x <= x1)
    near = inside.copy()
    near[:-1] |= inside[1:]
    near[1:] |= inside[:-1]
    return np.flatnonzero(near).astype(np.int64), np.empty(0, dtype=np.int64)


def _first_per_group(positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The first of ``positions`` (sorted) in each group (groups begin at ``starts``)."""
    if positions.size == 0:
        return positions
    g = np.searchsorted(starts, positions, side="right")
    first = np.empty(positions.size, dtype=bool)
    first[0] = True
    np.not_equal(g[1:], g[:-1], out=first[1:])
    return positions[first]


def _bucket_extremes(
    x: np.ndarray, y: np.ndarray, x0: float, x1: float, nb: int, is_sorted: bool
) -> np.ndarray:
    """Positions (into x/y) of each bucket's first, last, min, max and first non-finite kinds."""
    m = x.shape[0]
    if m == 0:
        return np.empty(0, dtype=np.int64)
    width = (x1 - x0) / nb
    order = None
    if not is_sorted:  # group by bucket id
        if width > 0:
            bucket = np.clip(np.floor((np.nan_to_num(x, nan=x0) - x0) / width), 0, nb - 1)
        else:
            bucket = np.zeros(m)
        order = np.argsort(bucket, kind="stable")
        bucket = bucket[order]
        y = y[order]
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    elif width > 0:  # sorted x: bucket edges by binary search
        bounds = x0 + width * np.arange(1, nb)
        if x.dtype.kind in "iu":  # x >= b  <=>  x >= ceil(b) for integers; avoids a float copy
            bounds = np.ceil(bounds).astype(x.dtype)
        edges = np.searchsorted(x, bounds, side="left")
        starts = np.unique(np.r_[0, edges[edges < m]])
    else:
        starts = np.zeros(1, dtype=np.int64)
    counts = np.diff(np.r_[starts, m])
    parts = [starts, starts + counts - 1]
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    if all_finite or finite.any():
        lo = y if all_finite else np.where(finite, y, np.inf)
        hi = y if all_finite else np.where(finite, y, -np.inf)
        for arr, red in ((lo, np.minimum), (hi, np.maximum)):
            hit = arr == np.repeat(red.reduceat(arr, starts), counts)
            if not all_finite:
                hit &= finite
            parts.append(_first_per_group(np.flatnonzero(hit), starts))
    if not all_finite:
        parts.append(_first_per_group(np.flatnonzero(np.isnan(y)), starts))
        parts.append(_first_per_group(np.flatnonzero(y == np.inf), starts))
        parts.append(_first_per_group(np.flatnonzero(y == -np.inf), starts))
    keep = np.unique(np.concatenate(parts))
    if order is not None:
        keep = np.sort(order[keep])
    return keep.astype(np.int64)



def value_range(
    values: np.ndarray | Sequence[Any], *, ignore_outliers: bool = False
) -> tuple[float, float] | None:
    """The y-axis range ``(lo, hi)`` for ``values`` (one array, or a list of arrays/numbers).

    Only finite values count; None if there is none. By default the exact finite minimum
    and maximum. With ``ignore_outliers`` (TensorBoard's "ignore outliers in chart
    scaling"), the 5th to 95th percentile of the finite values, widened by 5% of that
    span on each side. A zero-width range is widened by 5% of its magnitude (or by 1
    around zero) so a flat line has a usable axis.
    """
    if isinstance(values, (list, tuple)):
        parts = [np.ravel(np.asarray(v, dtype=np.float64)) for v in values]
        arr = np.concatenate(parts) if parts else np.empty(0)
    else:
        arr = np.ravel(np.asarray(values, dtype=np.float64))
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return None
    if ignore_outliers:
        lo, hi = (float(v) for v in np.percentile(arr, [5.0, 95.0]))
        pad = 0.05 * (hi - lo)
        lo, hi = lo - pad, hi + pad
    else:
        lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        pad = 0.05 * abs(lo) or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


def x_values(series: ScalarSeries, x_axis: str) -> np.ndarray:
    """The x coordinate of every point: step, seconds since the first point, or wall time (s)."""
    if x_axis == "step":
        return series.step
    if x_axis == "relative":
        if len(series) == 0:
            return series.wall_time
        return np.asarray(series.wall_time - series.wall_time[0])
    if x_axis == "wall_time":
        return series.wall_time
    raise ValueError(f"x_axis: {x_axis!r} is not one of {X_AXES}")


def select_indices(
    series: ScalarSeries,
    max_points: int,
    x_axis: str = "step",
    x_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Indices (sorted, int64) of the points to send for a chart ``max_points`` wide.

    With ``x_range`` (inclusive, in ``x_axis`` units) only points inside it are kept,
    plus the nearest point on each side so lines run to the edges. Within that
    window, :func:`downsample` keeps every bucket's first,
    last, minimum and maximum and every non-finite point, so spikes and the
    window's global extremes always survive.
    """
    n = len(series)
    max_points = int(min(max(max_points, 10), MAX_POINTS_LIMIT))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    xs = x_values(series, x_axis)
    if x_range is not None:
        a, b = sorted(float(v) for v in x_range)
        finite = xs[np.isfinite(xs)] if xs.dtype.kind == "f" else xs
        if finite.size == 0:
            return np.zeros(0, dtype=np.int64)
        a = float(finite.min()) if not math.isfinite(a) else a
        b = float(finite.max()) if not math.isfinite(b) else b
        if a > b:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(downsample(xs, series.value, max_points, x_range=(a, b)), dtype=np.int64)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    return np.asarray(downsample(xs, series.value, max_points), dtype=np.int64)
