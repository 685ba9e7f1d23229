"""The header: logdir, load progress / time of the last update, data-problems badge and modal, theme toggle.

Also owns the live check: a small script at the end of ``assets/vizboard.js``
fetches ``/api/version`` every ``live_interval_ms`` and writes ``ids.DATA_VERSION`` (and the
loading flag) with ``set_props`` only when the server's data changed since the page's layout
was served (its stores start from that moment's version and flag). An idle page costs one
tiny request per tick and no Dash work at all: a ``dcc.Interval`` made the Dash renderer
re-render and dispatch a callback on every tick (~12 ms of the browser's main thread each,
in the middle of whatever the user was doing). The poll pauses while the browser tab is
hidden and backs off while the server does not answer.
"""

from __future__ import annotations

import time

from dash import ClientsideFunction, Dash, Input, Output, ctx, dcc, html, no_update

from vizboard.components import ids
from vizboard.components import shell_ids as sid
from vizboard.data.provider import DataProvider

__all__ = ["layout", "register_callbacks", "status_text"]


def layout(logdir: str, title: str, live_interval_ms: int, version: int = -1, loading: bool = True) -> html.Header:
    """The header tree, and the live check's settings for the page's script: the interval in
    milliseconds, and the data ``version`` and ``loading`` flag the page's stores start from."""
    return html.Header(
        className="vb-header",
        children=[
            html.Span(title, className="vb-brand"),
            html.Span(logdir, className="vb-logdir", title=logdir),
            html.Span("", id=sid.STATUS_TEXT, className="vb-status"),
            html.Button("", id=sid.PROBLEMS_BUTTON, className="vb-badge", hidden=True,
                        title="Show the damaged or unreadable parts of the event files"),
            html.Button("◐", id=sid.THEME_TOGGLE, className="vb-tool vb-theme-toggle", title="Light / dark theme"),
            html.Div(id=sid.LIVE_INTERVAL, hidden=True, **{
                "data-interval-ms": str(live_interval_ms), "data-version-store": ids.DATA_VERSION,
                "data-loading-store": sid.LOADING, "data-version": str(version),
                "data-loading": "true" if loading else "false"}),
            dcc.Store(id=sid.LOADING, data=loading),
            html.Div(
                id=sid.PROBLEMS_MODAL, className="vb-modal", hidden=True,
                children=html.Div(className="vb-modal-box", children=[
                    html.Div(className="vb-modal-head", children=[
                        html.Span("Data problems"),
                        html.Button("Close", id=sid.PROBLEMS_CLOSE, className="vb-tool"),
                    ]),
                    html.Div(id=sid.PROBLEMS_BODY, className="vb-modal-body"),
                ]),
            ),
        ],
    )


def status_text(loading: bool, bytes_read: int, bytes_total: int, last_update: float) -> str:
    """``loading 42% (1.2 of 2.9 MB)`` while loading, else ``updated HH:MM:SS`` (server's local time)."""
    if loading:
        if bytes_total:
            return (f"loading {100.0 * bytes_read / bytes_total:.0f}% "
                    f"({bytes_read / 1e6:.1f} of {bytes_total / 1e6:.1f} MB)")
        return "loading…"
    if last_update <= 0:
        return "no data yet"
    return "updated " + time.strftime("%H:%M:%S", time.localtime(last_update))


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Theme, status line and problems modal (the live check needs no callback: module docstring)."""
    app.clientside_callback(
        ClientsideFunction("vizboard", "theme"),
        Output(ids.THEME, "data"),
        Input(sid.THEME_TOGGLE, "n_clicks"),
    )

    @app.callback(
        Output(sid.STATUS_TEXT, "children"),
        Output(sid.PROBLEMS_BUTTON, "children"),
        Output(sid.PROBLEMS_BUTTON, "hidden"),
        Input(ids.DATA_VERSION, "data"),
        Input(sid.LOADING, "data"),
    )
    def status(_version, _loading):
        st = provider.status()
        n = st.num_problems
        return (status_text(st.loading, st.bytes_read, st.bytes_total, st.last_update),
                f"{n} data problem{'s' if n != 1 else ''}", n == 0)

    @app.callback(
        Output(sid.PROBLEMS_MODAL, "hidden"),
        Output(sid.PROBLEMS_BODY, "children"),
        Input(sid.PROBLEMS_BUTTON, "n_clicks"),
        Input(sid.PROBLEMS_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
    def problems(_open, _close):
        if ctx.triggered_id == sid.PROBLEMS_CLOSE:
            return True, no_update
        rows = [html.Tr([html.Td(p.run), html.Td(p.file), html.Td(str(p.offset)), html.Td(str(p.length)),
                         html.Td(p.kind), html.Td(p.detail)]) for p in provider.problems()]
        head = html.Tr([html.Th(h) for h in ("run", "file", "offset", "bytes", "kind", "detail")])
        body = html.Table([html.Thead(head), html.Tbody(rows)], className="vb-table") if rows else \
            html.P("No problems found.")
        return False, body
