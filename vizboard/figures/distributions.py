"""Distribution figures: TensorBoard's histogram compression into percentile bands over steps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from vizboard.data.models import HistogramSeries
from vizboard.figures.escape import escape_text
from vizboard.figures.histograms import mix_color, sample_steps
from vizboard.figures.theme import apply_theme

__all__ = [
    "NORMAL_HISTOGRAM_BPS",
    "compress_histogram",
    "percentiles",
    "distribution_figure",
]

NORMAL_HISTOGRAM_BPS: tuple[int, ...] = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)
"""Basis points (1/100 of a percent) of the bands: min, the normal CDF at -1.5..1.5 sigma, max."""


def compress_histogram(
    left: np.ndarray,
    right: np.ndarray,
    count: np.ndarray,
    bps: tuple[int, ...] = NORMAL_HISTOGRAM_BPS,
) -> np.ndarray:
    """The value at each basis point of one histogram (buckets ``left``, ``right``, ``count``).

    Reproduces TensorBoard's ``compress_histogram`` (plugins/distribution/compressor.py)
    exactly, vectorised over basis points: cumulative weights scaled to ``bps[-1]``,
    linear interpolation within the bucket holding each basis point (the lower edge is
    the global minimum for the first populated bucket), ``max`` when a basis point is
    beyond the last change in cumulative weight. Empty histogram -> zeros.
    """
    bps_arr = np.asarray(bps, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    if count.size == 0:
        return np.zeros(bps_arr.shape[0])
    right = np.asarray(right, dtype=np.float64)
    minmin = float(np.asarray(left, dtype=np.float64)[0])
    maxmax = float(right[-1])
    weights = (count * bps[-1] / (count.sum() or 1.0)).cumsum()
    prev = np.concatenate([[0.0], weights[:-1]])
    n = weights.shape[0]
    # nxt[k] = first index >= k where the cumulative weight changes (n if none).
    usable = np.where(weights != prev, np.arange(n), n)
    nxt = np.concatenate([np.minimum.accumulate(usable[::-1])[::-1], [n]])
    i = nxt[np.searchsorted(weights, bps_arr, side="right")]
    out = np.full(bps_arr.shape[0], maxmax)
    ok = i < n
    ii = i[ok]
    cum = weights[ii]
    cprev = prev[ii]
    lhs = np.where(
        (ii == 0) | (cprev == 0), minmin, np.maximum(right[np.maximum(ii - 1, 0)], minmin)
    )
    rhs = np.minimum(right[ii], maxmax)
    out[ok] = lhs + (bps_arr[ok] - cprev) * (rhs - lhs) / (cum - cprev)
    return out


_BLOCK_CELLS = 1 << 21
"""Steps are processed in blocks of about this many (step, bucket) cells (bounded memory)."""


def _compress_rows(count: np.ndarray, right: np.ndarray, prev_right: np.ndarray, lengths: np.ndarray,
                   minmin: np.ndarray, maxmax: np.ndarray, bps: tuple[int, ...]) -> np.ndarray:
    """``compress_histogram`` for many histograms at once.

    ``count``, ``right`` and ``prev_right`` (the right edge of the bucket before, in the
    full histogram) are [n, m] and hold each row's non-empty buckets, zero-padded after
    ``lengths``. Empty buckets never change the cumulative weight, so TensorBoard's
    algorithm never stops on them and only reads their right edge as the next bucket's
    lower edge, which ``prev_right`` keeps. Per row the arithmetic is TensorBoard's
    (row sum, scale, sequential cumsum), so results are identical to the 1-D function.
    """
    n, m = count.shape
    bps_arr = np.asarray(bps, dtype=np.float64)
    totals = count.sum(axis=1)
    weights = (count * bps[-1] / np.where(totals == 0, 1.0, totals)[:, None]).cumsum(axis=1)
    prev = np.concatenate([np.zeros((n, 1)), weights[:, :-1]], axis=1)
    cols = np.arange(m)
    usable = np.where((weights != prev) & (cols[None, :] < lengths[:, None]), cols[None, :], m)
    nxt = np.concatenate([np.minimum.accumulate(usable[:, ::-1], axis=1)[:, ::-1],
                          np.full((n, 1), m)], axis=1)
    # searchsorted(side="right") on each row: how many cumulative weights are <= bp
    first = np.stack([(weights <= bp).sum(axis=1) for bp in bps_arr], axis=1)
    first = np.minimum(first, lengths[:, None])
    i = np.take_along_axis(nxt, first, axis=1)
    out = np.repeat(maxmax[:, None], len(bps), axis=1)
    ok = i < m
    rows = np.nonzero(ok)[0]
    ii = i[ok]
    cum = weights[rows, ii]
    cprev = prev[rows, ii]
    lo = minmin[rows]
    lhs = np.where(cprev == 0, lo, np.maximum(prev_right[rows, ii], lo))
    rhs = np.minimum(right[rows, ii], maxmax[rows])
    bp = np.broadcast_to(bps_arr, i.shape)[ok]
    out[ok] = lhs + (bp - cprev) * (rhs - lhs) / (cum - cprev)
    return out


def percentiles(
    series: HistogramSeries,
    indices: np.ndarray | None = None,
    bps: tuple[int, ...] = NORMAL_HISTOGRAM_BPS,
) -> np.ndarray:
    """Values at ``bps`` for the steps ``indices`` (all steps if None): float64 [steps, len(bps)].

    Equal to ``compress_histogram`` on each step, computed for blocks of steps at once.
    """
    if indices is None:
        indices = np.arange(len(series))
    indices = np.asarray(indices, dtype=np.int64)
    out = np.zeros((indices.shape[0], len(bps)))
    if indices.size == 0:
        return out
    offsets = np.asarray(series.offsets, dtype=np.int64)
    left = np.asarray(series.left, dtype=np.float64)
    right = np.asarray(series.right, dtype=np.float64)
    count = np.asarray(series.count, dtype=np.float64)
    starts, ends = offsets[indices], offsets[indices + 1]
    has = ends > starts
    minmin = np.zeros(indices.shape[0])
    maxmax = np.zeros(indices.shape[0])
    minmin[has] = left[starts[has]]
    maxmax[has] = right[ends[has] - 1]
    # the non-empty buckets of the chosen steps, row by row
    lengths_all = ends - starts
    row_all = np.repeat(np.arange(indices.shape[0]), lengths_all)
    src_all = np.repeat(starts - np.cumsum(lengths_all) + lengths_all, lengths_all) + np.arange(row_all.shape[0])
    keep = count[src_all] != 0
    row_all, src_all = row_all[keep], src_all[keep]
    lengths = np.bincount(row_all, minlength=indices.shape[0])
    first_of_row = np.concatenate([[0], np.cumsum(lengths)])
    prev_src = np.maximum(src_all - 1, 0)
    width = max(int(lengths.max()), 1)
    rows_per_block = max(1, _BLOCK_CELLS // width)
    for b0 in range(0, indices.shape[0], rows_per_block):
        b1 = min(b0 + rows_per_block, indices.shape[0])
        ln = lengths[b0:b1]
        lo, hi = first_of_row[b0], first_of_row[b1]
        m = max(int(ln.max()), 1)
        row = row_all[lo:hi] - b0
        col = np.arange(hi - lo) - np.repeat(first_of_row[b0:b1] - lo, ln)
        c = np.zeros((b1 - b0, m))
        r = np.zeros((b1 - b0, m))
        pr = np.zeros((b1 - b0, m))
        c[row, col] = count[src_all[lo:hi]]
        r[row, col] = right[src_all[lo:hi]]
        pr[row, col] = right[prev_src[lo:hi]]
        block = _compress_rows(c, r, pr, ln, minmin[b0:b1], maxmax[b0:b1], bps)
        block[~has[b0:b1]] = 0.0
        out[b0:b1] = block
    return out

def distribution_figure(
    series: HistogramSeries,
    *,
    max_points: int = 501,
    color: str = "#1f77b4",
    theme: str = "light",
    title: str = "",
) -> go.Figure:
    """Filled percentile bands (min..max, 7..93, 16..84, 31..69 %) and the median, over steps.

    At most ``max_points`` steps are drawn (TensorBoard's view also asks for 501), evenly
    sampled, always including the newest.
    """
    fig = go.Figure(_validate=False)
    apply_theme(fig, theme)
    fig.update_layout(title={"text": escape_text(title), "font": {"size": 13}}, showlegend=False,
                      hovermode="x unified")
    if len(series) == 0:
        return fig
    indices = sample_steps(series.step, None, max_points)
    steps = np.asarray(series.step)[indices]
    values = percentiles(series, indices)
    bg = "#1e1e1e" if theme == "dark" else "#ffffff"
    labels = [f"{bp / 100:g}%" for bp in NORMAL_HISTOGRAM_BPS]
    labels[0], labels[-1] = "min", "max"
    m = len(NORMAL_HISTOGRAM_BPS)
    for band in range(m // 2):
        lo, hi = band, m - 1 - band
        fill = mix_color(color, bg, 0.2 + 0.2 * band)
        fig.add_trace(go.Scatter(
            x=steps, y=values[:, lo], mode="lines", line={"width": 0, "color": fill},
            name=labels[lo], hovertemplate="%{y:.4g}",
        ))
        fig.add_trace(go.Scatter(
            x=steps, y=values[:, hi], mode="lines", line={"width": 0, "color": fill},
            fill="tonexty", fillcolor=fill, name=labels[hi], hovertemplate="%{y:.4g}",
        ))
    mid = m // 2
    fig.add_trace(go.Scatter(
        x=steps, y=values[:, mid], mode="lines", line={"width": 1.5, "color": color},
        name="median", hovertemplate="%{y:.4g}",
    ))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="value")
    return fig
