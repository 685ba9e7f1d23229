"""Scalar queries: smoothing (vs a transcription of TensorBoard's code), downsampling, y-ranges, serializers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vizboard.data.downsample import downsample, value_range
from vizboard.data.smoothing import gaussian_sigma, smooth, smoothing_window


def tb_smooth(ys: list[float], w: float) -> list[float]:
    """TensorBoard's classicSmoothing (line_chart_v2 data_transformer.ts), transcribed point by point."""
    if not ys:
        return []
    if all(v == ys[0] for v in ys):
        return list(ys)
    last, num_accum, out = 0.0, 0, []
    for next_val in ys:
        if not math.isfinite(next_val):
            out.append(next_val)
            continue
        last = last * w + (1 - w) * next_val
        num_accum += 1
        debias = 1.0 if w == 1 else 1 - math.pow(w, num_accum)
        out.append(last / debias)
    return out


def noisy(n: int, seed: int = 0, nonfinite: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.normal(0, 1, n)) + 100.0
    if nonfinite:
        y[rng.integers(0, n, max(1, n // 100))] = np.nan
        y[rng.integers(0, n, max(1, n // 300))] = np.inf
        y[rng.integers(0, n, max(1, n // 300))] = -np.inf
    return y


def assert_same(got: np.ndarray, want: list[float] | np.ndarray, rtol: float = 1e-12) -> None:
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    fin = np.isfinite(want)
    np.testing.assert_array_equal(got[~fin], want[~fin])  # NaN/inf exactly where they were
    scale = np.maximum(1.0, np.abs(want[fin]))
    assert np.max(np.abs(got[fin] - want[fin]) / scale, initial=0.0) <= rtol


# --------------------------------------------------------------------------- EMA


@pytest.mark.parametrize("w", [0.0, 1e-9, 0.001, 0.1, 0.5, 0.6, 0.9, 0.99, 0.999, 1.0])
def test_ema_matches_tensorboard(w: float) -> None:
    y = noisy(20_000, seed=int(w * 1000))
    assert_same(smooth(y, "ema", w), tb_smooth(y.tolist(), w))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(0, 700),
        elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.nan, math.inf, -math.inf])),
    ),
    st.floats(0.0, 0.999),
)
def test_ema_matches_tensorboard_on_arbitrary_series(y: np.ndarray, w: float) -> None:
    want = tb_smooth(y.tolist(), w)
    got = smooth(y, "ema", w)
    fin = np.isfinite(np.asarray(want))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~fin & ~np.isnan(got)], np.asarray(want)[~fin & ~np.isnan(got)])
    scale = max(1.0, np.abs(y[np.isfinite(y)]).max(initial=0))
    np.testing.assert_allclose(got[fin], np.asarray(want)[fin], rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize("w", [0.6, 0.999])
def test_ema_is_accurate_far_from_zero(w: float) -> None:
    # wall-time-like values: 1e9 + noise of 1e-3. The affine identity EMA(c + z) = c + EMA(z)
    # gives a float64 reference computed on the small z; the error must stay far below the noise.
    rng = np.random.default_rng(9)
    z = rng.normal(0, 1e-3, 5000)
    y = 1e9 + z
    want = 1e9 + np.asarray(tb_smooth((y - 1e9).tolist(), w))
    assert np.max(np.abs(smooth(y, "ema", w) - want)) < 1e-6


def test_ema_nonfinite_points_do_not_contaminate() -> None:
    clean = noisy(5000, nonfinite=False)
    dirty = np.insert(clean, [10, 10, 2000, 4999], [np.nan, np.inf, -np.inf, np.nan])
    out = smooth(dirty, "ema", 0.9)
    assert np.isnan(out[10]) and out[11] == np.inf and out[2002] == -np.inf and np.isnan(out[-2])
    kept = np.isfinite(dirty)
    np.testing.assert_allclose(out[kept], smooth(clean, "ema", 0.9), rtol=1e-13)


def test_ema_first_point_and_constant_series() -> None:
    y = np.array([3.0, 5.0, 1.0])
    assert smooth(y, "ema", 0.999)[0] == pytest.approx(3.0, rel=1e-12)
    const = np.full(10, 7.25)
    np.testing.assert_array_equal(smooth(const, "ema", 0.9), const)
    np.testing.assert_array_equal(smooth(np.full(4, np.inf), "ema", 0.9), np.full(4, np.inf))
    # A series holding NaN is never constant (NaN != NaN): finite points are smoothed.
    assert smooth(np.array([1.0, np.nan, 1.0]), "ema", 0.5)[2] == pytest.approx(1.0)


def test_ema_weight_one_is_tensorboards_zero_line() -> None:
    np.testing.assert_array_equal(smooth(np.array([1.0, 2.0, np.nan]), "ema", 1.0), [0.0, 0.0, np.nan])


@pytest.mark.parametrize("kind", ["ema", "time_ema", "moving_average", "gaussian", "none"])
def test_edge_cases(kind: str) -> None:
    x = np.arange(3, dtype=float)
    assert smooth(np.array([]), kind, 0.6, x=np.array([])).shape == (0,)
    np.testing.assert_array_equal(smooth(np.array([2.5]), kind, 0.6, x=x[:1]), [2.5])
    np.testing.assert_array_equal(smooth(np.full(3, np.nan), kind, 0.6, x=x), np.full(3, np.nan))
    y = np.array([1.0, 4.0, 2.0])
    np.testing.assert_array_equal(smooth(y, kind, 0.0, x=x), y)
    out = smooth(y, kind, 0.999, x=x)
    assert out is not y and np.all(np.isfinite(out))


def test_input_is_not_modified_and_bad_arguments() -> None:
    y = noisy(100)
    before = y.copy()
    smooth(y, "gaussian", 0.9)
    np.testing.assert_array_equal(y, before)
    with pytest.raises(ValueError, match="kind"):
        smooth(y, "median", 0.5)
    with pytest.raises(ValueError, match="weight"):
        smooth(y, "ema", 1.5)
    with pytest.raises(ValueError, match="weight"):
        smooth(y, "moving_average", 1.0)
    with pytest.raises(ValueError, match="weight"):
        smooth(y, "ema", float("nan"))
    with pytest.raises(ValueError, match="needs x"):
        smooth(y, "time_ema", 0.5)


# --------------------------------------------------------------------------- other kinds


def test_time_ema_equals_ema_on_even_spacing() -> None:
    y = noisy(3000, nonfinite=False)
    x = 10.0 + 2.5 * np.arange(y.size)
    assert_same(smooth(y, "time_ema", 0.8, x=x), tb_smooth(y.tolist(), 0.8), rtol=1e-10)
    # a NaN passes through; the time it spans still counts as time
    y[100] = np.nan
    out = smooth(y, "time_ema", 0.8, x=x)
    assert np.isnan(out[100]) and np.all(np.isfinite(np.delete(out, 100)))
    assert_same(out[:100], tb_smooth(y[:100].tolist(), 0.8), rtol=1e-10)


def test_time_ema_long_pause_forgets_more() -> None:
    y = np.r_[np.zeros(50), np.ones(5)]
    x = np.r_[np.arange(50.0), 1000.0 + np.arange(5.0)]  # a pause of ~950 median gaps
    out = smooth(y, "time_ema", 0.9, x=x)
    assert out[50] > 0.999  # the old level is forgotten
    assert smooth(y, "ema", 0.9)[50] < 0.2  # while the step-count EMA still remembers it
    # by hand: decays a_i = w ** (dx_i / median_dx), debiased by the same recurrence on ones
    xs = np.r_[np.nan, np.diff(x)]
    a = np.where(xs > 0, 0.9 ** (xs / 1.0), 0.9)
    s = d = 0.0
    want = []
    for ai, yi in zip(a, y):
        s, d = ai * s + (1 - ai) * yi, ai * d + (1 - ai)
        want.append(s / d)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("w", [0.3, 0.6, 0.95])
def test_moving_average_is_a_nan_skipping_centred_mean(w: float) -> None:
    y = noisy(1500, seed=3)
    half = smoothing_window(w) // 2
    fin = np.isfinite(y)
    want = y.copy()
    for i in np.flatnonzero(fin):
        win = y[max(0, i - half) : i + half + 1]
        want[i] = win[np.isfinite(win)].mean()
    assert_same(smooth(y, "moving_average", w), want, rtol=1e-11)


@pytest.mark.parametrize("w", [0.5, 0.95])  # short kernel (direct) and long kernel (FFT)
def test_gaussian_is_a_nan_skipping_weighted_mean(w: float) -> None:
    y = noisy(2000, seed=4)
    sigma = gaussian_sigma(w)
    radius = max(1, math.ceil(4 * sigma))
    want = y.copy()
    for i in np.flatnonzero(np.isfinite(y)):
        lo, hi = max(0, i - radius), min(y.size, i + radius + 1)
        win = y[lo:hi]
        kern = np.exp(-0.5 * ((np.arange(lo, hi) - i) / sigma) ** 2)[np.isfinite(win)]
        want[i] = (kern * win[np.isfinite(win)]).sum() / kern.sum()
    assert_same(smooth(y, "gaussian", w), want, rtol=1e-9)


def test_slider_mappings() -> None:
    assert [smoothing_window(w) for w in (0.0, 0.6, 0.9, 0.99, 0.999)] == [1, 5, 19, 199, 1999]
    assert gaussian_sigma(0.9) == pytest.approx(1.9 / (2 * math.sqrt(math.pi) * 0.1))


# --------------------------------------------------------------------------- downsampling


def oracle(x: np.ndarray, y: np.ndarray, nb: int) -> set[int]:
    """Per equal-width x bucket: first, last, min, max (first of ties), first NaN/+inf/-inf."""
    x0, x1 = float(np.min(x)), float(np.max(x))
    width = (x1 - x0) / nb
    buckets: dict[int, list[int]] = {}
    for i, xi in enumerate(x):
        b = min(nb - 1, int(math.floor((xi - x0) / width))) if width > 0 else 0
        buckets.setdefault(b, []).append(i)
    keep: set[int] = set()
    for idx in buckets.values():
        keep |= {idx[0], idx[-1]}
        fin = [i for i in idx if math.isfinite(y[i])]
        if fin:
            keep.add(min(fin, key=lambda i: (y[i], i)))
            keep.add(min(fin, key=lambda i: (-y[i], i)))
        for pred in (math.isnan, lambda v: v == math.inf, lambda v: v == -math.inf):
            hits = [i for i in idx if pred(y[i])]
            if hits:
                keep.add(hits[0])
    return keep


@pytest.mark.parametrize("shuffled", [False, True])
def test_downsample_keeps_each_buckets_extremes(shuffled: bool) -> None:
    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(0, 1000, 6000))
    if shuffled:  # wall time of a series with a restart: x not sorted
        x = rng.permutation(x)
    y = noisy(x.size, seed=8)
    idx = downsample(x, y, 400)
    assert idx.dtype == np.int64
    nb = 100  # 400 // 4 buckets, fewer and wider while the markers overflow the budget
    want = oracle(x, y, nb)
    while len(want) > 400:
        nb = max(1, min(nb - 1, int(nb * 400 / len(want))))
        want = oracle(x, y, nb)
    assert set(idx.tolist()) == want
    assert idx.size <= 400


def test_downsample_keeps_spikes_and_global_extremes() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    y = rng.normal(0, 1, n)
    # one spike per chart pixel column at most (1000 points -> 250 buckets of 800 steps)
    spikes = rng.choice(250, 40, replace=False) * 800 + rng.integers(0, 800, 40)
    y[spikes] = rng.choice([-1, 1], 40) * rng.uniform(50, 100, 40)
    idx = downsample(np.arange(n), y, 1000)
    assert idx.size <= 1000
    assert set(spikes.tolist()) <= set(idx.tolist())
    assert int(np.argmin(y)) in idx and int(np.argmax(y)) in idx
    assert idx[0] == 0 and idx[-1] == n - 1
    assert np.all(np.diff(idx) > 0)


def test_downsample_keeps_nonfinite_markers() -> None:
    n = 100_000
    y = np.sin(np.arange(n) / 100.0)
    marks = {5: np.nan, 20_000: np.inf, 20_001: -np.inf, 77_777: np.nan, n - 1: np.inf}
    for i, v in marks.items():
        y[i] = v
    idx = downsample(np.arange(n) * 0.5, y, 500)
    assert set(marks) <= set(idx.tolist()) and idx.size <= 500


def test_downsample_fits_max_points_even_when_mostly_nonfinite() -> None:
    rng = np.random.default_rng(2)
    y = rng.choice([np.nan, np.inf, -np.inf, 1.0, 2.0], 50_000)
    for mp in (8, 9, 50, 333):
        idx = downsample(np.arange(y.size), y, mp)
        assert 0 < idx.size <= mp and np.all(np.diff(idx) > 0)
    all_nan = np.full(10_000, np.nan)
    idx = downsample(np.arange(all_nan.size), all_nan, 100)
    assert idx.size <= 100 and idx[0] == 0 and idx[-1] == all_nan.size - 1


def test_downsample_small_series_returned_whole() -> None:
    np.testing.assert_array_equal(downsample(np.arange(10), np.ones(10), 10), np.arange(10))
    assert downsample(np.array([]), np.array([]), 100).size == 0
    np.testing.assert_array_equal(downsample(np.array([3]), np.array([np.nan]), 8), [0])


@pytest.mark.parametrize("shuffled", [False, True])
def test_downsample_x_range(shuffled: bool) -> None:
    n = 50_000
    rng = np.random.default_rng(5)
    x = np.arange(n, dtype=float)
    if shuffled:
        x = rng.permutation(x)
    y = rng.normal(0, 1, n)
    x0, x1 = 10_000.25, 20_000.5
    idx = downsample(x, y, 300, x_range=(x0, x1))
    inside = np.flatnonzero((x >= x0) & (x <= x1))
    outside = sorted(set(idx.tolist()) - set(inside.tolist()))
    # only the neighbours (by index) of the in-range points lie outside the range
    near = {i for i in (inside - 1).tolist() + (inside + 1).tolist() if 0 <= i < n} - set(inside.tolist())
    assert set(outside) <= near
    if not shuffled:
        assert outside == [10_000, 20_001]  # one point on each side, so lines reach the edges
    assert idx.size <= 300
    assert int(inside[np.argmax(y[inside])]) in idx and int(inside[np.argmin(y[inside])]) in idx


def test_downsample_x_range_with_few_points_returns_them_all() -> None:
    x = np.arange(1000)
    idx = downsample(x, np.cos(x), 100, x_range=(500, 510))
    np.testing.assert_array_equal(idx, np.arange(499, 512))
    np.testing.assert_array_equal(downsample(x, np.cos(x), 100, x_range=(5000, 6000)), [999])


def test_downsample_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_points"):
        downsample(np.arange(10), np.arange(10), 4)
    with pytest.raises(ValueError, match="one length"):
        downsample(np.arange(10), np.arange(9), 100)
    with pytest.raises(ValueError, match="x_range"):
        downsample(np.arange(10), np.arange(10), 100, x_range=(5, 1))


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 3000), elements=st.floats(allow_nan=True, allow_infinity=True)),
    st.integers(8, 200),
)
def test_downsample_properties(y: np.ndarray, max_points: int) -> None:
    x = np.arange(y.size)
    idx = downsample(x, y, max_points)
    assert idx.dtype == np.int64 and idx.size <= max(max_points, 0)
    assert np.all(np.diff(idx) > 0) and idx[0] == 0 and idx[-1] == y.size - 1
    fin = np.isfinite(y)
    if fin.any():
        assert y[idx][np.isfinite(y[idx])].max() == y[fin].max()
        assert y[idx][np.isfinite(y[idx])].min() == y[fin].min()
    for kind in (np.isnan, np.isposinf, np.isneginf):
        assert kind(y).any() == kind(y[idx]).any()


