"""The "Download CSV" button of a DataTable: one callback saving the rows as shown (filtered and sorted)."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc
from dash.exceptions import PreventUpdate

from vizboard.figures.runs_table import to_csv

__all__ = ["register_csv_download", "shown_rows"]


def shown_rows(shown: list[dict] | None, rows: list[dict] | None) -> list[dict]:
    """The table's rows as the user sees them (``derived_virtual_data``), else all of ``rows``."""
    return shown if shown is not None else (rows or [])


def register_csv_download(app: Dash, *, button: str, download: str, table: str, filename: str) -> None:
    """Clicking ``button`` sends ``table``'s shown rows and columns as CSV named ``filename`` via ``download``.

    ``button`` is an ``html.Button`` id, ``download`` a ``dcc.Download`` id, ``table`` a
    ``dash_table.DataTable`` id; the CSV spelling is :func:`vizboard.figures.runs_table.to_csv`'s.
    """

    @app.callback(
        Output(download, "data"),
        Input(button, "n_clicks"), State(table, "derived_virtual_data"), State(table, "data"),
        State(table, "columns"), prevent_initial_call=True,
    )
    def _download(n: int | None, shown: list[dict] | None, rows: list[dict] | None,
                  columns: list[dict] | None) -> Any:
        if not n:
            raise PreventUpdate
        return dcc.send_string(to_csv(shown_rows(shown, rows), columns or []), filename, type="text/csv")
