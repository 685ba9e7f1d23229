"""Run groups: which runs form a group (name regex, hparam, text/config field) and each group's aggregate line and band.

Aggregation works on full-resolution series (``ScalarSeries``) and only then
downsamples (keeping every bucket's extremes of the line *and* of both band edges), so
one seed's spike stays visible in the band even when the mean smooths it away.

Step alignment: the x values of a group are the union of its members' steps. A member
contributes its logged value where it logged that step, a value linearly interpolated
between its two neighbouring finite points where it did not (only inside its own first..last
step: a run that stopped early, or started late, does not count beyond its range), and
nothing elsewhere. Every step where at least one member's value was interpolated is
flagged in ``GroupAggregate.interpolated`` so the hover can say so. Non-finite logged
values (NaN, ±inf) count as missing at their step: statistics use the finite values only
and ``count`` says how many members contributed.

Time x-axes: on relative or wall time a group's x at each step is its members' mean time at
that step (:func:`group_time_x`), aligned by step like the values (runs of one group log the
same steps at slightly different times, so their mean line is drawn at their mean time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vizboard.data.downsample import downsample
from vizboard.data.models import ScalarSeries
from vizboard.data.provider import DataProvider

__all__ = [
    "LINES",
    "BANDS",
    "GROUP_BY",
    "GroupAggregate",
    "group_by_regex",
    "group_by_value",
    "text_field",
    "group_runs",
    "aggregate",
    "aggregate_groups",
    "TIME_AXES",
    "time_values",
    "group_time_x",
]

LINES = ("mean", "median", "min", "max")
"""Accepted ``line`` values of :func:`aggregate`: the statistic drawn as the group's line."""

BANDS = ("minmax", "std", "stderr", "none")
"""Accepted ``band`` values: min..max of the members, line ± standard deviation, line ± standard error, no band."""

GROUP_BY = ("regex", "hparam", "text")
"""Accepted ``by`` values of :func:`group_runs`."""

_MISSING = "(none)"


@dataclass(frozen=True, slots=True)
class GroupAggregate:
    """One group's aggregate of one tag, ready to draw.

    ``step`` int64 (sorted, unique); ``line``, ``lower`` and ``upper`` float64 of the
    same length (NaN where no member has a finite value; ``lower``/``upper`` equal
    ``line`` when ``band`` is ``"none"`` or only one member contributes to a ± band);
    ``count`` int64, the members with a finite value at each step; ``interpolated``
    bool, True where at least one member's value was interpolated between its logged
    steps. ``members`` are the runs that have the tag (runs of the group without it are
    left out). ``total_points`` is the length before downsampling.
    """

    name: str
    tag: str
    members: tuple[str, ...]
    step: np.ndarray
    line: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    count: np.ndarray
    interpolated: np.ndarray
    line_kind: str
    band_kind: str
    total_points: int

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @property
    def any_interpolated(self) -> bool:
        """Whether any drawn point mixes in an interpolated member value."""
        return bool(self.interpolated.any())


# --------------------------------------------------------------------------- membership


def group_by_regex(runs: Sequence[str], pattern: str) -> dict[str, tuple[str, ...]]:
    """Group ``runs`` by ``re.search(pattern, run)``: the capture groups joined by ``/`` name the group.

    A pattern without capture groups uses the whole match. A run the pattern does not
    match forms a group of its own (named after the run). Groups come in order of their
    first member; members keep the order of ``runs``.
    """
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern is not a valid regular expression ({exc}); e.g. '(.*)_seed\\d+'") from None
    out: dict[str, list[str]] = {}
    for run in runs:
        m = rx.search(run)
        if m is None:
            key = run
        elif m.groups():
            key = "/".join(g if g is not None else "" for g in m.groups())
        else:
            key = m.group(0)
        out.setdefault(key, []).append(run)
    return {k: tuple(v) for k, v in out.items()}


