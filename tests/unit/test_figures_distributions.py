"""Percentile bands: our vectorised compress_histogram against a transcription of TensorBoard's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vizboard.data.models import HistogramSeries
from vizboard.figures.distributions import (
    NORMAL_HISTOGRAM_BPS,
    compress_histogram,
    distribution_figure,
    percentiles,
)


def _tb_compress(buckets, bps=NORMAL_HISTOGRAM_BPS):
    """Transcription of tensorboard/plugins/distribution/compressor.py::compress_histogram."""
    buckets = np.array(buckets)
    if not buckets.size:
        return [0.0 for _ in bps]
    minmin, maxmax = buckets[0][0], buckets[-1][1]
    counts = buckets[:, 2]
    right_edges = list(buckets[:, 1])
    weights = (counts * bps[-1] / (counts.sum() or 1.0)).cumsum()
    result = []
    bp_index = 0
    while bp_index < len(bps):
        i = np.searchsorted(weights, bps[bp_index], side="right")
        while i < len(weights):
            cumsum = weights[i]
            cumsum_prev = weights[i - 1] if i > 0 else 0.0
            if cumsum == cumsum_prev:
                i += 1
                continue
            if not i or not cumsum_prev:
                lhs = minmin
            else:
                lhs = max(right_edges[i - 1], minmin)
            rhs = min(right_edges[i], maxmax)
            x, x0, x1, y0, y1 = bps[bp_index], cumsum_prev, cumsum, lhs, rhs
            result.append(y0 + (x - x0) * float(y1 - y0) / (x1 - x0))
            bp_index += 1
            break
        else:
            break
    while bp_index < len(bps):
        result.append(maxmax)
        bp_index += 1
    return result


def _series(hists: list[np.ndarray]) -> HistogramSeries:
    offsets = np.cumsum([0] + [h.shape[0] for h in hists])
    flat = np.concatenate(hists) if hists else np.zeros((0, 3))
    n = len(hists)
    return HistogramSeries(
        run="r", tag="t", step=np.arange(n, dtype=np.int64) * 10, wall_time=np.zeros(n),
        offsets=offsets, left=flat[:, 0], right=flat[:, 1], count=flat[:, 2],
        minimum=np.zeros(n), maximum=np.zeros(n), num=np.zeros(n), total=np.zeros(n), version=1,
    )


CASES = {
    "normal": np.column_stack([np.linspace(-3, 2.9, 60), np.linspace(-2.9, 3, 60),
                               np.histogram(np.random.default_rng(0).normal(size=5000),
                                            bins=np.linspace(-3, 3, 61))[0]]),
    "one_bucket": np.array([[1.0, 2.0, 7.0]]),
    "all_equal_tf2": np.array([[3.0, 3.0, 0.0], [3.0, 3.0, 0.0], [3.0, 3.0, 5.0]]),
    "empty_tf2": np.zeros((30, 3)),
    "no_rows": np.zeros((0, 3)),
    "zero_gaps": np.array([[0, 1, 0], [1, 2, 4], [2, 3, 0], [3, 4, 0], [4, 5, 4], [5, 6, 0]], float),
    "leading_zero_bucket": np.array([[-1e-12, 0.5, 0.0], [0.5, 1.0, 3.0], [1.0, 1.5, 1.0]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorboard_transcription(name: str) -> None:
    b = CASES[name]
    ours = compress_histogram(b[:, 0], b[:, 1], b[:, 2])
    np.testing.assert_allclose(ours, _tb_compress(b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_installed_tensorboard(name: str) -> None:
    compressor = pytest.importorskip("tensorboard.plugins.distribution.compressor")
    b = CASES[name]
    expected = [v for _, v in compressor.compress_histogram(b.tolist())]
    np.testing.assert_allclose(compress_histogram(b[:, 0], b[:, 1], b[:, 2]), expected,
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 5), st.integers(0, 6)), min_size=1, max_size=25),
       st.floats(-100, 100))
def test_random_histograms_match(buckets: list[tuple[float, int]], start: float) -> None:
    widths = np.array([w for w, _ in buckets])
    edges = start + np.concatenate([[0.0], np.cumsum(widths)])
    b = np.column_stack([edges[:-1], edges[1:], [float(c) for _, c in buckets]])
    np.testing.assert_allclose(compress_histogram(b[:, 0], b[:, 1], b[:, 2]), _tb_compress(b),
                               rtol=1e-9, atol=1e-9)


def test_percentiles_are_monotone_and_bounded() -> None:
    s = _series([CASES["normal"], CASES["one_bucket"]])
    p = percentiles(s)
    assert p.shape == (2, 9)
    assert np.all(np.diff(p, axis=1) >= -1e-12)
    assert p[1, 0] == 1.0 and p[1, -1] == 2.0
    assert p[1, 4] == pytest.approx(1.5)  # median of one uniform bucket


def test_distribution_figure_bands_and_median() -> None:
    s = _series([CASES["normal"]] * 5)
    fig = distribution_figure(s, color="#1f77b4")
    assert len(fig.data) == 9  # 4 bands x 2 edges + median
    assert [t.fill for t in fig.data[:8]] == [None, "tonexty"] * 4
    assert list(fig.data[-1].x) == [0, 10, 20, 30, 40]
    np.testing.assert_allclose(fig.data[-1].y, percentiles(s)[:, 4])


def test_distribution_figure_samples_steps_keeping_last() -> None:
    s = _series([CASES["one_bucket"]] * 50)
    fig = distribution_figure(s, max_points=7)
    xs = list(fig.data[-1].x)
    assert len(xs) == 7 and xs[0] == 0 and xs[-1] == 490


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.tuples(st.floats(0.01, 5), st.integers(0, 6)), max_size=12), min_size=1, max_size=8))
def test_batched_percentiles_equal_per_step_compression(hists: list[list[tuple[float, int]]]) -> None:
    arrays = []
    for buckets in hists:
        widths = np.array([w for w, _ in buckets])
        edges = np.concatenate([[0.0], np.cumsum(widths)]) - 3.0
        arrays.append(np.column_stack([edges[:-1], edges[1:], [float(c) for _, c in buckets]])
                      if buckets else np.zeros((0, 3)))
    s = _series(arrays)
    expected = np.array([compress_histogram(b[:, 0], b[:, 1], b[:, 2]) for b in arrays])
    np.testing.assert_array_equal(percentiles(s), expected)
    picked = np.array([len(arrays) - 1, 0])
    np.testing.assert_array_equal(percentiles(s, picked), expected[picked])


def test_batched_percentiles_in_several_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    import vizboard.figures.distributions as d

    monkeypatch.setattr(d, "_BLOCK_CELLS", 70)
    s = _series([CASES["normal"], CASES["one_bucket"], CASES["empty_tf2"], CASES["zero_gaps"]] * 3)
    expected = np.array([compress_histogram(*s.buckets(i)) for i in range(len(s))])
    np.testing.assert_array_equal(d.percentiles(s), expected)


def test_distribution_figure_passes_plotly_validation() -> None:
    import plotly.graph_objects as go

    go.Figure(distribution_figure(_series([CASES["normal"]] * 3), theme="dark").to_dict())
