"""Issue 13 item 5: NaN/±inf values and wall times through every API route and the one serializer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from flask import Flask

from tests.unit.fake_provider import FakeProvider
from vizboard.api import register_api
from vizboard.data.models import GraphData, HParamsData, HParamsSession, Kind, ScalarSeries
from vizboard.data.serialize import dumps, float_list, json_float, json_safe, series_csv, series_records

NAN, INF = float("nan"), float("inf")
BAD_WALLS = [NAN, INF, -INF]


def _strict(text: str | bytes) -> object:
    """json.loads that refuses the invalid bare NaN/Infinity tokens."""
    def refuse(tok: str) -> object:
        raise AssertionError(f"invalid JSON token {tok}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture()
def client() -> object:
    p = FakeProvider()
    p.add_scalars("r", "loss", [0, 1, 2], [NAN, INF, -INF], wall_times=BAD_WALLS)
    p.add_blob("r", "img", 1, b"\x89PNG\r\n\x1a\n" + b"\0" * 8, wall_time=NAN)
    p.add_blob("r", "clip", 1, b"RIFF\0\0\0\0WAVE", kind=Kind.AUDIO, content_type="audio/wav", wall_time=INF)
    p.add_text("r", "note", 1, "hi", wall_time=-INF)
    p.add_histogram("r", "w", 1, [NAN, 0.0], [0.0, INF], [1.0, NAN], wall_time=NAN)
    p.add_pr_curve("r", "pr", 1, np.array([[1.0, NAN]] * 6), wall_time=INF)
    p.set_graph(GraphData("r", None, {"name": "Net", "value": NAN}))
    p.set_hparams(HParamsData(("lr",), ("loss",), (
        HParamsSession("r", "", {"lr": NAN}, {"loss": -INF}, start_time=NAN, end_time=INF),)))
    server = Flask("t")
    register_api(server, p)
    return server.test_client()


@pytest.mark.parametrize("url", [
    "/api/runs", "/api/tags", "/api/scalars?run=r&tag=loss", "/api/scalars?run=r&tag=loss&x=wall_time",
    "/api/scalars?run=r&tag=loss&x=relative", "/api/histograms?run=r&tag=w", "/api/images?run=r&tag=img",
    "/api/audio?run=r&tag=clip", "/api/text?run=r&tag=note", "/api/pr_curves?run=r&tag=pr", "/api/graph?run=r",
    "/api/hparams", "/api/status", "/api/problems",
])
def test_every_route_answers_valid_json_with_nonfinite_floats(client, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, (url, r.data[:300])
    _strict(r.data)


def test_scalars_spell_nonfinite_values_and_wall_times_as_strings(client) -> None:
    got = _strict(client.get("/api/scalars?run=r&tag=loss").data)
    assert got["value"] == ["NaN", "Infinity", "-Infinity"]
    assert got["wall_time"] == ["NaN", "Infinity", "-Infinity"]
    assert _strict(client.get("/api/text?run=r&tag=note").data)["text"][0]["wall_time"] == "-Infinity"
    assert _strict(client.get("/api/histograms?run=r&tag=w").data)["histograms"][0]["wall_time"] == "NaN"
    sess = _strict(client.get("/api/hparams").data)["sessions"][0]
    assert (sess["start_time"], sess["end_time"], sess["hparams"]["lr"], sess["metrics"]["loss"]) == \
        ("NaN", "Infinity", "NaN", "-Infinity")


def _series() -> list[ScalarSeries]:
    ro = lambda a: np.asarray(a)  # noqa: E731
    return [ScalarSeries("a,b", 'x"y', ro(np.array([0, 1, 2, 3])), ro(np.array([NAN, INF, -INF, 1.5])),
                         ro(np.array([NAN, INF, -INF, 0.1])), 1)]


def test_card_downloads_and_export_share_one_spelling(tmp_path) -> None:
    text = series_csv(_series())
    assert text.splitlines() == [
        "run,tag,step,wall_time,value", '"a,b","x""y",0,nan,nan', '"a,b","x""y",1,inf,inf',
        '"a,b","x""y",2,-inf,-inf', '"a,b","x""y",3,1.5,0.1']
    recs = series_records(_series())
    assert [(r["wall_time"], r["value"]) for r in recs] == [
        ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), (1.5, 0.1)]
    _strict(dumps(recs))
    import pandas as pd

    (tmp_path / "x.csv").write_text(text)
    back = pd.read_csv(tmp_path / "x.csv")
    assert math.isnan(back["value"][0]) and back["wall_time"][1] == INF and back["value"][2] == -INF


def test_export_formats_match_the_serializer(tmp_path) -> None:
    from vizboard.export import export_scalars

    class P:
        def tags(self, kind=None, runs=None):
            from vizboard.data.models import TagInfo

            return [TagInfo("a,b", 'x"y', Kind.SCALARS, "scalars", 4, 1)]

        def scalars(self, run, tag):
            return _series()[0]

    export_scalars(P(), tmp_path / "o.csv", fmt="csv", progress=False)
    assert (tmp_path / "o.csv").read_text() == series_csv(_series())
    export_scalars(P(), tmp_path / "o.jsonl", fmt="json", progress=False)
    lines = [_strict(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [(x["wall_time"], x["value"]) for x in lines] == [
        (r["wall_time"], r["value"]) for r in series_records(_series())]
    import pandas as pd

    assert export_scalars(P(), tmp_path / "o.pq", fmt="parquet", progress=False) == 4
    pq = pd.read_parquet(tmp_path / "o.pq")
    assert math.isnan(pq["wall_time"][0]) and pq["value"][1] == INF and pq["wall_time"][2] == -INF


def test_json_helpers() -> None:
    assert json_float(NAN) == "NaN" and json_float(-INF) == "-Infinity" and json_float(2.0) == 2.0
    assert float_list(np.array([1.0, NAN])) == [1.0, "NaN"]
    assert json_safe({"k": (np.float32(NAN), np.int64(3), Kind.TEXT, [INF])}) == {"k": ["NaN", 3, "text", ["Infinity"]]}
    with pytest.raises(TypeError):
        dumps(object())