# --------------------------------------------------------------------------- ranges and records


def test_value_range() -> None:
    assert value_range(np.array([np.nan, np.inf])) is None
    assert value_range([]) is None
    assert value_range(np.array([3.0, -1.0, np.nan, np.inf, 2.0])) == (-1.0, 3.0)
    assert value_range([np.array([1.0, 2.0]), np.array([5.0]), 0.5]) == (0.5, 5.0)
    y = np.r_[np.linspace(0.0, 1.0, 1001), 1e9]
    lo, hi = value_range(y, ignore_outliers=True)
    p5, p95 = np.percentile(y, [5, 95])
    assert (lo, hi) == pytest.approx((p5 - 0.05 * (p95 - p5), p95 + 0.05 * (p95 - p5)))
    assert value_range(np.array([2.0, 2.0])) == pytest.approx((1.9, 2.1))
    assert value_range(np.array([0.0])) == (-1.0, 1.0)


def test_batch_read_scalars_in_tensorboards_shape() -> None:
    from tests.unit.fake_provider import FakeProvider
    from vizboard.data.scalar_read import read_scalars

    p = FakeProvider()
    y = np.sin(np.arange(100_000) / 500.0)
    y[77_777] = 50.0
    p.add_scalars("a", "loss", np.arange(100_000), y)
    p.add_scalars("b", "loss", [0, 1, 2], [3.0, 2.0, 1.0])
    p.add_scalars("c", "acc", [0], [1.0])
    got = p.read_scalars(runs=["a", "b", "c", "nope", "a"], tag="loss", max_points=500)
    assert list(got) == ["a", "b"]
    assert len(got["a"]) <= 4 * 500 and got["a"].value.max() == 50.0 and got["a"].version == p.scalars("a", "loss").version
    assert got["b"].step.tolist() == [0, 1, 2]
    win = read_scalars(p, runs=["a"], tag="loss", max_points=100, x_range=(1000.0, 2000.0))["a"]
    assert 1000 <= win.step[1] and win.step[-2] <= 2000 and len(win) <= 400
    with pytest.raises(ValueError, match="max_points"):
        read_scalars(p, runs=["a"], tag="loss", max_points=0)
    with pytest.raises(ValueError, match="x_axis"):
        read_scalars(p, runs=["a"], tag="loss", max_points=10, x_axis="time")
    with pytest.raises(TypeError, match="sequence"):
        read_scalars(p, runs="a", tag="loss", max_points=10)


def test_api_imports_nothing_from_figures() -> None:
    import ast
    from pathlib import Path

    import vizboard.api

    tree = ast.parse(Path(vizboard.api.__file__).read_text())
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + \
        [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in mods if m and m.startswith("vizboard.figures")]
