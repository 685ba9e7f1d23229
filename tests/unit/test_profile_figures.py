"""vizboard.figures.profile: table rows, step breakdown, timeline, system-metric and step-timing figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vizboard.data.models import ScalarSeries
from vizboard.data.profile import PHASES, StepBreakdown, TraceFile, parse_trace
from vizboard.figures.profile import (
    OPERATOR_COLUMNS,
    operator_columns,
    operator_rows,
    step_breakdown_figure,
    step_options,
    step_timing_figure,
    system_metrics_figure,
    system_panel,
    timeline_figure,
)

T0 = 1_000_000.0


def ev(name, ts, dur, cat="cpu_op", tid=1, pid=1, **args):
    return {"ph": "X", "cat": cat, "name": name, "pid": pid, "tid": tid, "ts": T0 + ts, "dur": dur, "args": args}


def trace(device: bool = False, n_ops: int = 3):
    evs = [ev("ProfilerStep#3", 0, 100, cat="user_annotation"),
           ev("enumerate(DataLoader)#x", 1, 9, cat="user_annotation"),
           ev("Optimizer.step#Adam.step", 80, 10, cat="user_annotation")]
    evs += [ev(f"op{i}", 10 + i * 2, 1, **{"External id": i}) for i in range(n_ops)]
    if device:
        evs.append(ev("kern", 20, 5, cat="kernel", pid=0, tid=7, **{"External id": 0}))
    return parse_trace(json.dumps({"traceEvents": evs}).encode(), TraceFile(".", "/t", "w", 1, 0, 0.0))


def series(run, tag, n=5, wall0=1.7e9):
    return ScalarSeries(run, tag, np.arange(n, dtype=np.int64), wall0 + np.arange(n, dtype=np.float64),
                        np.linspace(1, 2, n), 1)


def test_operator_rows_ms_and_device_columns() -> None:
    rows = operator_rows(trace().operators)
    assert set(rows[0]) == {c for c, _ in OPERATOR_COLUMNS[:4]}
    opt = [r for r in rows if r["name"] == "Optimizer.step#Adam.step"][0]
    assert opt["total_cpu_ms"] == pytest.approx(0.010) and opt["calls"] == 1
    rows = operator_rows(trace(device=True).operators)
    assert set(rows[0]) == {c for c, _ in OPERATOR_COLUMNS}
    assert [r for r in rows if r["name"] == "op0"][0]["self_device_ms"] == pytest.approx(0.005)
    assert len(operator_rows(trace(n_ops=50).operators, limit=10)) == 10


def test_step_breakdown_figure_stacks_every_phase() -> None:
    tr = trace()
    fig = step_breakdown_figure(tr.steps)
    assert [t.name for t in fig.data] == list(PHASES)
    assert fig.layout.barmode == "stack"
    total = sum(float(t.y[0]) for t in fig.data)
    assert total == pytest.approx(0.1)
    assert list(fig.data[0].x) == ["#3"]


def test_step_breakdown_without_steps_explains() -> None:
    tr = parse_trace(json.dumps({"traceEvents": [ev("a", 0, 1)]}).encode(), TraceFile(".", "/t", "w", 1, 0, 0.0))
    fig = step_breakdown_figure(tr.steps)
    assert "prof.step()" in fig.layout.annotations[0].text


def test_timeline_rows_and_cap() -> None:
    tr = trace(device=True, n_ops=30)
    fig = timeline_figure(tr, 0)
    bars = sum(len(t.x) for t in fig.data)
    assert bars == len(tr.events)  # all events lie within the step
    assert all(t.orientation == "h" for t in fig.data)
    assert {t.name for t in fig.data} == {"user_annotation", "cpu_op", "kernel"}
    cats = list(fig.layout.yaxis.categoryarray)
    assert any("/ 7" in c for c in cats)  # the GPU stream row
    capped = timeline_figure(tr, 0, max_bars=5)
    assert sum(len(t.x) for t in capped.data) == 5
    assert "longest 5" in capped.layout.title.text
    whole = timeline_figure(tr, None)
    assert whole.layout.title.text.startswith("Whole trace")


def test_system_panels() -> None:
    assert system_panel("system/cpu_percent") == "cpu"
    assert system_panel("system/process_cpu_percent") == "cpu"
    assert system_panel("system/process_rss_mb") == "memory"
    assert system_panel("system/memory_percent") == "memory_percent"
    assert system_panel("system/gpu0_util") == "gpu_util"
    assert system_panel("system/gpu1_mem_mb") == "gpu_mem"
    assert system_panel("system/custom") == "other"


def test_system_metrics_figure_on_wall_time_with_aligned_curve() -> None:
    sys_series = [series("a", "system/cpu_percent"), series("a", "system/process_rss_mb"),
                  series("b", "system/cpu_percent")]
    fig = system_metrics_figure(sys_series, [series("a", "loss")])
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["loss", "CPU (%)", "Memory (MiB)"]
    assert len(fig.data) == 4
    x0 = np.asarray(fig.data[0].x)
    assert x0.dtype.kind == "M" and str(x0[0]).startswith("2023-11-14")  # wall time 1.7e9 s
    assert fig.layout.xaxis.type == "date"
    assert "system_metrics=True" in system_metrics_figure([]).layout.annotations[0].text


def test_system_metrics_figure_downsamples() -> None:
    fig = system_metrics_figure([series("a", "system/cpu_percent", n=50_000)], max_points=400)
    assert len(fig.data[0].x) <= 400


def test_step_timing_figure() -> None:
    fig = step_timing_figure([series("a", "time/data"), series("a", "time/samples_per_sec")])
    assert [a.text for a in fig.layout.annotations] == ["a · s per step", "Throughput (samples/s)"]
    assert list(fig.data[0].x) == [0, 1, 2, 3, 4]
    assert "writer.timer" in step_timing_figure([]).layout.annotations[0].text


def test_step_timing_small_multiples_stack_phases_per_run() -> None:
    tags = ("time/forward", "time/data", "time/backward", "time/optimizer", "time/step")
    runs = [f"lr_{k}" for k in range(4)]
    fig = step_timing_figure([series(r, t) for r in runs for t in tags]
                             + [series(r, "time/samples_per_sec") for r in runs])
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [f"{r} · s per step" for r in runs] + ["Throughput (samples/s)"]  # one panel per run
    first = [t for t in fig.data if t.xaxis == "x"]
    assert [t.name for t in first] == ["data", "forward", "backward", "optimizer", "step (total)"]
    assert {t.stackgroup for t in first[:4]} == {"run1"} and first[4].stackgroup is None  # total is not stacked
    second = [t for t in fig.data if t.xaxis == "x2"]
    assert [t.line.color for t in second[:4]] == [t.line.color for t in first[:4]]  # a phase keeps its colour
    assert sum(1 for t in fig.data if t.showlegend is not False and t.name == "forward") == 1  # one legend entry
    assert len([t for t in fig.data if t.xaxis == "x5"]) == 4  # throughput: a line per run


def test_operator_columns_and_step_options() -> None:
    assert [c["id"] for c in operator_columns(False)] == [c for c, _ in OPERATOR_COLUMNS[:4]]
    assert len(operator_columns(True)) == 6 and operator_columns(True)[0]["type"] == "text"
    steps = trace().steps
    options, value = step_options(steps, None)
    assert [o["value"] for o in options] == list(range(len(steps))) and options[0]["label"].startswith("#")
    assert value == 0
    assert step_options(steps, len(steps) - 1)[1] == len(steps) - 1  # kept while still an option
    assert step_options(steps, 99)[1] == 0
    empty = StepBreakdown(*(np.zeros(0) for _ in range(8)))
    assert step_options(empty, 3) == ([{"label": "whole trace", "value": -1}], -1)
