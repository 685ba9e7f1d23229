"""Runs tab pieces: table columns/rows/CSV (vizboard.figures.runs_table) and the tab's view builder."""

from __future__ import annotations

import math

import pytest

from tests.unit.fake_provider import FakeProvider
from vizboard.dashboards.runs import build_view, default_metrics
from vizboard.data.runs_table import MetricSummary, RunRow, RunsTable
from vizboard.figures import runs_table as rt


def _table() -> RunsTable:
    return RunsTable(("lr", "bn"), ("loss",), (
        RunRow("a", ("a",), 1_700_000_000.0, 3725.0, 40, "running", {"lr": 0.001, "bn": True},
               {"loss": MetricSummary(1.0, 0.5, math.nan)}),
        RunRow("b", ("b",), math.nan, math.nan, -1, "finished", {}, {"loss": MetricSummary(2.0, 1.0, 3.0)}),
    ))


def test_columns_and_records():
    cols = rt.columns(_table())
    ids = [c["id"] for c in cols]
    # metrics first (what a comparison reads), then the configuration, then timing
    assert ids == ["run", "status", "metric:loss:last", "metric:loss:min", "metric:loss:max",
                   "hparam:lr", "hparam:bn", "last_step", "start", "duration"]
    rows = rt.records(_table())
    assert rows[0]["id"] == "a" and rows[0]["members"] == ["a"]
    assert rows[0]["start"] == "2023-11-14 22:13:20" and rows[0]["duration"] == "01:02:05"
    assert rows[0]["hparam:bn"] == "true" and rows[0]["metric:loss:max"] is None
    assert rows[1]["last_step"] is None and rows[1]["start"] == "" and rows[1]["duration"] == ""
    with pytest.raises(ValueError, match="stats"):
        rt.columns(_table(), stats=("mean",))


def test_csv_has_named_headers_and_empty_cells():
    cols = rt.columns(_table(), stats=("last",))
    text = rt.to_csv(rt.records(_table(), stats=("last",)), cols)
    lines = text.splitlines()
    assert lines[0] == "run,status,loss/last,hparams/lr,hparams/bn,last step,start (UTC),duration"
    assert lines[2] == "b,finished,2.0,,,,,"


def _provider() -> FakeProvider:
    p = FakeProvider()
    for i, run in enumerate(["x_seed0", "x_seed1", "y_seed0"]):
        p.add_scalars(run, "loss", [0, 1], [2.0 + i, 1.0 + i])
        p.add_scalars(run, "hparam/lr", [0], [0.1])
    return p


def test_default_metrics_skip_hparam_charts():
    assert default_metrics(_provider()) == ["loss"]


def test_build_view_plain_grouped_and_bad_regex():
    p = _provider()
    cols, rows, note = build_view(p, ["loss"], "none", "")
    assert note == "3 runs" and len(rows) == 3
    cols, rows, note = build_view(p, ["loss"], "regex", r"(.*)_seed\d+")
    assert note == "2 groups of 3 runs"
    assert [r["id"] for r in rows] == ["group:x", "group:y"]
    assert rows[0]["members"] == ["x_seed0", "x_seed1"] and rows[0]["runs"] == 2
    assert rows[0]["metric:loss:last"] == 1.5
    assert "runs" in [c["id"] for c in cols]
    _, rows, note = build_view(p, ["loss"], "regex", "(")
    assert "pattern" in note and len(rows) == 3
