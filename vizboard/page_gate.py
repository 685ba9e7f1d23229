"""PageGate: the WSGI app ``vizboard serve`` listens with: ``/api/...`` at once, every other path once the page app is built.

The JSON API is a plain Flask app (:func:`vizboard.web.create_api_server`) that answers from the
moment the port is bound; the Dash page app is built in the background (``VizboardServer``). A
page request that arrives before it is ready waits for it (up to ``wait_s`` seconds, then 503
with ``Retry-After``); if building it failed, page requests get a 500 that says so (the cause is
in the server's log), while the API keeps answering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["PageGate"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PageGate:
    """Routes ``/api`` and ``/api/...`` to ``api``; every other path to the page app set by :meth:`open`."""

    def __init__(self, api: WsgiApp, wait_s: float = 60.0) -> None:
        """``wait_s``: how long (seconds) a page request waits for the page app before a 503."""
        self._api = api
        self._wait_s = wait_s
        self._page: WsgiApp | None = None
        self._error = ""
        self._ready = threading.Event()

    def open(self, page: WsgiApp) -> None:
        """The page app is built: serve it (waiting requests go on at once)."""
        self._page = page
        self._ready.set()

    def fail(self, reason: str) -> None:
        """The page app cannot be served (build failed, or the server is stopping): page requests get
        a 500 naming ``reason``; the API still answers."""
        if self._page is None:
            self._error = reason
        self._ready.set()

    @property
    def page_ready(self) -> bool:
        """True once the page app serves requests."""
        return self._page is not None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/api" or path.startswith("/api/"):
            return self._api(environ, start_response)
        if not self._ready.wait(self._wait_s):
            return _text(start_response, "503 Service Unavailable",
                         "vizboard: the page is still being built; reload in a moment\n", [("Retry-After", "1")])
        page = self._page
        if page is None:
            return _text(start_response, "500 Internal Server Error",
                         f"vizboard: the page could not be built ({self._error}); see the server's log\n", [])
        return page(environ, start_response)


def _text(start_response: Callable[..., Any], status: str, body: str, extra: list[tuple[str, str]]) -> list[bytes]:
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data))),
                            ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"), *extra])
    return [data]
