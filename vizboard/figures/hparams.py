"""HParams views: sessions -> table rows/columns, parallel coordinates and a metric-vs-hparam scatter.

Pure: ``HParamsData`` plus per-(run, metric) values in; table dicts and plotly figures
out. Column ids are ``hparam:<name>`` and ``metric:<tag>`` so an hparam and a metric
with the same name never collide; the figures read the table rows, so a filtered table
filters the plots too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from vizboard.data.models import HParamsData, ScalarSeries
from vizboard.figures.escape import escape_template, escape_text
from vizboard.figures.theme import apply_theme, color_of

__all__ = [
    "MODES",
    "HP_PREFIX",
    "METRIC_PREFIX",
    "metric_value",
    "table",
    "parcoords_figure",
    "MISSING_LABEL",
    "scatter_figure",
]

MODES = ("last", "min", "max")
"""How a metric column summarises a series: the last logged value, or the best (min/max) over all steps."""
HP_PREFIX = "hparam:"
METRIC_PREFIX = "metric:"
_FORMAT = {"specifier": ".6~g"}  # d3-format: 6 significant digits (float32 noise hidden), trailing zeros trimmed


def metric_value(series: ScalarSeries | None, mode: str = "last") -> float | None:
    """``series`` summarised by ``mode`` (``last``, ``min`` or ``max``; NaN steps ignored by min/max); None if empty."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if series is None or len(series) == 0:
        return None
    v = np.asarray(series.value, dtype=np.float64)
    if mode == "last":
        return float(v[-1])
    finite = v[~np.isnan(v)]
    if finite.size == 0:
        return float("nan")
    return float(finite.min() if mode == "min" else finite.max())


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)  # DataTable drops NaN/inf as JSON null; keep them visible
    return v


