"""The JSON API on an in-memory provider: shapes, NaN strings, max_points, 404s, blobs, token guard."""

from __future__ import annotations

import json

import numpy as np
import pytest
from flask import Flask

from tests.unit.fake_provider import FakeProvider
from vizboard.api import register_api, sniff_mime
from vizboard.data.models import DataProblem, GraphData, HParamsData, HParamsSession, Kind

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 20


@pytest.fixture()
def provider() -> FakeProvider:
    p = FakeProvider()
    rng = np.random.default_rng(0)
    v = rng.normal(size=50_000)
    v[31_337] = 99.0
    v[4_242] = -77.0
    p.add_scalars("run1", "loss", np.arange(50_000), v)
    p.add_scalars("run2", "loss", [0, 1, 2, 3], [1.0, float("nan"), float("inf"), float("-inf")])
    p.add_blob("run1", "img", 5, PNG)
    p.add_blob("run1", "clip", 7, WAV, kind=Kind.AUDIO, content_type="audio/wav")
    p.add_text("run1", "notes", 3, "**hi**")
    p.add_histogram("run1", "w", 2, [0.0, 1.0], [1.0, 2.0], [3.0, 4.0])
    p.add_problem(DataProblem("run1", "/fake/logdir/run1/events", 128, 16, "payload_crc", "bad CRC"))
    p.set_graph(GraphData("run1", None, {"name": "Net", "children": []}))
    p.set_hparams(HParamsData(("lr",), ("loss",), (HParamsSession("run1", "", {"lr": 0.1}, {"loss": float("nan")}),)))
    return p


@pytest.fixture()
def client(provider):
    server = Flask("t")
    register_api(server, provider)
    return server.test_client()


def _get(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code, resp.data[:200])
    return json.loads(resp.data) if resp.mimetype == "application/json" else resp


def test_version_status_runs_tags(client, provider):
    assert _get(client, "/api/version")["version"] == provider.version()
    st = _get(client, "/api/status")
    assert st["loading"] is False and st["num_runs"] == 2 and st["num_problems"] == 1
    runs = _get(client, "/api/runs")
    assert [r["name"] for r in runs] == ["run1", "run2"] and runs[0]["color"].startswith("#")
    tags = _get(client, "/api/tags?kind=scalars")
    assert {(t["run"], t["tag"]) for t in tags} == {("run1", "loss"), ("run2", "loss")}
    assert {t["kind"] for t in _get(client, "/api/tags")} >= {"scalars", "images", "audio", "text", "histograms"}
    assert _get(client, "/api/tags?kind=bogus", 400)["error"]


def test_scalars_match_data_and_nonfinite_are_strings(client):
    out = _get(client, "/api/scalars?run=run2&tag=loss")
    assert out["step"] == [0, 1, 2, 3]
    assert out["value"] == [1.0, "NaN", "Infinity", "-Infinity"]
    assert out["num_points"] == 4


def test_max_points_bounds_the_series_and_keeps_global_min_and_max(client, provider):
    full = provider.scalars("run1", "loss")
    for mp in (100, 1000, 4000):
        out = _get(client, f"/api/scalars?run=run1&tag=loss&max_points={mp}")
        assert len(out["value"]) <= mp
        assert max(out["value"]) == full.value.max() == 99.0
        assert min(out["value"]) == full.value.min() == -77.0
        assert out["step"] == sorted(out["step"])
        idx = np.asarray(out["step"])
        np.testing.assert_array_equal(np.asarray(out["value"]), full.value[idx])
    _get(client, "/api/scalars?run=run1&tag=loss&max_points=5", 400)
    _get(client, "/api/scalars?run=run1&tag=loss&max_points=99999", 400)


def test_scalars_x_range(client):
    out = _get(client, "/api/scalars?run=run1&tag=loss&x_min=100&x_max=200")
    assert out["step"][0] == 99 and out["step"][-1] == 201
    out = _get(client, "/api/scalars?run=run1&tag=loss&x_min=49990")
    assert out["step"][0] == 49989 and out["step"][-1] == 49999
    _get(client, "/api/scalars?run=run1&tag=loss&x_min=abc", 400)


