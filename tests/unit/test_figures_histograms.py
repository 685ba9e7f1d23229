"""Histogram figures: step sampling, rebinning (mass preserved), offset and overlay traces, hover."""

from __future__ import annotations

import numpy as np
import pytest

from vizboard.data.models import HistogramSeries
from vizboard.figures.histograms import histogram_figure, kept_range, mix_color, rebin, sample_steps, step_bounds


def _series(hists: list[np.ndarray], steps: list[int] | None = None) -> HistogramSeries:
    offsets = np.cumsum([0] + [h.shape[0] for h in hists])
    flat = np.concatenate(hists)
    n = len(hists)
    return HistogramSeries(
        run="r", tag="t",
        step=np.asarray(steps if steps is not None else range(n), dtype=np.int64),
        wall_time=np.zeros(n), offsets=offsets, left=flat[:, 0], right=flat[:, 1],
        count=flat[:, 2], minimum=np.zeros(n), maximum=np.zeros(n), num=np.zeros(n),
        total=np.zeros(n), version=1,
    )


def test_sample_steps_keeps_all_when_few() -> None:
    assert list(sample_steps(np.arange(10), None, 64)) == list(range(10))


def test_sample_steps_caps_and_keeps_first_and_last() -> None:
    idx = sample_steps(np.arange(1000) * 3, None, 50)
    assert len(idx) == 50 and idx[0] == 0 and idx[-1] == 999
    assert np.all(np.diff(idx) > 0)


def test_sample_steps_respects_range() -> None:
    steps = np.arange(1000) * 3
    idx = sample_steps(steps, (300, 900), 20)
    assert steps[idx[0]] == 300 and steps[idx[-1]] == 900 and len(idx) == 20
    assert list(sample_steps(steps, (301, 302), 20)) == []


def test_sample_steps_rejects_bad_cap() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        sample_steps(np.arange(3), None, 0)


def test_rebin_preserves_mass_and_spreads_uniformly() -> None:
    edges = np.linspace(0, 4, 5)
    out = rebin(np.array([0.0, 2.0]), np.array([2.0, 4.0]), np.array([4.0, 2.0]), edges)
    np.testing.assert_allclose(out, [2, 2, 1, 1])


def test_rebin_zero_width_buckets_land_in_their_bin() -> None:
    edges = np.linspace(0, 3, 4)
    out = rebin(np.array([0.0, 1.5, 3.0]), np.array([0.0, 1.5, 3.0]), np.array([1.0, 2.0, 5.0]), edges)
    np.testing.assert_allclose(out, [1, 2, 5])


def test_rebin_ignores_non_finite_edges() -> None:
    out = rebin(np.array([-np.inf, 0.0]), np.array([0.0, 1.0]), np.array([3.0, 1.0]), np.linspace(0, 1, 3))
    assert out.sum() == pytest.approx(1.0)


def _normal_hists(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for k in range(n):
        counts, edges = np.histogram(rng.normal(k * 0.1, 1, 500), bins=20)
        out.append(np.column_stack([edges[:-1], edges[1:], counts]).astype(float))
    return out


def test_offset_figure_one_filled_trace_per_step_newest_last() -> None:
    s = _series(_normal_hists(5), steps=[0, 10, 20, 30, 40])
    fig = histogram_figure(s, mode="offset", num_bins=30)
    assert len(fig.data) == 5
    assert all(t.fill == "toself" for t in fig.data)
    assert [t.customdata[0][0] for t in fig.data] == [0, 10, 20, 30, 40]
    assert fig.layout.yaxis.autorange == "reversed"
    last = fig.data[-1]
    # baseline at the step, ridge rises towards smaller y (up on the reversed axis)
    assert last.y[0] == 40 and last.y[-1] == 40 and min(last.y) < 40
    # the ridge's counts (customdata) sum to the logged count of that step
    assert sum(row[3] for row in last.customdata) == pytest.approx(500)
    assert "step" in last.hovertemplate and "count" in last.hovertemplate


def test_offset_ticks_only_at_logged_steps_with_every_digit() -> None:
    steps = [0, 50_000, 100_000, 150_000, 180_000]
    fig = histogram_figure(_series(_normal_hists(5), steps=steps), mode="offset")
    assert fig.layout.yaxis.tickmode == "array"
    assert set(fig.layout.yaxis.tickvals) <= set(steps) and min(fig.layout.yaxis.tickvals) >= 0  # no "-50k"
    assert "180,000" in fig.layout.yaxis.ticktext


def test_overlay_figure_counts_are_rebinned_totals() -> None:
    s = _series(_normal_hists(3))
    fig = histogram_figure(s, mode="overlay", num_bins=25)
    assert len(fig.data) == 3 and all(t.fill is None for t in fig.data)
    for t in fig.data:
        assert sum(t.y) == pytest.approx(500)
        assert len(t.x) == 25


def test_figure_caps_steps_and_honours_range() -> None:
    s = _series(_normal_hists(300))
    fig = histogram_figure(s, max_steps=50)
    steps = [t.customdata[0][0] for t in fig.data]
    assert len(steps) == 50 and steps[0] == 0 and steps[-1] == 299
    fig = histogram_figure(s, step_range=(100, 120))
    assert [t.customdata[0][0] for t in fig.data] == list(range(100, 121))


def test_all_equal_values_are_drawn() -> None:
    tf2 = np.array([[3.0, 3.0, 0.0], [3.0, 3.0, 0.0], [3.0, 3.0, 5.0]])
    fig = histogram_figure(_series([tf2]), mode="overlay")
    assert sum(fig.data[0].y) == pytest.approx(5)


def test_empty_range_gives_annotation_not_error() -> None:
    fig = histogram_figure(_series([np.zeros((3, 3))]))
    assert len(fig.data) == 0 and fig.layout.annotations


def test_bad_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        histogram_figure(_series(_normal_hists(1)), mode="ridge")


def test_mix_color() -> None:
    assert mix_color("#ff0000", "#ffffff", 1.0) == "#ff0000"
    assert mix_color("#ff0000", "#ffffff", 0.0) == "#ffffff"
    assert mix_color("#000000", "#ffffff", 0.5) == "#808080"


@pytest.mark.parametrize("mode", ["offset", "overlay"])
def test_figure_passes_plotly_validation(mode: str) -> None:
    import plotly.graph_objects as go

    fig = histogram_figure(_series(_normal_hists(3)), mode=mode, theme="dark")
    go.Figure(fig.to_dict())  # raises on any invalid property


def test_step_bounds_over_runs_and_never_empty() -> None:
    h = np.array([[0.0, 1.0, 2.0]])
    a, b = _series([h] * 3, [5, 10, 20]), _series([h] * 2, [0, 7])
    assert step_bounds([a, None, b, _series([h], [3])]) == (0, 20, 3)
    assert step_bounds([_series([h], [4])]) == (4, 5, 1)  # one step: hi = lo + 1
    assert step_bounds([None]) is None and step_bounds([]) is None


def test_kept_range_clamps_and_follows_the_newest_step() -> None:
    assert kept_range(None, None, 0, 10) == [0, 10]
    assert kept_range([1], 5, 0, 10) == [0, 10]  # malformed: the whole range
    assert kept_range([2, 5], 5, 0, 10) == [2, 10]  # sat at the old end: follows the new one
    assert kept_range([2, 4], 5, 0, 10) == [2, 4]  # the user moved it: kept
    assert kept_range([-3, 4], 5, 0, 10) == [0, 4]  # clamped into the bounds
    assert kept_range([8, 9], 20, 0, 6) == [6, 6]  # the data shrank: both clamped, a <= b