def _label(v: Any) -> str:
    if v is None:
        return _MISSING
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def group_by_value(runs: Sequence[str], values: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Group ``runs`` by ``values[run]`` (a hparam or a config field); runs without a value form ``"(none)"``.

    Group names are the values as text (``0.001``, ``adam``, ``true``; whole floats
    without ``.0``). Groups come in order of their first member.
    """
    out: dict[str, list[str]] = {}
    for run in runs:
        out.setdefault(_label(values.get(run)), []).append(run)
    return {k: tuple(v) for k, v in out.items()}


_LINE_FIELD = re.compile(r"^\s*[-*|]?\s*`?([\w.\-/](?:[\w.\-/ ]*[\w.\-/])?)`?\s*[:=|]\s*(.*?)\s*\|?\s*$")


def text_field(text: str, field: str | None) -> str | None:
    """The value of ``field`` in a logged text (None if absent); the whole stripped text when ``field`` is None.

    Understands a JSON object (HF Trainer's ``args``/``model_config``; dotted ``field``
    reaches into nested objects) and lines of ``key: value``, ``key = value`` or a
    Markdown table row ``| key | value |`` (keys may hold inner spaces: ``learning rate``).
    """
    if field is None or field == "":
        return text.strip() or None
    try:
        obj: Any = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict):
        cur: Any = obj
        for part in field.split("."):
            if not isinstance(cur, dict) or part not in cur:
                cur = None
                break
            cur = cur[part]
        if cur is not None:
            return cur if isinstance(cur, str) else json.dumps(cur)
    for line in text.splitlines():
        m = _LINE_FIELD.match(line)
        if m and m.group(1) == field:
            return m.group(2).strip().strip("`").strip() or None
    return None


def group_runs(provider: DataProvider, runs: Sequence[str], by: str, key: str) -> dict[str, tuple[str, ...]]:
    """Group ``runs`` as the user asked: ``by`` is ``"regex"`` (``key`` the pattern), ``"hparam"``
    (``key`` the hparam name) or ``"text"`` (``key`` is ``TAG`` or ``TAG:FIELD``; the last
    logged value of text tag ``TAG``, or its ``FIELD`` per :func:`text_field`)."""
    if by == "regex":
        return group_by_regex(runs, key)
    if by == "hparam":
        hp = {s.run: s.hparams.get(key) for s in provider.hparams().sessions}
        return group_by_value(runs, hp)
    if by == "text":
        tag, _, field = key.partition(":")
        if not tag:
            raise ValueError("key must name a text tag, as 'TAG' or 'TAG:FIELD' (e.g. 'args:learning_rate')")
        values: dict[str, Any] = {}
        for run in runs:
            entries = provider.text(run, tag)
            if entries:
                data = entries[-1].data
                values[run] = text_field(str(data.reshape(-1)[0]) if data.size else "", field or None)
        return group_by_value(runs, values)
    raise ValueError(f"by must be one of {', '.join(GROUP_BY)} (got {by!r})")


# --------------------------------------------------------------------------- aggregation


def _member_values(s: ScalarSeries, grid: np.ndarray, values: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(values at ``grid`` with NaN where missing, bool mask of interpolated positions)."""
    step = np.asarray(s.step, dtype=np.int64)
    y = np.asarray(s.value if values is None else values, dtype=np.float64)
    out = np.full(grid.shape[0], np.nan)
    interp = np.zeros(grid.shape[0], dtype=bool)
    if step.size == 0:
        return out, interp
    if step.size == grid.size and bool(np.array_equal(step, grid)):
        out[:] = y
        out[~np.isfinite(out)] = np.nan
        return out, interp
    # Repeated steps keep the last value (the store sorts by step; a restart's newest session wins).
    last = np.r_[step[1:] != step[:-1], True]
    step, y = step[last], y[last]
    pos = np.searchsorted(grid, step)
    out[pos] = y
    inside = (grid >= step[0]) & (grid <= step[-1])
    gaps = inside.copy()
    gaps[pos] = False
    finite = np.isfinite(y)
    if gaps.any() and int(finite.sum()) >= 1:
        fx, fy = step[finite].astype(np.float64), y[finite]
        g = grid[gaps]
        vals = np.interp(g.astype(np.float64), fx, fy)
        ok = (g >= fx[0]) & (g <= fx[-1])  # never extrapolate beyond the finite points
        vals[~ok] = np.nan
        out[gaps] = vals
        interp[np.flatnonzero(gaps)[ok]] = True
    out[~np.isfinite(out)] = np.nan
    return out, interp


def _reduce(m: np.ndarray, count: np.ndarray, line: str, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    has = count > 0
    n = m.shape[1]
    center, lo, hi = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if not has.any():
        return center, lo, hi
    mh = m[:, has]
    if line == "mean":
        center[has] = np.nanmean(mh, axis=0)
    elif line == "median":
        center[has] = np.nanmedian(mh, axis=0)
    elif line == "min":
        center[has] = np.nanmin(mh, axis=0)
    else:
        center[has] = np.nanmax(mh, axis=0)
    if band == "minmax":
        lo[has], hi[has] = np.nanmin(mh, axis=0), np.nanmax(mh, axis=0)
    elif band in ("std", "stderr"):
        c = count[has]
        dev = np.zeros(c.shape[0])
        many = c > 1
        if many.any():
            dev[many] = np.nanstd(mh[:, many], axis=0, ddof=1)  # sample std across seeds
        if band == "stderr":
            dev = dev / np.sqrt(c)
        lo[has], hi[has] = center[has] - dev, center[has] + dev
    else:
        lo[has], hi[has] = center[has], center[has]
    return center, lo, hi


def aggregate(
    series: Sequence[ScalarSeries],
    *,
    name: str = "",
    line: str = "mean",
    band: str = "minmax",
    max_points: int | None = None,
    transform: Callable[[ScalarSeries], np.ndarray] | None = None,
) -> GroupAggregate:
    """Aggregate the members' full-resolution ``series`` of one tag into a line and a band.

    ``line`` is one of :data:`LINES`, ``band`` one of :data:`BANDS`. ``transform`` maps a
    member series to the values to aggregate (same length; e.g. smoothing with
    ``smoothing.smooth``), applied before alignment. With ``max_points`` (>= 8) the result is
    downsampled after aggregating: the kept steps are the union of each bucket's extremes
    of the line, the lower and the upper edge (so at most ``max_points`` points per edge,
    up to ``3 * max_points`` in total). See the module docstring for step alignment.
    """
    if line not in LINES:
        raise ValueError(f"line must be one of {', '.join(LINES)} (got {line!r})")
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)} (got {band!r})")
    members = [s for s in series if len(s)]
    tag = members[0].tag if members else (series[0].tag if series else "")
    if not members:
        e = np.empty(0)
        return GroupAggregate(name, tag, (), e.astype(np.int64), e, e, e, e.astype(np.int64),
                              e.astype(bool), line, band, 0)
    grid = np.unique(np.concatenate([np.asarray(s.step, dtype=np.int64) for s in members]))
    mat = np.empty((len(members), grid.size))
    interp = np.zeros(grid.size, dtype=bool)
    for i, s in enumerate(members):
        vals = None if transform is None else np.asarray(transform(s), dtype=np.float64)
        if vals is not None and vals.shape != s.step.shape:
            raise ValueError(f"transform must return one value per point (got {vals.shape} for {s.step.shape})")
        mat[i], flags = _member_values(s, grid, vals)
        interp |= flags
    count = np.isfinite(mat).sum(axis=0).astype(np.int64)
    center, lo, hi = _reduce(mat, count, line, band)
    total = int(grid.size)
    if max_points is not None and total > max_points:
        keep = np.union1d(np.union1d(downsample(grid, center, max_points), downsample(grid, lo, max_points)),
                          downsample(grid, hi, max_points))
        grid, center, lo, hi, count, interp = (a[keep] for a in (grid, center, lo, hi, count, interp))
    return GroupAggregate(name, tag, tuple(s.run for s in members), grid, center, lo, hi, count, interp,
                          line, band, total)


