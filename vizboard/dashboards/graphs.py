"""The Graphs tab: a run's model as a collapsible layered graph (dash-cytoscape, positions from the server).

The graph comes from logger's module tree when the run has one, else from the run's
GraphDef (torch / TensorBoard writers) through ``vizboard.figures.graphdef_tree``.
Tap a collapsed node to expand it one level, tap an expanded group's box to collapse
it; the depth control resets the view; the search box highlights matches (and opens
their ancestors when there are few). The expanded ids live in ``graphs-expanded``.
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

_VIEW_W = 900.0  # typical canvas width (px) for the initial zoom; the user pans and zooms from there
_VIEW_H = 560.0  # typical canvas height (px): 75vh of a laptop screen
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


def focus_view(elements: list[dict], zoom: Any, view_w: float = _VIEW_W,
               view_h: float = _VIEW_H) -> tuple[float, dict[str, float]] | None:
    """(zoom, pan) that centres the first drawn search match (class ``match``, else ``match-inside``).

    The zoom is kept unless it is below 0.8 (a match too small to read), then 0.8. None when
    no drawn node matches. ``view_w``/``view_h`` are the canvas size in px.
    """
    for wanted in ("match", "match-inside"):
        for el in elements:
            pos = el.get("position")
            if pos is not None and wanted in str(el.get("classes", "")).split():
                z = max(float(zoom) if isinstance(zoom, (int, float)) and zoom > 0 else 1.0, 0.8)
                return round(z, 3), {"x": round(view_w / 2 - pos["x"] * z, 1), "y": round(view_h / 2 - pos["y"] * z, 1)}
    return None


def _collapse(tree: gf.ViewTree, expanded: set[str], vid: str) -> set[str]:
    """``expanded`` without ``vid`` and everything below it."""
    out = set(expanded)
    stack = [vid]
    while stack:
        v = stack.pop()
        out.discard(v)
        node = tree.nodes.get(v)
        if node is not None:
            stack.extend(node.children)
    return out


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Run options; the graph (elements, expanded ids, depth); the details panel; canvas resize on show."""
    app.clientside_callback(_RESIZE_JS, Output(RESIZED, "data"), Input(ids.ACTIVE_TAB, "data"),
                            Input(CYTO, "elements"))

    @app.callback(
        Output(RUN, "options"), Output(RUN, "value"),
        Input(ids.DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"), Input(ids.SELECTED_RUNS, "data"),
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
        Input(ids.THEME, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
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
        # KEY holds what this view already applied (tree, depth, last tap, query): a request that
        # supersedes an in-flight one (Dash drops the older answer) still applies a pending tap.
        state = key if isinstance(key, dict) else {}
        tree_key = [run, len(tree.nodes), len(tree.edges)]
        stamp = [tap.get("id"), tap.get("timeStamp")] if tap else None
        expanded = set(expanded_in or [])
        reset_view = False
        if state.get("tree") != tree_key or depth is None:
            depth = gf.auto_depth(tree, MAX_VISIBLE)
            expanded = gf.expanded_for_depth(tree, depth)
            reset_view = True
        elif state.get("depth") != depth:
            expanded = gf.expanded_for_depth(tree, int(depth))
            reset_view = True
        elif stamp is not None and stamp != state.get("tap"):
            node = tree.nodes.get(stamp[0])
            if node is not None and node.children:
                vid = node.id
                expanded = _collapse(tree, expanded, vid) if vid in expanded else expanded | {vid}
        matches = gf.search(tree, query or "")
        if (query or "") != state.get("query", "") and 0 < len(matches) <= REVEAL_LIMIT:
            expanded = gf.reveal(tree, expanded, matches)
        new_key = {"tree": tree_key, "depth": depth, "tap": stamp, "query": query or ""}
        expanded &= set(tree.nodes)
        elements, width, _h = gf.graph_elements(tree, expanded, matches)
        zoom, pan = no_update, no_update
        if reset_view:  # top of the graph, whole width when it fits at a readable scale; taps keep the view
            zoom = round(max(0.35, min(1.0, (_VIEW_W - 40) / max(width, 1.0))), 3)
            pan = {"x": round(max(20.0, (_VIEW_W - width * zoom) / 2), 1), "y": 20}
        if query and query != state.get("query", ""):  # a new search: bring the first match into view
            focus = focus_view(elements, zoom_now if zoom is no_update else zoom)
            if focus is not None:
                zoom, pan = focus
        drawn = sum(1 for e in elements if "source" not in e["data"])
        info = f"{drawn} nodes shown · {len(tree.nodes)} in the model · from the {source}"
        if query:
            info += f" · {len(matches)} match{'es' if len(matches) != 1 else ''}"
        depths = [{"label": str(d), "value": d} for d in range(1, max(tree.max_depth, 1) + 1)]
        return elements, style, sorted(expanded), depths, depth, info, new_key, zoom, pan

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
    is_available=_available,
)
