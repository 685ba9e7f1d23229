"""The Scalars tab: one card per tag (or merged chart) in collapsible, paginated sections; live.

Three layers of callbacks keep it cheap: the section list is rebuilt only when the set
of sections changes; each section renders only its open page of cards (12 per page);
each card redraws only when one of its series' versions, the chart settings or the zoom
changed (otherwise ``no_update``), with ``uirevision`` preserving zoom, legend and hover.
Zooming re-queries the visible x range at full resolution (downsampled to the chart).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import plotly.graph_objects as go
from dash import MATCH, Dash, Input, Output, State, ctx, dcc, html, no_update

from vizboard.components import ids
from vizboard.components.chart_card import card_id, chart_card, register_card_clientside
from vizboard.components.scalar_index import CardSpec, ScalarIndex, Section
from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.components.url_state import UrlParam, float_param, list_param, text_param
from vizboard.dashboards.base import Dashboard
from vizboard.data.downsample import X_AXES
from vizboard.data.models import Kind
from vizboard.data.provider import DataProvider
from vizboard.data.smoothing import SMOOTHING_KINDS, smooth_series
from vizboard.figures import scalars as fs
from vizboard.figures.theme import run_color

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
TOGGLE_OPTIONS = (("log_x", "log x"), ("log_y", "log y"), ("outliers", "ignore outliers"))
MAX_POINTS = 1500
"""Points per trace: about two per pixel of an ~800 px chart (never above 4000)."""


def _sec(part: str, key: str | Any) -> dict[str, Any]:
    return {"type": f"{P}-sec-{part}", "section": key}


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
            html.Div(id=SECTIONS, className="vb-sections", children=html.P("No scalar data yet.", className="vb-empty")),
            dcc.Store(id=SECTION_KEYS, data=[]),
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


def _x_plot_range(x_range: list[float], x_axis: str, log_x: bool) -> list[Any]:
    if x_axis == "wall_time":
        return [datetime.fromtimestamp(v, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") for v in x_range]
    if log_x:
        return [math.log10(v) if v > 0 else -300.0 for v in x_range]
    return list(x_range)


def _section_layout(section: Section) -> html.Section:
    k = section.key
    return html.Section(className="vb-section", children=[
        html.Button(f"{section.name} ({len(section.cards)})", id=_sec("toggle", k), className="vb-section-head"),
        html.Div(id=_sec("body", k), className="vb-section-body"),
        html.Div(className="vb-pager", id=_sec("pager", k), hidden=True, children=[
            html.Button("‹ prev", id=_sec("prev", k), className="vb-tool"),
            html.Span("", id=_sec("page", k), className="vb-page-label"),
            html.Button("next ›", id=_sec("next", k), className="vb-tool"),
        ]),
        dcc.Store(id=_sec("state", k), data={"open": section.open_by_default, "page": 0, "cards": None}),
    ])


def _card_layout(card: CardSpec) -> html.Div:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in card.title)[:80] or "chart"
    return chart_card(P, card.key, card.title, filename=safe)


def _options(smoothing: str, weight: Any, x_axis: str, toggles: list[str] | None, theme: str | None) -> fs.ChartOptions:
    try:
        w = min(max(float(weight), 0.0), 0.999)
    except (TypeError, ValueError):
        w = fs.DEFAULT_WEIGHT
    t = set(toggles or [])
    return fs.ChartOptions(
        smoothing=smoothing if smoothing in SMOOTHING_KINDS else "ema", weight=w,
        x_axis=x_axis if x_axis in X_AXES else "step", log_x="log_x" in t, log_y="log_y" in t,
        ignore_outliers="outliers" in t, theme=theme or "light", max_points=MAX_POINTS)


def card_figure(provider: DataProvider, spec: CardSpec, opts: fs.ChartOptions, x_range: list[float] | None,
                cache: SmoothingCache) -> go.Figure:
    """The figure of one card: its series (smoothed in full via ``cache``), cut to ``x_range`` and downsampled."""
    lines = []
    for run, tag, label in spec.lines:
        s = provider.scalars(run, tag)
        if s is None:
            continue
        color = run_color(s.run) if spec.kind == "tag" else run_color(label)
        lines.append(fs.make_line(s, opts, tuple(x_range) if x_range else None,
                                  cache.get(s, opts.smoothing, opts.weight), label=label, color=color))
    return fs.scalar_figure(lines, opts, uirevision=f"{spec.key}|{opts.x_axis}|{opts.log_x}|{opts.log_y}")


def new_smoothing_cache() -> SmoothingCache:
    """The cache of smoothed series one app uses (bounded in bytes)."""
    return SmoothingCache(lambda s, k, w: smooth_series(s, k, w))


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Sections, section pages, per-card figures and downloads."""
    index = ScalarIndex(provider)
    cache = new_smoothing_cache()
    register_card_clientside(app, P)

    @app.callback(
        Output(SECTIONS, "children"), Output(SECTION_KEYS, "data"),
        Input(ids.ACTIVE_TAB, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.SELECTED_RUNS, "data"),
        Input(TAG_FILTER, "value"), State(SECTION_KEYS, "data"),
    )
    def sections(active, _version, selected, tag_filter, keys):
        if active != P:
            return no_update, no_update
        secs = index.sections(selected or [], tag_filter)
        new_keys = [s.key for s in secs]
        if new_keys == keys:
            return no_update, no_update
        if not secs:
            return html.P("No scalar data for the selected runs and filter.", className="vb-empty"), new_keys
        return [_section_layout(s) for s in secs], new_keys

    @app.callback(
        Output(_sec("body", MATCH), "children"), Output(_sec("state", MATCH), "data"),
        Output(_sec("toggle", MATCH), "children"), Output(_sec("page", MATCH), "children"),
        Output(_sec("pager", MATCH), "hidden"),
        Input(_sec("toggle", MATCH), "n_clicks"), Input(_sec("prev", MATCH), "n_clicks"),
        Input(_sec("next", MATCH), "n_clicks"), Input(ids.ACTIVE_TAB, "data"), Input(ids.DATA_VERSION, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(TAG_FILTER, "value"), State(_sec("state", MATCH), "data"),
    )
    def section_body(_t, _p, _n, active, _version, selected, tag_filter, state):
        if active != P:
            return (no_update,) * 5
        key = ctx.outputs_list[0]["id"]["section"]
        section = index.section(key, selected or [], tag_filter)
        if section is None:
            return (no_update,) * 5
        state = dict(state or {"open": True, "page": 0, "cards": None})
        trig = ctx.triggered_id if isinstance(ctx.triggered_id, dict) else {}
        part = trig.get("type", "")
        pages = max(1, -(-len(section.cards) // PAGE_SIZE))
        if part.endswith("-toggle"):
            state["open"] = not state.get("open", True)
        elif part.endswith("-prev"):
            state["page"] = max(0, state.get("page", 0) - 1)
        elif part.endswith("-next"):
            state["page"] = min(pages - 1, state.get("page", 0) + 1)
        page = min(state.get("page", 0), pages - 1)
        state["page"] = page
        cards = list(section.cards[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]) if state["open"] else []
        card_keys = [c.key for c in cards]
        head = f"{'▾' if state['open'] else '▸'} {section.name} ({len(section.cards)})"
        label = f"page {page + 1} of {pages}"
        hide_pager = not state["open"] or pages == 1
        if card_keys == state.get("cards"):
            return no_update, no_update, head, label, hide_pager
        state["cards"] = card_keys
        return [_card_layout(c) for c in cards], state, head, label, hide_pager

    @app.callback(
        Output(card_id(P, "graph", MATCH), "figure"), Output(card_id(P, "state", MATCH), "data"),
        Input(ids.DATA_VERSION, "data"), Input(ids.SELECTED_RUNS, "data"), Input(SMOOTHING, "value"),
        Input(WEIGHT, "value"), Input(X_AXIS, "value"), Input(TOGGLES, "value"), Input(ids.THEME, "data"),
        Input(card_id(P, "graph", MATCH), "relayoutData"), Input(ids.ACTIVE_TAB, "data"),
        State(card_id(P, "state", MATCH), "data"), State(TAG_FILTER, "value"),
    )
    def update_card(_version, selected, smoothing, weight, x_axis, toggles, theme, relayout, active, state,
                    tag_filter):
        if active != P:
            return no_update, no_update
        key = ctx.outputs_list[0]["id"]["card"]
        spec = index.card(key, selected or [], tag_filter)
        if spec is None:
            return no_update, no_update
        opts = _options(smoothing, weight, x_axis, toggles, theme)
        state = state or {}
        x_range, y_range = state.get("x_range"), state.get("y_range")
        if state.get("x_axis") != opts.x_axis or state.get("log_x") != opts.log_x:
            x_range = None
        if state.get("log_y") != opts.log_y:
            y_range = None
        if isinstance(ctx.triggered_id, dict):  # the graph's own relayout event (zoom, pan, reset)
            x_range = parse_relayout(relayout, opts.x_axis, opts.log_x, x_range)
            y_range = parse_y_relayout(relayout, y_range)
        series = [(provider.scalars(run, tag), label) for run, tag, label in spec.lines]
        series = [(s, label) for s, label in series if s is not None]
        sig = json.dumps([[s.run, s.tag, s.version, len(s)] for s, _ in series]
                         + [list(spec.lines), [getattr(opts, f) for f in fs.ChartOptions.__slots__], x_range,
                            y_range])
        new_state = {"sig": sig, "x_range": x_range, "y_range": y_range, "x_axis": opts.x_axis,
                     "log_x": opts.log_x, "log_y": opts.log_y}
        if sig == state.get("sig"):
            return no_update, no_update
        fig = card_figure(provider, spec, opts, x_range, cache)
        # Plotly's uirevision does not keep a zoom across Dash figure updates here, so the
        # server, which knows the zoom from relayoutData, sets it explicitly.
        if x_range:
            fig.layout.xaxis.range = _x_plot_range(x_range, opts.x_axis, opts.log_x)
            fig.layout.xaxis.autorange = False
        if y_range:
            fig.layout.yaxis.range = y_range
            fig.layout.yaxis.autorange = False
        return fig, new_state

    @app.callback(
        Output(card_id(P, "download", MATCH), "data"),
        Input(card_id(P, "csv", MATCH), "n_clicks"), Input(card_id(P, "json", MATCH), "n_clicks"),
        State(ids.SELECTED_RUNS, "data"), State(TAG_FILTER, "value"),
        prevent_initial_call=True,
    )
    def download(_csv, _json, selected, tag_filter):
        key = ctx.outputs_list["id"]["card"]
        spec = index.card(key, selected or [], tag_filter)
        if spec is None or not isinstance(ctx.triggered_id, dict):
            return no_update
        series = [s for s in (provider.scalars(r, t) for r, t, _ in spec.lines) if s is not None]
        name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in spec.title) or "scalars"
        if ctx.triggered_id["type"].endswith("-csv"):
            return {"content": fs.lines_to_csv(series), "filename": f"{name}.csv", "type": "text/csv"}
        body = json.dumps(fs.series_records(series), allow_nan=False)
        return {"content": body, "filename": f"{name}.json", "type": "application/json"}



DASHBOARD = Dashboard(
    id=P,
    title="Scalars",
    kinds=(Kind.SCALARS,),
    layout=layout,
    register_callbacks=register_callbacks,
)
