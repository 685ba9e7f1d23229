"""Profile tab figures: operator table rows, step breakdown, one-step timeline, system metrics, step timing.

Pure functions: parsed traces (``vizboard.data.profile``) and scalar series in, table rows
or ``go.Figure`` out; no Dash, no I/O. Trace times arrive in microseconds and are drawn
in milliseconds; system metrics are drawn against wall time (UTC) so they line up with
training curves drawn on wall time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vizboard.data.downsample import downsample
from vizboard.data.models import ScalarSeries
from vizboard.data.profile import PHASES, OperatorTable, ProfileTrace, StepBreakdown
from vizboard.figures.escape import escape_template, escape_text
from vizboard.figures.theme import PALETTE, apply_theme, color_of

__all__ = [
    "OPERATOR_COLUMNS",
    "PHASE_COLORS",
    "SYSTEM_PANELS",
    "operator_rows",
    "operator_columns",
    "step_options",
    "message_figure",
    "step_breakdown_figure",
    "timeline_figure",
    "system_panel",
    "system_metrics_figure",
    "step_timing_figure",
]

OPERATOR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Operator"),
    ("calls", "Calls"),
    ("self_cpu_ms", "Self CPU (ms)"),
    ("total_cpu_ms", "Total CPU (ms)"),
    ("self_device_ms", "Self device (ms)"),
    ("total_device_ms", "Total device (ms)"),
)
"""(column id, header) of the operator table; device columns only when the trace has device time."""

PHASE_COLORS: dict[str, str] = {
    "data": "#ff7f0e", "forward": "#1f77b4", "backward": "#2ca02c", "optimizer": "#9467bd", "other": "#7f7f7f",
}

SYSTEM_PANELS: tuple[tuple[str, str], ...] = (
    ("cpu", "CPU (%)"),
    ("memory", "Memory (MiB)"),
    ("memory_percent", "Memory (%)"),
    ("gpu_util", "GPU utilisation (%)"),
    ("gpu_mem", "GPU memory (MiB)"),
    ("other", "Other system metrics"),
)
"""(panel key, axis title) of the system-metrics chart, top to bottom."""


def operator_rows(table: OperatorTable, limit: int | None = None) -> list[dict]:
    """Rows for a DataTable (times in ms, rounded to 1 ns), largest total CPU first."""
    n = len(table) if limit is None else min(limit, len(table))
    rows = []
    for i in range(n):
        row = {
            "name": table.name[i],
            "calls": int(table.calls[i]),
            "self_cpu_ms": round(float(table.self_cpu_us[i]) / 1e3, 6),
            "total_cpu_ms": round(float(table.total_cpu_us[i]) / 1e3, 6),
        }
        if table.has_device:
            row["self_device_ms"] = round(float(table.self_device_us[i]) / 1e3, 6)
            row["total_device_ms"] = round(float(table.total_device_us[i]) / 1e3, 6)
        rows.append(row)
    return rows


def operator_columns(has_device: bool) -> list[dict[str, str]]:
    """DataTable columns of the operator table: the device-time columns only when the trace has them."""
    return [{"id": c, "name": n, "type": "text" if c == "name" else "numeric"}
            for c, n in OPERATOR_COLUMNS[:6 if has_device else 4]]


def step_options(steps: StepBreakdown, current: Any) -> tuple[list[dict[str, Any]], int]:
    """The step picker's options (``#N`` per ``ProfilerStep``, or "whole trace" = -1 when the trace
    has none) and its value: ``current`` while it is still an option, else the first."""
    options: list[dict[str, Any]] = [{"label": f"#{int(s)}", "value": i} for i, s in enumerate(steps.step)]
    if not options:
        options = [{"label": "whole trace", "value": -1}]
    valid = [o["value"] for o in options]
    return options, current if current in valid else valid[0]


def message_figure(message: str, theme: str = "light") -> go.Figure:
    """An empty chart that shows ``message`` in its middle."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=200)
    return apply_theme(fig, theme)


def step_breakdown_figure(steps: StepBreakdown, theme: str = "light") -> go.Figure:
    """Stacked bars, one per ProfilerStep, of the time (ms) spent in each of :data:`PHASES`."""
    if len(steps) == 0:
        return message_figure("No ProfilerStep spans: call prof.step() once per training step", theme)
    x = [f"#{int(s)}" for s in steps.step]
    fig = go.Figure()
    for phase in PHASES:
        ms = steps.phase(phase) / 1e3
        share = np.divide(steps.phase(phase), steps.duration_us, out=np.zeros(len(steps)),
                          where=steps.duration_us > 0)
        fig.add_trace(go.Bar(
            name=phase, x=x, y=ms, marker_color=PHASE_COLORS[phase], customdata=share * 100,
            hovertemplate=f"step %{{x}}<br>{phase}: %{{y:.3f}} ms (%{{customdata:.1f}}%)<extra></extra>",
        ))
    fig.update_layout(barmode="stack", height=320, xaxis_title="step", yaxis_title="time (ms)",
                      legend={"orientation": "h", "y": 1.12}, xaxis={"type": "category"})
    return apply_theme(fig, theme)


