"""Histogram figures: step sampling, rebinning onto shared bins, offset (ridgeline) and overlay views, step-range state."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go

from vizboard.data.models import HistogramSeries
from vizboard.figures.escape import escape_text
from vizboard.figures.theme import apply_theme

__all__ = [
    "MODES",
    "step_bounds",
    "kept_range",
    "sample_steps",
    "value_range",
    "rebin",
    "mix_color",
    "histogram_figure",
]

MODES: tuple[str, ...] = ("offset", "overlay")
"""Display modes: ``offset`` (ridgeline over steps, newest in front) or ``overlay``."""

_HOVER = (
    "step %{customdata[0]}<br>"
    "bucket [%{customdata[1]:.4g}, %{customdata[2]:.4g}]<br>"
    "count %{customdata[3]:.4g}<extra></extra>"
)


def sample_steps(
    steps: np.ndarray,
    step_range: tuple[int, int] | None = None,
    max_steps: int = 64,
) -> np.ndarray:
    """Indices of the steps to draw: those within ``step_range`` (inclusive, in steps),
    evenly sampled down to at most ``max_steps``, always including the first and the
    last step of the range (so the newest step is always drawn).
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    steps = np.asarray(steps)
    idx = np.arange(steps.shape[0])
    if step_range is not None:
        lo, hi = step_range
        idx = idx[(steps >= lo) & (steps <= hi)]
    if idx.size <= max_steps:
        return idx
    if max_steps == 1:
        return idx[-1:]
    pick = np.unique(np.round(np.linspace(0, idx.size - 1, max_steps)).astype(np.int64))
    return idx[pick]


def value_range(series: HistogramSeries, indices: np.ndarray) -> tuple[float, float] | None:
    """The (low, high) value span of the populated buckets of the chosen steps, or None
    if they hold no finite data. A zero-width span is widened so it can be drawn."""
    lows: list[float] = []
    highs: list[float] = []
    for i in indices:
        left, right, count = series.buckets(int(i))
        keep = (count > 0) & np.isfinite(left) & np.isfinite(right)
        if keep.any():
            lows.append(float(left[keep].min()))
            highs.append(float(right[keep].max()))
    if not lows:
        return None
    lo, hi = min(lows), max(highs)
    if hi <= lo:
        pad = abs(lo) * 0.1 or 0.5
        lo, hi = lo - pad, hi + pad
    return lo, hi


