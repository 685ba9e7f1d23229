"""The Projector tab: embeddings written by ``add_embedding`` as a 2-D/3-D scatter (PCA, t-SNE, UMAP).

Choose a run, a tensor (tag) and a step; the projection is computed by the tab's
:class:`~vizboard.data.projector_service.ProjectorService` in its worker threads (never
on a request thread) while the page polls the job's progress. The page then holds the
projection's payload and does colour-by, label-by and search highlighting itself
(clientside callbacks that patch the figure). Clicking a point asks the server for its
metadata, its sprite thumbnail and its k nearest neighbours in the original space.

The service lives in the Flask app's ``extensions`` (one per app, so no module state);
the tab is shown when its first scan (waited for up to :data:`FIRST_SCAN_WAIT` s) or a
later background rescan found a ``projector_config.pbtxt``.
"""

from __future__ import annotations

import base64
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.dashboards.base import Dashboard
from vizboard.data.fs import FileSystem, open_fs
from vizboard.data.projector import EmbeddingEntry, ProjectorError, find_configs
from vizboard.data.projector_service import Job, ProjectorService
from vizboard.data.provider import DataProvider
from vizboard.figures import projector as pf

__all__ = ["DASHBOARD", "ID", "EXTENSION_KEY", "FIRST_SCAN_WAIT", "is_available", "service_of"]

ID = "projector"
EXTENSION_KEY = "vizboard.projector"
"""Key of the tab's ProjectorService in ``app.server.extensions`` (``close()`` it when the server stops)."""
FIRST_SCAN_WAIT = 3.0
"""Seconds the first availability check waits for the first scan of the logdir."""
POLL_MS = 1000

RUN, TENSOR, STEP = f"{ID}-run", f"{ID}-tensor", f"{ID}-step"
METHOD, DIMS, PERPLEXITY, NEIGHBORS = f"{ID}-method", f"{ID}-dims", f"{ID}-perplexity", f"{ID}-neighbors"
COLOR, LABEL, SEARCH, SEARCH_INFO = f"{ID}-color", f"{ID}-label", f"{ID}-search", f"{ID}-search-info"
K, METRIC = f"{ID}-k", f"{ID}-metric"
GRAPH, DATA, STATUS, NOTE, POLL, DETAILS = (f"{ID}-graph", f"{ID}-data", f"{ID}-status", f"{ID}-note",
                                             f"{ID}-poll", f"{ID}-details")
REFRESH, READY = f"{ID}-refresh", f"{ID}-ready"
REFRESH_MS = 5000
"""How often (ms) the open tab re-reads the embedding list (add_embedding writes no event, so the data
version does not announce a new embedding). Disabled while another tab is active."""

_ROW = {"display": "flex", "gap": "14px", "alignItems": "center", "flexWrap": "wrap", "margin": "6px 0"}
_METHODS = [{"label": " PCA", "value": "pca"}, {"label": " t-SNE", "value": "tsne"}, {"label": " UMAP", "value": "umap"}]


def _fs(provider: DataProvider) -> FileSystem:
    """The Store's file system (keeps remote storage options); through a ServedProvider's ``base`` too."""
    for obj in (provider, getattr(provider, "base", None)):
        fs = getattr(obj, "fs", None)
        if fs is not None:
            return fs  # type: ignore[no-any-return]
    return open_fs(provider.logdir)


def service_of(app_or_none: Any = None) -> ProjectorService | None:
    """The ProjectorService of ``app_or_none`` (a Flask app), or of the current request's app."""
    if app_or_none is None:
        from flask import current_app, has_app_context

        if not has_app_context():
            return None
        app_or_none = current_app
    service = app_or_none.extensions.get(EXTENSION_KEY)
    return service if isinstance(service, ProjectorService) else None


def is_available(provider: DataProvider) -> bool:
    """True when a ``projector_config.pbtxt`` was found under the logdir (from the service's cached scan)."""
    service = service_of()
    if service is None:  # outside a request (tests, scripts): one synchronous look
        return bool(find_configs(_fs(provider)))
    return bool(service.entries(wait=FIRST_SCAN_WAIT))


def _picker(label: str, cid: str, width: str = "180px", **kw: Any) -> html.Label:
    return html.Label([label, dcc.Dropdown(id=cid, clearable=False, style={"minWidth": width}, **kw)],
                      style={"display": "flex", "gap": "6px", "alignItems": "center"})


def _placeholder() -> dict[str, Any]:
    """The scatter's figure until the first render: a plain dict, because building a plotly Figure
    here would put plotly's template machinery (~0.25 s) into every server start; the render
    callback themes it."""
    return {"data": [], "layout": {
        "xaxis": {"visible": False}, "yaxis": {"visible": False}, "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)", "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "annotations": [{"text": "Choose a tensor.", "showarrow": False, "x": 0.5, "y": 0.5,
                         "xref": "paper", "yref": "paper"}]}}


