"""The Scalars page's data routes (/api/page/*): first screen, packed series, changes, downloads."""

from __future__ import annotations

import base64
import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from flask import Flask

from vizboard.data.downsample import select_indices
from vizboard.data.smoothing import smooth_series
from vizboard.page_api import register_page_api


def _write(root: Path) -> None:
    from logger import SummaryWriter

    for k, run in enumerate(("a", "b", "c")):
        w = SummaryWriter(str(root / run))
        for i in range(3000):
            v = math.sin(i / 50.0) + k
            if run == "a" and i == 1234:
                v = 50.0  # a spike
            if run == "a" and i == 10:
                v = float("nan")
            if run == "a" and i == 20:
                v = float("inf")
            w.add_scalar("loss/train", v, i)
            if i % 100 == 0:
                w.add_scalar("acc", i / 3000.0, i)
        w.close()


@pytest.fixture()
def client(tmp_path):
    from vizboard.data import load

    _write(tmp_path)
    provider = load(str(tmp_path))
    server = Flask("t")
    register_page_api(server, provider)
    return server.test_client(), provider


def _unpack(o: dict) -> dict:
    out = {"step": np.frombuffer(base64.b64decode(o["si"]), "<i4") if "si" in o
           else np.frombuffer(base64.b64decode(o["s"]), "<f8")}
    out["wall"] = np.frombuffer(base64.b64decode(o["t"]), "<f4").astype(np.float64) + o["t0"]
    out["value"] = np.frombuffer(base64.b64decode(o["v"]), "<f4")
    if "m" in o:
        out["smoothed"] = np.frombuffer(base64.b64decode(o["m"]), "<f4")
    return out


def test_init_holds_runs_sections_for_all_runs_and_the_first_cards_series(client):
    c, _ = client
    body = c.get("/api/page/init?run=a&run=b&n=1").get_json()
    assert body["runs"] == ["a", "b", "c"] and len(set(body["colors"])) == 3
    cards = [card for sec in body["sections"] for card in sec["cards"]]
    assert sorted(card["title"] for card in cards) == ["acc", "loss/train"]
    assert all(card["runs"] == [0, 1, 2] for card in cards)  # structure covers every run
    first = body["sections"][0]["cards"][0]["tag"]
    assert sorted((s["run"], s["tag"]) for s in body["series"]) == [("a", first), ("b", first)]  # only selected


def test_series_are_downsampled_with_spikes_and_nonfinite_kept_and_smoothed_on_the_full_series(client):
    c, provider = client
    body = c.post("/api/page/series", json={"items": [["a", "loss/train"], ["zz", "nope"]], "smooth": "ema",
                                            "w": 0.9, "max_points": 400}).get_json()
    (s,) = body["series"]  # the unknown item is left out
    got = _unpack(s)
    full = provider.scalars("a", "loss/train")
    idx = select_indices(full, 400)
    assert s["n"] == 3000 and s["k"] == len(idx) <= 400
    assert got["step"].tolist() == full.step[idx].tolist()
    assert 1234 in got["step"].tolist() and got["value"][np.isfinite(got["value"])].max() == 50.0
    assert np.isnan(got["value"][got["step"] == 10]).all() and np.isposinf(got["value"][got["step"] == 20]).all()
    want = smooth_series(full, "ema", 0.9)[idx].astype(np.float32)
    assert np.array_equal(got["smoothed"], want, equal_nan=True)
    assert np.allclose(got["wall"], full.wall_time[idx], atol=1e-3)


def test_a_zoom_window_comes_at_full_resolution(client):
    c, _ = client
    body = c.post("/api/page/series", json={"items": [["b", "loss/train"]], "smooth": "none", "w": 0,
                                            "max_points": 2000, "x_range": [1000, 1300]}).get_json()
    got = _unpack(body["series"][0])
    inside = got["step"][(got["step"] >= 1000) & (got["step"] <= 1300)]
    assert inside.tolist() == list(range(1000, 1301)) and "smoothed" not in got


