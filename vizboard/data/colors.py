"""Stable run colours: a pure function of the run's name (shared by the API, the page and the figures)."""

from __future__ import annotations

import zlib

__all__ = ["PALETTE", "run_color"]

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#0b6e4f", "#c2185b", "#3949ab", "#ef6c00",
    "#00897b", "#6d4c41",
)
"""Colours for runs: distinguishable on both light and dark backgrounds."""


def run_color(run: str) -> str:
    """The colour of ``run`` (``#rrggbb``): a pure function of its name, so it never changes between views."""
    return PALETTE[zlib.crc32(run.encode("utf-8")) % len(PALETTE)]
