"""The Scalars tab: its Dash controls, and the container the browser module draws the cards in.

Deviation from the earlier design (one server callback per card): the sections and cards
are built and drawn in the browser by ``assets/scalars_page.js`` with Plotly.js, from
data served by ``vizboard.page_api`` (DESIGN.md §3). This module keeps the controls
(tag regex, smoothing, weight, x axis, toggles: Dash components, so URL state works as
for every tab) and one clientside callback that hands their values to the browser
module; no server callback runs for this tab. Cards live in collapsible sections (all
of a section's cards, drawn only when scrolled into view; no pages). Zooming re-queries
the visible x range at full resolution. :func:`card_figure` (the Python figure of a card)
and the relayout parsers stay for the benchmarks and for exports.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import plotly.graph_objects as go
from dash import ClientsideFunction, Dash, Input, Output, dcc, html

from vizboard.components import ids
from vizboard.components.scalar_index import CardSpec
from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.components.url_state import UrlParam, float_param, list_param, text_param
from vizboard.dashboards.base import Dashboard
from vizboard.data.downsample import X_AXES
from vizboard.data.models import Kind
from vizboard.data.provider import DataProvider
from vizboard.data.smoothing import SMOOTHING_KINDS, smooth_series
from vizboard.figures import scalars as fs
from vizboard.figures.theme import color_of, run_color, run_color_map

__all__ = ["DASHBOARD", "url_params", "parse_relayout", "parse_y_relayout", "card_figure", "new_smoothing_cache", "PAGE_SIZE",
           "MAX_POINTS"]

P = "scalars"
PAGE_SIZE = 12
"""Cards per section page."""
TAG_FILTER = "scalars-tag-filter"
SMOOTHING = "scalars-smoothing"
WEIGHT = "scalars-weight"
X_AXIS = "scalars-x-axis"
TOGGLES = "scalars-toggles"
SECTIONS = "scalars-sections"
SECTION_KEYS = "scalars-section-keys"
ROOT = "vb-scalars-root"
"""The container ``assets/scalars_page.js`` fills with sections and cards."""
SINK = "scalars-sink"
TOGGLE_OPTIONS = (("log_x", "log x"), ("log_y", "log y"), ("outliers", "ignore outliers"))
MAX_POINTS = 1500
"""Points per trace: about two per pixel of an ~800 px chart (never above 4000)."""


def layout() -> html.Div:
    """Controls bar and the (callback-filled) sections."""
    return html.Div(
        className="vb-dash",
        children=[
            html.Div(className="vb-controls", children=[
                dcc.Input(id=TAG_FILTER, type="text", value="", debounce=0.3, placeholder="Filter tags (regex)",
                          className="vb-input vb-tag-filter"),
                html.Label(["Smoothing", dcc.Dropdown(
                    id=SMOOTHING, value="ema", clearable=False, searchable=False, className="vb-dropdown",
                    options=[{"label": k.replace("_", " "), "value": k} for k in SMOOTHING_KINDS])],
                    className="vb-control"),
                html.Label(["Weight", dcc.Input(id=WEIGHT, type="number", min=0, max=0.999, step=0.01,
                                                value=fs.DEFAULT_WEIGHT, debounce=0.3, className="vb-input vb-num")],
                           className="vb-control"),
                html.Label(["x axis", dcc.RadioItems(
                    id=X_AXIS, value="step", inline=True, className="vb-radio",
                    options=[{"label": lbl, "value": v} for v, lbl in
                             (("step", "step"), ("relative", "relative"), ("wall_time", "wall time"))])],
                    className="vb-control"),
                dcc.Checklist(id=TOGGLES, value=[], inline=True, className="vb-checks",
                              options=[{"label": lbl, "value": v} for v, lbl in TOGGLE_OPTIONS]),
            ]),
            html.Div(id=ROOT, className="vb-sections"),
            html.Div(id=SINK, hidden=True),
        ],
    )


def url_params() -> list[UrlParam]:
    """The tab's view settings that live in the URL."""
    return [
        text_param("tag_re", TAG_FILTER),
        text_param("smooth", SMOOTHING, default="ema", allowed=SMOOTHING_KINDS),
        float_param("w", WEIGHT, fs.DEFAULT_WEIGHT, 0.0, 0.999),
        text_param("x", X_AXIS, default="step", allowed=X_AXES),
        list_param("opt", TOGGLES, allowed=[v for v, _ in TOGGLE_OPTIONS]),
    ]


