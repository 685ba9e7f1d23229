"""The Graphs tab: a run's model as a collapsible layered graph (dash-cytoscape, positions from the server).

The graph comes from logger's module tree when the run has one, else from the run's
GraphDef (torch / TensorBoard writers) through ``vizboard.figures.graphdef_tree``.
Tap a collapsed node to expand it one level, tap an expanded group's box to collapse
it; the depth control resets the view; the search box highlights matches (and opens
their ancestors when there are few). The expanded ids live in ``graphs-expanded``. That
state machine is :func:`vizboard.figures.graphs.next_view` (pure, unit-tested); the
callbacks only adapt it (``focus_view`` is re-exported from there).
"""

from __future__ import annotations

from typing import Any

import dash_cytoscape as cyto
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.dashboards.base import Dashboard
from vizboard.data.models import Kind
from vizboard.data.provider import DataProvider
from vizboard.figures import graphs as gf
from vizboard.figures.graphdef_tree import graphdef_to_module_tree
from vizboard.figures.graphs import focus_view

__all__ = ["DASHBOARD", "ID", "MAX_VISIBLE", "REVEAL_LIMIT", "focus_view", "load_view_tree"]

ID = "graphs"
MAX_VISIBLE = 60
"""The default depth is the deepest one that draws at most this many nodes."""
REVEAL_LIMIT = 12
"""A search with at most this many matches expands their ancestors; more only highlights."""

RUN = f"{ID}-run"
DEPTH = f"{ID}-depth"
SEARCH = f"{ID}-search"
CYTO = f"{ID}-cytoscape"
EXPANDED = f"{ID}-expanded"
DETAILS = f"{ID}-details"
INFO = f"{ID}-info"
KEY = f"{ID}-key"
RESIZED = f"{ID}-resized"

_RESIZE_JS = """
function(active, _elements) {
    // cytoscape caches its container's page offset; a tab that was display:none when the
    // canvas mounted (or content above that changed height) leaves taps landing on the wrong
    // node until cy.resize() re-reads it.
    if (active === "graphs") {
        requestAnimationFrame(function () {
            var el = document.getElementById("graphs-cytoscape");
            if (el && el._cyreg && el._cyreg.cy) { el._cyreg.cy.resize(); }
        });
    }
    return window.dash_clientside.no_update;
}
"""

_PANEL = {"width": "300px", "flex": "0 0 300px", "fontSize": "13px", "overflowWrap": "anywhere",
          "borderLeft": "1px solid rgba(128,128,128,.3)", "paddingLeft": "10px"}


def layout() -> html.Div:
    """Run picker, depth control, search box, the graph canvas and the details panel."""
    return html.Div(id=f"{ID}-root", children=[
        html.Div(style={"display": "flex", "gap": "16px", "alignItems": "center", "flexWrap": "wrap"}, children=[
            html.Label(["Run ", dcc.Dropdown(id=RUN, clearable=False, style={"minWidth": "220px"})],
                       style={"display": "flex", "gap": "6px", "alignItems": "center"}),
            html.Label(["Depth ", dcc.Dropdown(id=DEPTH, clearable=False, style={"width": "90px"})],
                       style={"display": "flex", "gap": "6px", "alignItems": "center"}),
            dcc.Input(id=SEARCH, type="search", placeholder="Search modules (name, type)", debounce=True,
                      style={"minWidth": "240px"}),
            html.Span(id=INFO, style={"fontSize": "12px", "opacity": 0.8}),
        ]),
        dcc.Store(id=EXPANDED, data=[]),
        dcc.Store(id=KEY),
        dcc.Store(id=RESIZED),
        html.Div(style={"display": "flex", "gap": "8px", "marginTop": "8px"}, children=[
            cyto.Cytoscape(id=CYTO, elements=[], layout={"name": "preset", "fit": False},
                           stylesheet=gf.stylesheet("light"), minZoom=0.05, maxZoom=3, boxSelectionEnabled=False,
                           style={"flex": "1", "height": "75vh", "minWidth": "0",
                                  "border": "1px solid rgba(128,128,128,.3)", "borderRadius": "6px"}),
            html.Div(id=DETAILS, style=_PANEL, children=html.P("Click a node to see its details.")),
        ]),
    ])


