"""Run grouping and group aggregation (vizboard.data.groups): membership, statistics, bands, alignment, NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.unit.fake_provider import FakeProvider
from vizboard.data.groups import (
    aggregate,
    aggregate_groups,
    group_by_regex,
    group_by_value,
    group_runs,
    text_field,
)
from vizboard.data.models import HParamsData, HParamsSession, ScalarSeries
from vizboard.data.smoothing import smooth


def _s(run: str, steps, values, tag: str = "loss") -> ScalarSeries:
    st = np.asarray(steps, dtype=np.int64)
    return ScalarSeries(run, tag, st, st.astype(np.float64), np.asarray(values, dtype=np.float64), 1)


# --------------------------------------------------------------------------- membership


def test_regex_groups_by_capture_and_keeps_unmatched_runs_alone():
    runs = ["lr0.1_seed0", "lr0.1_seed1", "lr0.01_seed0", "baseline", "lr0.01_seed1"]
    g = group_by_regex(runs, r"(.*)_seed\d+")
    assert g == {"lr0.1": ("lr0.1_seed0", "lr0.1_seed1"), "lr0.01": ("lr0.01_seed0", "lr0.01_seed1"),
                 "baseline": ("baseline",)}


def test_regex_several_captures_join_and_no_capture_uses_whole_match():
    assert group_by_regex(["a/x_1", "a/y_1"], r"(\w)/\w_(\d)") == {"a/1": ("a/x_1", "a/y_1")}
    assert group_by_regex(["sgd-1", "sgd-2", "adam-1"], r"^[a-z]+") == {"sgd": ("sgd-1", "sgd-2"),
                                                                       "adam": ("adam-1",)}


def test_regex_error_names_the_argument():
    with pytest.raises(ValueError, match="pattern"):
        group_by_regex(["a"], "(")


def test_group_by_value_labels_and_missing():
    g = group_by_value(["a", "b", "c", "d"], {"a": 0.001, "b": 0.001, "c": 2.0, "e": True})
    assert g == {"0.001": ("a", "b"), "2": ("c",), "(none)": ("d",)}


def test_text_field_json_lines_and_markdown_table():
    assert text_field('{"learning_rate": 0.001, "opt": {"name": "adam"}}', "learning_rate") == "0.001"
    assert text_field('{"opt": {"name": "adam"}}', "opt.name") == "adam"
    assert text_field("optimizer: sgd\nbatch = 32", "batch") == "32"
    assert text_field("| key | value |\n|---|---|\n| optimizer | adam |", "optimizer") == "adam"
    assert text_field("nothing here", "optimizer") is None
    assert text_field("  whole  ", None) == "whole"


def test_group_runs_by_hparam_and_text():
    p = FakeProvider()
    for r in ("a", "b", "c"):
        p.add_scalars(r, "loss", [0, 1], [1.0, 0.5])
    p.set_hparams(HParamsData(("opt",), (), (
        HParamsSession("a", "a", {"opt": "adam"}, {}), HParamsSession("b", "b", {"opt": "sgd"}, {}),
        HParamsSession("c", "c", {"opt": "adam"}, {}))))
    assert group_runs(p, ["a", "b", "c"], "hparam", "opt") == {"adam": ("a", "c"), "sgd": ("b",)}
    p.add_text("a", "args", 0, '{"seed": 1, "model": "bert"}')
    p.add_text("b", "args", 0, '{"seed": 2, "model": "gpt"}')
    assert group_runs(p, ["a", "b", "c"], "text", "args:model") == {"bert": ("a",), "gpt": ("b",),
                                                                     "(none)": ("c",)}
    with pytest.raises(ValueError, match="by must be"):
        group_runs(p, ["a"], "colour", "x")


# --------------------------------------------------------------------------- statistics


def test_mean_median_min_max_and_minmax_band_on_shared_steps():
    ss = [_s("a", [0, 1, 2], [1, 2, 3]), _s("b", [0, 1, 2], [3, 4, 5]), _s("c", [0, 1, 2], [2, 9, 4])]
    mean = aggregate(ss, line="mean", band="minmax")
    np.testing.assert_allclose(mean.line, [2, 5, 4])
    np.testing.assert_allclose(mean.lower, [1, 2, 3])
    np.testing.assert_allclose(mean.upper, [3, 9, 5])
    np.testing.assert_array_equal(mean.count, [3, 3, 3])
    assert not mean.any_interpolated
    assert mean.members == ("a", "b", "c")
    np.testing.assert_allclose(aggregate(ss, line="median").line, [2, 4, 4])
    np.testing.assert_allclose(aggregate(ss, line="min").line, [1, 2, 3])
    np.testing.assert_allclose(aggregate(ss, line="max").line, [3, 9, 5])


def test_std_and_stderr_bands_use_sample_std():
    ss = [_s("a", [0], [1.0]), _s("b", [0], [3.0])]
    std = aggregate(ss, band="std")
    sd = math.sqrt(2.0)  # sample std of (1, 3)
    np.testing.assert_allclose([std.lower[0], std.upper[0]], [2 - sd, 2 + sd])
    se = aggregate(ss, band="stderr")
    np.testing.assert_allclose([se.lower[0], se.upper[0]], [2 - sd / math.sqrt(2), 2 + sd / math.sqrt(2)])
    one = aggregate([_s("a", [0], [5.0])], band="std")
    assert one.lower[0] == one.upper[0] == 5.0
    none = aggregate(ss, band="none")
    np.testing.assert_allclose(none.lower, none.line)


def test_steps_that_differ_are_interpolated_and_flagged():
    a = _s("a", [0, 10, 20], [0.0, 10.0, 20.0])
    b = _s("b", [0, 5, 20], [0.0, 0.0, 0.0])
    g = aggregate([a, b])
    np.testing.assert_array_equal(g.step, [0, 5, 10, 20])
    # a at 5 -> 5 (interpolated); b at 10 -> 0 (interpolated between 5 and 20)
    np.testing.assert_allclose(g.line, [0.0, 2.5, 5.0, 10.0])
    np.testing.assert_array_equal(g.interpolated, [False, True, True, False])
    np.testing.assert_array_equal(g.count, [2, 2, 2, 2])


def test_unequal_lengths_do_not_extrapolate():
    long = _s("long", [0, 1, 2, 3], [1, 1, 1, 1])
    short = _s("short", [0, 1], [3, 3])
    late = _s("late", [2, 3], [5, 5])
    g = aggregate([long, short, late])
    np.testing.assert_array_equal(g.count, [2, 2, 2, 2])
    np.testing.assert_allclose(g.line, [2, 2, 3, 3])
    assert not g.any_interpolated


def test_nan_and_inf_count_as_missing():
    a = _s("a", [0, 1, 2], [1.0, math.nan, 1.0])
    b = _s("b", [0, 1, 2], [3.0, 3.0, math.inf])
    g = aggregate([a, b])
    np.testing.assert_array_equal(g.count, [2, 1, 1])
    np.testing.assert_allclose(g.line, [2.0, 3.0, 1.0])
    allnan = aggregate([_s("a", [0], [math.nan])])
    assert allnan.count[0] == 0 and math.isnan(allnan.line[0]) and math.isnan(allnan.upper[0])


def test_interpolation_skips_nan_neighbours():
    a = _s("a", [0, 2, 4], [0.0, math.nan, 4.0])
    b = _s("b", [0, 1, 2, 3, 4], [0, 0, 0, 0, 0])
    g = aggregate([a, b], line="max")
    # a at 1 and 3 interpolates between its finite points 0 and 4; at 2 its NaN stays missing
    np.testing.assert_allclose(g.line, [0, 1, 0, 3, 4])
    np.testing.assert_array_equal(g.count, [2, 2, 1, 2, 2])


def test_repeated_steps_keep_the_last_value():
    g = aggregate([_s("a", [0, 1, 1, 2], [0, 5, 7, 0]), _s("b", [0, 2], [0, 0])], line="max")
    np.testing.assert_allclose(g.line, [0, 7, 0])


def test_one_seed_spike_survives_downsampling_in_the_band():
    n = 20_000
    steps = np.arange(n)
    rng = np.random.default_rng(0)
    members = [_s(f"s{i}", steps, rng.normal(0, 0.01, n)) for i in range(5)]
    spiky = np.array(members[2].value)
    spiky[12_345] = 100.0
    members[2] = _s("s2", steps, spiky)
    g = aggregate(members, max_points=200)
    assert len(g) <= 600 and g.total_points == n
    assert 12_345 in g.step
    assert g.upper.max() == 100.0
    assert g.line.max() == pytest.approx(20.0, abs=0.1)  # the mean dilutes it: the band shows it


def test_transform_smooths_each_member_before_aggregating():
    ss = [_s("a", [0, 1, 2], [0, 10, 0]), _s("b", [0, 1, 2], [0, 10, 0])]
    g = aggregate(ss, transform=lambda s: smooth(s.value, "ema", 0.5))
    np.testing.assert_allclose(g.line, smooth(np.array([0.0, 10.0, 0.0]), "ema", 0.5))
    with pytest.raises(ValueError, match="transform"):
        aggregate(ss, transform=lambda s: np.zeros(1))


def test_bad_arguments_and_empty_input():
    with pytest.raises(ValueError, match="line must be"):
        aggregate([], line="avg")
    with pytest.raises(ValueError, match="band must be"):
        aggregate([], band="iqr")
    empty = aggregate([_s("a", [], [])], name="g")
    assert len(empty) == 0 and empty.members == ()


def test_aggregate_groups_from_provider():
    p = FakeProvider()
    p.add_scalars("x_seed0", "loss", [0, 1], [1.0, 2.0])
    p.add_scalars("x_seed1", "loss", [0, 1], [3.0, 4.0])
    p.add_scalars("y_seed0", "acc", [0, 1], [3.0, 4.0])
    groups = group_by_regex(["x_seed0", "x_seed1", "y_seed0"], r"(.*)_seed\d+")
    out = aggregate_groups(p, groups, "loss")
    assert [g.name for g in out] == ["x"]
    np.testing.assert_allclose(out[0].line, [2.0, 3.0])


def test_text_field_keys_with_inner_spaces_as_the_demo_config_table_writes_them():
    table = "| setting | value |\n| --- | --- |\n| learning rate | 0.001 (AdamW) |\n| batch size | 32 |"
    assert text_field(table, "learning rate") == "0.001 (AdamW)"
    assert text_field("batch size = 32\nlr: 0.1", "batch size") == "32"
    assert text_field(table, "learning") is None  # a prefix of a key is not the key


def _timed(run: str, steps: list[int], walls: list[float]) -> ScalarSeries:
    st = np.asarray(steps, dtype=np.int64)
    return ScalarSeries(run, "loss", st, np.asarray(walls, dtype=np.float64), np.zeros(len(steps)), 1)


def test_group_time_x_is_the_members_mean_time_aligned_by_step() -> None:
    from vizboard.data.groups import group_time_x, time_values

    a = _timed("a", [0, 10, 20], [1000.0, 1010.0, 1020.0])  # 1 s per step
    b = _timed("b", [0, 20], [5000.0, 5060.0])  # 3 s per step, logged every 20 steps: step 10 interpolated
    assert list(time_values(b, "relative")) == [0.0, 60.0]
    rel = group_time_x([a, b], "relative")
    assert list(rel) == pytest.approx([0.0, (10.0 + 30.0) / 2, (20.0 + 60.0) / 2])
    wall = group_time_x([a, b], "wall_time")
    assert list(wall) == pytest.approx([3000.0, (1010.0 + 5030.0) / 2, (1020.0 + 5060.0) / 2])
    # the same grid as the values' aggregate, so x and line pair up point by point
    assert len(rel) == len(aggregate([a, b]))


def test_group_time_x_one_member_and_unequal_ranges() -> None:
    from vizboard.data.groups import group_time_x

    a = _timed("a", [0, 10], [100.0, 110.0])
    assert list(group_time_x([a], "relative")) == [0.0, 10.0]
    late = _timed("late", [10, 20], [700.0, 720.0])  # starts at step 10: its own clock starts there
    rel = group_time_x([a, late], "relative")
    assert list(rel) == pytest.approx([0.0, 5.0, 20.0])  # step 20: only `late` counts (a stopped at 10)
    with pytest.raises(ValueError, match="axis"):
        group_time_x([a], "epoch")