def parse_relayout(relayout: dict[str, Any] | None, x_axis: str, log_x: bool,
                   current: list[float] | None) -> list[float] | None:
    """The zoomed x range in data units (step / seconds) from a Plotly relayout event, or None for all.

    Events that do not touch the x axis (autosize, y-only zoom, drag mode) keep ``current``.
    """
    if not relayout:
        return current
    if relayout.get("xaxis.autorange"):
        return None
    raw = _axis_range(relayout, "xaxis")
    if raw is None:
        return current
    out = []
    for v in raw:
        if x_axis == "wall_time":
            if isinstance(v, str):
                dt = datetime.fromisoformat(v.replace(" ", "T"))
                v = dt.replace(tzinfo=timezone.utc).timestamp()
            else:
                v = float(v) / 1000.0
        else:
            v = float(v)
            if log_x:
                v = 10.0 ** v
        out.append(v)
    return sorted(out)


def parse_y_relayout(relayout: dict[str, Any] | None, current: list[float] | None) -> list[float] | None:
    """The user's y range in axis units (log10 on a log axis) from a relayout event, or None for auto."""
    if not relayout:
        return current
    if relayout.get("yaxis.autorange"):
        return None
    raw = _axis_range(relayout, "yaxis")
    return current if raw is None else [float(v) for v in raw]


def _axis_range(relayout: dict[str, Any], axis: str) -> list[Any] | None:
    if f"{axis}.range[0]" in relayout and f"{axis}.range[1]" in relayout:
        return [relayout[f"{axis}.range[0]"], relayout[f"{axis}.range[1]"]]
    rng = relayout.get(f"{axis}.range")
    return list(rng[:2]) if isinstance(rng, list) and len(rng) >= 2 else None


def card_figure(provider: DataProvider, spec: CardSpec, opts: fs.ChartOptions, x_range: list[float] | None,
                cache: SmoothingCache) -> go.Figure:
    """The figure of one card: its series (smoothed in full via ``cache``), cut to ``x_range`` and downsampled."""
    lines = []
    colors = run_color_map([r.name for r in provider.runs()])  # by run order, as the page colours them
    for run, tag, label in spec.lines:
        s = provider.scalars(run, tag)
        if s is None:
            continue
        color = color_of(colors, s.run) if spec.kind == "tag" else run_color(label)
        lines.append(fs.make_line(s, opts, tuple(x_range) if x_range else None,
                                  cache.get(s, opts.smoothing, opts.weight), label=label, color=color))
    return fs.scalar_figure(lines, opts, uirevision=f"{spec.key}|{opts.x_axis}|{opts.log_x}|{opts.log_y}")


def new_smoothing_cache() -> SmoothingCache:
    """The cache of smoothed series one app uses (bounded in bytes)."""
    return SmoothingCache(lambda s, k, w: smooth_series(s, k, w))


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Hand the controls, theme, active tab and data version to the browser module (no server callback).

    ``provider`` is unused here: the page's data comes from ``vizboard.page_api``.
    """
    del provider
    app.clientside_callback(
        ClientsideFunction("vbpage", "settings"),
        Output(SINK, "title"),
        Input(TAG_FILTER, "value"), Input(SMOOTHING, "value"), Input(WEIGHT, "value"), Input(X_AXIS, "value"),
        Input(TOGGLES, "value"), Input(ids.THEME, "data"), Input(ids.ACTIVE_TAB, "data"),
        Input(ids.DATA_VERSION, "data"),
    )


DASHBOARD = Dashboard(
    id=P,
    title="Scalars",
    kinds=(Kind.SCALARS,),
    layout=layout,
    register_callbacks=register_callbacks,
)
