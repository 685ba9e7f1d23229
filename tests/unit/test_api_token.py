"""--token: every route (pages, Dash callbacks, assets, API) needs the token or its cookie."""

from __future__ import annotations

import pytest

from tests.unit.fake_provider import FakeProvider
from vizboard.app import TOKEN_COOKIE, create_app
from vizboard.config import ServeConfig

TOKEN = "s3cr3t-t0ken"


@pytest.fixture(scope="module")
def client():
    p = FakeProvider()
    p.add_scalars("r", "loss", [0, 1], [1.0, 2.0])
    app = create_app(ServeConfig("/fake/logdir", token=TOKEN), p)
    return app.server.test_client


@pytest.mark.parametrize("path", ["/", "/api/version", "/api/runs", "/_dash-layout", "/_dash-dependencies",
                                  "/assets/vizboard.css", "/api/nope", "/anything"])
def test_requests_without_token_get_401(client, path):
    c = client()
    resp = c.get(path)
    assert resp.status_code == 401, path
    assert b"token" in resp.data


def test_dash_callback_endpoint_needs_the_token(client):
    c = client()
    assert c.post("/_dash-update-component", json={}).status_code == 401
    assert c.post("/_dash-update-component", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_wrong_token_is_rejected(client):
    c = client()
    assert c.get("/?token=nope").status_code == 401
    assert c.get("/api/version?token=" + TOKEN[:-1]).status_code == 401


def test_token_on_first_page_load_sets_a_strict_httponly_cookie(client):
    c = client()
    resp = c.get(f"/?token={TOKEN}&tab=scalars")
    assert resp.status_code == 200  # answered directly: works when the link is opened from another site
    cookie = resp.headers["Set-Cookie"]
    assert f"{TOKEN_COOKIE}={TOKEN}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    # the cookie now opens every route
    c2 = client()
    c2.set_cookie(TOKEN_COOKIE, TOKEN)
    assert c2.get("/").status_code == 200
    assert c2.get("/api/version").status_code == 200
    assert c2.get("/assets/vizboard.css").status_code == 200
    assert c2.get("/_dash-layout").status_code == 200
    c3 = client()
    c3.set_cookie(TOKEN_COOKIE, "forged")
    assert c3.get("/api/version").status_code == 401


def test_api_accepts_token_param_and_bearer_header(client):
    c = client()
    assert c.get(f"/api/runs?token={TOKEN}").status_code == 200
    assert c.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_without_token_config_no_auth():
    p = FakeProvider()
    app = create_app(ServeConfig("/fake/logdir"), p)
    c = app.server.test_client()
    assert c.get("/api/version").status_code == 200
    assert c.get("/").status_code == 200
