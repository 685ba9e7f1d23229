"""Scalar charts: pick the points to draw (zoom window, downsampling) and build the Plotly figure.

Pure functions: typed series in, numpy arrays or a ``go.Figure`` out; no Dash, no I/O.
Point selection and smoothing live in the data layer
(:mod:`vizboard.data.downsample`, :mod:`vizboard.data.smoothing`), shared with the JSON
API, so both always agree; smoothing is computed on the full series and then sampled at
the drawn points, so it does not depend on zoom. Times are seconds since the epoch (UTC); steps are training steps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from vizboard.data.downsample import X_AXES, select_indices, value_range, x_values
from vizboard.data.models import ScalarSeries
from vizboard.data.smoothing import SMOOTHING_KINDS
from vizboard.figures.theme import apply_theme, run_color

__all__ = [
    "warm_up",
    "DEFAULT_WEIGHT",
    "ChartOptions",
    "Line",
    "make_line",
    "scalar_figure",
]

DEFAULT_WEIGHT = 0.6
"""TensorBoard's default smoothing weight."""

_NONFINITE_STYLE = {  # symbol, label, edge
    "nan": ("x-thin-open", "NaN", "top"),
    "posinf": ("triangle-up", "+Infinity", "top"),
    "neginf": ("triangle-down", "-Infinity", "bottom"),
}


@dataclass(frozen=True, slots=True)
class ChartOptions:
    """How a scalar chart is drawn.

    ``smoothing`` one of :data:`SMOOTHING_KINDS`, ``weight`` in [0, 1) (for
    ``moving_average``/``gaussian`` it maps to a window), ``x_axis`` one of
    :data:`X_AXES`, ``max_points`` per trace (clamped to 10..4000).
    """

    smoothing: str = "ema"
    weight: float = DEFAULT_WEIGHT
    x_axis: str = "step"
    log_x: bool = False
    log_y: bool = False
    ignore_outliers: bool = False
    theme: str = "light"
    max_points: int = 1500

    def __post_init__(self) -> None:
        if self.smoothing not in SMOOTHING_KINDS:
            raise ValueError(f"smoothing: {self.smoothing!r} is not one of {SMOOTHING_KINDS}")
        if self.x_axis not in X_AXES:
            raise ValueError(f"x_axis: {self.x_axis!r} is not one of {X_AXES}")


@dataclass(frozen=True, slots=True)
class Line:
    """One drawn line: the selected points of a series (raw and smoothed values, same length)."""

    run: str
    tag: str
    label: str
    color: str
    x: np.ndarray
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray
    smoothed: np.ndarray | None
    total_points: int


def make_line(
    series: ScalarSeries,
    options: ChartOptions,
    x_range: tuple[float, float] | None = None,
    smoothed: np.ndarray | None = None,
    label: str | None = None,
    color: str | None = None,
) -> Line:
    """Select the points of ``series`` to draw; ``smoothed`` is its full smoothed series if any."""
    idx = select_indices(series, options.max_points, options.x_axis, x_range)
    xs = x_values(series, options.x_axis)[idx]
    return Line(
        run=series.run,
        tag=series.tag,
        label=label if label is not None else series.run,
        color=color or run_color(series.run),
        x=xs,
        step=series.step[idx],
        wall_time=series.wall_time[idx],
        value=series.value[idx],
        smoothed=None if smoothed is None else smoothed[idx],
        total_points=len(series),
    )


def _time_strings(wall_time: np.ndarray) -> np.ndarray:
    ms = np.round(wall_time * 1000.0)
    ms = np.where(np.isfinite(ms), ms, 0).astype("int64").astype("datetime64[ms]")
    return np.char.replace(np.datetime_as_string(ms, unit="s"), "T", " ")


def _plot_x(line: Line, x_axis: str) -> np.ndarray:
    return line.x * 1000.0 if x_axis == "wall_time" else line.x  # plotly date axes take epoch ms


def _y_range(lines: Sequence[Line], options: ChartOptions) -> tuple[float, float] | None:
    parts = [ln.value for ln in lines] + [ln.smoothed for ln in lines if ln.smoothed is not None]
    if not parts:
        return None
    values = np.concatenate(parts)
    if options.log_y:
        values = values[values > 0]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    rng = value_range(values, ignore_outliers=options.ignore_outliers)
    if rng is None:
        return None
    lo, hi = rng
    if options.log_y:
        lo, hi = math.log10(lo), math.log10(hi)
    pad = (hi - lo) * 0.05 or (abs(hi) * 0.05 or 1.0)
    return lo - pad, hi + pad


def _nonfinite_traces(line: Line, x_axis: str, y_range: tuple[float, float], log_y: bool) -> list[dict]:
    out = []
    v = line.value
    masks = {"nan": np.isnan(v), "posinf": np.isposinf(v), "neginf": np.isneginf(v)}
    for key, mask in masks.items():
        if not mask.any():
            continue
        symbol, text, edge = _NONFINITE_STYLE[key]
        y_edge = y_range[1] if edge == "top" else y_range[0]
        y = 10**y_edge if log_y else y_edge
        steps = line.step[mask]
        out.append({
            "type": "scatter",
            "x": _plot_x(line, x_axis)[mask],
            "y": np.full(steps.shape, y),
            "mode": "markers",
            "marker": {"symbol": symbol, "size": 9, "color": line.color, "line": {"width": 2, "color": line.color}},
            "name": f"{line.label} ({text})",
            "legendgroup": line.label,
            "showlegend": False,
            "customdata": steps,
            "hovertemplate": f"<b>%{{fullData.name}}</b><br>step %{{customdata}}<br>value {text}<extra></extra>",
            "meta": {"nonfinite": key, "run": line.run},
        })
    return out


