"""Pure helpers of side-by-side trials: alternating order, ratios against a target, percentiles.

No timing here: these turn already-measured seconds into what the report claims, so they are
unit-tested (``tests/unit/test_bench_trials.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.common import Sample

__all__ = ["RatioTarget", "alternating", "expected_runs", "filter_patterns", "percentile", "ratio_of_medians"]


def alternating(trials: int, tools: Sequence[str]) -> list[tuple[int, str]]:
    """(trial, tool) pairs in the order A B A B ...: every trial runs each tool once, in the same order.

    Interleaving spreads drifting machine load evenly over the tools instead of giving one tool
    all the quiet (or busy) minutes.
    """
    if trials < 0:
        raise ValueError(f"trials must be >= 0, got {trials}")
    if len(set(tools)) != len(tools) or not tools:
        raise ValueError(f"tools must be distinct and non-empty, got {list(tools)}")
    return [(k, tool) for k in range(trials) for tool in tools]


def ratio_of_medians(ours: Sample, theirs: Sample) -> float | None:
    """median(ours) / median(theirs) (for times: < 1 means vizboard is faster); None without data."""
    if not ours.values or not theirs.values:
        return None
    if theirs.median == 0:
        return math.inf if ours.median > 0 else 1.0
    return ours.median / theirs.median


@dataclass(frozen=True)
class RatioTarget:
    """A budget "vizboard's median time <= ``max_ratio`` x the competitor's median time"."""

    max_ratio: float

    @property
    def text(self) -> str:
        """The target in words, for the report's target column."""
        return f"vizboard/TensorBoard <= {self.max_ratio:g}"

    def met(self, ours: Sample, theirs: Sample) -> bool | None:
        """Whether the medians meet the target; None when a side was not measured (not a pass)."""
        r = ratio_of_medians(ours, theirs)
        return None if r is None else r <= self.max_ratio

    def verdict(self, ours: Sample, theirs: Sample) -> str:
        """One sentence: the ratio and whether it met the target (a miss is written as missed)."""
        r = ratio_of_medians(ours, theirs)
        if r is None:
            return f"ratio not available (a side was not measured); target {self.text}"
        return f"ratio vizboard/TensorBoard = {r:.2f} (target <= {self.max_ratio:g}): " + (
            "met" if r <= self.max_ratio else "MISSED")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between order statistics."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in 0..100, got {q}")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def filter_patterns(n_runs: int, trials: int) -> list[str]:
    """One run regex per trial, each matching about a tenth of the runs (a different tenth per trial).

    Runs are named ``sweepG/runNNNN`` (:func:`bench.logdirs.run_name`); pattern k keeps the runs
    whose index ends in digit k (``run\\d{3}k$``), so every trial changes what is shown.
    """
    del n_runs  # every pattern matches about n/10 runs whatever n is
    return [rf"run\d{{3}}{k % 10}$" for k in range(trials)]


def expected_runs(runs: Iterable[str], pattern: str) -> list[str]:
    """The runs a regex filter keeps (``re.search``, as both dashboards apply it), sorted."""
    rx = re.compile(pattern)
    return sorted(r for r in runs if rx.search(r))