def layout() -> html.Div:
    """Pickers (run, tensor, step, method, dims), view controls, status, the scatter and the point panel."""
    return html.Div(id=f"{ID}-root", children=[
        dcc.Store(id=DATA, data=None),
        dcc.Store(id=READY, data=None),
        dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
        dcc.Interval(id=REFRESH, interval=REFRESH_MS, disabled=True),
        html.Div(style=_ROW, children=[
            _picker("Run ", RUN, "200px"), _picker("Tensor ", TENSOR, "200px"), _picker("Step ", STEP, "110px"),
            dcc.RadioItems(id=METHOD, options=_METHODS, value="pca", inline=True, inputStyle={"marginLeft": "8px"}),
            dcc.RadioItems(id=DIMS, options=[{"label": " 2-D", "value": 2}, {"label": " 3-D", "value": 3}], value=2,
                           inline=True, inputStyle={"marginLeft": "8px"}),
            html.Label(["perplexity ", dcc.Input(id=PERPLEXITY, type="number", min=2, max=100, step=1, value=30,
                                                 debounce=True, style={"width": "60px"})]),
            html.Label(["UMAP neighbours ", dcc.Input(id=NEIGHBORS, type="number", min=2, max=200, step=1, value=15,
                                                      debounce=True, style={"width": "60px"})]),
        ]),
        html.Div(style=_ROW, children=[
            _picker("Colour by ", COLOR, "160px"), _picker("Label by ", LABEL, "160px"),
            html.Label(["Search ", dcc.Input(id=SEARCH, type="search", placeholder="label or /regex/", debounce=False,
                                             style={"width": "180px"})]),
            html.Span(id=SEARCH_INFO, style={"fontSize": "12px", "opacity": 0.8}),
            html.Label(["neighbours ", dcc.Input(id=K, type="number", min=1, max=100, step=1, value=10,
                                                 style={"width": "55px"})]),
            dcc.RadioItems(id=METRIC, value="cosine", inline=True, inputStyle={"marginLeft": "8px"},
                           options=[{"label": " cosine", "value": "cosine"}, {"label": " euclidean", "value": "euclidean"}]),
        ]),
        html.Div(id=STATUS, role="status", className=f"{ID}-status", style={"fontSize": "13px", "margin": "4px 0"}),
        html.Div(id=NOTE, className=f"{ID}-note", style={"fontSize": "12px", "opacity": 0.85}),
        html.Div(style={"display": "flex", "gap": "12px", "alignItems": "flex-start"}, children=[
            dcc.Graph(id=GRAPH, figure=_placeholder(), config={"displaylogo": False},
                      style={"height": "620px", "flex": "1", "minWidth": "0"}),
            html.Aside(id=DETAILS, className=f"{ID}-details",
                       style={"width": "300px", "fontSize": "13px", "overflowY": "auto", "maxHeight": "620px"},
                       children=html.P("Click a point to see its metadata, image and nearest neighbours.")),
        ]),
    ])


def _step_label(e: EmbeddingEntry) -> str:
    return str(e.step) if e.step is not None else "—"


def _params(method: str, perplexity: Any, neighbors: Any) -> dict[str, Any]:
    if method == "tsne":
        return {"perplexity": float(perplexity) if isinstance(perplexity, (int, float)) and perplexity > 0 else 30.0}
    if method == "umap":
        return {"n_neighbors": int(neighbors) if isinstance(neighbors, (int, float)) and neighbors >= 2 else 15}
    return {}


def _status(job: Job, method: str) -> str:
    name = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}[method]
    return f"Computing {name}: {job.stage} … {job.elapsed:.0f} s"


def _point_panel(service: ProjectorService, entry: EmbeddingEntry, data: dict[str, Any], row: int, k: int,
                 metric: str, label_by: str | None) -> tuple[html.Div, list[int]]:
    loaded = service.cached(entry)
    if loaded is None:
        return html.Div(html.P("The tensor is loading; click again in a moment.")), []
    meta_rows = [html.Tr([html.Th("row"), html.Td(str(row))])]
    if loaded.metadata is not None:
        for c in loaded.metadata.columns:
            col = loaded.metadata.values[c]
            meta_rows.append(html.Tr([html.Th(c), html.Td(col[row] if row < len(col) and col[row] is not None else "")]))
    children: list[Any] = [html.H4(f"Point #{row}"), html.Table(meta_rows, className=f"{ID}-meta")]
    try:
        png = service.thumbnail(entry, row)
    except ProjectorError as exc:
        png, children = None, [*children, html.P(str(exc), className=f"{ID}-problem")]
    if png is not None:
        children.append(html.Img(src="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                                 className=f"{ID}-thumb", alt=f"sprite image of point {row}",
                                 style={"imageRendering": "pixelated", "width": "96px", "margin": "6px 0"}))
    nbs = service.neighbours(loaded, row, k, metric)
    label_col = label_by if (loaded.metadata is not None and label_by in loaded.metadata.columns) else None
    items = []
    for r, d in nbs:
        name = loaded.metadata.values[label_col][r] if label_col and loaded.metadata is not None else None
        items.append(html.Li([html.Span(name or f"#{r}", className=f"{ID}-nb-label"),
                              html.Span(f"  {d:.4f}", style={"opacity": 0.7})], **{"data-row": str(r)}))
    children += [html.H4(f"{len(nbs)} nearest ({metric}, original space)"), html.Ol(items, className=f"{ID}-neighbours")]
    return html.Div(children), [row] + [r for r, _ in nbs]


