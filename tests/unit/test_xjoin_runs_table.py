"""Metric-as-x joins (vizboard.data.xjoin) and the runs table data (vizboard.data.runs_table)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.unit.fake_provider import FakeProvider
from vizboard.data.models import HParamsData, HParamsSession, ScalarSeries
from vizboard.data.runs_table import build_runs_table, group_table, summarize
from vizboard.data.xjoin import join_by_step, join_runs


def _s(tag: str, steps, values, run: str = "r") -> ScalarSeries:
    st = np.asarray(steps, dtype=np.int64)
    return ScalarSeries(run, tag, st, st.astype(np.float64), np.asarray(values, dtype=np.float64), 1)


def test_exact_join_keeps_common_steps_only():
    x = _s("tokens", [0, 10, 20, 30], [0, 100, 200, 300])
    y = _s("loss", [0, 5, 10, 30, 40], [9, 8, 7, 6, 5])
    j = join_by_step(x, y)
    np.testing.assert_array_equal(j.step, [0, 10, 30])
    np.testing.assert_allclose(j.x, [0, 100, 300])
    np.testing.assert_allclose(j.y, [9, 7, 6])
    assert not j.interpolated.any()


def test_interpolated_join_fills_x_inside_its_range_and_flags_it():
    x = _s("epoch", [0, 100], [0.0, 1.0])
    y = _s("loss", [0, 25, 100, 150], [4, 3, 2, 1])
    j = join_by_step(x, y, how="interpolate")
    np.testing.assert_array_equal(j.step, [0, 25, 100])  # 150 is past the last epoch point
    np.testing.assert_allclose(j.x, [0.0, 0.25, 1.0])
    np.testing.assert_array_equal(j.interpolated, [False, True, False])


def test_join_drops_nonfinite_x_keeps_nonfinite_y_and_dedups_steps():
    x = _s("tokens", [0, 1, 2, 2], [0, math.nan, 5, 7])
    y = _s("loss", [0, 1, 2], [math.nan, 1.0, 2.0])
    j = join_by_step(x, y)
    np.testing.assert_array_equal(j.step, [0, 2])
    np.testing.assert_allclose(j.x, [0, 7])
    assert math.isnan(j.y[0])
    with pytest.raises(ValueError, match="how must be"):
        join_by_step(x, y, how="nearest")


def test_join_runs_skips_runs_missing_a_tag():
    p = FakeProvider()
    p.add_scalars("a", "tokens", [0, 1], [0, 10])
    p.add_scalars("a", "loss", [0, 1], [2, 1])
    p.add_scalars("b", "loss", [0, 1], [2, 1])
    out = join_runs(p, ["a", "b"], "tokens", "loss")
    assert [j.run for j in out] == ["a"]
    np.testing.assert_allclose(out[0].x, [0, 10])


def test_summarize_last_min_max_ignores_nonfinite():
    s = summarize(_s("loss", [0, 1, 2, 3], [3.0, math.inf, 1.0, math.nan]))
    assert math.isnan(s.last) and (s.min, s.max) == (1.0, 3.0)
    assert math.isnan(summarize(None).last)


def _provider() -> FakeProvider:
    p = FakeProvider()
    t0 = 1_700_000_000.0
    p.add_scalars("a_seed0", "loss", [0, 10, 20], [3.0, 2.0, 1.0], wall_times=[t0, t0 + 50, t0 + 100])
    p.add_scalars("a_seed0", "acc", [0, 30], [0.1, 0.9], wall_times=[t0 + 10, t0 + 120])
    p.add_scalars("a_seed1", "loss", [0, 10], [5.0, 4.0], wall_times=[t0, t0 + 1000])
    p.add_scalars("b_seed0", "loss", [0, 10], [5.0, 0.5], wall_times=[t0 + 5, t0 + 990])
    p.set_hparams(HParamsData(("lr", "opt"), (), (
        HParamsSession("a_seed0", "a_seed0", {"lr": 0.1, "opt": "adam"}, {}, status="success",
                       start_time=t0 - 5, end_time=t0 + 130),
        HParamsSession("a_seed1", "a_seed1", {"lr": 0.1, "opt": "sgd"}, {}))))
    return p


def test_runs_table_rows_times_status_and_metrics():
    t0 = 1_700_000_000.0
    table = build_runs_table(_provider(), ["loss"], now=t0 + 1100, stale_after=300)
    rows = {r.name: r for r in table.rows}
    assert table.hparam_names == ("lr", "opt") and table.metric_tags == ("loss",)
    a0, a1, b0 = rows["a_seed0"], rows["a_seed1"], rows["b_seed0"]
    assert a0.status == "finished"  # session end says success
    assert a0.start_time == t0 - 5 and a0.duration == pytest.approx(135.0)
    assert a0.last_step == 30  # the largest step over every scalar tag
    assert (a0.metrics["loss"].last, a0.metrics["loss"].min, a0.metrics["loss"].max) == (1.0, 1.0, 3.0)
    assert a1.status == "running"  # last event 100 s ago, no session end
    assert b0.hparams == {} and b0.duration == pytest.approx(985.0)
    late = build_runs_table(_provider(), [], now=t0 + 5000)
    assert {r.name: r.status for r in late.rows}["a_seed1"] == "finished"
    with pytest.raises(ValueError, match="stale_after"):
        build_runs_table(_provider(), [], stale_after=-1)


def test_runs_table_limited_to_runs_and_grouped():
    t0 = 1_700_000_000.0
    table = build_runs_table(_provider(), ["loss"], runs=["a_seed0", "a_seed1", "nope"], now=t0 + 1100)
    assert [r.name for r in table.rows] == ["a_seed0", "a_seed1"]
    grouped = group_table(table, {"a": ["a_seed0", "a_seed1"], "empty": ["zzz"]})
    assert [r.name for r in grouped.rows] == ["a"]
    g = grouped.rows[0]
    assert g.members == ("a_seed0", "a_seed1")
    assert g.hparams == {"lr": 0.1}  # opt differs between members
    assert g.status == "running"
    assert g.metrics["loss"].last == pytest.approx(2.5)
    assert (g.metrics["loss"].min, g.metrics["loss"].max) == (1.0, 5.0)
    assert g.last_step == 30
