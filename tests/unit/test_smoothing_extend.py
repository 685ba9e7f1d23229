"""Incremental EMA on append (extend_smoothed) equals the full smoothing; SmoothingCache extends live series."""

from __future__ import annotations

import numpy as np
import pytest

from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.data.models import ScalarSeries
from vizboard.data.smoothing import extend_smoothed, smooth, smooth_series


@pytest.mark.parametrize("seed", range(40))
def test_extend_equals_full_smoothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 2000))
    y = np.cumsum(rng.normal(size=n)) * rng.choice([1e-3, 1.0, 1e6]) + rng.choice([0.0, 1e9])
    if seed % 2:
        idx = rng.integers(0, n, size=max(1, n // 8))
        y[idx] = rng.choice([np.nan, np.inf, -np.inf], size=idx.size)
    w = float(rng.choice([0.05, 0.6, 0.9, 0.99, 0.999]))
    k = int(rng.integers(1, n))
    ext = extend_smoothed(smooth(y[:k], "ema", w), y, "ema", w)
    full = smooth(y, "ema", w)
    if ext is None:  # only when the prefix has no finite value or is constant
        head = y[:k]
        assert not np.isfinite(head).any() or bool(np.all(head == head[0]))
        return
    fin = np.isfinite(y)
    assert ext.shape == full.shape
    np.testing.assert_array_equal(ext[~fin], y[~fin])  # non-finite points drawn as logged
    scale = float(np.max(np.abs(y[fin])))
    assert float(np.max(np.abs(ext[fin] - full[fin]))) <= 1e-13 * scale


def test_extend_declines_what_it_cannot_do_exactly() -> None:
    y = np.arange(10, dtype=np.float64)
    assert extend_smoothed(smooth(y[:5], "moving_average", 0.6), y, "moving_average", 0.6) is None
    assert extend_smoothed(smooth(y[:5], "ema", 0.6), y[:5], "ema", 0.6) is None  # nothing new
    flat = np.r_[np.ones(5), np.arange(5.0)]
    assert extend_smoothed(smooth(flat[:5], "ema", 0.6), flat, "ema", 0.6) is None  # constant prefix


def _series(values: np.ndarray, version: int) -> ScalarSeries:
    n = values.shape[0]
    return ScalarSeries("r", "loss", np.arange(n), 1.7e9 + np.arange(n, dtype=np.float64), values, version)


def test_cache_extends_an_appended_series_instead_of_resmoothing() -> None:
    calls: list[int] = []

    def full(s: ScalarSeries, kind: str, w: float) -> np.ndarray | None:
        calls.append(s.version)
        return smooth_series(s, kind, w)

    cache = SmoothingCache(full, extend=extend_smoothed)
    rng = np.random.default_rng(0)
    buf = np.cumsum(rng.normal(size=5000))
    first = cache.get(_series(buf[:4000], 1), "ema", 0.6)
    assert first is not None and calls == [1]
    grown = cache.get(_series(buf[:4100], 2), "ema", 0.6)  # same buffer, longer: an append
    assert calls == [1]
    np.testing.assert_allclose(grown, smooth(buf[:4100], "ema", 0.6), rtol=0, atol=1e-12)
    copied = cache.get(_series(np.array(buf[:4300]), 3), "ema", 0.6)  # a copy of the same values
    assert calls == [1]
    np.testing.assert_allclose(copied, smooth(buf[:4300], "ema", 0.6), rtol=0, atol=1e-12)
    changed = buf[:4400].copy()
    changed[10] += 1.0  # a rewritten prefix (a restarted run): smoothed from scratch
    again = cache.get(_series(changed, 4), "ema", 0.6)
    assert calls == [1, 4]
    np.testing.assert_array_equal(again, smooth(changed, "ema", 0.6))
    assert cache.get(_series(changed, 4), "ema", 0.6) is again  # a hit
    assert calls == [1, 4]