def table(data: HParamsData, values: Mapping[tuple[str, str], float | None] | None = None,
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(columns, rows) for a ``dash_table.DataTable``: one row per session, id = run name.

    ``values`` overrides a session's metric values (e.g. the best over all steps); a
    missing key falls back to the session's last value. Booleans show as ``true``/``false``.
    """
    numeric: dict[str, bool] = {}
    for name in data.hparam_names:
        vals = [s.hparams[name] for s in data.sessions if name in s.hparams]
        numeric[name] = bool(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)
    columns: list[dict[str, Any]] = [
        {"id": "run", "name": ["", "run"]},
        {"id": "status", "name": ["", "status"]},
    ]
    columns += [{"id": HP_PREFIX + n, "name": ["hparams", n], "type": "numeric", "format": _FORMAT} if numeric[n]
                else {"id": HP_PREFIX + n, "name": ["hparams", n], "type": "text"} for n in data.hparam_names]
    columns += [{"id": METRIC_PREFIX + m, "name": ["metrics", m], "type": "numeric", "format": _FORMAT}
                for m in data.metric_tags]
    rows: list[dict[str, Any]] = []
    for s in data.sessions:
        row: dict[str, Any] = {"id": s.run, "run": s.run, "status": s.status}
        for n in data.hparam_names:
            if n in s.hparams:
                row[HP_PREFIX + n] = _cell(s.hparams[n])
        for m in data.metric_tags:
            v = (values or {}).get((s.run, m))
            if v is None:
                v = s.metrics.get(m)
            if v is not None:
                row[METRIC_PREFIX + m] = _cell(float(v))
        rows.append(row)
    return columns, rows


def _num(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return math.nan
    return math.nan


MISSING_LABEL = "(missing)"
"""Where a session without a value of an axis is drawn in parallel coordinates (its own tick)."""


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [float(f"{v:.4g}") for v in np.linspace(lo, hi, n)]


def _dimension(label: str, col: list[Any]) -> dict[str, Any]:
    """A parcoords dimension: numbers as they are, anything else as categories on tick values 0..k-1.

    A session without a value (or with a NaN/inf metric) gets an explicit ``(missing)``
    position below the axis' values (Plotly draws NaN as a stray line to an arbitrary
    height, which reads as a value).
    """
    present = [v for v in col if v is not None and v != ""]
    if present and all((isinstance(v, (int, float)) and not isinstance(v, bool))
                       or (isinstance(v, str) and not math.isnan(_num(v)) or v in ("nan", "NaN")) for v in present):
        vals = [_num(v) if v is not None and v != "" else math.nan for v in col]
        fin = [v for v in vals if math.isfinite(v)]
        if len(fin) == len(vals) or not fin:
            return {"label": escape_text(label), "values": vals}
        lo, hi = min(fin), max(fin)
        span = (hi - lo) or max(abs(hi), 1.0)
        pos = lo - 0.15 * span
        ticks = _nice_ticks(lo, hi)
        return {"label": escape_text(label), "values": [v if math.isfinite(v) else pos for v in vals],
                "tickvals": [pos, *ticks], "ticktext": [MISSING_LABEL, *(f"{t:.4g}" for t in ticks)],
                "range": [pos - 0.03 * span, hi + 0.03 * span]}
    missing = len(present) < len(col)
    cats = sorted({str(v) for v in present}, key=lambda s: (_num(s) if not math.isnan(_num(s)) else math.inf, s))
    if missing:
        cats = [MISSING_LABEL, *cats]
    index = {c: i for i, c in enumerate(cats)}
    gap = index.get(MISSING_LABEL, math.nan)
    return {"label": escape_text(label),
            "values": [index.get(str(v), gap) if v is not None and v != "" else gap for v in col],
            "tickvals": list(range(len(cats))), "ticktext": [escape_text(str(c)) for c in cats],
            "range": [-0.5, max(len(cats) - 0.5, 0.5)]}


def parcoords_figure(rows: Sequence[Mapping[str, Any]], hparams: Sequence[str], metrics: Sequence[str],
                     color_metric: str | None = None, theme: str = "light") -> go.Figure:
    """Parallel coordinates over ``rows`` (table rows): one axis per hparam then per metric, coloured by ``color_metric``."""
    dims = [_dimension(h, [r.get(HP_PREFIX + h) for r in rows]) for h in hparams]
    dims += [_dimension(m, [r.get(METRIC_PREFIX + m) for r in rows]) for m in metrics]
    line: dict[str, Any] = {"color": "#1f77b4"}
    if color_metric and color_metric in metrics and rows:
        cvals = [_num(r.get(METRIC_PREFIX + color_metric)) for r in rows]
        if any(not math.isnan(c) for c in cvals):
            line = {"color": cvals, "colorscale": "Viridis", "showscale": True,
                    "colorbar": {"title": {"text": color_metric}}}
    fig = go.Figure(go.Parcoords(dimensions=dims, line=line) if dims and rows else None)
    apply_theme(fig, theme)
    fig.update_layout(margin={"l": 60, "r": 60, "t": 50, "b": 30})
    if not rows or not dims:
        fig.add_annotation(text="No hparams sessions to show.", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    return fig


def scatter_figure(rows: Sequence[Mapping[str, Any]], hparam: str | None, metric: str | None,
                   theme: str = "light", selected: Sequence[str] = (),
                   colors: Mapping[str, str] | None = None) -> go.Figure:
    """``metric`` (y) against ``hparam`` (x), one point per row coloured by its run (``colors``: a
    :func:`~vizboard.figures.theme.run_color_map`); ``selected`` runs are ringed."""
    fig = go.Figure()
    apply_theme(fig, theme)
    if not hparam or not metric:
        fig.add_annotation(text="Pick an hparam and a metric.", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
        return fig
    pts = [(r.get(HP_PREFIX + hparam), _num(r.get(METRIC_PREFIX + metric)), str(r.get("run", ""))) for r in rows]
    pts = [p for p in pts if p[0] is not None and not math.isnan(p[1])]
    chosen = set(selected)
    fig.add_trace(go.Scatter(
        x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", text=[escape_text(p[2]) for p in pts],
        customdata=[p[2] for p in pts],
        hovertemplate=f"%{{text}}<br>{escape_template(hparam)}=%{{x}}<br>{escape_template(metric)}=%{{y}}<extra></extra>",
        marker={"size": [14 if p[2] in chosen else 10 for p in pts], "color": [color_of(colors, p[2]) for p in pts],
                "line": {"width": [3 if p[2] in chosen else 0 for p in pts], "color": "#d93025"}},
    ))
    xs = [p[0] for p in pts]
    numeric_x = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    log_x = numeric_x and bool(xs) and min(xs) > 0 and max(xs) / min(xs) >= 100  # learning rates and the like
    fig.update_layout(xaxis_title=escape_text(hparam), yaxis_title=escape_text(metric), showlegend=False,
                      xaxis_type=("log" if log_x else None) if numeric_x else "category")
    return fig
