"""vizboard.figures.scalars: point selection, smoothing on the full series, figure contents."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vizboard.data.downsample import select_indices, x_values
from vizboard.data.models import ScalarSeries
from vizboard.data.serialize import dumps, series_csv, series_records
from vizboard.data.smoothing import smooth, smooth_series
from vizboard.figures import scalars as fs


def _series(values, steps=None, run="r", tag="t", wall=None) -> ScalarSeries:
    values = np.asarray(values, dtype=np.float64)
    steps = np.arange(len(values), dtype=np.int64) if steps is None else np.asarray(steps, dtype=np.int64)
    wall = 1_700_000_000.0 + steps * 2.0 if wall is None else np.asarray(wall, dtype=np.float64)
    return ScalarSeries(run, tag, steps, wall, values, 1)


def test_select_indices_bounds_points_and_keeps_extremes_and_spikes():
    rng = np.random.default_rng(0)
    v = rng.normal(size=200_000)
    v[123_457] = 50.0  # a one-point spike
    v[7] = -40.0
    s = _series(v)
    idx = select_indices(s, 1000)
    assert len(idx) <= 1000
    assert np.all(np.diff(idx) > 0)
    assert 123_457 in idx and 7 in idx
    assert idx[0] == 0 and idx[-1] == len(v) - 1


def test_select_indices_x_range_keeps_window_plus_neighbours():
    s = _series(np.arange(100.0))
    idx = select_indices(s, 1000, "step", (10, 20))
    assert idx.tolist() == list(range(9, 22))
    # an open-ended range (as the API passes) works
    idx = select_indices(s, 1000, "step", (90, float("inf")))
    assert idx[0] == 89 and idx[-1] == 99


def test_select_indices_relative_and_wall_time_axes():
    s = _series([1.0, 2.0, 3.0, 4.0], wall=[100.0, 110.0, 120.0, 130.0])
    assert x_values(s, "relative").tolist() == [0.0, 10.0, 20.0, 30.0]
    assert select_indices(s, 100, "wall_time", (112.0, 118.0)).tolist() == [1, 2]


def test_smoothing_uses_full_series_not_the_zoom_window():
    v = np.sin(np.arange(5000) / 50.0) + np.random.default_rng(1).normal(scale=0.3, size=5000)
    s = _series(v)
    full = smooth_series(s, "ema", 0.9)
    opts = fs.ChartOptions(smoothing="ema", weight=0.9, max_points=100)
    zoomed = fs.make_line(s, opts, (2000, 2050), full)
    np.testing.assert_allclose(zoomed.smoothed, full[zoomed.step])
    # and it is TensorBoard's debiased EMA
    np.testing.assert_allclose(full, smooth(v, "ema", 0.9))
    assert smooth_series(s, "none", 0.9) is None


def _traces(fig, role=None):
    return [t for t in fig.data if role is None or (t.meta or {}).get("role") == role]


def test_figure_one_smoothed_and_one_faint_raw_trace_per_line():
    a, b = _series([1.0, 3.0, 2.0, 5.0], run="a"), _series([2.0, 2.5, 1.0, 0.5], run="b")
    opts = fs.ChartOptions()
    lines = [fs.make_line(s, opts, None, smooth_series(s, "ema", 0.6)) for s in (a, b)]
    fig = fs.scalar_figure(lines, opts, uirevision="k")
    raw, sm = _traces(fig, "raw"), _traces(fig, "smoothed")
    assert [t.name for t in sm] == ["a", "b"] and [t.name for t in raw] == ["a", "b"]
    assert all(t.opacity < 0.5 for t in raw)
    np.testing.assert_allclose(np.asarray(sm[0].y), smooth(a.value, "ema", 0.6))
    assert fig.layout.uirevision == "k"
    assert "smoothed" in sm[0].hovertemplate and "step" in sm[0].hovertemplate


def test_figure_without_smoothing_draws_only_raw_lines():
    s = _series([1.0, 3.0, 2.0])
    opts = fs.ChartOptions(smoothing="none")
    fig = fs.scalar_figure([fs.make_line(s, opts)], opts)
    assert len(_traces(fig, "smoothed")) == 0
    (raw,) = _traces(fig, "raw")
    assert raw.opacity == 1.0 and list(raw.y) == [1.0, 3.0, 2.0]


def test_nonfinite_values_become_edge_markers_with_hover_text():
    s = _series([1.0, np.nan, 2.0, np.inf, 3.0, -np.inf])
    opts = fs.ChartOptions()
    fig = fs.scalar_figure([fs.make_line(s, opts, None, smooth_series(s, "ema", 0.6))], opts)
    markers = {t.meta["nonfinite"]: t for t in fig.data if (t.meta or {}).get("nonfinite")}
    assert set(markers) == {"nan", "posinf", "neginf"}
    lo, hi = fig.layout.yaxis.range
    assert list(markers["nan"].y) == [hi] and list(markers["posinf"].y) == [hi]
    assert list(markers["neginf"].y) == [lo]
    assert list(markers["nan"].customdata) == [1]
    assert "NaN" in markers["nan"].hovertemplate and "+Infinity" in markers["posinf"].hovertemplate
    # the line itself has gaps there, not values
    (raw,) = _traces(fig, "raw")
    assert np.isnan(np.asarray(raw.y, dtype=float)[1])


def test_ignore_outliers_narrows_the_y_range_and_log_y():
    v = np.concatenate([np.linspace(1, 2, 1000), [1000.0]])
    s = _series(v)
    opts = fs.ChartOptions(smoothing="none", ignore_outliers=True)
    fig = fs.scalar_figure([fs.make_line(s, opts)], opts)
    assert fig.layout.yaxis.range[1] < 10
    opts = fs.ChartOptions(smoothing="none", log_y=True, log_x=True)
    fig = fs.scalar_figure([fs.make_line(s, opts)], opts)
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.type == "log"


def test_wall_time_axis_is_a_date_axis_in_ms():
    s = _series([1.0, 2.0], wall=[1_700_000_000.0, 1_700_000_060.0])
    opts = fs.ChartOptions(smoothing="none", x_axis="wall_time")
    fig = fs.scalar_figure([fs.make_line(s, opts)], opts)
    assert fig.layout.xaxis.type == "date"
    assert list(_traces(fig, "raw")[0].x) == [1_700_000_000_000.0, 1_700_000_060_000.0]


def test_bad_options_are_rejected_with_the_argument_named():
    with pytest.raises(ValueError, match="smoothing"):
        fs.ChartOptions(smoothing="spline")
    with pytest.raises(ValueError, match="x_axis"):
        fs.ChartOptions(x_axis="epoch")


def test_card_downloads_use_the_export_serializer_with_nonfinite_values_and_wall_times():
    # Card downloads (vizboard.page_api) call vizboard.data.serialize, as export and the API do:
    # one CSV spelling (nan/inf, as `vizboard export`), one JSON rule for every float.
    s = _series([1.5, np.nan, np.inf], run="r,1", tag="t", wall=[1.0, np.nan, 3.0])
    rows = series_csv([s]).strip().splitlines()
    assert rows[0] == "run,tag,step,wall_time,value"
    assert rows[1].startswith('"r,1",') and rows[2].endswith(",nan,nan") and rows[3].endswith(",inf")
    recs = series_records([s])
    assert [r["value"] for r in recs] == [1.5, "NaN", "Infinity"]
    assert [r["wall_time"] for r in recs] == [1.0, "NaN", 3.0]
    assert json.loads(dumps(recs))[1]["wall_time"] == "NaN"


def test_hover_refers_to_the_step_and_the_raw_value():
    s = _series([1.0, 2.0, 4.0], steps=[10, 20, 30])
    for x_axis, step_ref in (("step", "%{x}"), ("relative", "%{customdata[1]}")):
        opts = fs.ChartOptions(x_axis=x_axis)
        fig = fs.scalar_figure([fs.make_line(s, opts, None, smooth_series(s, "ema", 0.6))], opts)
        (sm,) = _traces(fig, "smoothed")
        assert f"step {step_ref}" in sm.hovertemplate and "value %{customdata[0]" in sm.hovertemplate
        assert np.asarray(sm.customdata)[:, 0].tolist() == [1.0, 2.0, 4.0]
        if x_axis == "relative":
            assert np.asarray(sm.customdata)[:, 1].tolist() == [10, 20, 30]
        assert list(sm.text)[0] == "2023-11-14 22:13:40"  # wall time 1.7e9 + 20 s, UTC
