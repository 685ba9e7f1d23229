"""Distribution figures: TensorBoard's histogram compression into percentile bands over steps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from vizboard.data.models import HistogramSeries
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


def percentiles(
    series: HistogramSeries,
    indices: np.ndarray | None = None,
    bps: tuple[int, ...] = NORMAL_HISTOGRAM_BPS,
) -> np.ndarray:
    """Values at ``bps`` for the steps ``indices`` (all steps if None): float64 [steps, len(bps)]."""
    if indices is None:
        indices = np.arange(len(series))
    out = np.empty((len(indices), len(bps)))
    for row, i in enumerate(indices):
        out[row] = compress_histogram(*series.buckets(int(i)), bps)
    return out


def distribution_figure(
    series: HistogramSeries,
    *,
    max_points: int = 1000,
    color: str = "#1f77b4",
    theme: str = "light",
    title: str = "",
) -> go.Figure:
    """Filled percentile bands (min..max, 7..93, 16..84, 31..69 %) and the median, over steps.

    At most ``max_points`` steps are drawn, evenly sampled, always including the newest.
    """
    fig = go.Figure()
    apply_theme(fig, theme)
    fig.update_layout(title={"text": title, "font": {"size": 13}}, showlegend=False,
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
