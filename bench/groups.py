"""Run-group benchmark: 1,000 runs x 1 tag grouped into 10 groups (mean line + min-max band), and the runs table.

Figures: server time to group (name regex) and aggregate on full-resolution series, then
downsample (``vizboard.data.groups``), against what a user would write instead in a notebook
(pandas: concatenate every run, ``groupby([group, step]).agg(mean, min, max)``, no downsampling);
the JSON payload of the 10 groups' traces (``vizboard.figures.groups``) against drawing the
1,000 runs one line each at the same points per line; and the server time to build the
runs table of 1,000 runs with last/min/max of one tag (rows as the Runs tab sends them).
The browser's first render of the table is not measured here (see the report).

``python -m bench.groups [--quick]`` prints a table.
"""

from __future__ import annotations

import json
import time

import numpy as np

from bench.common import Measurement, Sample

__all__ = ["run"]

_RUNS = 1_000
_GROUPS = 10
_MAX_POINTS = 1_000


class _Provider:
    """Just enough of a DataProvider for grouping and the runs table: 1,000 runs, one tag."""

    def __init__(self, points: int) -> None:
        from vizboard.data.models import HParamsData, Kind, RunInfo, ScalarSeries, TagInfo

        rng = np.random.default_rng(0)
        step = np.arange(points, dtype=np.int64) * 10
        self._series = {}
        self._runs = []
        self._tags = []
        for i in range(_RUNS):
            run = f"cfg{i % _GROUPS}_seed{i // _GROUPS}"
            value = np.exp(-step / (points * 4.0)) + rng.normal(0, 0.05, points) + 0.01 * (i % _GROUPS)
            wall = 1.7e9 + step.astype(np.float64)
            self._series[run] = ScalarSeries(run, "loss", step, wall, value, 1)
            self._runs.append(RunInfo(run, 1, float(wall[-1]), 1, 0))
            self._tags.append(TagInfo(run, "loss", Kind.SCALARS, "scalars", points, 1))
        self._hp = HParamsData((), (), ())

    def scalars(self, run: str, tag: str):  # noqa: ANN201 - duck-typed provider
        return self._series.get(run) if tag == "loss" else None

    def runs(self):  # noqa: ANN201
        return list(self._runs)

    def tags(self, kind=None, runs=None):  # noqa: ANN001, ANN201
        keep = None if runs is None else set(runs)
        return [t for t in self._tags if keep is None or t.run in keep]

    def hparams(self):  # noqa: ANN201
        return self._hp


def _ours(p: _Provider) -> tuple[float, list[dict]]:
    from vizboard.data.groups import aggregate_groups, group_by_regex
    from vizboard.figures.groups import groups_traces

    t0 = time.perf_counter()
    groups = group_by_regex([r.name for r in p.runs()], r"(.*)_seed\d+")
    aggs = aggregate_groups(p, groups, "loss", max_points=_MAX_POINTS)
    traces = groups_traces(aggs, ["#1f77b4"] * len(aggs))
    return time.perf_counter() - t0, traces


def _pandas(p: _Provider) -> float:
    import pandas as pd

    t0 = time.perf_counter()
    frames = []
    for r in p.runs():
        s = p.scalars(r.name, "loss")
        frames.append(pd.DataFrame({"run": r.name, "step": s.step, "value": s.value}))
    df = pd.concat(frames, ignore_index=True)
    df["group"] = df["run"].str.extract(r"(.*)_seed\d+", expand=False)
    df.groupby(["group", "step"])["value"].agg(["mean", "min", "max", "count"])
    return time.perf_counter() - t0


def _per_run_payload(p: _Provider) -> int:
    from vizboard.data.downsample import downsample

    total = 0
    for r in p.runs():
        s = p.scalars(r.name, "loss")
        idx = downsample(s.step, s.value, _MAX_POINTS)
        total += len(json.dumps({"type": "scatter", "name": r.name, "x": s.step[idx].tolist(),
                                 "y": s.value[idx].tolist()}))
    return total


def _table(p: _Provider) -> float:
    from vizboard.data.runs_table import build_runs_table
    from vizboard.figures import runs_table as rt

    t0 = time.perf_counter()
    table = build_runs_table(p, ["loss"])  # type: ignore[arg-type]
    rows = rt.records(table)
    json.dumps(rows)
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[Measurement]:
    """Measure grouping, payload and runs-table figures (see the module docstring)."""
    points = 1_000 if quick else 10_000
    reps = 2 if quick else 3
    p = _Provider(points)
    ours, theirs, tables = [], [], []
    traces: list[dict] = []
    for _ in range(reps):
        t, traces = _ours(p)
        ours.append(t)
        theirs.append(_pandas(p))
        tables.append(_table(p))
    payload = len(json.dumps(traces))
    per_run = _per_run_payload(p)
    shape = f"{_RUNS:,} runs x 1 tag x {points:,} points -> {_GROUPS} groups"
    return [
        Measurement("groups", f"group + aggregate (mean, min-max band), downsampled: {shape}", "s",
                    Sample(tuple(ours)), {"pandas groupby": Sample(tuple(theirs))},
                    note="pandas computes the same statistics without downsampling or traces"),
        Measurement("groups", f"payload of the grouped chart ({_GROUPS} groups: line + band)", "KB",
                    Sample((payload / 1e3,)), {"1,000 run lines": Sample((per_run / 1e3,))},
                    note=f"both downsampled to at most {_MAX_POINTS:,} points per line"),
        Measurement("groups", f"runs table rows: {_RUNS:,} runs, last/min/max of 1 tag (server, JSON)", "s",
                    Sample(tuple(tables)), note="browser first render of the virtualised table not measured"),
    ]


if __name__ == "__main__":
    import sys

    for m in run(quick="--quick" in sys.argv):
        others = "; ".join(f"{k}: {v.median:.4g}" for k, v in m.theirs.items())
        print(f"{m.figure}: vizboard {m.ours.median:.4g} {m.unit}" + (f"; {others} {m.unit}" if others else ""))
