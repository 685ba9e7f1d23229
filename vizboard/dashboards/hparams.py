"""The HParams tab: a sortable, filterable table of sessions, parallel coordinates and a metric-vs-hparam scatter.

Metric columns show the last logged value or the best one (min or max over every step).
The plots follow the table's filter. Ticking rows selects those runs in the shell's run
selector (through ``ids.RUN_SELECTION_REQUEST``), so every other tab follows. The table
stays within the page (long names wrap, wide tables scroll inside their box) and "Download
CSV" saves the rows as filtered and sorted.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dash_table, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.table_download import register_csv_download
from vizboard.dashboards.base import Dashboard, run_colors_of
from vizboard.data.models import HParamsData, Kind
from vizboard.data.provider import DataProvider
from vizboard.figures import hparams as hf

__all__ = ["DASHBOARD", "ID", "SELECTED_RUNS", "metric_values"]

ID = "hparams"
SELECTED_RUNS = f"{ID}-selected-runs"
"""dcc.Store, ``data``: list[str] of the runs ticked in the table (in table order)."""

MODE = f"{ID}-mode"
TABLE = f"{ID}-table"
COLOR = f"{ID}-color"
X = f"{ID}-x"
Y = f"{ID}-y"
PARCOORDS = f"{ID}-parcoords"
SCATTER = f"{ID}-scatter"
EMPTY = f"{ID}-empty"
DOWNLOAD = f"{ID}-download"
DOWNLOAD_BUTTON = f"{ID}-download-button"

_ROW = {"display": "flex", "gap": "16px", "alignItems": "center", "flexWrap": "wrap", "margin": "6px 0"}


def _picker(label: str, cid: str) -> html.Label:
    return html.Label([label, dcc.Dropdown(id=cid, clearable=False, style={"minWidth": "200px"})],
                      style={"display": "flex", "gap": "6px", "alignItems": "center"})


def layout() -> html.Div:
    """Mode switch, the sessions table, then the parallel-coordinates and scatter plots."""
    return html.Div(id=f"{ID}-root", children=[
        html.Div(style=_ROW, children=[
            html.Span("Metric values:"),
            dcc.RadioItems(id=MODE, value="last", inline=True, inputStyle={"marginLeft": "8px"},
                           options=[{"label": " last", "value": "last"}, {"label": " min", "value": "min"},
                                    {"label": " max", "value": "max"}]),
            html.Button("Download CSV", id=DOWNLOAD_BUTTON, n_clicks=0),
            dcc.Download(id=DOWNLOAD),
            html.Span(id=EMPTY, style={"fontSize": "12px", "opacity": 0.8}),
        ]),
        dcc.Store(id=SELECTED_RUNS, data=[]),
        dash_table.DataTable(
            id=TABLE, columns=[], data=[], row_selectable="multi", selected_rows=[], sort_action="native",
            filter_action="native", sort_mode="multi", page_action="native", page_size=50,
            merge_duplicate_headers=True, style_table={"overflowX": "auto", "maxWidth": "100%", "minWidth": "0"},
            style_cell={"fontFamily": "inherit", "fontSize": "13px", "padding": "4px 8px", "textAlign": "right",
                        "maxWidth": "180px", "overflow": "hidden", "textOverflow": "ellipsis"},
            style_cell_conditional=[{"if": {"column_id": c}, "textAlign": "left"} for c in ("run", "status")],
            style_header={"fontWeight": "bold", "whiteSpace": "normal", "height": "auto", "overflowWrap": "anywhere"},
        ),
        html.Div(style=_ROW, children=[_picker("Colour by ", COLOR)]),
        dcc.Graph(id=PARCOORDS, config={"displaylogo": False}, style={"height": "420px"}),
        html.Div(style=_ROW, children=[_picker("x: hparam ", X), _picker("y: metric ", Y)]),
        dcc.Graph(id=SCATTER, config={"displaylogo": False}, style={"height": "420px"}),
    ])


def metric_values(provider: DataProvider, data: HParamsData, mode: str) -> dict[tuple[str, str], float | None]:
    """(run, metric tag) -> the session's metric summarised by ``mode`` from the full scalar series.

    A metric key ``group/tag`` (TensorBoard's MetricName with a group) is looked up as
    tag ``tag`` of run ``<session>/<group>`` when the session run has no such tag.
    """
    out: dict[tuple[str, str], float | None] = {}
    for s in data.sessions:
        for m in data.metric_tags:
            series = provider.scalars(s.run, m)
            if series is None and "/" in m:
                group, tag = m.split("/", 1)
                series = provider.scalars(f"{s.run}/{group}", tag)
            out[(s.run, m)] = hf.metric_value(series, mode)
    return out


def _keep(current: Any, options: list[str], default: str | None) -> str | None:
    return current if current in options else default


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Table from the provider; pickers; plots from the (filtered) table; selection -> store."""

    @app.callback(
        Output(TABLE, "columns"), Output(TABLE, "data"), Output(EMPTY, "children"),
        Output(COLOR, "options"), Output(COLOR, "value"), Output(X, "options"), Output(X, "value"),
        Output(Y, "options"), Output(Y, "value"),
        Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"), Input(MODE, "value"),
        State(COLOR, "value"), State(X, "value"), State(Y, "value"),
    )
    def fill(_version: Any, active: str | None, mode: str | None, color: Any, x: Any, y: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        data = provider.hparams()
        mode = mode if mode in hf.MODES else "last"
        values = metric_values(provider, data, mode) if mode != "last" else None
        columns, rows = hf.table(data, values)
        hps, mets = list(data.hparam_names), list(data.metric_tags)
        note = "" if rows else "No run recorded hyperparameters (add_hparams)."
        return (columns, rows, note, mets, _keep(color, mets, mets[0] if mets else None),
                hps, _keep(x, hps, hps[0] if hps else None), mets, _keep(y, mets, mets[0] if mets else None))

    @app.callback(
        Output(PARCOORDS, "figure"), Output(SCATTER, "figure"),
        Input(TABLE, "derived_virtual_data"), Input(TABLE, "columns"), Input(COLOR, "value"), Input(X, "value"),
        Input(Y, "value"), Input(SELECTED_RUNS, "data"), Input(ids.THEME, "data"),
        State(ids.ACTIVE_TAB, "data"), State(TABLE, "data"),
    )
    def plots(rows: list[dict] | None, columns: list[dict] | None, color: str | None, x: str | None,
              y: str | None, selected: list[str] | None, theme: str | None, active: str | None,
              all_rows: list[dict] | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        rows = rows if rows is not None else (all_rows or [])
        cols = [c["id"] for c in columns or []]
        hps = [c[len(hf.HP_PREFIX):] for c in cols if c.startswith(hf.HP_PREFIX)]
        mets = [c[len(hf.METRIC_PREFIX):] for c in cols if c.startswith(hf.METRIC_PREFIX)]
        t = theme or "light"
        return (hf.parcoords_figure(rows, hps, mets, color, t),
                hf.scatter_figure(rows, x, y, t, selected or [], run_colors_of(provider)))

    @app.callback(
        Output(SELECTED_RUNS, "data"),
        Output(ids.RUN_SELECTION_REQUEST, "data"),
        Input(TABLE, "selected_row_ids"), State(SELECTED_RUNS, "data"),
    )
    def select(row_ids: list[str] | None, current: list[str] | None) -> Any:
        new = [str(r) for r in row_ids or []]
        if new == (current or []):
            return no_update, no_update
        return new, (new or no_update)

    register_csv_download(app, button=DOWNLOAD_BUTTON, download=DOWNLOAD, table=TABLE, filename="hparams.csv")

DASHBOARD = Dashboard(
    id=ID, title="HParams", kinds=(Kind.HPARAMS,), layout=layout, register_callbacks=register_callbacks,
    is_available=lambda provider: bool(provider.hparams().sessions),
    full_plotly=True,
)
