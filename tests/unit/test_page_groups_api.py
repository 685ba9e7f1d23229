"""The Scalars page's comparison routes: /api/page/groups, /api/page/groups/series (packed aggregates), /api/page/xseries."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import pytest
from flask import Flask

from vizboard.data.groups import aggregate
from vizboard.data.models import ScalarSeries
from vizboard.page_groups_api import pack_group, parse_group_request, register_group_api

RUNS = ("lr_0.1_seed0", "lr_0.1_seed1", "lr_0.01_seed0", "lr_0.01_seed1")


def _write(root: Path) -> None:
    from logger import SummaryWriter

    for k, run in enumerate(RUNS):
        w = SummaryWriter(str(root / run))
        every = 1 + k % 2  # seed1 logs every other step: its values are interpolated in the group
        for i in range(0, 2000, every):
            v = math.exp(-i / 500) + 0.1 * k
            if run == "lr_0.1_seed0" and i == 1000:
                v = 40.0  # one seed's spike: the band must keep it after downsampling
            w.add_scalar("loss", v, i)
            w.add_scalar("tokens", i * 100.0, i) if i % 10 == 0 else None
        w.close()


@pytest.fixture()
def client(tmp_path):
    from vizboard.data import load

    _write(tmp_path)
    provider = load(str(tmp_path))
    server = Flask("t")
    register_group_api(server, provider)
    return server.test_client()


def _arr(o: dict, key: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(o[key]), dtype)


def test_groups_route_groups_every_run_by_a_regex_capture(client):
    res = client.get("/api/page/groups", query_string={"by": "regex", "key": r"(.*)_seed\d+"}).get_json()
    assert dict((g, sorted(m)) for g, m in res["groups"]) == {
        "lr_0.1": ["lr_0.1_seed0", "lr_0.1_seed1"], "lr_0.01": ["lr_0.01_seed0", "lr_0.01_seed1"]}


@pytest.mark.parametrize("query, word", [({"by": "nope", "key": "x"}, "by must be"),
                                          ({"by": "regex", "key": ""}, "key is required"),
                                          ({"by": "regex", "key": "(unclosed"}, "regular expression")])
def test_groups_route_rejects_bad_input_naming_the_argument(client, query, word):
    r = client.get("/api/page/groups", query_string=query)
    assert r.status_code == 400 and word in r.get_json()["error"]


def test_group_series_is_packed_aggregated_at_full_resolution_and_keeps_the_spike(client):
    body = {"items": [["lr_0.1", ["lr_0.1_seed0", "lr_0.1_seed1"], "loss"]], "line": "mean", "band": "minmax",
            "smooth": "none", "max_points": 100}
    o = client.post("/api/page/groups/series", json=body).get_json()["series"][0]
    step, line = _arr(o, "si", "<i4"), _arr(o, "l", "<f4")
    lo, hi, count, interp = _arr(o, "lo", "<f4"), _arr(o, "hi", "<f4"), _arr(o, "c", "<u2"), _arr(o, "f", "u1")
    assert o["name"] == "lr_0.1" and sorted(o["members"]) == ["lr_0.1_seed0", "lr_0.1_seed1"]
    assert o["n"] == 2000 and step.size == o["k"] <= 300 and np.all(np.diff(step) > 0)
    assert hi.max() == pytest.approx(40.0)  # the spike of one seed survives in the band
    at = int(np.flatnonzero(step == 1000)[0])
    assert line[at] == pytest.approx((40.0 + math.exp(-2) + 0.1) / 2, rel=1e-5)  # mean of the spike and seed1
    assert count.max() == 2 and interp.any()  # seed1 logged every other step: interpolated points are flagged
    assert np.all(lo <= line + 1e-6) and np.all(line <= hi + 1e-6)


def test_group_series_with_metric_as_x_sends_the_members_mean_x(client):
    body = {"items": [["lr_0.01", ["lr_0.01_seed0", "lr_0.01_seed1"], "loss"]], "xtag": "tokens", "smooth": "ema",
            "w": 0.5, "max_points": 4000}
    o = client.post("/api/page/groups/series", json=body).get_json()["series"][0]
    step, x = _arr(o, "si", "<i4"), _arr(o, "x", "<f8")
    assert np.allclose(x, step * 100.0)  # tokens = 100 per step, joined by step (interpolated between its points)


def test_group_series_rejects_bad_bodies(client):
    for body, word in [({"items": "x"}, "items"), ({"items": [], "line": "avg"}, "line"),
                       ({"items": [], "band": "iqr"}, "band"), ({"items": [], "w": 2}, "w must")]:
        r = client.post("/api/page/groups/series", json=body)
        assert r.status_code == 400 and word in r.get_json()["error"]


def test_xseries_joins_each_run_with_its_x_tag_by_step(client):
    o = client.post("/api/page/xseries", json={"items": [["lr_0.1_seed1", "loss"]], "xtag": "tokens", "smooth": "none",
                                               "max_points": 4000}).get_json()["series"][0]
    step, x, v = _arr(o, "si", "<i4"), _arr(o, "x", "<f8"), _arr(o, "v", "<f4")
    assert np.allclose(x, step * 100.0) and step.size == v.size and step.max() <= 1990
    r = client.post("/api/page/xseries", json={"items": [["lr_0.1_seed1", "loss"]]})
    assert r.status_code == 400 and "xtag" in r.get_json()["error"]


def test_parse_group_request_clamps_points_and_orders_the_range():
    req = parse_group_request({"items": [["g", ["a"], "t"]], "max_points": 10**9, "x_range": [5, 1]}, groups=True)
    assert req.items == [("g", ("a",), "t")] and req.max_points == 4000 and req.x_range == (1.0, 5.0)
    with pytest.raises(ValueError, match="x_range"):
        parse_group_request({"items": [], "x_range": [0, float("inf")]}, groups=True)


def test_pack_group_round_trips_and_saturates_the_member_count():
    s = [ScalarSeries(f"r{i}", "t", np.arange(5, dtype=np.int64), np.zeros(5), np.full(5, float(i)), 1)
         for i in range(3)]
    agg = aggregate(s, name="g", band="std")
    o = pack_group(agg, np.arange(5), None)
    assert list(_arr(o, "l", "<f4")) == [1.0] * 5 and list(_arr(o, "c", "<u2")) == [3] * 5
    assert np.allclose(_arr(o, "hi", "<f4"), 2.0) and "x" not in o
    big = aggregate(s, name="g")
    object.__setattr__(big, "count", np.full(5, 70_000))
    assert list(_arr(pack_group(big, np.arange(5), None), "c", "<u2")) == [65535] * 5


def test_comparison_routes_are_behind_the_token_guard():
    from tests.unit.fake_provider import FakeProvider
    from vizboard.app import create_app
    from vizboard.config import ServeConfig

    p = FakeProvider()
    p.add_scalars("r_seed0", "loss", [0, 1], [1.0, 2.0])
    c = create_app(ServeConfig("/fake/logdir", token="tok"), p).server.test_client()
    q = {"by": "regex", "key": r"(.*)_seed\d+"}
    assert c.get("/api/page/groups", query_string=q).status_code == 401
    body = {"items": [["r", ["r_seed0"], "loss"]]}
    assert c.post("/api/page/groups/series", json=body).status_code == 401
    assert c.post("/api/page/xseries", json={"items": [["r_seed0", "loss"]], "xtag": "loss"}).status_code == 401
    ok = c.get("/api/page/groups", query_string=q, headers={"Authorization": "Bearer tok"})
    assert ok.status_code == 200 and ok.get_json()["groups"] == [["r", ["r_seed0"]]]
    got = c.post("/api/page/groups/series", json=body, headers={"Authorization": "Bearer tok"}).get_json()
    assert got["series"][0]["members"] == ["r_seed0"]


def test_group_series_on_time_axes_sends_the_members_mean_time(client):
    members = ["lr_0.1_seed0", "lr_0.1_seed1"]
    item = [["lr_0.1", members, "loss"]]
    rel = client.post("/api/page/groups/series", json={"items": item, "xaxis": "relative", "smooth": "none",
                                                       "max_points": 4000}).get_json()["series"][0]
    wall = client.post("/api/page/groups/series", json={"items": item, "xaxis": "wall_time", "smooth": "none",
                                                        "max_points": 4000}).get_json()["series"][0]
    plain = client.post("/api/page/groups/series", json={"items": item, "smooth": "none",
                                                         "max_points": 4000}).get_json()["series"][0]
    assert "x" not in plain  # step: no x array
    rx, wx, step = _arr(rel, "x", "<f8"), _arr(wall, "x", "<f8"), _arr(rel, "si", "<i4")
    assert rx.size == step.size == wx.size
    assert rx[0] == pytest.approx(0.0, abs=1e-9) and rx.min() >= 0  # seconds since each member's start
    assert wx.min() > 1e9 and wx.max() - wx.min() < 3600  # epoch seconds (the runs were written just now)
    bad = client.post("/api/page/groups/series", json={"items": item, "xaxis": "epoch"})
    assert bad.status_code == 400 and "xaxis" in bad.get_json()["error"]


def test_parse_group_request_time_axis_yields_to_xtag():
    assert parse_group_request({"items": [], "xaxis": "relative"}, groups=True).xaxis == "relative"
    assert parse_group_request({"items": [], "xaxis": "relative", "xtag": "tokens"}, groups=True).xaxis == "step"
    assert parse_group_request({"items": []}, groups=True).xaxis == "step"