_RECOLOUR_JS = """
function(color, label, data) {
    if (!data) { return window.dash_clientside.no_update; }
    const p = new window.dash_clientside.Patch();
    const base = {size: data.dims === 3 ? 3 : 5, opacity: 0.85};
    p.assign(['data', 0, 'marker'], Object.assign(base, data.markers[color] || data.markers['(index)']));
    p.assign(['data', 0, 'text'], data.labels[label] || data.labels['(index)']);
    return p.build();
}
"""

_SEARCH_JS = """
function(query, data, label) {
    const dc = window.dash_clientside;
    if (!data) { return [dc.no_update, '']; }
    const q = (query || '').trim();
    const xs = [], ys = [], zs = [];
    if (q) {
        let test;
        const m = q.match(/^\\/(.*)\\/$/);
        if (m) {
            let re = null;
            try { re = new RegExp(m[1], 'i'); } catch (e) { re = null; }
            test = re ? (v) => re.test(v) : () => false;
        } else {
            const low = q.toLowerCase();
            test = (v) => v.toLowerCase().includes(low);
        }
        const vals = data.labels[label] || data.labels['(index)'];
        for (let i = 0; i < vals.length; i++) {
            if (test(String(vals[i] == null ? '' : vals[i]))) {
                xs.push(data.x[i]); ys.push(data.y[i]); if (data.z) { zs.push(data.z[i]); }
            }
        }
    }
    const p = new dc.Patch();
    p.assign(['data', 1, 'x'], xs); p.assign(['data', 1, 'y'], ys);
    if (data.z) { p.assign(['data', 1, 'z'], zs); }
    const n = xs.length;
    return [p.build(), q ? (n + (n === 1 ? ' match' : ' matches')) : ''];
}
"""


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Create the tab's ProjectorService (started on first use) and attach the callbacks."""
    service = ProjectorService(_fs(provider))
    app.server.extensions[EXTENSION_KEY] = service

    app.clientside_callback("function(active) { return active !== '%s'; }" % ID, Output(REFRESH, "disabled"),
                            Input(ids.ACTIVE_TAB, "data"))

    @app.callback(Output(RUN, "options"), Output(RUN, "value"),
                  Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"), Input(REFRESH, "n_intervals"),
                  State(RUN, "options"), State(RUN, "value"))
    def runs(_version: Any, active: str | None, _tick: Any, options: list | None, current: str | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        names = sorted({e.run for e in service.entries(wait=FIRST_SCAN_WAIT)})
        if names == (options or []) and current in names:
            raise PreventUpdate  # nothing new: do not re-run the pickers below
        return names, current if current in names else (names[0] if names else None)

    @app.callback(Output(TENSOR, "options"), Output(TENSOR, "value"), Input(RUN, "value"), State(TENSOR, "value"))
    def tensors(run: str | None, current: str | None) -> tuple:
        tags = list(dict.fromkeys(e.tag for e in service.entries() if e.run == run))
        return tags, current if current in tags else (tags[0] if tags else None)

    @app.callback(Output(STEP, "options"), Output(STEP, "value"), Input(TENSOR, "value"), State(RUN, "value"),
                  State(STEP, "value"))
    def steps(tag: str | None, run: str | None, current: str | None) -> tuple:
        es = sorted((e for e in service.entries() if e.run == run and e.tag == tag), key=lambda e: (e.step or 0))
        options = [{"label": _step_label(e), "value": e.key} for e in es]
        keys = [e.key for e in es]
        return options, current if current in keys else (keys[-1] if keys else None)

    def _request(key: str | None, method: str | None, dims: Any, perplexity: Any,
                 neighbors: Any) -> tuple[EmbeddingEntry | None, str, int, dict[str, Any]]:
        entry = service.entry(key) if key else None
        method = method if method in ("pca", "tsne", "umap") else "pca"
        return entry, method, 3 if dims == 3 else 2, _params(method, perplexity, neighbors)

    @app.callback(
        Output(STATUS, "children", allow_duplicate=True), Output(READY, "data"), Output(POLL, "disabled", allow_duplicate=True),
        Input(POLL, "n_intervals"),
        State(STEP, "value"), State(METHOD, "value"), State(DIMS, "value"), State(PERPLEXITY, "value"),
        State(NEIGHBORS, "value"), State(READY, "data"), prevent_initial_call=True,
    )
    def progress(_tick: Any, key: str | None, method: str | None, dims: Any, perplexity: Any, neighbors: Any,
                 ready: Any) -> tuple:
        entry, method, dims, params = _request(key, method, dims, perplexity, neighbors)
        if entry is None or entry.problem:
            return no_update, no_update, True
        job = service.projection(entry, method, dims, **params)
        if job.state == "running":
            return _status(job, method), no_update, False
        token = {"key": key, "method": method, "dims": dims, **params}
        return no_update, (token if ready != token else no_update), True

    @app.callback(
        Output(GRAPH, "figure"), Output(DATA, "data"), Output(STATUS, "children"), Output(NOTE, "children"),
        Output(POLL, "disabled"), Output(COLOR, "options"), Output(COLOR, "value"), Output(LABEL, "options"),
        Output(LABEL, "value"),
        Input(STEP, "value"), Input(METHOD, "value"), Input(DIMS, "value"), Input(PERPLEXITY, "value"),
        Input(NEIGHBORS, "value"), Input(READY, "data"), Input(ids.THEME, "data"),
        State(COLOR, "value"), State(LABEL, "value"), State(DATA, "data"),
    )
    def compute(key: str | None, method: str | None, dims: Any, perplexity: Any, neighbors: Any, _ready: Any,
                theme: str | None, color: str | None, label: str | None, current: dict | None) -> tuple:
        keep = (no_update,) * 4
        t = theme or "light"
        entry, method, dims, params = _request(key, method, dims, perplexity, neighbors)
        if entry is None:
            return (pf.message_figure("No embedding chosen.", t), None, "", "", True, *keep)
        if entry.problem:
            return (pf.message_figure("This embedding cannot be shown.", t), None, entry.problem, "", True, *keep)
        meta = {"key": key, "method": method, "dims": dims, **params}
        job = service.projection(entry, method, dims, **params)
        if job.state == "running":
            return (no_update, no_update, _status(job, method), no_update, False, *keep)
        if job.state == "error" or job.result is None or job.loaded is None:
            return (pf.message_figure("The projection failed.", t), None, job.error or "failed", "", True, *keep)
        if current is not None and current.get("meta") == meta and current.get("theme") == t:
            return (no_update, no_update, no_update, no_update, True, *keep)  # the page has it already
        data = pf.payload(job.result, job.loaded.metadata, meta)
        data["theme"] = t
        cols = data["columns"]
        color, label = pf.kept_choices(data, color, label)
        status = pf.sample_text(len(job.result.indices), job.result.total, service.seed)
        if job.result.explained:
            status += " · " + pf.variance_text(job.result.explained)
        notes = " ".join(job.loaded.notes)
        return (pf.scatter_figure(data, color, label, t), data, status, notes, True, cols, color, cols, label)

    app.clientside_callback(_RECOLOUR_JS, Output(GRAPH, "figure", allow_duplicate=True),
                            Input(COLOR, "value"), Input(LABEL, "value"), State(DATA, "data"), prevent_initial_call=True)
    app.clientside_callback(_SEARCH_JS, Output(GRAPH, "figure", allow_duplicate=True), Output(SEARCH_INFO, "children"),
                            Input(SEARCH, "value"), Input(DATA, "data"), Input(LABEL, "value"), prevent_initial_call=True)

    @app.callback(
        Output(DETAILS, "children"), Output(GRAPH, "figure", allow_duplicate=True),
        Input(GRAPH, "clickData"), Input(K, "value"), Input(METRIC, "value"),
        State(DATA, "data"), State(LABEL, "value"), prevent_initial_call=True,
    )
    def select(click: dict | None, k: Any, metric: str | None, data: dict | None, label: str | None) -> tuple:
        if not click or not data or not click.get("points"):
            raise PreventUpdate
        row = click["points"][0].get("customdata")
        entry = service.entry(data["meta"]["key"])
        if not isinstance(row, int) or entry is None:
            raise PreventUpdate
        kk = int(k) if isinstance(k, (int, float)) and 1 <= k <= 100 else 10
        panel, rows = _point_panel(service, entry, data, row, kk, metric if metric in ("cosine", "euclidean") else "cosine",
                                   label)
        from dash import Patch

        patch = Patch()
        for axis, values in pf.selection_trace(data, rows, label).items():
            patch["data"][2][axis] = values
        return panel, patch


DASHBOARD = Dashboard(
    id=ID, title="Projector", kinds=(), layout=layout,
    register_callbacks=register_callbacks, is_available=is_available,
    full_plotly=True,
)
