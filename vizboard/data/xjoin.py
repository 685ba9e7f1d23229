"""Any scalar as the x-axis: join a run's y series with its x series (e.g. ``train/tokens``, ``epoch``) by step.

``how="exact"`` keeps only the steps both series logged. ``how="interpolate"`` keeps every
y step inside the x series' logged step range and interpolates x linearly between its two
neighbouring finite logged points where x was not logged at that step (the usual case when
``epoch`` or ``tokens`` is logged less often than the loss); such points are flagged.
Non-finite x values cannot be placed on an axis: those points are dropped. Non-finite y
values are kept (the chart marks them). The result is sorted by step, not by x (x need not
be monotonic: wall-clock hours after a restart, a learning rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vizboard.data.models import ScalarSeries
from vizboard.data.provider import DataProvider

__all__ = ["JOIN_MODES", "JoinedSeries", "join_by_step", "join_runs"]

JOIN_MODES = ("exact", "interpolate")
"""Accepted ``how`` values of :func:`join_by_step`."""


@dataclass(frozen=True, slots=True)
class JoinedSeries:
    """A run's y tag against its x tag: ``x``, ``y`` float64 and ``step`` int64 of one length, sorted by step.

    ``interpolated`` (bool, same length) is True where x was interpolated between logged steps.
    """

    run: str
    x_tag: str
    y_tag: str
    step: np.ndarray
    x: np.ndarray
    y: np.ndarray
    interpolated: np.ndarray

    def __len__(self) -> int:
        return int(self.step.shape[0])


def _dedup(step: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the last value of each repeated step (steps sorted)."""
    if step.size < 2:
        return step, value
    last = np.r_[step[1:] != step[:-1], True]
    return step[last], value[last]


def join_by_step(x: ScalarSeries, y: ScalarSeries, *, how: str = "exact") -> JoinedSeries:
    """Join ``y`` (values to draw) with ``x`` (values for the x-axis) of the same run by step.

    ``how`` is ``"exact"`` or ``"interpolate"`` (see the module docstring).
    """
    if how not in JOIN_MODES:
        raise ValueError(f"how must be one of {', '.join(JOIN_MODES)} (got {how!r})")
    xs, xv = _dedup(np.asarray(x.step, dtype=np.int64), np.asarray(x.value, dtype=np.float64))
    ys, yv = _dedup(np.asarray(y.step, dtype=np.int64), np.asarray(y.value, dtype=np.float64))
    fin = np.isfinite(xv)
    xs_f, xv_f = xs[fin], xv[fin]
    if how == "exact" or xs_f.size == 0:
        common, iy, ix = np.intersect1d(ys, xs_f, assume_unique=True, return_indices=True)
        return JoinedSeries(y.run, x.tag, y.tag, common, xv_f[ix], yv[iy], np.zeros(common.size, dtype=bool))
    inside = (ys >= xs_f[0]) & (ys <= xs_f[-1])
    step, yy = ys[inside], yv[inside]
    pos = np.searchsorted(xs_f, step)
    pos_c = np.minimum(pos, xs_f.size - 1)
    exact = xs_f[pos_c] == step
    xx = np.where(exact, xv_f[pos_c], np.interp(step.astype(np.float64), xs_f.astype(np.float64), xv_f))
    return JoinedSeries(y.run, x.tag, y.tag, step, xx, yy, ~exact)


def join_runs(provider: DataProvider, runs: list[str], x_tag: str, y_tag: str, *,
              how: str = "exact") -> list[JoinedSeries]:
    """:func:`join_by_step` for every run of ``runs`` that has both tags, in order."""
    out = []
    for run in runs:
        xs, ys = provider.scalars(run, x_tag), provider.scalars(run, y_tag)
        if xs is not None and ys is not None:
            out.append(join_by_step(xs, ys, how=how))
    return out
