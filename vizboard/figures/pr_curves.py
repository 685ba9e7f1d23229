"""PR curves: TensorBoard's trimming of undefined-precision thresholds, and precision-recall figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from vizboard.data.models import PrCurveEntry
from vizboard.figures.escape import escape_text
from vizboard.figures.theme import apply_theme, color_of

__all__ = ["PrCurve", "trim_pr", "entry_at", "pr_figure"]

_HOVER = (
    "%{fullData.name}<br>threshold %{customdata[0]:.3f}<br>"
    "precision %{y:.4f}<br>recall %{x:.4f}<br>"
    "TP %{customdata[1]:.0f} · FP %{customdata[2]:.0f} · "
    "TN %{customdata[3]:.0f} · FN %{customdata[4]:.0f}<extra></extra>"
)


@dataclass(frozen=True, slots=True)
class PrCurve:
    """One curve after trimming: float64 arrays of equal length (thresholds in [0, 1])."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray
    precision: np.ndarray
    recall: np.ndarray


def trim_pr(data: np.ndarray) -> PrCurve:
    """Split a [6, T] PR tensor (TP, FP, TN, FN, precision, recall) into a ``PrCurve``.

    As TensorBoard: thresholds are ``linspace(0, 1, T)``, and trailing columns where
    TP + FP == 0 (precision undefined) are dropped, keeping at least the first column.
    """
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != 6:
        raise ValueError(f"data must have shape [6, T], got {list(arr.shape)}")
    t = arr.shape[1]
    positives = arr[[0, 1], :].astype(np.int64).sum(axis=0)
    end = t - 1
    while end > 0 and positives[end] == 0:
        end -= 1
    end = min(end + 1, t)
    thresholds = np.linspace(0.0, 1.0, t)[:end]
    return PrCurve(thresholds, *(arr[r, :end] for r in range(6)))


def entry_at(entries: Sequence[PrCurveEntry], step: int) -> PrCurveEntry | None:
    """The entry logged at ``step``, else the newest one before it, else None (``entries`` sorted by step)."""
    best = None
    for e in entries:
        if e.step <= step:
            best = e
        else:
            break
    return best


def pr_figure(
    curves: dict[str, PrCurveEntry], *, colors: dict[str, str] | None = None,
    theme: str = "light", title: str = "", step: int | None = None,
) -> go.Figure:
    """Precision (y) against recall (x), one trace per run (``curves``: run -> entry).

    Hover shows the threshold, precision, recall and TP/FP/TN/FN of each point. When
    ``step`` is given, a run whose entry is from another step says so in its name.
    """
    fig = go.Figure()
    apply_theme(fig, theme)
    fig.update_layout(title={"text": escape_text(title), "font": {"size": 13}}, hovermode="closest",
                      legend={"orientation": "h", "y": -0.2})
    for run, entry in curves.items():
        c = trim_pr(entry.data)
        color = color_of(colors, run)
        name = run if step is None or entry.step == step else f"{run} (step {entry.step})"
        fig.add_trace(go.Scatter(
            x=c.recall, y=c.precision, mode="lines+markers", name=escape_text(name),
            line={"color": color, "width": 2}, marker={"size": 3},
            customdata=np.column_stack([c.thresholds, c.tp, c.fp, c.tn, c.fn]),
            hovertemplate=_HOVER,
        ))
    fig.update_xaxes(title_text="recall", range=[-0.02, 1.02])
    fig.update_yaxes(title_text="precision", range=[-0.02, 1.02])
    return fig