def load_view_tree(provider: DataProvider, run: str | None) -> tuple[gf.ViewTree | None, str]:
    """The folded view tree of ``run``'s graph and its source (``module tree``/``GraphDef``), or (None, reason)."""
    if not run:
        return None, "No run with a graph."
    data = provider.graph(run)
    if data is None:
        return None, f"Run {run!r} has no graph."
    try:
        if data.module_tree is not None:
            return gf.build_view_tree(data.module_tree), "module tree"
        if data.graph_def is not None:
            raw = provider.read_blob(data.graph_def)
            if not raw:
                return None, "The graph record could not be read (see problems)."
            return gf.build_view_tree(graphdef_to_module_tree(raw)), "GraphDef"
    except ValueError as exc:  # a malformed tree or GraphDef is shown, never crashes the page
        return None, f"The graph of {run!r} could not be decoded: {exc}"
    return None, f"Run {run!r} has no graph."


def _graph_runs(provider: DataProvider) -> list[str]:
    return [r.name for r in provider.runs() if provider.graph(r.name) is not None]


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Run options; the graph (elements, expanded ids, depth); the details panel; canvas resize on show."""
    app.clientside_callback(_RESIZE_JS, Output(RESIZED, "data"), Input(ids.ACTIVE_TAB, "data"),
                            Input(CYTO, "elements"))

    @app.callback(
        Output(RUN, "options"), Output(RUN, "value"),
        Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"), Input(ids.SELECTED_RUNS, "data"),
        State(RUN, "value"),
    )
    def runs(_version: Any, active: str | None, selected: list[str] | None, current: str | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        names = _graph_runs(provider)
        options = [{"label": n, "value": n} for n in names]
        if current in names:
            return options, no_update
        preferred = [n for n in (selected or []) if n in names]
        return options, (preferred or names or [None])[0]

    @app.callback(
        Output(CYTO, "elements"), Output(CYTO, "stylesheet"), Output(EXPANDED, "data"), Output(DEPTH, "options"),
        Output(DEPTH, "value"), Output(INFO, "children"), Output(KEY, "data"), Output(CYTO, "zoom"),
        Output(CYTO, "pan"),
        Input(RUN, "value"), Input(DEPTH, "value"), Input(CYTO, "tapNodeData"), Input(SEARCH, "value"),
        Input(ids.THEME, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        State(EXPANDED, "data"), State(KEY, "data"), State(CYTO, "zoom"),
    )
    def draw(run: str | None, depth: int | None, tap: dict | None, query: str | None, theme: str | None,
             _version: Any, active: str | None, expanded_in: list[str] | None, key: Any,
             zoom_now: float | None = None) -> tuple:
        if active != ID:
            raise PreventUpdate
        tree, source = load_view_tree(provider, run)
        style = gf.stylesheet(theme or "light")
        if tree is None:
            return [], style, [], [], None, source, None, no_update, no_update
        v = gf.next_view(tree, run, source, key=key, expanded=expanded_in, depth=depth, tap=tap, query=query,
                         zoom_now=zoom_now, max_visible=MAX_VISIBLE, reveal_limit=REVEAL_LIMIT)
        depths = [{"label": str(d), "value": d} for d in range(1, v.max_depth + 1)]
        return (v.elements, style, v.expanded, depths, v.depth, v.info, v.key,
                no_update if v.zoom is None else v.zoom, no_update if v.pan is None else v.pan)

    @app.callback(
        Output(DETAILS, "children"),
        Input(CYTO, "tapNodeData"), State(RUN, "value"),
    )
    def details(tap: dict | None, run: str | None) -> Any:
        if not tap:
            raise PreventUpdate
        tree, source = load_view_tree(provider, run)
        if tree is None:
            return html.P(source)
        facts = gf.node_details(tree, str(tap.get("id", "")))
        if not facts:
            return html.P("Click a node to see its details.")
        rows: list[Any] = []
        for k, v in facts.items():
            rows += [html.Dt(k, style={"fontWeight": "bold", "marginTop": "6px"}), html.Dd(v, style={"margin": "0"})]
        return html.Dl(rows, className=f"{ID}-facts")


def _available(provider: DataProvider) -> bool:
    return bool(provider.tags(Kind.GRAPHS)) or bool(_graph_runs(provider))


DASHBOARD = Dashboard(
    id=ID, title="Graphs", kinds=(Kind.GRAPHS,), layout=layout, register_callbacks=register_callbacks,
    is_available=_available, lazy_suites=("dash_cytoscape",),
)
