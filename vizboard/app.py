"""create_app(config, provider) -> the Dash app: shell layout, tabs from the registry, JSON API, token guard.

Composition only: the shell's pieces live in ``vizboard.components``, each tab in
``vizboard.dashboards``, the routes in ``vizboard.api``. Building the app starts no
thread and reads no data (the provider is only called from requests).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from pathlib import Path

from dash import Dash, Input, Output, dcc, html, no_update
from flask import Flask, Response, g, request

from vizboard.api import register_api
from vizboard.components import header, ids, run_selector
from vizboard.components import shell_ids as sid
from vizboard.components.url_state import UrlParam, register_url_state, run_state_param, text_param
from vizboard.config import ServeConfig
from vizboard.dashboards import registry
from vizboard.dashboards.base import Dashboard
from vizboard.data.provider import DataProvider

__all__ = ["create_app", "TOKEN_COOKIE"]

TOKEN_COOKIE = "vizboard_token"
ASSETS = Path(__file__).resolve().parent / "assets"


def _shell_layout(config: ServeConfig, provider: DataProvider, boards: Sequence[Dashboard]) -> html.Div:
    first = boards[0].id if boards else ""
    return html.Div(className="vb-app", children=[
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.SELECTED_RUNS, data=[]),
        dcc.Store(id=ids.DATA_VERSION, data=-1),
        dcc.Store(id=ids.THEME, data="light"),
        dcc.Store(id=ids.ACTIVE_TAB, data=first),
        dcc.Store(id=ids.RUN_COLORS, data={}),
        dcc.Store(id=ids.RUN_SELECTION_REQUEST, data=None),
        header.layout(provider.logdir, config.title, int(config.live_interval * 1000)),
        html.Div(className="vb-body", children=[
            html.Aside(run_selector.layout(), className="vb-sidebar"),
            html.Main(className="vb-main", children=[
                dcc.Tabs(id=sid.TABS, value=first, className="vb-tabs", children=[]),
                html.P("No data in the logdir yet: waiting for event files…", id=sid.NO_DATA, className="vb-empty"),
                *[html.Div(b.layout(), id=sid.PAGE_PREFIX + b.id, className="vb-page",
                           style={"display": "block" if b.id == first else "none"}) for b in boards],
            ]),
        ]),
    ])


def _register_shell(app: Dash, provider: DataProvider, boards: Sequence[Dashboard]) -> None:
    header.register_callbacks(app, provider)
    run_selector.register_callbacks(app, provider)

    @app.callback(Output(sid.TABS, "children"), Output(sid.NO_DATA, "hidden"), Input(ids.DATA_VERSION, "data"))
    def tabs(_version):
        shown = [b for b in boards if _safe_available(b, provider)]
        return [dcc.Tab(label=b.title, value=b.id, className="vb-tab", selected_className="vb-tab--on")
                for b in shown], bool(shown)

    @app.callback(
        Output(ids.ACTIVE_TAB, "data"),
        *[Output(sid.PAGE_PREFIX + b.id, "style") for b in boards],
        Input(sid.TABS, "value"),
    )
    def active(value):
        if value not in {b.id for b in boards}:
            return (no_update,) * (1 + len(boards))
        return (value, *[{"display": "block" if b.id == value else "none"} for b in boards])


def _safe_available(board: Dashboard, provider: DataProvider) -> bool:
    try:
        return bool(board.available(provider))
    except Exception:  # a tab's availability check must never take the shell down
        return False


def _url_params(boards: Sequence[Dashboard]) -> list[UrlParam]:
    params = [
        text_param("tab", sid.TABS, default=boards[0].id if boards else "", allowed=[b.id for b in boards]),
        text_param("run_re", sid.RUN_FILTER),
        run_state_param(sid.RUN_STATE),
    ]
    if any(b.id == "scalars" for b in boards):
        from vizboard.dashboards.scalars import url_params

        params += url_params()
    return params


def install_token_guard(server: Flask, token: str) -> None:
    """Require ``token`` on every route (pages, assets, Dash callbacks, API); otherwise 401.

    Accepted: the ``vizboard_token`` cookie, ``Authorization: Bearer <token>``, or
    ``?token=<token>`` (the response then sets the HttpOnly, SameSite=Strict cookie, and
    the page's script removes the token from the address bar). The page is answered
    directly rather than redirected, so a link opened from another site works too (a
    Strict cookie set during a cross-site redirect would not be sent back).
    """
    expected = token.encode("utf-8")

    def ok(candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode("utf-8"), expected)

    @server.before_request
    def guard() -> Response | None:
        auth = request.headers.get("Authorization", "")
        if ok(request.cookies.get(TOKEN_COOKIE)) or (auth.startswith("Bearer ") and ok(auth[7:])):
            return None
        if ok(request.args.get("token")):
            g.vizboard_set_cookie = True
            return None
        body = '{"error": "missing or wrong token: open the URL printed by vizboard serve (with ?token=...)"}'
        return Response(body, status=401, mimetype="application/json",
                        headers={"WWW-Authenticate": 'Bearer realm="vizboard"'})

    @server.after_request
    def set_cookie(resp: Response) -> Response:
        if g.get("vizboard_set_cookie"):
            resp.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
            resp.headers["Referrer-Policy"] = "no-referrer"
        return resp


def create_app(config: ServeConfig, provider: DataProvider | None = None) -> Dash:
    """Build the Dash app serving ``provider``.

    For live serving pass a ``Store`` that an ``Ingestor`` keeps fresh (``VizboardServer``
    does this; see docs/deploy.md). With ``provider=None`` the logdir is loaded once,
    synchronously, and the app shows that snapshot (no threads are started).
    """
    if provider is None:
        from vizboard.data import load

        provider = load(config.logdir)
    boards = registry()
    server = Flask("vizboard")
    if config.token:
        install_token_guard(server, config.token)
    app = Dash(
        "vizboard",
        server=server,
        title=config.title,
        assets_folder=str(ASSETS),
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        compress=False,
    )
    app.layout = _shell_layout(config, provider, boards)
    _register_shell(app, provider, boards)
    for b in boards:
        b.register_callbacks(app, provider)
    register_url_state(app, ids.URL, _url_params(boards))
    register_api(server, provider, config.max_points)
    return app
