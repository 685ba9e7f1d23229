"""The runs table's data: one row per run (or per group of runs) with hparams, times, last step, status and metric summaries.

Status comes from the data alone: an hparams ``session_end_info`` decides (``finished``
for success, ``failed`` for failure); otherwise a run whose newest event is younger than
``stale_after`` seconds is ``running`` and an older one ``finished``. Times are seconds
(Unix epoch for ``start_time``; ``duration`` from the first to the newest event).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from vizboard.data.models import Kind, ScalarSeries
from vizboard.data.provider import DataProvider

__all__ = ["STATUSES", "MetricSummary", "RunRow", "RunsTable", "summarize", "build_runs_table", "group_table"]

STATUSES = ("running", "finished", "failed")
"""Values of :attr:`RunRow.status`."""


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """A tag's last logged value and its min and max over finite values (NaN if none)."""

    last: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class RunRow:
    """One row: a run (``members == (name,)``) or a group (``members`` its runs).

    ``start_time`` seconds since the epoch (NaN if unknown), ``duration`` seconds,
    ``last_step`` the largest scalar step (-1 if none). For a group: ``hparams`` keeps
    values all members share, ``metrics`` holds the mean of the members' last values and
    the min of mins / max of maxes, ``status`` is ``running`` if any member runs.
    """

    name: str
    members: tuple[str, ...]
    start_time: float
    duration: float
    last_step: int
    status: str
    hparams: dict[str, bool | float | str] = field(default_factory=dict)
    metrics: dict[str, MetricSummary] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunsTable:
    """Rows plus the column lists: ``hparam_names`` and ``metric_tags`` in display order."""

    hparam_names: tuple[str, ...]
    metric_tags: tuple[str, ...]
    rows: tuple[RunRow, ...]


_NAN_SUMMARY = MetricSummary(math.nan, math.nan, math.nan)


def summarize(series: ScalarSeries | None) -> MetricSummary:
    """Last value, and min/max over the finite values, of ``series`` (NaN where there are none)."""
    if series is None or len(series) == 0:
        return _NAN_SUMMARY
    v = np.asarray(series.value, dtype=np.float64)
    fin = v[np.isfinite(v)]
    if fin.size == 0:
        return MetricSummary(float(v[-1]), math.nan, math.nan)
    return MetricSummary(float(v[-1]), float(fin.min()), float(fin.max()))


def build_runs_table(
    provider: DataProvider,
    metric_tags: Sequence[str],
    *,
    runs: Sequence[str] | None = None,
    now: float | None = None,
    stale_after: float = 300.0,
) -> RunsTable:
    """One :class:`RunRow` per run (all runs if ``runs`` is None), summarising ``metric_tags``.

    ``now`` (seconds since the epoch, default the clock) and ``stale_after`` (seconds)
    decide ``running`` vs ``finished`` for runs without an hparams session end.
    """
    if stale_after < 0:
        raise ValueError(f"stale_after must be >= 0 seconds (got {stale_after})")
    now = time.time() if now is None else float(now)
    infos = {r.name: r for r in provider.runs()}
    names = list(infos) if runs is None else [r for r in runs if r in infos]
    tags_by_run: dict[str, list[str]] = {}
    for t in provider.tags(Kind.SCALARS, names):
        tags_by_run.setdefault(t.run, []).append(t.tag)
    hp = provider.hparams()
    sessions = {s.run: s for s in hp.sessions}
    rows = []
    for run in names:
        first, last_step = math.inf, -1
        for tag in tags_by_run.get(run, ()):
            s = provider.scalars(run, tag)
            if s is None or len(s) == 0:
                continue
            w = float(s.wall_time[0])
            if math.isfinite(w):
                first = min(first, w)
            last_step = max(last_step, int(s.step[-1]))
        sess = sessions.get(run)
        if sess is not None and sess.start_time > 0:
            first = min(first, sess.start_time)
        last_wall = infos[run].last_wall_time
        start = first if math.isfinite(first) else (last_wall if last_wall > 0 else math.nan)
        end = max(last_wall, sess.end_time if sess is not None else 0.0)
        duration = max(0.0, end - start) if math.isfinite(start) and end > 0 else math.nan
        if sess is not None and sess.status in ("success", "failure"):
            status = "finished" if sess.status == "success" else "failed"
        else:
            status = "running" if last_wall > 0 and now - last_wall < stale_after else "finished"
        metrics = {tag: summarize(provider.scalars(run, tag)) for tag in metric_tags}
        rows.append(RunRow(run, (run,), start, duration, last_step, status,
                           dict(sess.hparams) if sess is not None else {}, metrics))
    present = set(names)
    hp_names = tuple(n for n in hp.hparam_names if any(n in r.hparams for r in rows)) if present else ()
    return RunsTable(hp_names, tuple(metric_tags), tuple(rows))


def _nan_agg(values: list[float], fn: str) -> float:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return math.nan
    return float(arr.mean() if fn == "mean" else arr.min() if fn == "min" else arr.max())


def group_table(table: RunsTable, groups: Mapping[str, Sequence[str]]) -> RunsTable:
    """Collapse ``table``'s run rows into one row per group (``name -> member runs``), in the groups' order.

    Runs not in ``table`` are ignored; a group with no row in the table is left out.
    """
    by_run = {r.name: r for r in table.rows}
    rows = []
    for name, runs in groups.items():
        members = [by_run[r] for r in runs if r in by_run]
        if not members:
            continue
        starts = [m.start_time for m in members if math.isfinite(m.start_time)]
        durs = [m.duration for m in members if math.isfinite(m.duration)]
        shared = dict(members[0].hparams)
        for m in members[1:]:
            shared = {k: v for k, v in shared.items() if k in m.hparams and m.hparams[k] == v}
        status = ("running" if any(m.status == "running" for m in members)
                  else "failed" if any(m.status == "failed" for m in members) else "finished")
        metrics = {
            tag: MetricSummary(
                _nan_agg([m.metrics.get(tag, _NAN_SUMMARY).last for m in members], "mean"),
                _nan_agg([m.metrics.get(tag, _NAN_SUMMARY).min for m in members], "min"),
                _nan_agg([m.metrics.get(tag, _NAN_SUMMARY).max for m in members], "max"),
            )
            for tag in table.metric_tags
        }
        rows.append(RunRow(name, tuple(m.name for m in members), min(starts) if starts else math.nan,
                           max(durs) if durs else math.nan, max(m.last_step for m in members), status,
                           shared, metrics))
    return RunsTable(table.hparam_names, table.metric_tags, tuple(rows))