def timeline_figure(trace: ProfileTrace, step_pos: int | None, theme: str = "light",
                    max_bars: int = 3000) -> go.Figure:
    """Horizontal bars of the events of one step (``steps[step_pos]``, or the whole trace if None).

    One row per (thread, nesting depth); x in ms from the step's start; colour by event
    category. At most ``max_bars`` bars are drawn (the longest ones; the title says so).
    """
    ev = trace.events
    steps = trace.steps
    if step_pos is not None and 0 <= step_pos < len(steps):
        start = float(steps.start_us[step_pos])
        end = start + float(steps.duration_us[step_pos])
        title = f"Step #{int(steps.step[step_pos])}"
    else:
        start, end, title = trace.start_us, trace.end_us, "Whole trace"
    idx = ev.window(start, end)
    dropped = 0
    if idx.size > max_bars:
        keep = np.argsort(-ev.dur_us[idx], kind="stable")[:max_bars]
        dropped = int(idx.size - max_bars)
        idx = np.sort(idx[keep])
    if idx.size == 0:
        return message_figure("No events in this step", theme)
    rows = [f"{ev.threads[t]} · {d}" for t, d in zip(ev.thread_idx[idx], ev.depth[idx])]
    order = sorted(set(zip(ev.thread_idx[idx].tolist(), ev.depth[idx].tolist())))
    categories = [f"{ev.threads[t]} · {d}" for t, d in order]
    base = (np.maximum(ev.ts_us[idx], start) - start) / 1e3
    width = (np.minimum(ev.ts_us[idx] + ev.dur_us[idx], end) - np.maximum(ev.ts_us[idx], start)) / 1e3
    names = np.array([ev.names[i] for i in ev.name_idx[idx]], dtype=object)
    full = ev.dur_us[idx] / 1e3
    rows_a = np.array(rows, dtype=object)
    fig = go.Figure()
    for k, cat in enumerate(ev.cats):
        m = ev.cat_idx[idx] == k
        if not m.any():
            continue
        fig.add_trace(go.Bar(
            name=escape_text(cat), orientation="h", y=rows_a[m], x=width[m], base=base[m],
            marker_color=PALETTE[k % len(PALETTE)], marker_line_width=0,  # the template's outline hid thin bars
            customdata=np.stack([names[m], full[m]], axis=1),
            hovertemplate="%{customdata[0]}<br>start %{base:.3f} ms, %{customdata[1]:.3f} ms<extra></extra>",
        ))
    if dropped:
        title += f" (longest {max_bars} of {max_bars + dropped} events)"
    fig.update_layout(
        barmode="overlay", title={"text": title, "x": 0.01}, height=max(260, 22 * len(categories) + 120),
        xaxis_title="time since step start (ms)",
        yaxis={"categoryorder": "array", "categoryarray": categories, "autorange": "reversed"},
        legend={"orientation": "h", "y": -0.2},
    )
    return apply_theme(fig, theme)


def system_panel(tag: str) -> str:
    """The panel key (see :data:`SYSTEM_PANELS`) of a ``system/...`` tag."""
    leaf = tag.split("/", 1)[-1]
    if leaf.startswith("gpu") and leaf.endswith("_util"):
        return "gpu_util"
    if leaf.startswith("gpu") and leaf.endswith("_mem_mb"):
        return "gpu_mem"
    if leaf.endswith("cpu_percent"):
        return "cpu"
    if leaf == "memory_percent":
        return "memory_percent"
    if leaf.endswith("_mb"):
        return "memory"
    return "other"


def _wall_ms(series: ScalarSeries, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(series))
    if len(series) > max_points:
        idx = np.asarray(downsample(series.wall_time, series.value, max_points), dtype=np.int64)
    return (series.wall_time[idx] * 1e3).astype("datetime64[ms]"), series.value[idx]


def system_metrics_figure(system: Sequence[ScalarSeries], aligned: Sequence[ScalarSeries] = (),
                          theme: str = "light", max_points: int = 1000,
                          colors_by_run: Mapping[str, str] | None = None) -> go.Figure:
    """Panels sharing one wall-time x axis: the ``aligned`` training curves (if any) on top,
    then one panel per kind of ``system/*`` metric. Colour = run (from ``colors_by_run``, a
    :func:`~vizboard.figures.theme.run_color_map`); dash = metric within a panel."""
    panels = [(key, title) for key, title in SYSTEM_PANELS if any(system_panel(s.tag) == key for s in system)]
    if aligned:
        panels.insert(0, ("aligned", aligned[0].tag))
    if not panels:
        return message_figure("No system/* metrics: pass system_metrics=True to SummaryWriter", theme)
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[t for _, t in panels])
    dashes = ("solid", "dot", "dash", "dashdot", "longdash")
    for row, (key, _title) in enumerate(panels, start=1):
        members = list(aligned) if key == "aligned" else [s for s in system if system_panel(s.tag) == key]
        tags = sorted({s.tag for s in members})
        for s in members:
            x, y = _wall_ms(s, max_points)
            leaf = s.tag.split("/", 1)[-1] if key != "aligned" else s.tag
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=escape_text(f"{s.run} · {leaf}"), legendgroup=s.run,
                line={"color": color_of(colors_by_run, s.run), "dash": dashes[tags.index(s.tag) % len(dashes)]},
                hovertemplate=f"{escape_template(s.run)}<br>{escape_template(leaf)}: %{{y:.4g}}<br>%{{x}}<extra></extra>",
            ), row=row, col=1)
    fig.update_xaxes(type="date")
    fig.update_xaxes(title_text="wall time (UTC)", row=len(panels), col=1)
    fig.update_layout(height=180 * len(panels) + 120, showlegend=True,
                      legend={"orientation": "h", "y": -0.1, "yanchor": "top"}, margin={"b": 90})
    return apply_theme(fig, theme)


