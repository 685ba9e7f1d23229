"""Projector views: a projection plus metadata -> the browser payload, the scatter figure, and summary lines.

Pure. The payload (:func:`payload`) carries, for the points shown, their coordinates, one
label list per metadata column and one ready-made marker per column, so the page can
switch colour and label columns and highlight search matches itself (the tab's
clientside callbacks patch trace 0 and trace 1); the server only sends a new payload
when the projection changes. The figure has three traces, in this order: the points
(``scattergl`` in 2-D, ``scatter3d`` in 3-D; ``customdata`` = row in the tensor), the
search matches (rings) and the selected point with its neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from vizboard.data.projector import Metadata
from vizboard.data.projector_math import Projection
from vizboard.figures.theme import apply_theme

__all__ = [
    "PALETTE",
    "INDEX_COLUMN",
    "column_marker",
    "payload",
    "scatter_figure",
    "message_figure",
    "default_label",
    "kept_choices",
    "selection_trace",
    "variance_text",
    "sample_text",
]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
           "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
"""Category colours (D3's category20); more categories than colours reuse them in order."""
INDEX_COLUMN = "(index)"
"""The pseudo column naming every point by its row number (always offered)."""
_UNCOLOURED = "#1f77b4"
_MISSING = "#c8c8c8"
_POINT_SIZE = {2: 5, 3: 3}


def _num(v: str | None) -> float:
    try:
        return float(v) if v is not None else math.nan
    except ValueError:
        return math.nan


def column_marker(values: Sequence[str | None], numeric: bool, categories: int | None, name: str) -> dict[str, Any]:
    """Marker colours for one metadata column: a Viridis scale for numbers, a palette for up to 50 categories.

    Missing values are grey (categories) or NaN (numbers: plotly draws them grey too). A
    column with more than 50 distinct values is not coloured (TensorBoard does the same).
    """
    if numeric:
        vals = [_num(v) for v in values]
        finite = [v for v in vals if math.isfinite(v)]
        return {"color": [v if math.isfinite(v) else None for v in vals], "colorscale": "Viridis",
                "showscale": True, "cmin": min(finite) if finite else 0, "cmax": max(finite) if finite else 1,
                "colorbar": {"title": {"text": name}, "thickness": 12}}
    if categories is None:
        return {"color": _UNCOLOURED, "showscale": False}
    order = sorted({v for v in values if v is not None})
    code = {v: i for i, v in enumerate(order)}
    return {"color": [PALETTE[code[v] % len(PALETTE)] if v is not None else _MISSING for v in values],
            "showscale": False}


def _round(a: np.ndarray) -> list[float]:
    return [float(v) for v in np.round(a.astype(np.float64), 4)]


def payload(projection: Projection, metadata: Metadata | None, meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able data the page keeps for one projection (see the module docstring).

    ``meta`` is copied in as ``meta`` (it identifies the projection to server callbacks).
    Keys: ``x``, ``y``, ``z`` (None in 2-D), ``idx`` (tensor rows), ``total``, ``dims``,
    ``columns`` (label/colour choices), ``labels`` {column: [str]}, ``markers``
    {column: marker dict}, ``explained``.
    """
    idx = projection.indices
    coords = projection.coords
    dims = coords.shape[1]
    labels: dict[str, list[str]] = {INDEX_COLUMN: [f"#{int(i)}" for i in idx]}
    markers: dict[str, dict[str, Any]] = {INDEX_COLUMN: {"color": _UNCOLOURED, "showscale": False}}
    columns = [INDEX_COLUMN]
    if metadata is not None:
        for c in metadata.columns:
            col = metadata.values[c]
            shown = [col[int(i)] if int(i) < len(col) else None for i in idx]
            labels[c] = ["" if v is None else v for v in shown]
            markers[c] = column_marker(shown, metadata.numeric.get(c, False), metadata.categories.get(c), c)
            columns.append(c)
    return {
        "meta": dict(meta), "dims": dims, "total": projection.total, "idx": [int(i) for i in idx],
        "x": _round(coords[:, 0]), "y": _round(coords[:, 1]), "z": _round(coords[:, 2]) if dims == 3 else None,
        "columns": columns, "labels": labels, "markers": markers, "explained": list(projection.explained),
    }


def default_label(data: dict[str, Any]) -> str:
    """The column to label points by at first: ``label`` if present, else the first metadata column, else the index."""
    cols = data.get("columns") or [INDEX_COLUMN]
    return "label" if "label" in cols else (cols[1] if len(cols) > 1 else INDEX_COLUMN)


def _trace(dims: int, **kw: Any) -> go.Scattergl | go.Scatter3d:
    if dims == 3:
        return go.Scatter3d(mode="markers", **kw)
    return go.Scattergl(mode="markers", **kw)


def scatter_figure(data: dict[str, Any], color_by: str | None = None, label_by: str | None = None,
                   theme: str = "light") -> go.Figure:
    """The three-trace scatter of ``data`` (a :func:`payload`), coloured and labelled by the given columns."""
    dims = int(data["dims"])
    label = label_by if label_by in data["labels"] else default_label(data)
    marker = {"size": _POINT_SIZE[dims], "opacity": 0.85, **data["markers"].get(color_by or "", data["markers"][INDEX_COLUMN])}
    xyz: dict[str, Any] = {"x": data["x"], "y": data["y"]}
    if dims == 3:
        xyz["z"] = data["z"]
    empty: dict[str, Any] = {"x": [], "y": [], **({"z": []} if dims == 3 else {})}
    fig = go.Figure([
        _trace(dims, **xyz, customdata=data["idx"], text=data["labels"][label], marker=marker, name="points",
               hovertemplate="%{text}<extra>#%{customdata}</extra>"),
        _trace(dims, **empty, name="matches", hoverinfo="skip",
               marker={"size": _POINT_SIZE[dims] + 7, "color": "#e8710a", "symbol": "circle-open",
                       "line": {"width": 2, "color": "#e8710a"}}),
        _trace(dims, **empty, name="selection", customdata=[], hovertemplate="%{text}<extra>#%{customdata}</extra>",
               marker={"size": _POINT_SIZE[dims] + 6, "color": "#d93025", "line": {"width": 1, "color": "#fff"}}),
    ])
    apply_theme(fig, theme)
    fig.update_layout(showlegend=False, margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision=str(data["meta"]),
                      clickmode="event", hovermode="closest", dragmode="pan" if dims == 2 else "orbit")
    if dims == 2:
        fig.update_xaxes(showticklabels=False, zeroline=False, title=None)
        fig.update_yaxes(showticklabels=False, zeroline=False, title=None, scaleanchor="x", scaleratio=1)
    else:
        fig.update_scenes(xaxis_showticklabels=False, yaxis_showticklabels=False, zaxis_showticklabels=False,
                          xaxis_title="", yaxis_title="", zaxis_title="")
    return fig


def selection_trace(data: dict[str, Any], rows: Sequence[int], label_by: str | None) -> dict[str, Any]:
    """x/y(/z), text and customdata of ``rows`` (tensor rows) that are among the shown points, for trace 2."""
    pos = {r: i for i, r in enumerate(data["idx"])}
    label = label_by if label_by in data["labels"] else default_label(data)
    shown = [pos[r] for r in rows if r in pos]
    out: dict[str, Any] = {"x": [data["x"][i] for i in shown], "y": [data["y"][i] for i in shown],
                           "text": [data["labels"][label][i] for i in shown], "customdata": [data["idx"][i] for i in shown]}
    if data["dims"] == 3:
        out["z"] = [data["z"][i] for i in shown]
    return out


def message_figure(text: str, theme: str = "light") -> go.Figure:
    """An empty chart carrying ``text`` in its middle (nothing chosen, computing, or an error)."""
    fig = go.Figure()
    apply_theme(fig, theme)
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def kept_choices(data: dict[str, Any], color: Any, label: Any) -> tuple[str, str]:
    """(colour-by, label-by) columns for a new payload: the current ones while ``data`` still has them;
    else colour by :func:`default_label` (the index when there is no metadata) and label by it."""
    cols = data.get("columns") or [INDEX_COLUMN]
    color = color if color in cols else (default_label(data) if len(cols) > 1 else INDEX_COLUMN)
    label = label if label in cols else default_label(data)
    return color, label


def variance_text(explained: Sequence[float]) -> str:
    """``PC1 41.2 % · PC2 20.3 % of the variance (61.5 % shown)`` for PCA's explained-variance ratios."""
    if not explained:
        return ""
    parts = " · ".join(f"PC{i + 1} {v * 100:.1f} %" for i, v in enumerate(explained))
    return f"{parts} of the variance ({sum(explained) * 100:.1f} % shown)"


def sample_text(shown: int, total: int, seed: int) -> str:
    """``10,000 points`` or ``Showing 10,000 of 123,456 points (random sample, seed 0)``."""
    if shown >= total:
        return f"{total:,} points"
    return f"Showing {shown:,} of {total:,} points (random sample, seed {seed})"
