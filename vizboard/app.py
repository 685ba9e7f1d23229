"""create_app(config, provider) -> the Dash app: shell layout, tabs from the registry, JSON API, token guard.

Composition only: the shell's pieces live in ``vizboard.components``, each tab in
``vizboard.dashboards``, the routes in ``vizboard.api`` and ``vizboard.page_api``.
Building the app starts no thread and reads no data (the provider is only called
from requests).

The page is fast by construction (DESIGN.md §3): the index page starts the Scalars
page's first-screen request (``/api/page/init``) from an inline script in ``<head>``
before any bundle has loaded; the first scripts to run are plotly.js's basic bundle
(``window.vbPlotly``, a year-long cache) and the Scalars page, before React and Dash's
bundles (:func:`page_scripts_first`). dcc.Graph on the other tabs draws with the same basic
bundle; the full plotly.js (4.8 MB: parsing and running it took 1-2 s of the main thread
on a 2-core machine, all of it before the first curve) is loaded only when a tab that
needs it (``Dashboard.full_plotly``: parallel coordinates, 3D) is first shown, before its
page is built. A figure drawn by one bundle and updated by the other works: both are the
same plotly.js release, and a figure keeps all its state in its element. Responses are
gzip-compressed (flask-compress) and compressed immutable bundles are kept in a per-app cache.
Tab switching, the run list and URL state run in the browser (clientside callbacks),
so interactions cost no server round trip.

Before Dash has mounted its layout, the Scalars page's script draws the first card and the
run list in stand-in boxes (assets/scalars_page.js); the other cards wait for the mount, so
Dash boots right after the first curve and the first screen is complete with the page quiet.
The layout is a function: each page load's starts from the data version and loading flag of
that moment (:func:`_page_layout`), so the live check's first answer runs no shell callback.

Pages are built when first opened: the initial layout holds the shell and the first tab's
page (Scalars); every other tab's page is an empty container that one callback fills with
the tab's layout the first time the tab is shown in this browser (``LOADED_PAGES``). So a
page load mounts ~60 components instead of ~210, loads none of the hidden tabs' lazy
bundles (DataTable, dcc.Graph, Markdown, sliders) and fires none of their callbacks: those
~25 round trips and their re-renders used to hold the browser's main thread for about a
second after the first curve, in the way of the first interactions. Dash skips a callback
whose outputs are all absent, so a hidden tab's callbacks wait for its page. What the URL
writes before a tab is opened lives in the shell (``Dashboard.stores``, e.g. pins).

Callbacks are validated in the tests, not in every browser: ``validation_layout`` is the shell
with every page built, and ``tests/unit/test_app_validation.py`` checks that every plain-string
id a callback names is in it (components that callbacks create later, such as section toggles
and cards, are addressed only by pattern-matching ids). ``suppress_callback_exceptions`` is
True because Dash would otherwise serialise that layout into every index page (35 ms of
server time and 33 KB per load) for a check whose errors only debug mode displays.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from flask import Flask, Response, g, request

from vizboard.api import register_api, register_not_found_handlers
from vizboard.components import header, ids, run_selector
from vizboard.components import shell_ids as sid
from vizboard.components.url_state import UrlParam, register_url_state, text_param
from vizboard.config import ServeConfig
from vizboard.dashboards import registry
from vizboard.dashboards.base import Dashboard
from vizboard.data.provider import DataProvider
from vizboard.page_api import register_page_api
from vizboard.page_groups_api import register_group_api

__all__ = ["create_app", "TOKEN_COOKIE"]

TOKEN_COOKIE = "vizboard_token"
ASSETS = Path(__file__).resolve().parent / "assets"
PLOTLY_BASIC_JS = Path(__file__).resolve().parent / "static" / "plotly-basic.min.js"
"""plotly.js's official basic bundle (npm ``plotly.js-basic-dist-min`` 4.1.1, MIT, see
``static/plotly-basic.LICENSE``): scatter, bar and pie in 1.2 MB, against 4.8 MB for the full
bundle. The Scalars page draws only scatter traces with it."""
_PLOTLY_BASIC_ROUTE = "/_vb/plotly-basic-4.1.1.min.js"  # the version in the name: cached for a year
_PLOTLY_FULL_PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"  # dcc.Graph's lazy load
_FINGERPRINT = re.compile(r"\.v[0-9a-z_]+m[0-9]+\.(js|css|map)$")
_STATIC_CACHE = "public, max-age=31536000, immutable"

_INDEX = """<!DOCTYPE html>
<html>
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        <script>
        (function () {  /* the Scalars page's first request starts now, not after the bundles */
            var q = new URLSearchParams(location.search); q.delete("token"); q.set("n", "2");
            var p = location.pathname.replace(/\\/+$/, "");
            window.__vbInit = fetch(p + "/api/page/init?" + q.toString(), {credentials: "same-origin", cache: "no-store"})
                .then(function (r) { if (!r.ok) { throw new Error("init: HTTP " + r.status); } return r.json(); });
            window.__vbInit.catch(function () {});
            /* the theme before anything is drawn (the rule of assets/vizboard.js's theme callback:
               the user's pick, else the OS preference): a dark page's first charts are drawn dark */
            var t = null;
            try { t = window.localStorage.getItem("vizboard-theme"); } catch (e) {}
            if (!t) { t = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"; }
            document.documentElement.setAttribute("data-theme", t);
        })();
        </script>
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


_PAGE_FIRST = (_PLOTLY_BASIC_ROUTE.lstrip("/"), "assets/scalars_compare.js", "assets/scalars_page.js")
"""Scripts the index runs before Dash's own: plotly.js (basic) and the Scalars page (its hooks first)."""
_PLOTLY_HANDOVER = "<script>window.vbPlotly = window.Plotly;</script>"
"""Run right after the basic bundle: the Scalars page keeps its own reference (``window.vbPlotly``),
so it goes on drawing with the basic bundle after a tab has replaced ``window.Plotly`` (the one
dcc.Graph uses) by the full bundle (``Dashboard.full_plotly``, see :func:`_register_shell`)."""


def page_scripts_first(scripts: str) -> str:
    """Dash's ``{%scripts%}`` HTML with the :data:`_PAGE_FIRST` ``<script src>`` lines moved to the front.

    Dash emits one tag per line: React, react-dom and polyfills, external scripts, component
    suites and assets, then its renderer, then inline scripts. Every one is parser-blocking, so a
    script runs only after all those before it have been parsed and run: on this 2-core machine
    about a second of bundles (React, dash_cytoscape for the Graphs tab) ran before the Scalars
    page's script could draw. The page's script needs only plotly.js (it talks to Dash through
    ``window.dash_clientside``, read when callbacks run), so it goes first; the relative order
    of everything else is kept. A line that is not a plain ``<script src>`` tag is never moved.
    """
    lines = scripts.split("\n")
    first = [ln for ln in lines if ln.startswith("<script src=") and any(k in ln for k in _PAGE_FIRST)]
    first.sort(key=lambda ln: next(i for i, k in enumerate(_PAGE_FIRST) if k in ln))
    moved = set(first)
    if first and _PAGE_FIRST[0] in first[0]:
        first.insert(1, _PLOTLY_HANDOVER)
    return "\n".join(first + [ln for ln in lines if ln not in moved])


_SCRIPT_SRC = re.compile(r'<script src="([^"]+)"></script>')


def defer_suites(scripts: str, lazy: Mapping[str, Sequence[str]]) -> str:
    """Dash's ``{%scripts%}`` HTML without the bundles of the component suites only some tabs
    render (``lazy``: tab id -> suite namespaces, ``Dashboard.lazy_suites``), plus one inline
    script ``window.vbLazySuites = {tab id: [src, ...]}``: ``assets/vizboard.js`` loads a tab's
    bundles before the browser asks for its page. dash_cytoscape alone (the Graphs tab) is
    0.5 MB that every page load used to parse and run (~40 ms of the main thread on 2 cores).
    Only plain ``<script src>`` lines are taken out; every other line keeps its place.
    """
    found: dict[str, list[str]] = {}
    keep = []
    for line in scripts.split("\n"):
        m = _SCRIPT_SRC.fullmatch(line.strip())
        src = m.group(1) if m else ""
        tabs = [tab for tab, suites in lazy.items() if src and any(f"_dash-component-suites/{ns}/" in src for ns in suites)]
        for tab in tabs:
            found.setdefault(tab, []).append(src)
        if not tabs:
            keep.append(line)
    if not found:
        return scripts
    mapping = json.dumps(found).replace("</", "<\\/")
    return "\n".join(keep + [f"<script>window.vbLazySuites = {mapping};</script>"])


class _PageFirstDash(Dash):
    """Dash whose index page runs plotly.js and the Scalars page script before its own bundles,
    and leaves the bundles of tabs' own component suites to those tabs (:func:`defer_suites`)."""

    def __init__(self, *args: Any, lazy_suites: Mapping[str, Sequence[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._vb_lazy_suites = dict(lazy_suites or {})

    def interpolate_index(self, **kwargs: str) -> str:  # type: ignore[override]
        kwargs["scripts"] = defer_suites(page_scripts_first(kwargs.get("scripts", "")), self._vb_lazy_suites)
        return str(super().interpolate_index(**kwargs))


def _shell_layout(config: ServeConfig, provider: DataProvider, boards: Sequence[Dashboard],
                  every_page: bool = False, live: tuple[int, bool] = (-1, True)) -> html.Div:
    """The shell, with the first tab's page built (every tab's with ``every_page``: the validation layout).

    ``live``: the data version and loading flag the page starts from (see :func:`_page_layout`).
    """
    first = boards[0].id if boards else ""
    stores = [c for b in boards if b.stores is not None for c in b.stores()]
    return html.Div(className="vb-app", children=[
        *stores,
        dcc.Store(id=sid.LOADED_PAGES, data=[first]),
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.SELECTED_RUNS, data=[]),
        dcc.Store(id=ids.DATA_VERSION, data=live[0]),
        dcc.Store(id=ids.TAB_DATA_VERSION, data=-1),
        dcc.Store(id=ids.THEME, data="light"),
        dcc.Store(id=ids.ACTIVE_TAB, data=first),
        dcc.Store(id=ids.RUN_COLORS, data={}),
        dcc.Store(id=ids.RUN_SELECTION_REQUEST, data=None),
        dcc.Store(id=sid.BOARD_IDS, data=[b.id for b in boards]),
        header.layout(provider.logdir, config.title, int(config.live_interval * 1000), version=live[0],
                      loading=live[1]),
        html.Div(className="vb-body", children=[
            html.Aside(run_selector.layout(), className="vb-sidebar"),
            html.Main(className="vb-main", children=[
                dcc.Tabs(id=sid.TABS, value=first, className="vb-tabs", children=[]),
                html.P("No data in the logdir yet: waiting for event files…", id=sid.NO_DATA, className="vb-empty"),
                *[html.Div(b.layout() if (every_page or b.id == first) else [], id=sid.PAGE_PREFIX + b.id,
                           className="vb-page", style={"display": "block" if b.id == first else "none"})
                  for b in boards],
            ]),
        ]),
    ])


def _page_layout(config: ServeConfig, provider: DataProvider, boards: Sequence[Dashboard]) -> Callable[[], html.Div]:
    """The layout Dash serves per page load: the shell, starting from the data version and loading
    flag of that moment. The live check (assets/vizboard.js) then writes its stores only when the
    server's answer differs, so a page load runs the shell's callbacks (status line, tab list)
    once, at its mount, instead of again when the first poll answered (two round trips and two
    re-renders in the way of the first keys typed, right after the first screen was drawn)."""
    def layout() -> html.Div:
        st = provider.status()  # one snapshot: its version and loading flag belong together
        return _shell_layout(config, provider, boards, live=(st.version, st.loading))
    return layout


def _register_shell(app: Dash, provider: DataProvider, boards: Sequence[Dashboard]) -> None:
    header.register_callbacks(app, provider)
    run_selector.register_callbacks(app)

    @app.callback(Output(sid.TABS, "children"), Output(sid.NO_DATA, "hidden"), Input(ids.DATA_VERSION, "data"))
    def tabs(_version):
        shown = [b for b in boards if _safe_available(b, provider)]
        return [dcc.Tab(label=b.title, value=b.id, className="vb-tab", selected_className="vb-tab--on")
                for b in shown], bool(shown)

    # In the browser: server-drawn tabs see a new data version only while one of them is shown
    # (the Scalars page gets its data through its own long poll), so live updates cost no hidden
    # tab's callback round trip while Scalars is open; opening a server tab catches it up.
    app.clientside_callback(
        """function (version, active, seen) {
            var nu = window.dash_clientside.no_update;
            if (active === "scalars" || version === seen) { return nu; }
            return version;
        }""",
        Output(ids.TAB_DATA_VERSION, "data"),
        Input(ids.DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"), State(ids.TAB_DATA_VERSION, "data"),
    )

    # A tab's page is built the first time it is shown (module docstring): the browser asks only
    # for a page it has not built yet, so switching back and forth costs no round trip.
    # A tab that draws trace types outside the basic bundle is built only once the full bundle
    # has loaded (vizboard.js, vbFullPlotly): its graphs then mount with window.Plotly = full.
    # A tab's own component suites (Dashboard.lazy_suites, defer_suites) load the same way.
    full = json.dumps([b.id for b in boards if b.full_plotly])
    app.clientside_callback(
        """function (active, loaded) {
            loaded = loaded || [];
            if (!active || loaded.indexOf(active) >= 0) { return window.dash_clientside.no_update; }
            var next = loaded.concat([active]), waits = [];
            if (%s.indexOf(active) >= 0 && window.vbFullPlotly) { waits.push(window.vbFullPlotly()); }
            var suites = window.vbLoadSuites ? window.vbLoadSuites(active) : null;
            if (suites) { waits.push(suites); }
            if (!waits.length) { return next; }
            return Promise.all(waits).then(function () { return next; });
        }""" % full,
        Output(sid.LOADED_PAGES, "data"), Input(ids.ACTIVE_TAB, "data"), State(sid.LOADED_PAGES, "data"),
    )
    lazy = list(boards[1:])
    if lazy:
        @app.callback([Output(sid.PAGE_PREFIX + b.id, "children") for b in lazy],
                      Input(sid.LOADED_PAGES, "data"), prevent_initial_call=True)
        def build_page(loaded: list[str] | None) -> list:
            new = loaded[-1] if loaded else None  # the browser appends the one page it lacks
            return [b.layout() if b.id == new else no_update for b in lazy]

    # In the browser: show the page, and hand the server tabs the run selection (the run
    # list lives in the browser and pushes SELECTED_RUNS only when a server tab needs it).
    app.clientside_callback(
        ClientsideFunction("vbpage", "active"),
        Output(ids.ACTIVE_TAB, "data"),
        *[Output(sid.PAGE_PREFIX + b.id, "style") for b in boards],
        Output(ids.SELECTED_RUNS, "data"),
        Input(sid.TABS, "value"),
        State(sid.BOARD_IDS, "data"),
    )


def _safe_available(board: Dashboard, provider: DataProvider) -> bool:
    try:
        return bool(board.available(provider))
    except Exception:  # a tab's availability check must never take the shell down
        return False


def _url_params(boards: Sequence[Dashboard]) -> list[UrlParam]:
    params = [
        text_param("tab", sid.TABS, default=boards[0].id if boards else "", allowed=[b.id for b in boards]),
    ]
    if any(b.id == "scalars" for b in boards):
        from vizboard.dashboards.scalars import url_params

        params += url_params()
    params += [p for b in boards if b.url_params is not None for p in b.url_params()]  # e.g. a tab's pins
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
    from vizboard.data.served import served

    if provider is None:
        from vizboard.data import load

        provider = load(config.logdir)
    provider = served(provider)  # traces and the batch scalar read for a plain Store (unchanged otherwise)
    boards = registry()
    server = Flask("vizboard")
    if config.token:
        install_token_guard(server, config.token)
    _install_static(server)
    _return_memory_after_large_answers(server)
    app = _PageFirstDash(
        "vizboard",
        server=server,
        title=config.title,
        assets_folder=str(ASSETS),
        update_title=None,
        suppress_callback_exceptions=True,  # validated by the tests against validation_layout (module docstring)
        serve_locally=True,
        compress=False,  # configured by _install_static (gzip with a cache for immutable bundles)
        external_scripts=[{"src": _PLOTLY_BASIC_ROUTE.lstrip("/")}],  # relative: works under a path prefix
        index_string=_INDEX,
        lazy_suites={b.id: b.lazy_suites for b in boards if b.lazy_suites},
    )
    app.layout = _page_layout(config, provider, boards)
    app.validation_layout = _shell_layout(config, provider, boards, every_page=True)
    _register_shell(app, provider, boards)
    for b in boards:
        b.register_callbacks(app, provider)
    register_url_state(app, ids.URL, _url_params(boards))
    register_api(server, provider, config.max_points)
    register_not_found_handlers(server)
    register_page_api(server, provider, config.max_points)
    register_group_api(server, provider)
    return app


_LARGE_ANSWER_BYTES = 1 << 20


def _return_memory_after_large_answers(server: Flask) -> None:
    """Give freed heap pages back to the OS once an answer over 1 MiB has been sent.

    Building a multi-megabyte answer (``/api/tags`` over 1,000 runs x 20 tags is 3.2 MB of JSON)
    touches freed heap pages left by the first load, and glibc keeps them: RSS grew ~15 MiB over
    100 request rounds at 1,000 runs. A ``malloc_trim`` after such an answer (a few ms, against the
    tens of ms the answer took to build) returns them.
    """
    from vizboard.data.heap import release_freed_memory

    @server.after_request
    def trim_after(resp: Response) -> Response:
        if (resp.content_length or 0) > _LARGE_ANSWER_BYTES:
            resp.call_on_close(release_freed_memory)
        return resp


def _install_static(server: Flask) -> None:
    """gzip responses (cached for immutable, fingerprinted bundles) and serve plotly.js's basic bundle."""
    from flask_compress import Compress

    server.config.update(
        COMPRESS_ALGORITHM=["gzip"], COMPRESS_LEVEL=6, COMPRESS_MIN_SIZE=500,
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript",
                            "application/json", "image/svg+xml", "text/csv"],
    )
    cache: dict[str, bytes] = {}  # one entry per immutable static file (a bounded set)

    def cache_key(req) -> str:
        # plotly.min.js has no fingerprint, but it is the installed plotly's file: fixed while we run
        immutable = req.path in (_PLOTLY_BASIC_ROUTE, _PLOTLY_FULL_PATH) or (
            req.path.startswith("/_dash-component-suites/") and _FINGERPRINT.search(req.path) is not None)
        return req.path if immutable else ""

    server.config.update(COMPRESS_CACHE_KEY=cache_key, COMPRESS_CACHE_BACKEND=lambda: _DictCache(cache))
    Compress(server)

    @server.route(_PLOTLY_BASIC_ROUTE)
    def plotly_basic_js() -> Response:
        resp = Response(PLOTLY_BASIC_JS.read_bytes(), mimetype="application/javascript")
        resp.headers["Cache-Control"] = _STATIC_CACHE
        return resp


class _DictCache:
    """The get/set interface flask-compress expects, over one app's dict; keys ending in ``;`` (not
    an immutable file) are never stored."""

    def __init__(self, d: dict[str, bytes]) -> None:
        self._d = d

    def get(self, key: str) -> bytes | None:
        return None if key.endswith(";") else self._d.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";"):
            self._d[key] = value
