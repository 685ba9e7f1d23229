"""The measurement record every benchmark module returns, and repetition helpers."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["Sample", "Measurement", "repeat", "ratio", "summarize"]


@dataclass(frozen=True)
class Sample:
    """Repeated observations of one figure: reported as median with min..max spread."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))


@dataclass(frozen=True)
class Measurement:
    """One row of the comparison table.

    ``ours`` is vizboard's figure, ``theirs`` maps each competitor's name to its figure
    (same unit, same run, same machine). ``better`` says which direction wins.
    ``target`` is the DESIGN.md budget in words (e.g. ``">= 10x less than torch"``)
    and ``met`` whether this run met it (None when the budget is not checkable here).
    ``no_ratio`` names competitors shown for context only: their figure measures a different
    thing (e.g. a default setting against another default), so the report gives no ratio.
    """

    group: str
    figure: str
    unit: str
    ours: Sample
    theirs: dict[str, Sample] = field(default_factory=dict)
    better: str = "lower"
    target: str | None = None
    met: bool | None = None
    note: str = ""
    no_ratio: tuple[str, ...] = ()


def repeat(fn: Callable[[], float], times: int) -> Sample:
    """Call ``fn`` ``times`` times and collect what it returns (each call one observation)."""
    return Sample(tuple(fn() for _ in range(max(1, times))))


def ratio(ours: Sample, theirs: Sample, better: str = "lower") -> float:
    """How many times better ours is (> 1 means ours wins), from the medians."""
    if better == "lower":
        return theirs.median / ours.median if ours.median else float("inf")
    return ours.median / theirs.median if theirs.median else float("inf")


def summarize(values: Sequence[float]) -> Sample:
    """Wrap already-collected observations."""
    return Sample(tuple(values))