@pytest.mark.parametrize("route", ["scalars", "histograms", "images", "audio", "text", "pr_curves", "blob"])
@pytest.mark.parametrize("run", ["../../etc", "/etc/passwd", "run1/../../..", "nope", "..", "."])
def test_unknown_or_escaping_runs_give_404_on_every_route(client, route, run):
    from urllib.parse import quote

    out = _get(client, f"/api/{route}?run={quote(run)}&tag=loss&step=0", 404)
    assert "unknown run" in out["error"]


@pytest.mark.parametrize("route", ["scalars", "histograms", "images", "text", "blob"])
def test_unknown_tags_give_404(client, route):
    assert _get(client, f"/api/{route}?run=run1&tag=../../x&step=5", 404)["error"]


def test_unknown_api_paths_give_404(client):
    for path in ("/api/nope", "/api/", "/api/../etc/passwd", "/api/scalars/extra", "/api/%2e%2e/%2e%2e/etc/passwd"):
        resp = client.get(path)
        assert resp.status_code == 404, path
    _get(client, "/api/graph?run=nope", 404)
    _get(client, "/api/graph?run=run2", 404)


def test_images_list_blob_urls_and_blob_bytes_with_mime_and_etag(client):
    imgs = _get(client, "/api/images?run=run1&tag=img")["images"]
    assert len(imgs) == 1 and imgs[0]["step"] == 5
    url = imgs[0]["url"]
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data == PNG and resp.mimetype == "image/png"
    assert resp.headers["Content-Length"] == str(len(PNG))
    assert "immutable" in resp.headers["Cache-Control"]
    etag = resp.headers["ETag"]
    again = client.get("/api/blob?run=run1&tag=img&step=5&index=0", headers={"If-None-Match": etag})
    assert again.status_code == 304 and "no-cache" in again.headers["Cache-Control"]
    _get(client, "/api/blob?run=run1&tag=img&step=6&index=0", 404)
    audio = _get(client, "/api/audio?run=run1&tag=clip")["audio"]
    assert client.get(audio[0]["url"]).mimetype == "audio/wav"


def test_text_histograms_problems_graph_hparams(client):
    assert _get(client, "/api/text?run=run1&tag=notes")["text"][0]["value"] == "**hi**"
    h = _get(client, "/api/histograms?run=run1&tag=w")["histograms"][0]
    assert h["step"] == 2 and h["buckets"] == [[0.0, 1.0], [1.0, 2.0], [3.0, 4.0]] and h["sum"] == "NaN"
    assert _get(client, "/api/problems")[0]["kind"] == "payload_crc"
    assert _get(client, "/api/problems?run=run2") == []
    assert _get(client, "/api/graph?run=run1")["module_tree"]["name"] == "Net"
    hp = _get(client, "/api/hparams")
    assert hp["sessions"][0]["metrics"]["loss"] == "NaN" and hp["hparam_names"] == ["lr"]


@pytest.mark.parametrize("data,mime", [
    (PNG, "image/png"), (b"\xff\xd8\xff\xe0xx", "image/jpeg"), (b"GIF89a..", "image/gif"),
    (b"BM....", "image/bmp"), (WAV, "audio/wav"), (b"<svg onload=alert(1)>", "application/octet-stream"),
])
def test_sniff_mime(data, mime):
    assert sniff_mime(data) == mime


@pytest.mark.parametrize("path", ["dash/nope.js", "nopkg/x.js", "dash/dcc/nope.v3_0_0m1.js", "dash/../../etc/passwd"])
def test_unknown_component_suite_files_answer_404(provider, path: str) -> None:
    """Issue 16: Dash raised DependencyException (500) for these; create_app installs the handler."""
    from vizboard.app import create_app
    from vizboard.config import ServeConfig

    app = create_app(ServeConfig(logdir=provider.logdir), provider)
    c = app.server.test_client()
    r = c.get(f"/_dash-component-suites/{path}")
    assert r.status_code == 404 and b"registered" not in r.data
    assert c.get("/_dash-component-suites/plotly/package_data/plotly.min.js").status_code == 200
