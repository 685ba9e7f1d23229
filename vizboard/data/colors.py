"""Run colours: by run order (distinct for the first 20 runs) or, where no order is known, by name.

Shared by the API, the page and the figures (``vizboard.figures.theme`` re-exports them), so a
run has one colour everywhere that uses :func:`run_colors`.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache

__all__ = ["PALETTE", "ORDER_PALETTE", "run_color", "run_colors", "run_color_map", "color_of"]

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#0b6e4f", "#c2185b", "#3949ab", "#ef6c00",
    "#00897b", "#6d4c41",
)
"""Colours for runs: distinguishable on both light and dark backgrounds."""

ORDER_PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f", "#a0522d", "#e7969c", "#00a087", "#f0c808", "#6b6ecf", "#ad494a",
    "#52c0a1", "#d6616b", "#8ca252", "#ce6dbd",
)
"""Colours handed out by run order: the first 20 runs all differ (readable on white and #1e1e1e)."""


def run_color(run: str) -> str:
    """The colour of ``run``: a pure function of its name, so it never changes between views."""
    return PALETTE[zlib.crc32(run.encode("utf-8")) % len(PALETTE)]


def run_colors(runs: list[str]) -> list[str]:
    """One colour per run of ``runs`` (in the order given, usually sorted by name).

    The first ``len(ORDER_PALETTE)`` runs get distinct palette colours; later ones get
    golden-angle hues (same lightness band, readable in both themes). A run keeps its
    colour across reloads and filter changes as long as the set of runs before it does.
    """
    return list(_colors_for_count(len(runs)))


@lru_cache(maxsize=8)
def _colors_for_count(n: int) -> tuple[str, ...]:
    """The colours of runs 0..n-1 (a run's colour depends only on its index). Cached: ``/api/runs``
    asks for every run's colour on each call, and over 1,000 runs the HSL maths was 57 % of its time."""
    out = list(ORDER_PALETTE[:n])
    for i in range(len(out), n):
        hue = (i * 137.508) % 360.0
        out.append(_hsl_hex(hue, 0.62, 0.52 if (i // 7) % 2 else 0.44))
    return tuple(out)


def run_color_map(all_runs: Sequence[str]) -> dict[str, str]:
    """Run name -> colour by its index among ``all_runs`` (every run, sorted by name, as the
    provider lists them), the same colours ``/api/runs`` and the Scalars page use. Pass all
    runs, not the selected ones, so a run's colour does not change with the selection."""
    return dict(zip(all_runs, run_colors(list(all_runs))))


def color_of(colors: Mapping[str, str] | None, run: str) -> str:
    """``run``'s colour from a :func:`run_color_map` result; by name (:func:`run_color`) if absent
    (e.g. a profile run with no event file, which the provider's run list does not hold)."""
    return (colors or {}).get(run) or run_color(run)


def _hsl_hex(h: float, s: float, lum: float) -> str:
    c = (1 - abs(2 * lum - 1)) * s
    x = c * (1 - abs((h / 60.0) % 2 - 1))
    m = lum - c / 2
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h // 60) % 6]
    return "#{:02x}{:02x}{:02x}".format(*(round((v + m) * 255) for v in (r, g, b)))
