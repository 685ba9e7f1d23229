"""The Flask side shared by the page app and the JSON API app: token guard, gzip, memory trim, the API app.

Nothing here imports Dash. ``VizboardServer`` serves the JSON API (``/api/...``) from
:func:`create_api_server`, a plain Flask app that answers as soon as the port is bound, while
the Dash page app (:func:`vizboard.app.create_app`) is built after the first load; both get the
same guard, compression and memory trim from this module.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request

from vizboard.config import ServeConfig
from vizboard.data.provider import DataProvider

__all__ = ["TOKEN_COOKIE", "create_api_server", "install_compression", "install_token_guard",
           "register_api_routes", "return_memory_after_large_answers"]

TOKEN_COOKIE = "vizboard_token"

_LARGE_ANSWER_BYTES = 1 << 20


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


def return_memory_after_large_answers(server: Flask) -> None:
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


def install_compression(server: Flask, cache_key: Callable[[Any], str] | None = None) -> None:
    """gzip text answers over 500 bytes (flask-compress). ``cache_key(request)`` names an answer
    whose compressed bytes may be kept for the app's life (immutable files); ``""`` for the rest."""
    from flask_compress import Compress

    server.config.update(
        COMPRESS_ALGORITHM=["gzip"], COMPRESS_LEVEL=6, COMPRESS_MIN_SIZE=500,
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript",
                            "application/json", "image/svg+xml", "text/csv"],
    )
    if cache_key is not None:
        cache: dict[str, bytes] = {}  # one entry per immutable static file (a bounded set)
        server.config.update(COMPRESS_CACHE_KEY=cache_key, COMPRESS_CACHE_BACKEND=lambda: _DictCache(cache))
    Compress(server)


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


def register_api_routes(server: Flask, provider: DataProvider, config: ServeConfig) -> None:
    """Every JSON route under ``/api``: the data API, the Scalars page's API and its groups API."""
    from vizboard.api import register_api
    from vizboard.page_api import register_page_api
    from vizboard.page_groups_api import register_group_api

    register_api(server, provider, config.max_points)
    register_page_api(server, provider, config.max_points)
    register_group_api(server, provider)


def create_api_server(config: ServeConfig, provider: DataProvider) -> Flask:
    """The JSON API (``/api/...``) as a Flask app of its own, with the token guard, gzip and the
    memory trim; serves ``provider`` as given (pass ``served(store)``)."""
    server = Flask("vizboard-api")
    if config.token:
        install_token_guard(server, config.token)
    install_compression(server)
    return_memory_after_large_answers(server)
    register_api_routes(server, provider, config)
    return server
