"""The Runs tab: one row per run (or per group) with hparams, start, duration, last step, status and metric summaries.

Above :data:`VIRTUAL_ABOVE` rows the table is virtualised (only visible rows are in the DOM), so
1,000 runs scroll smoothly; with fewer rows it is not (Dash's virtualisation sizes the body from
the cells' inner height, 1 px short per row, which cut off the last row when all rows fit in the
box). Sort and filter happen in the browser. Ticking rows selects those runs (a group
row: all its members) in the shell's run selector through ``ids.RUN_SELECTION_REQUEST``,
so every tab follows. "Download CSV" saves the rows as filtered and sorted.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dash_table, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.table_download import register_csv_download
from vizboard.dashboards.base import Dashboard
from vizboard.data.groups import group_runs
from vizboard.data.models import Kind
from vizboard.data.provider import DataProvider
from vizboard.data.runs_table import build_runs_table, group_table
from vizboard.figures import runs_table as rt

__all__ = ["DASHBOARD", "ID", "TABLE", "METRICS", "GROUP_BY", "GROUP_KEY", "DOWNLOAD", "VIRTUAL_ABOVE",
           "default_metrics", "build_view", "virtualize"]

ID = "runs"
TABLE = f"{ID}-table"
METRICS = f"{ID}-metrics"
GROUP_BY = f"{ID}-group-by"
GROUP_KEY = f"{ID}-group-key"
DOWNLOAD = f"{ID}-download"
DOWNLOAD_BUTTON = f"{ID}-download-button"
NOTE = f"{ID}-note"
VIRTUAL_ABOVE = 100
"""Tables with more rows than this are virtualised; fewer rows always overfill no box (600 px / 29 px rows)."""

_ROW = {"display": "flex", "gap": "12px", "alignItems": "center", "flexWrap": "wrap", "margin": "6px 0"}
_GROUP_OPTIONS = [
    {"label": "no grouping", "value": "none"},
    {"label": "run name regex", "value": "regex"},
    {"label": "hparam", "value": "hparam"},
    {"label": "text field", "value": "text"},
]
_KEY_HINT = {"regex": r"(.*)_seed\d+", "hparam": "hparam name, e.g. lr", "text": "TAG or TAG:FIELD, e.g. args:seed"}


def layout() -> html.Div:
    """Metric picker, group-by controls, CSV download, then the virtualised table."""
    return html.Div(id=f"{ID}-root", className="runs-root", children=[
        html.Div(style=_ROW, children=[
            html.Label(["Metrics ", dcc.Dropdown(id=METRICS, multi=True, placeholder="scalar tags",
                                                 style={"minWidth": "280px", "flex": "1"})],
                       style={"display": "flex", "gap": "6px", "alignItems": "center", "flex": "1 1 320px"}),
            html.Span("Group by"),
            dcc.RadioItems(id=GROUP_BY, options=_GROUP_OPTIONS, value="none", inline=True,
                           inputStyle={"marginLeft": "8px", "marginRight": "3px"}),
            dcc.Input(id=GROUP_KEY, type="text", debounce=True, placeholder=_KEY_HINT["regex"],
                      style={"width": "200px"}),
            html.Button("Download CSV", id=DOWNLOAD_BUTTON, n_clicks=0),
            dcc.Download(id=DOWNLOAD),
            html.Span(id=NOTE, className="runs-note", style={"fontSize": "12px", "opacity": 0.8}),
        ]),
        dash_table.DataTable(
            id=TABLE, columns=[{"id": "run", "name": ["", "run"]}], data=[], row_selectable="multi",
            selected_rows=[], sort_action="native",
            filter_action="native", sort_mode="multi", page_action="none", virtualization=False,
            fixed_rows={"headers": True}, merge_duplicate_headers=True,
            style_table={"height": "600px", "maxHeight": "70vh", "overflowY": "auto", "overflowX": "auto",
                         "maxWidth": "100%"},
            style_cell={"fontFamily": "inherit", "fontSize": "13px", "padding": "4px 8px", "textAlign": "right",
                        "minWidth": "90px", "width": "110px", "maxWidth": "260px", "overflow": "hidden",
                        "textOverflow": "ellipsis"},
            style_cell_conditional=[
                {"if": {"column_id": "run"}, "textAlign": "left", "minWidth": "200px", "width": "240px"},
                {"if": {"column_id": "status"}, "textAlign": "left"},
                {"if": {"column_id": "start"}, "minWidth": "150px"},
            ],
            style_data_conditional=[
                {"if": {"filter_query": '{status} = "running"', "column_id": "status"}, "color": "#2ca02c"},
                {"if": {"filter_query": '{status} = "failed"', "column_id": "status"}, "color": "#d62728"},
            ],
            tooltip_duration=None, style_header={"fontWeight": "bold"},
        ),
    ])


def default_metrics(provider: DataProvider, limit: int = 3) -> list[str]:
    """The metric columns shown before the user picks: the hparams metrics, else the first scalar tags."""
    hp = [m for m in provider.hparams().metric_tags]
    tags = sorted({t.tag for t in provider.tags(Kind.SCALARS)})
    pick = [m for m in hp if m in tags] or [t for t in tags if not t.startswith("hparam/")] or tags
    return pick[:limit]


def virtualize(n_rows: int) -> bool:
    """Whether a table of ``n_rows`` rows is virtualised (see the module docstring)."""
    return n_rows > VIRTUAL_ABOVE


def build_view(provider: DataProvider, metrics: list[str], by: str, key: str) -> tuple[list[dict], list[dict], str]:
    """(columns, rows, note) of the table for ``metrics``; grouped when ``by`` != ``"none"`` and ``key`` is set."""
    table = build_runs_table(provider, metrics)
    grouped = by in ("regex", "hparam", "text") and bool(key)
    note = f"{len(table.rows)} runs"
    if grouped:
        try:
            groups = group_runs(provider, [r.name for r in table.rows], by, key)
        except ValueError as exc:
            return rt.columns(table), rt.records(table), str(exc)
        table = group_table(table, groups)
        note = f"{len(table.rows)} groups of {sum(len(r.members) for r in table.rows)} runs"
    return rt.columns(table, grouped=grouped), rt.records(table, grouped=grouped), note


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Table from the provider; ticked rows -> run selection; CSV download of the filtered rows."""

    @app.callback(
        Output(TABLE, "columns"), Output(TABLE, "data"), Output(TABLE, "selected_rows"), Output(NOTE, "children"),
        Output(METRICS, "options"), Output(METRICS, "value"), Output(GROUP_KEY, "placeholder"),
        Output(TABLE, "virtualization"),
        Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"), Input(METRICS, "value"),
        Input(GROUP_BY, "value"), Input(GROUP_KEY, "value"),
        State(TABLE, "selected_row_ids"), State(METRICS, "options"), State(TABLE, "virtualization"),
    )
    def fill(_version: Any, active: str | None, metrics: list[str] | None, by: str | None, key: str | None,
             selected_ids: list[str] | None, old_options: list[str] | None, virtual: bool | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        tags = sorted({t.tag for t in provider.tags(Kind.SCALARS)})
        chosen = [m for m in metrics if m in tags] if metrics is not None else default_metrics(provider)
        by = by or "none"
        columns, rows, note = build_view(provider, chosen, by, (key or "").strip())
        keep = set(selected_ids or [])
        selected = [i for i, r in enumerate(rows) if r["id"] in keep]
        return (columns, rows, selected, note, tags if tags != old_options else no_update,
                chosen if chosen != metrics else no_update, _KEY_HINT.get(by, ""),
                virtualize(len(rows)) if virtualize(len(rows)) != virtual else no_update)

    @app.callback(
        Output(ids.RUN_SELECTION_REQUEST, "data", allow_duplicate=True),
        Input(TABLE, "selected_row_ids"), State(TABLE, "data"), State(ids.ACTIVE_TAB, "data"),
        prevent_initial_call=True,
    )
    def select(row_ids: list[str] | None, rows: list[dict] | None, active: str | None) -> Any:
        if active != ID or not row_ids:
            raise PreventUpdate
        members = {r["id"]: r.get("members", [r["id"]]) for r in rows or []}
        runs: list[str] = []
        for rid in row_ids:
            for run in members.get(rid, []):
                if run not in runs:
                    runs.append(run)
        return runs or no_update

    register_csv_download(app, button=DOWNLOAD_BUTTON, download=DOWNLOAD, table=TABLE, filename="runs.csv")

DASHBOARD = Dashboard(
    id=ID, title="Runs", kinds=(Kind.SCALARS,), layout=layout, register_callbacks=register_callbacks,
)