def test_changes_list_only_newer_series_and_the_structure_only_when_it_changed(client):
    c, provider = client
    init = c.get("/api/page/init").get_json()
    same = c.get(f"/api/page/changes?since={init['version']}&h={init['hash']}").get_json()
    assert same["changed"] == [] and "sections" not in same
    everything = c.get("/api/page/changes?since=-1&h=stale").get_json()
    assert len(everything["changed"]) == 6 and everything["hash"] == init["hash"]


def test_etag_revalidation_gzip_and_bad_input(client):
    c, _ = client
    r = c.get("/api/page/init", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(r.data))["runs"]
    assert c.get("/api/page/init", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert c.post("/api/page/series", json={"items": "a"}).status_code == 400
    assert c.post("/api/page/series", json={"items": [], "smooth": "wobbly"}).status_code == 400
    assert c.post("/api/page/series", json={"items": [], "x_range": [0, "x"]}).status_code == 400
    assert c.get("/api/page/changes?since=x").status_code == 400


def test_download_gives_full_resolution_rows(client):
    c, _ = client
    r = c.post("/api/page/download", json={"items": [["a", "acc"]], "format": "csv"})
    rows = r.get_data(as_text=True).splitlines()
    assert rows[0] == "run,tag,step,wall_time,value" and len(rows) == 31
    r = c.post("/api/page/download", json={"items": [["a", "loss/train"]], "format": "json"})
    recs = json.loads(r.data)
    assert len(recs) == 3000 and recs[10]["value"] == "NaN" and recs[20]["value"] == "Infinity"


def test_live_long_poll_answers_on_a_change_with_the_changed_series_asked_for(client):
    import threading

    c, provider = client
    init = c.get("/api/page/init").get_json()
    v0 = init["version"]
    body = {"since": v0, "h": init["hash"], "wait": 0, "items": [["a", "loss/train"]], "smooth": "ema", "w": 0.6,
            "max_points": 300}
    idle = c.post("/api/page/live", json=body).get_json()
    assert idle["version"] == v0 and idle["changed"] == [] and "series" not in idle and "sections" not in idle
    everything = c.post("/api/page/live", json=dict(body, since=-1)).get_json()
    assert len(everything["changed"]) == 6
    assert [(s["run"], s["tag"]) for s in everything["series"]] == [("a", "loss/train")]  # only what was asked
    want = smooth_series(provider.scalars("a", "loss/train"), "ema", 0.6)
    got = _unpack(everything["series"][0])
    idx = select_indices(provider.scalars("a", "loss/train"), 300)
    np.testing.assert_allclose(got["smoothed"], want[idx].astype(np.float32), equal_nan=True)

    class Bumped:  # the same data, then a newer version of one series (as after a flush)
        def __init__(self, inner):
            self.inner, self.bumped = inner, threading.Event()

        def version(self):
            return self.inner.version() + (1 if self.bumped.is_set() else 0)

        def tags(self, kind=None, runs=None):
            out = self.inner.tags(kind, runs) if runs is not None else self.inner.tags(kind)
            if not self.bumped.is_set():
                return out
            return [dataclasses.replace(t, version=self.version()) if (t.run, t.tag) == ("b", "acc") else t
                    for t in out]

        def __getattr__(self, name):
            return getattr(self.inner, name)

    import dataclasses

    bumped = Bumped(provider)
    server = Flask("live")
    register_page_api(server, bumped)
    c2 = server.test_client()
    timer = threading.Timer(0.2, bumped.bumped.set)
    timer.start()
    try:
        res = c2.post("/api/page/live", json=dict(body, wait=20, items=[["a", "loss/train"], ["b", "acc"]])).get_json()
    finally:
        timer.cancel()
    assert res["version"] == v0 + 1  # it waited for the change instead of answering "no change"
    assert res["changed"] == [["b", "acc", v0 + 1]]
    assert [(s["run"], s["tag"]) for s in res["series"]] == [("b", "acc")]
    assert c.post("/api/page/live", json={"since": "x"}).status_code == 400
    assert c.post("/api/page/live", json={"since": 1, "items": "a"}).status_code == 400
