"""Smoothing of full scalar series: TensorBoard-exact debiased EMA, time EMA, moving average, Gaussian (pure numpy).

Smoothing always runs on the full-resolution series, before any downsampling, so a curve
does not change with zoom or chart width.
"""

from __future__ import annotations

import math
from itertools import accumulate

import numpy as np

from vizboard.data.models import ScalarSeries

__all__ = ["SMOOTHING_KINDS", "smooth", "smooth_series", "extend_smoothed", "smoothing_window", "gaussian_sigma"]

SMOOTHING_KINDS = ("ema", "time_ema", "moving_average", "gaussian", "none")
"""Accepted ``kind`` values of :func:`smooth`."""


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
    y = np.asarray(values, dtype=np.float64).reshape(-1)  # copied below before any write
    if kind not in SMOOTHING_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SMOOTHING_KINDS)} (got {kind!r})")
    w = _check_weight(weight, upper_open=kind not in ("ema", "none"))
    if kind == "none" or w == 0.0 or y.size == 0:
        return y.copy()
    if bool(np.all(y == y[0])):  # TensorBoard: a constant series is drawn unsmoothed
        return y.copy()
    finite = np.isfinite(y)
    all_finite = bool(finite.all())
    if not all_finite and not finite.any():
        return y.copy()
    if kind == "ema" and all_finite:  # the common case: no mask gathers/scatters (a third faster)
        return _ema(y, w)
    y = y.copy()
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
    return np.asarray(s / d + c)


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
        return np.asarray(num / den + ref)


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


def extend_smoothed(smoothed: np.ndarray, values: np.ndarray, kind: str, weight: float) -> np.ndarray | None:
    """``smooth(values, kind, weight)`` from ``smoothed``, the result for ``values[:len(smoothed)]``.

    For a live append: the debiased EMA's state at the last point (its accumulator and the
    count of finite points) follows from the smoothed prefix, so the new points cost
    O(new points) plus one copy, and the result equals :func:`smooth` on the whole series to
    float64 rounding (about 1e-15 of the data's magnitude). Returns None when that does not
    hold and the caller must call :func:`smooth`: a kind other than ``"ema"``, weight 0 or 1,
    a prefix without finite values, a constant prefix (drawn unsmoothed) or no new point.
    ``values`` must start with the very values ``smoothed`` was computed from.
    """
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    sm = np.asarray(smoothed, dtype=np.float64).reshape(-1)
    k = sm.shape[0]
    w = float(weight)
    if kind != "ema" or not 0.0 < w < 1.0 or y.shape[0] <= k or k == 0:
        return None
    head_fin = np.isfinite(y[:k])
    count = int(np.count_nonzero(head_fin))
    if count == 0 or bool(np.all(y[:k] == y[0])):
        return None
    first = int(np.argmax(head_fin))
    lastf = k - 1 - int(np.argmax(head_fin[::-1]))
    c = float(y[first])  # smooth() centres the EMA on the first finite value
    acc = (float(sm[lastf]) - c) * (1.0 - w ** count)  # the biased accumulator after `count` points
    new = y[k:].copy()
    fin = np.isfinite(new)
    z = new[fin] if not bool(fin.all()) else new
    m = z.shape[0]
    if m:
        (rec,) = _linear_recurrence(-math.log(w), (1.0 - w) * (z - c), base=w)
        decay = np.power(w, np.arange(1, m + 1, dtype=np.float64))
        rec += acc * decay
        head = max(0, min(m, int(math.log(1e-18) / math.log(w)) + 2 - count))
        if head:
            rec[:head] /= 1.0 - np.power(w, np.arange(count + 1, count + head + 1, dtype=np.float64))
        rec += c
        if z is new:
            new = rec
        else:
            new[fin] = rec
    return np.concatenate((sm, new))


def smooth_series(series: ScalarSeries, kind: str, weight: float) -> np.ndarray | None:
    """The smoothed values of the whole series (None for ``none``), via :func:`smooth`."""
    if kind == "none" or len(series) == 0:
        return None
    x = series.wall_time if kind == "time_ema" else None
    return np.asarray(smooth(series.value, kind, weight, x=x))