@lru_cache(maxsize=4)
def _themed_layout(theme: str) -> str:
    """The layout ``apply_theme`` produces, as JSON (memoised: building a template costs ~50 ms)."""
    return json.dumps(apply_theme(go.Figure(), theme).to_plotly_json()["layout"])


def scalar_figure(
    lines: Sequence[Line],
    options: ChartOptions,
    title: str = "",
    uirevision: str = "",
) -> go.Figure:
    """A line chart: per line the smoothed values (solid) over the raw ones (faint).

    With smoothing ``none`` only the raw line is drawn. NaN and ±inf points are drawn
    as markers at the top (NaN, +inf) or bottom (-inf) edge of the y range. Hover shows
    run, step, value, smoothed value and wall time (UTC). ``uirevision`` keeps zoom,
    legend state and hover across updates (pass the card's key). The figure is built
    from plain dicts without per-property validation (fast enough for live updates).
    """
    y_range = _y_range(lines, options)
    has_nonfinite = any(not np.all(np.isfinite(ln.value)) for ln in lines)
    if has_nonfinite and y_range is None:
        y_range = (-1.0, 1.0)
    x_title = {"step": "step", "relative": "relative time (s)", "wall_time": "wall time (UTC)"}[options.x_axis]
    smoothing = options.smoothing != "none"
    data: list[dict] = []
    markers: list[dict] = []
    for ln in lines:
        px = _plot_x(ln, options.x_axis)
        sparse = ln.total_points <= 30
        finite_raw = np.where(np.isfinite(ln.value), ln.value, np.nan)
        times = _time_strings(ln.wall_time).tolist()
        if options.x_axis == "step":  # x is the step: send the raw value only
            custom, step_ref = finite_raw.reshape(-1, 1), "%{x}"
        else:
            custom, step_ref = np.column_stack([finite_raw, ln.step.astype(np.float64)]), "%{customdata[1]}"
        raw_hover = (f"<b>%{{fullData.name}}</b><br>step {step_ref}<br>value %{{customdata[0]:.6g}}"
                     "<br>%{text} UTC<extra></extra>")
        data.append({
            "type": "scatter", "x": px, "y": finite_raw, "name": ln.label, "legendgroup": ln.label,
            "mode": "lines+markers" if sparse and not smoothing else "lines", "marker": {"size": 5},
            "line": {"color": ln.color, "width": 1 if smoothing else 1.5},
            "opacity": 0.25 if smoothing else 1.0, "showlegend": not smoothing,
            **({"hoverinfo": "skip"} if smoothing else
               {"hovertemplate": raw_hover, "customdata": custom, "text": times}),
            "meta": {"role": "raw", "run": ln.run, "tag": ln.tag},
        })
        if smoothing and ln.smoothed is not None:
            data.append({
                "type": "scatter", "x": px, "y": np.where(np.isfinite(ln.smoothed), ln.smoothed, np.nan),
                "name": ln.label, "legendgroup": ln.label, "mode": "lines+markers" if sparse else "lines",
                "marker": {"size": 5}, "line": {"color": ln.color, "width": 1.8},
                "customdata": custom, "text": times,
                "hovertemplate": (f"<b>%{{fullData.name}}</b><br>step {step_ref}<br>value %{{customdata[0]:.6g}}"
                                  "<br>smoothed %{y:.6g}<br>%{text} UTC<extra></extra>"),
                "meta": {"role": "smoothed", "run": ln.run, "tag": ln.tag},
            })
        if y_range is not None:
            markers.extend(_nonfinite_traces(ln, options.x_axis, y_range, options.log_y))
    layout = json.loads(_themed_layout(options.theme))
    xaxis: dict = {"title": {"text": x_title}}
    if options.x_axis == "wall_time":
        xaxis["type"] = "date"
    elif options.log_x:
        xaxis["type"] = "log"
    yaxis: dict = {"type": "log" if options.log_y else "linear"}
    if y_range is not None and (has_nonfinite or options.ignore_outliers):
        yaxis["range"] = list(y_range)
    layout.update(
        xaxis=xaxis, yaxis=yaxis, hovermode="closest", uirevision=uirevision or title or "scalars",
        showlegend=len(lines) > 1, legend={"orientation": "h", "y": -0.25, "font": {"size": 10}}, autosize=True,
    )
    if title:
        layout["title"] = {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"}
    return go.Figure(data=data + markers, layout=layout, _validate=False)


def warm_up() -> None:
    """Build the themes once (plotly's first template costs ~1 s) so the first chart request is fast."""
    for theme in ("light", "dark"):
        _themed_layout(theme)
