"""The batch scalar read in TensorBoard's shape: many runs of one tag, each downsampled to a point budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from vizboard.data.downsample import MAX_POINTS_LIMIT, X_AXES, select_indices
from vizboard.data.models import ScalarSeries

__all__ = ["read_scalars", "ScalarSource"]


class ScalarSource(Protocol):
    """The part of a DataProvider the batch read needs."""

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        """The full-resolution series, or None."""
        ...


def read_scalars(
    provider: ScalarSource,
    *,
    runs: Sequence[str],
    tag: str,
    max_points: int,
    x_range: tuple[float, float] | None = None,
    x_axis: str = "step",
) -> dict[str, ScalarSeries]:
    """For each of ``runs`` that has scalar ``tag``: its series reduced to about ``max_points`` points.

    Like TensorBoard's ``DataProvider.read_scalars(run_tag_filter=..., downsample=...)``: the
    result maps run -> a :class:`ScalarSeries` holding the selected points (every bucket's
    min and max kept, see :func:`vizboard.data.downsample.select_indices`), whose ``version``
    is the full series'. ``x_range`` = (lo, hi) in units of ``x_axis`` (steps, seconds since
    the first point, or wall-time seconds) keeps points in that window plus one on each side.
    Runs without the tag are absent. ``max_points`` must be in 1..MAX_POINTS_LIMIT.
    """
    if not 1 <= max_points <= MAX_POINTS_LIMIT:
        raise ValueError(f"max_points must be in 1..{MAX_POINTS_LIMIT}, got {max_points}")
    if x_axis not in X_AXES:
        raise ValueError(f"x_axis must be one of {list(X_AXES)}, got {x_axis!r}")
    if isinstance(runs, str):
        raise TypeError("runs must be a sequence of run names, not one string (wrap it in a list)")
    out: dict[str, ScalarSeries] = {}
    for run in dict.fromkeys(runs):
        series = provider.scalars(run, tag)
        if series is None:
            continue
        idx = select_indices(series, max_points, x_axis, x_range)
        out[run] = replace(series, step=series.step[idx], wall_time=series.wall_time[idx],
                           value=series.value[idx])
    return out
