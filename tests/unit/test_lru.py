"""vizboard.data.lru: caches bounded in bytes, not entries; SmoothingCache and blob cache stay within budget."""

from __future__ import annotations

import numpy as np

from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.data.lru import ByteLRU, approx_nbytes
from vizboard.data.models import Kind, ScalarSeries, TagInfo


def test_byte_budget_is_kept_whatever_the_entry_count() -> None:
    lru: ByteLRU[np.ndarray] = ByteLRU(1 << 20)
    for i in range(1000):  # 1,000 distinct selections of 8 KiB each = 8 MiB offered
        lru.put(("sel", i), np.zeros(1024))
        assert lru.nbytes <= 1 << 20
    assert 0 < len(lru) < 1000
    hit, _ = lru.get(("sel", 999))
    assert hit and not lru.get(("sel", 0))[0]
    lru.put("huge", np.zeros(1 << 20))  # over budget: not stored
    assert not lru.get("huge")[0]


def test_zero_sized_values_still_count() -> None:
    lru: ByteLRU[None] = ByteLRU(10_000, lambda k, v: 0)
    for i in range(10_000):
        lru.put(i, None)
    assert len(lru) <= 50


def test_estimates_scale_with_content() -> None:
    tags = [TagInfo(f"run{i}", "loss", Kind.SCALARS, "scalars", 10, 1) for i in range(20_000)]
    big, small = approx_nbytes(tags), approx_nbytes(tags[:100])
    assert big > 100 * small // 2 and big > 20_000 * 100
    assert approx_nbytes(np.zeros(1000)) >= 8000


def test_smoothing_cache_is_bounded_by_bytes_over_many_series() -> None:
    cache = SmoothingCache(lambda s, kind, w: np.asarray(s.value, np.float64) * w, max_bytes=1 << 20)
    for i in range(2000):
        s = ScalarSeries(f"run{i}", "loss", np.arange(1000), np.zeros(1000), np.ones(1000), 1)
        assert cache.get(s, "ema", 0.5) is not None
        assert cache.nbytes <= 1 << 20