TIME_AXES = ("relative", "wall_time")
"""The time x-axes a group can be drawn against (besides step and a scalar tag)."""


def time_values(s: ScalarSeries, axis: str) -> np.ndarray:
    """One member's time at each of its points, in seconds: since its own first point (``relative``,
    as the Scalars page draws a run) or since the epoch (``wall_time``)."""
    wall = np.asarray(s.wall_time, dtype=np.float64)
    if axis == "relative":
        return wall - wall[0] if wall.size else wall
    if axis == "wall_time":
        return wall
    raise ValueError(f"axis must be one of {', '.join(TIME_AXES)} (got {axis!r})")


def group_time_x(members: Sequence[ScalarSeries], axis: str) -> np.ndarray:
    """A group's x on a time ``axis`` (seconds) at each step of :func:`aggregate` of the same ``members``:
    the members' mean time at that step, aligned by step exactly as the values are (interpolated
    between a member's logged steps, only inside its own range). NaN where no member has a time."""
    return aggregate(members, line="mean", band="none", transform=lambda s: time_values(s, axis)).line


def aggregate_groups(
    provider: DataProvider,
    groups: Mapping[str, Sequence[str]],
    tag: str,
    *,
    line: str = "mean",
    band: str = "minmax",
    max_points: int | None = None,
    transform: Callable[[ScalarSeries], np.ndarray] | None = None,
) -> list[GroupAggregate]:
    """:func:`aggregate` of scalar ``tag`` for every group (``name -> member runs``), in the groups' order.

    Groups where no member has the tag are left out.
    """
    out = []
    for name, runs in groups.items():
        members = [s for s in (provider.scalars(r, tag) for r in runs) if s is not None and len(s)]
        if members:
            out.append(aggregate(members, name=name, line=line, band=band, max_points=max_points,
                                 transform=transform))
    return out

