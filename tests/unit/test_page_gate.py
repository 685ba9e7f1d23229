"""PageGate: the API answers at once, page requests wait for the page app, then 503 or 500 with the reason."""

from __future__ import annotations

import threading

from werkzeug.test import Client
from werkzeug.wrappers import Response

from vizboard.page_gate import PageGate


def _app(name: str):
    def app(environ, start_response):
        return Response(f"{name}:{environ['PATH_INFO']}")(environ, start_response)
    return app


def test_api_answers_while_the_page_is_being_built_and_page_requests_wait_for_it():
    gate = PageGate(_app("api"), wait_s=30)
    client = Client(gate)
    assert client.get("/api/status").get_data(as_text=True) == "api:/api/status"
    assert client.get("/api").get_data(as_text=True) == "api:/api"
    got: list[str] = []
    waiting = threading.Thread(target=lambda: got.append(client.get("/").get_data(as_text=True)))
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive() and got == []  # held until the page app exists
    gate.open(_app("page"))
    waiting.join(30)
    assert got == ["page:/"]
    assert gate.page_ready
    assert client.get("/apix").get_data(as_text=True) == "page:/apix"  # only /api and /api/... go to the API


def test_a_page_request_gets_503_with_retry_after_when_the_page_takes_too_long():
    gate = PageGate(_app("api"), wait_s=0.05)
    resp = Client(gate).get("/")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert "still being built" in resp.get_data(as_text=True)


def test_a_failed_build_is_named_on_page_requests_and_the_api_keeps_answering():
    gate = PageGate(_app("api"), wait_s=30)
    gate.fail("ImportError: no module named dash")
    resp = Client(gate).get("/_dash-layout")
    assert resp.status_code == 500 and "ImportError: no module named dash" in resp.get_data(as_text=True)
    assert Client(gate).get("/api/runs").get_data(as_text=True) == "api:/api/runs"
    assert not gate.page_ready


def test_fail_after_open_keeps_serving_the_page():
    gate = PageGate(_app("api"), wait_s=30)
    gate.open(_app("page"))
    gate.fail("the server is stopping")
    assert Client(gate).get("/").get_data(as_text=True) == "page:/"