def rebin(
    left: np.ndarray, right: np.ndarray, count: np.ndarray, edges: np.ndarray
) -> np.ndarray:
    """Redistribute buckets (left, right, count) onto ``edges`` (len n+1) -> n counts.

    A bucket's count is spread uniformly over its width, as TensorBoard's histogram
    view does; a zero-width bucket falls entirely in the bin that holds it. Counts
    outside ``edges`` go to the first or last bin, so the total is preserved.
    """
    left = np.asarray(left, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    keep = (count != 0) & np.isfinite(left) & np.isfinite(right) & np.isfinite(count)
    left, right, count = left[keep], right[keep], count[keep]
    n = edges.shape[0] - 1
    if count.size == 0:
        return np.zeros(n)
    width = right - left
    pos = width > 0
    # Cumulative count below each edge: F(e) = sum c * clip((e - l) / w, 0, 1).
    e = edges[None, :]
    frac = np.where(
        pos[:, None],
        np.clip((e - left[:, None]) / np.where(pos, width, 1.0)[:, None], 0.0, 1.0),
        (e >= left[:, None]).astype(np.float64),
    )
    cdf = count @ frac
    cdf[0] = 0.0
    cdf[-1] = count.sum()
    return np.diff(cdf)


def mix_color(color: str, background: str, t: float) -> str:
    """``color`` blended with ``background`` (both ``#rrggbb``): t=1 is ``color``, t=0 the background."""
    a = [int(color[k : k + 2], 16) for k in (1, 3, 5)]
    b = [int(background[k : k + 2], 16) for k in (1, 3, 5)]
    mixed = [round(bb + (aa - bb) * t) for aa, bb in zip(a, b)]
    return "#" + "".join(f"{v:02x}" for v in mixed)


def _background(theme: str) -> str:
    return "#1e1e1e" if theme == "dark" else "#ffffff"


def _figure(traces: list[dict], title: str, theme: str) -> go.Figure:
    # One constructor call for all traces, without plotly's per-property validation:
    # the traces are built here from known-valid properties (a unit test re-validates
    # them), and validation costs ~0.1 s per chart of 64 ridges.
    fig = go.Figure(data=traces, _validate=False)
    apply_theme(fig, theme)
    fig.update_layout(title={"text": escape_text(title), "font": {"size": 13}}, showlegend=False, hovermode="closest")
    return fig


def histogram_figure(
    series: HistogramSeries,
    *,
    mode: str = "offset",
    step_range: tuple[int, int] | None = None,
    max_steps: int = 64,
    num_bins: int = 40,
    color: str = "#1f77b4",
    theme: str = "light",
    title: str = "",
) -> go.Figure:
    """Draw the histograms of ``series``.

    ``offset``: one filled ridge per step, its baseline at the step on a reversed y
    axis (oldest at the top, newest at the bottom, in front). ``overlay``: one line
    per step on shared axes, older steps paler. Every step within ``step_range``
    is eligible; at most ``max_steps`` are drawn, evenly sampled, always including
    the newest. Buckets are rebinned onto ``num_bins`` shared bins. Hover shows the
    step, bucket range (values) and count.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if num_bins < 1:
        raise ValueError(f"num_bins must be >= 1, got {num_bins}")
    indices = sample_steps(series.step, step_range, max_steps)
    span = value_range(series, indices)
    if span is None:
        fig = _figure([], title, theme)
        fig.add_annotation(text="no data in this step range", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
        return fig
    edges = np.linspace(span[0], span[1], num_bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    counts = np.stack([rebin(*series.buckets(int(i)), edges) for i in indices])
    steps = np.asarray(series.step)[indices]
    peak = float(counts.max()) or 1.0
    bg = _background(theme)
    n = len(indices)
    traces: list[dict] = []
    if mode == "offset":
        step_span = float(steps[-1] - steps[0])
        height = max(step_span, 1.0) * (0.35 if n > 2 else 0.6)
        xs = np.concatenate([[edges[0]], centers, [edges[-1]]])
        for k, (step, row) in enumerate(zip(steps, counts)):
            ys = float(step) - height * np.concatenate([[0.0], row, [0.0]]) / peak
            custom = np.column_stack([
                np.full(num_bins + 2, int(step)),
                np.concatenate([[edges[0]], edges[:-1], [edges[-1]]]),
                np.concatenate([[edges[0]], edges[1:], [edges[-1]]]),
                np.concatenate([[0.0], row, [0.0]]),
            ])
            t = 0.25 + 0.5 * (k + 1) / n
            traces.append(dict(
                type="scatter", x=xs, y=ys, mode="lines", fill="toself", hoveron="points",
                line={"color": color, "width": 1}, fillcolor=mix_color(color, bg, t),
                customdata=custom, hovertemplate=_HOVER, name=f"step {int(step)}",
            ))
        fig = _figure(traces, title, theme)
        # Ticks only at drawn steps, with every digit: the oldest ridge rises above its step, and
        # automatic ticks then labelled that space with steps never logged ("-50k").
        picks = np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
        fig.update_yaxes(autorange="reversed", title_text="step", tickmode="array",
                         tickvals=[int(steps[i]) for i in picks], ticktext=[f"{int(steps[i]):,}" for i in picks])
    else:
        for k, (step, row) in enumerate(zip(steps, counts)):
            custom = np.column_stack([np.full(num_bins, int(step)), edges[:-1], edges[1:], row])
            t = 0.15 + 0.85 * (k + 1) / n
            traces.append(dict(
                type="scatter", x=centers, y=row, mode="lines", hoveron="points",
                line={"color": mix_color(color, bg, t), "width": 2 if k == n - 1 else 1},
                customdata=custom, hovertemplate=_HOVER, name=f"step {int(step)}",
            ))
        fig = _figure(traces, title, theme)
        fig.update_yaxes(title_text="count", rangemode="tozero")
    fig.update_xaxes(title_text="value")
    return fig


def step_bounds(series: Iterable[HistogramSeries | None]) -> tuple[int, int, int] | None:
    """(first step, last step, most steps in one series) over ``series``; None if none has data.

    The last step is at least first + 1, so a range slider over them is never empty.
    """
    lo = hi = None
    most = 0
    for s in series:
        if s is None or len(s) == 0:
            continue
        most = max(most, len(s))
        s0, s1 = int(s.step.min()), int(s.step.max())
        lo = s0 if lo is None else min(lo, s0)
        hi = s1 if hi is None else max(hi, s1)
    if lo is None or hi is None:
        return None
    return lo, max(hi, lo + 1), most


def kept_range(value: list[int] | None, old_max: int | None, lo: int, hi: int) -> list[int]:
    """The step-range slider's ``[a, b]`` after its bounds became ``lo``..``hi``.

    A missing or malformed ``value`` becomes the whole range; otherwise both handles are
    clamped into it, and the upper one follows the newest step while it sat at the old
    maximum ``old_max`` (so a live run's view keeps up).
    """
    if not value or len(value) != 2:
        return [lo, hi]
    a = max(lo, min(int(value[0]), hi))
    b = hi if old_max is None or int(value[1]) >= int(old_max) else max(a, min(int(value[1]), hi))
    return [a, b]