def _timing_xy(s: ScalarSeries, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(s))
    if len(s) > max_points:
        idx = np.asarray(downsample(s.step, s.value, max_points), dtype=np.int64)
    return s.step[idx], s.value[idx]


def step_timing_figure(series: Sequence[ScalarSeries], theme: str = "light", max_points: int = 2000,
                       colors_by_run: Mapping[str, str] | None = None) -> go.Figure:
    """Step timing as small multiples: one panel per run with its ``time/*`` phases stacked (s per step).

    Each run's panel stacks its phase durations as filled areas (``time/data`` at the
    bottom, then forward, backward, optimizer and any other timer), in the same phase
    colour in every panel (one legend entry per phase), with the measured total
    ``time/step`` as a black dotted line on top, so the gap above the stack is untimed
    work. A last panel draws ``time/samples_per_sec`` with one line per run in the run's
    colour (``colors_by_run``, a :func:`~vizboard.figures.theme.run_color_map`). Readable
    for 3-10 runs (the old single chart drew every phase of every run in one tangle).
    """
    if not series:
        return message_figure("No time/* scalars: use `with writer.timer('forward'): ...`", theme)
    runs = sorted({s.run for s in series})
    rate = [s for s in series if s.tag == "time/samples_per_sec"]
    order = {p: i for i, p in enumerate(PHASE_COLORS)}

    def phase_of(tag: str) -> str:
        return tag.split("/", 1)[-1]

    stacked = {r: sorted((s for s in series if s.run == r and s.tag not in ("time/samples_per_sec", "time/step")),
                         key=lambda s: (order.get(phase_of(s.tag), len(order)), s.tag)) for r in runs}
    totals = {s.run: s for s in series if s.tag == "time/step"}
    panel_runs = [r for r in runs if stacked[r] or r in totals]
    titles = [f"{escape_text(r)} · s per step" for r in panel_runs] + (["Throughput (samples/s)"] if rate else [])
    n = len(titles)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=min(0.08, 0.3 / max(n, 1)),
                        subplot_titles=titles)
    extra = [t for t in sorted({phase_of(s.tag) for r in runs for s in stacked[r]}) if t not in PHASE_COLORS]
    colors = {**PHASE_COLORS, **{t: PALETTE[(i + 5) % len(PALETTE)] for i, t in enumerate(extra)}}
    shown: set[str] = set()
    for row, run in enumerate(panel_runs, start=1):
        for s in stacked[run]:
            leaf = phase_of(s.tag)
            x, y = _timing_xy(s, max_points)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=escape_text(leaf), legendgroup=f"phase:{leaf}", showlegend=leaf not in shown,
                stackgroup=f"run{row}", line={"color": colors[leaf], "width": 0.5}, fillcolor=colors[leaf],
                hovertemplate=f"{escape_template(run)}<br>{escape_template(leaf)}: %{{y:.4g}} s<br>step %{{x:,d}}<extra></extra>",
            ), row=row, col=1)
            shown.add(leaf)
        total = totals.get(run)
        if total is not None:
            x, y = _timing_xy(total, max_points)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name="step (total)", legendgroup="phase:total",
                showlegend="total" not in shown, line={"color": "#444444" if theme != "dark" else "#dddddd",
                                                       "dash": "dot", "width": 1.5},
                hovertemplate=f"{escape_template(run)}<br>step total: %{{y:.4g}} s<br>step %{{x:,d}}<extra></extra>",
            ), row=row, col=1)
            shown.add("total")
    if rate:
        for s in rate:
            x, y = _timing_xy(s, max_points)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", name=escape_text(s.run), legendgroup=f"run:{s.run}",
                line={"color": color_of(colors_by_run, s.run)},
                hovertemplate=f"{escape_template(s.run)}<br>%{{y:.4g}} samples/s<br>step %{{x:,d}}<extra></extra>",
            ), row=n, col=1)
    fig.update_xaxes(title_text="step", row=n, col=1)
    fig.update_layout(height=150 * n + 140, legend={"orientation": "h", "y": -0.06, "yanchor": "top"},
                      margin={"b": 90})
    return apply_theme(fig, theme)
