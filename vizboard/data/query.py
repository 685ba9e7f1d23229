"""Per-request scalar queries: smoothing, spike-preserving downsampling, y-ranges (pure numpy).

Everything here is a pure function of numpy arrays: no I/O, no Dash, no Plotly. The
scalar chart pipeline is ``smooth`` on the full series (so the curve does not depend on
zoom), then ``downsample`` to about the chart's pixel width, then gather ``step``,
``wall_time``, ``value`` and the smoothed values with the same indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import numpy as np

__all__ = [
    "SMOOTHING_KINDS",
    "downsample",
    "smooth",
    "smoothing_window",
    "gaussian_sigma",
    "value_range",
    "json_float",
    "series_to_records",
    "series_to_csv",
]

SMOOTHING_KINDS = ("ema", "time_ema", "moving_average", "gaussian", "none")
"""Accepted ``kind`` values of :func:`smooth`."""

_MIN_POINTS = 8


# --------------------------------------------------------------------------- downsampling


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


# --------------------------------------------------------------------------- smoothing


def smoothing_window(weight: float) -> int:
    """Window (points, odd) of ``moving_average`` for a slider ``weight`` in [0, 1).

    ``round((1 + w) / (1 - w))`` rounded up to odd: the simple moving average whose
    noise reduction equals the EMA's at the same weight (0 -> 1, 0.6 -> 5, 0.9 -> 19,
    0.99 -> 199, 0.999 -> 1999).
    """
    w = _check_weight(weight, upper_open=True)
    n = max(1, int(round((1.0 + w) / (1.0 - w))))
    return n if n % 2 else n + 1


def gaussian_sigma(weight: float) -> float:
    """Kernel sigma (points) of ``gaussian`` smoothing for a slider ``weight`` in [0, 1).

    ``(1 + w) / (2 * sqrt(pi) * (1 - w))``: the Gaussian whose noise reduction equals the
    EMA's at the same weight (0.6 -> 1.13, 0.9 -> 5.36, 0.99 -> 56.1, 0.999 -> 564).
    """
    w = _check_weight(weight, upper_open=True)
    return (1.0 + w) / (2.0 * math.sqrt(math.pi) * (1.0 - w))


def smooth(
    values: np.ndarray,
    kind: str = "ema",
    weight: float = 0.6,
    *,
    x: np.ndarray | None = None,
) -> np.ndarray:
    """Smooth a full-resolution series; returns a new float64 array of the same length.

    Non-finite values (NaN, ±inf) are returned unchanged at their positions and never
    leak into their neighbours' smoothed values. A constant series (every value equal
    to the first, which a series with NaN never is) is returned unchanged. ``weight``
    0 returns the values unchanged for every kind.

    kinds (``weight`` is TensorBoard's smoothing slider):

    * ``"ema"`` — TensorBoard's debiased exponential moving average, the same algorithm
      as its scalar dashboards (event-format.md §6.2): ``last = last*w + (1-w)*y`` over
      finite points, smoothed ``last / (1 - w**n)`` with ``n`` the count of finite points
      so far (``w`` = 1 gives 0 as in TensorBoard). ``weight`` in [0, 1]. Computed
      blockwise in closed form (vectorised, ~10x a Python loop) on values centred on the
      first one; it matches a point-by-point transcription of TensorBoard's code to float64
      rounding (about 1e-15 of the data's magnitude), not bit for bit, and is more
      accurate than that loop for series far from zero (e.g. 1e9 + small noise).
    * ``"time_ema"`` — the same recurrence with a per-point decay ``a_i = w**(dx_i / m)``,
      ``dx_i`` the gap in ``x`` (seconds or steps) to the previous finite point (so time
      spanned by skipped NaN/inf points counts) and ``m`` the median positive gap; a
      non-positive gap (repeated or backwards x) and the first point count as one median
      gap. Smoothed ``s_i / d_i`` where ``s_i = a_i*s + (1-a_i)*y_i`` and
      ``d_i = a_i*d + (1-a_i)`` (the debiasing). On evenly spaced ``x`` it equals
      ``"ema"``; a long pause forgets more. Needs ``x``; ``weight`` in [0, 1).
    * ``"moving_average"`` — mean of the finite values among the :func:`smoothing_window`
      points centred on each point (by index; the window is clipped at the ends).
      ``weight`` in [0, 1).
    * ``"gaussian"`` — Gaussian-weighted mean of the finite values around each point, over
      the index, sigma :func:`gaussian_sigma` points, kernel cut at 4 sigma. ``weight`` in [0, 1).
    * ``"none"`` — a copy of the values.
    """
    y = np.array(values, dtype=np.float64, copy=True).reshape(-1)
    if kind not in SMOOTHING_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SMOOTHING_KINDS)} (got {kind!r})")
    w = _check_weight(weight, upper_open=kind not in ("ema", "none"))
    if kind == "none" or w == 0.0 or y.size == 0:
        return y
    if bool(np.all(y == y[0])):  # TensorBoard: a constant series is drawn unsmoothed
        return y
    finite = np.isfinite(y)
    if not finite.any():
        return y
    if kind == "ema":
        y[finite] = _ema(y[finite], w)
    elif kind == "time_ema":
        if x is None:
            raise ValueError('kind="time_ema" needs x (the wall times or steps of the values)')
        xs = np.asarray(x, dtype=np.float64).reshape(-1)
        if xs.shape != y.shape:
            raise ValueError(f"x must have the shape of values ({y.shape}), got {xs.shape}")
        y[finite] = _time_ema(y[finite], xs[finite], w)
    elif kind == "moving_average":
        half = smoothing_window(w) // 2
        y[finite] = _windowed_mean(y, finite, np.ones(2 * half + 1))[finite]
    else:
        sigma = gaussian_sigma(w)
        t = np.arange(-math.ceil(4.0 * sigma), math.ceil(4.0 * sigma) + 1, dtype=np.float64)
        y[finite] = _windowed_mean(y, finite, np.exp(-0.5 * (t / sigma) ** 2))[finite]
    return y


def _check_weight(weight: float, *, upper_open: bool) -> float:
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise ValueError(f"weight must be a number in [0, 1) (got {weight!r})") from None
    if not (0.0 <= w < 1.0 or (w == 1.0 and not upper_open)):
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise ValueError(f"weight must be in {bound} (got {weight!r})")
    return w


def _linear_recurrence(decay: np.ndarray | float, *bs: np.ndarray, base: float | None = None) -> list[np.ndarray]:
    """``s_i = a_i * s_{i-1} + b_i`` (``s_{-1} = 0``) for each ``b``, with ``a = exp(-decay)``.

    Vectorised in blocks: within a block ``s_k = Q_k * (carry + sum_{j<=k} b_j / Q_j)``
    with ``Q`` the running product of ``a`` from the block start. The block length keeps
    ``1 / Q`` below ``e**600``; a decay above ``600 / block`` per point (a weight below
    about 1e-10 per step) is clamped to it, which changes results by less than 1e-30
    relative. Blocks are chained by a short scalar loop. ``base``: the exact ``a`` of a
    scalar ``decay`` (avoids the rounding of ``exp(-decay)``).
    """
    n = bs[0].shape[0]
    scalar = np.ndim(decay) == 0
    d_max = float(decay) if scalar else float(np.max(decay, initial=0.0))
    block = 256 if d_max <= 600 / 256 else max(8, int(600 / d_max))
    cap = 600.0 / block
    nblocks = -(-n // block)
    size = nblocks * block
    if scalar:  # every block decays alike: one row of Q = a**k serves all (pow: no error growth)
        a = base if base is not None and d_max <= cap else math.exp(-min(d_max, cap))
        q = np.power(a, np.arange(1, block + 1, dtype=np.float64))[None, :]
        inv_q = 1.0 / q
        q_end = np.full(nblocks, q[0, -1])
    else:
        dd = np.zeros(size, dtype=np.float64)
        np.minimum(decay, cap, out=dd[:n])
        cum = np.cumsum(dd.reshape(nblocks, block), axis=1)  # -log Q, block-relative
        inv_q = np.exp(cum)
        q = np.exp(-cum)
        q_end = q[:, -1]
    out = []
    for b in bs:
        local = np.zeros(size, dtype=np.float64)
        local[:n] = b
        local = local.reshape(nblocks, block)
        local *= inv_q
        np.cumsum(local, axis=1, out=local)
        local *= q
        ends = local[:, -1].tolist()
        chain = accumulate(zip(q_end.tolist(), ends), lambda c, de: de[0] * c + de[1], initial=0.0)
        carry = np.fromiter(chain, dtype=np.float64, count=nblocks + 1)[:-1]
        local += q * carry[:, None]
        out.append(local.reshape(-1)[:n])
    return out


def _ema(y: np.ndarray, w: float) -> np.ndarray:
    decay = -math.log(w) if w > 0.0 else math.inf
    if w == 1.0:
        return _linear_recurrence(decay, (1.0 - w) * y, base=w)[0]
    # The debiased EMA is affine: EMA(c + z) = c + EMA(z). Centring on the first value keeps
    # the blockwise sums well conditioned for series far from zero (e.g. 1e9 + noise).
    c = float(y[0])
    (last,) = _linear_recurrence(decay, (1.0 - w) * (y - c), base=w)
    # 1 - w**n rounds to 1.0 once w**n < 2**-54: only the head needs pow (as TensorBoard's).
    head = y.size if w <= 0.0 else min(y.size, int(math.log(1e-18) / math.log(w)) + 2)
    last[:head] /= 1.0 - np.power(w, np.arange(1, head + 1, dtype=np.float64))
    last += c
    return last


def _time_ema(y: np.ndarray, x: np.ndarray, w: float) -> np.ndarray:
    dx = np.diff(x, prepend=np.nan)
    pos = dx > 0
    gaps = dx[pos]
    if gaps.size == 0:
        return _ema(y, w)
    med = float(np.median(gaps))
    ratio = np.where(pos, dx / med, 1.0)
    decay = ratio * -math.log(w)
    one_minus_a = -np.expm1(-decay)
    c = float(y[0])  # affine, as in _ema: centre for conditioning
    s, d = _linear_recurrence(decay, one_minus_a * (y - c), one_minus_a)
    return s / d + c


def _windowed_mean(y: np.ndarray, finite: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Kernel-weighted mean of the finite values around each index (symmetric ``kernel``)."""
    ref = float(np.mean(y[finite]))  # centre the values: keeps the sums well conditioned
    centred = np.where(finite, y - ref, 0.0)
    weight = finite.astype(np.float64)
    if np.all(kernel == kernel[0]):  # box window: prefix sums
        half = kernel.size // 2
        n = y.size
        i = np.arange(n)
        lo, hi = np.maximum(i - half, 0), np.minimum(i + half + 1, n)
        cs = np.concatenate(([0.0], np.cumsum(centred)))
        cw = np.concatenate(([0.0], np.cumsum(weight)))
        num, den = cs[hi] - cs[lo], cw[hi] - cw[lo]
    else:
        num, den = _convolve_same(centred, kernel), _convolve_same(weight, kernel)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den + ref


def _convolve_same(v: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``np.convolve(v, kernel, "same")``, through the FFT when the kernel is long."""
    k = kernel.size
    if k <= 64 or v.size <= 64:
        full = np.convolve(v, kernel, mode="full")
    else:
        size = 1 << int(math.ceil(math.log2(v.size + k - 1)))
        full = np.fft.irfft(np.fft.rfft(v, size) * np.fft.rfft(kernel, size), size)[: v.size + k - 1]
    start = (k - 1) // 2
    return full[start : start + v.size]


# --------------------------------------------------------------------------- ranges and records


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


def json_float(v: float) -> float | str:
    """``v`` as a JSON-safe value: finite floats unchanged, else TensorBoard's strings
    ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    v = float(v)
    if math.isfinite(v):
        return v
    if math.isnan(v):
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def series_to_records(
    step: np.ndarray,
    wall_time: np.ndarray,
    value: np.ndarray,
    *,
    smoothed: np.ndarray | None = None,
    run: str | None = None,
    tag: str | None = None,
) -> list[dict[str, Any]]:
    """One chart series as JSON-safe records for a download.

    Each record has ``step`` (int), ``wall_time`` (seconds) and ``value``, plus
    ``smoothed`` if given and ``run``/``tag`` if given (first). Non-finite floats become
    TensorBoard's strings (see :func:`json_float`), so ``json.dumps`` output is valid JSON.
    """
    steps = np.asarray(step, dtype=np.int64).tolist()
    walls = np.asarray(wall_time, dtype=np.float64).tolist()
    vals = np.asarray(value, dtype=np.float64).tolist()
    if not len(steps) == len(walls) == len(vals):
        raise ValueError("step, wall_time and value must have one length")
    sm = None if smoothed is None else np.asarray(smoothed, dtype=np.float64).tolist()
    if sm is not None and len(sm) != len(vals):
        raise ValueError("smoothed must have the length of value")
    head: dict[str, Any] = {}
    if run is not None:
        head["run"] = run
    if tag is not None:
        head["tag"] = tag
    out = []
    for i, (s, t, v) in enumerate(zip(steps, walls, vals)):
        rec = dict(head, step=s, wall_time=json_float(t), value=json_float(v))
        if sm is not None:
            rec["smoothed"] = json_float(sm[i])
        out.append(rec)
    return out


def series_to_csv(
    step: np.ndarray,
    wall_time: np.ndarray,
    value: np.ndarray,
    *,
    smoothed: np.ndarray | None = None,
    run: str | None = None,
    tag: str | None = None,
) -> str:
    """One chart series as CSV text for a download (columns as :func:`series_to_records`).

    Floats in shortest round-trip form; non-finite values as ``nan``, ``inf``, ``-inf``
    (as ``vizboard export``); run and tag quoted when they need it (RFC 4180).
    """
    import csv
    import io

    steps = np.asarray(step, dtype=np.int64).tolist()
    cols: list[list[Any]] = [steps, np.asarray(wall_time, dtype=np.float64).tolist(),
                             np.asarray(value, dtype=np.float64).tolist()]
    names = ["step", "wall_time", "value"]
    if smoothed is not None:
        cols.append(np.asarray(smoothed, dtype=np.float64).tolist())
        names.append("smoothed")
    if any(len(c) != len(steps) for c in cols):
        raise ValueError("step, wall_time, value and smoothed must have one length")
    head: list[str] = [v for v in (run, tag) if v is not None]
    header = [k for k, v in (("run", run), ("tag", tag)) if v is not None] + names
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(head + [repr(v) if isinstance(v, float) else v for v in row] for row in zip(*cols))
    return buf.getvalue()
