"""The Histograms tab: one offset (ridgeline) or overlay chart per (tag, run), with a step-range control."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.histogram_cards import GRID_STYLE, histogram_cards
from vizboard.dashboards.base import Dashboard
from vizboard.data.models import HistogramSeries, Kind, TagInfo
from vizboard.data.provider import DataProvider
from vizboard.figures.histograms import histogram_figure
from vizboard.figures.theme import run_color

__all__ = ["DASHBOARD", "ID", "MAX_DRAWN_STEPS"]

ID = "histograms"
MAX_DRAWN_STEPS = 64
"""Offset mode draws at most this many steps per chart, evenly sampled (the newest always)."""

MODE = f"{ID}-mode"
RANGE = f"{ID}-step-range"
RANGE_BOX = f"{ID}-range-box"
CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"


def layout() -> html.Div:
    """Mode switch, step-range slider (shown when some series has many steps) and the chart grid."""
    return html.Div(id=f"{ID}-root", children=[
        html.Div(style={"display": "flex", "gap": "24px", "alignItems": "center", "flexWrap": "wrap"},
                 children=[
            dcc.RadioItems(id=MODE, value="offset", inline=True,
                           options=[{"label": " Offset", "value": "offset"},
                                    {"label": " Overlay", "value": "overlay"}],
                           inputStyle={"marginLeft": "8px"}),
            html.Div(id=RANGE_BOX, style={"display": "none", "flex": "1", "minWidth": "300px"}, children=[
                html.Label("Steps", htmlFor=RANGE, style={"fontSize": "12px"}),
                dcc.RangeSlider(id=RANGE, min=0, max=1, value=[0, 1], step=1, allowCross=False,
                                updatemode="mouseup", tooltip={"placement": "bottom"}),
            ]),
        ]),
        dcc.Store(id=SIGNATURE),
        html.Div(id=CARDS, style=GRID_STYLE),
    ])


def _runs(selected: list[str] | None) -> list[str] | None:
    return list(selected) if selected is not None else None


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Keep the step range in line with the data, and draw one chart per (tag, run)."""

    @app.callback(
        Output(RANGE, "min"), Output(RANGE, "max"), Output(RANGE, "value"), Output(RANGE_BOX, "style"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        State(RANGE, "value"), State(RANGE, "max"), State(RANGE_BOX, "style"), State(SIGNATURE, "data"),
    )
    def update_range(selected: list[str] | None, _version: Any, active: str | None,
                     value: list[int] | None, old_max: int | None, style: dict | None, drawn: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        infos = provider.tags(Kind.HISTOGRAMS, _runs(selected))
        if drawn and drawn[:-1] == [[i.run, i.tag, i.version] for i in infos]:
            raise PreventUpdate  # no histogram changed since the charts were drawn
        lo = hi = None
        most = 0
        for info in infos:
            series = provider.histograms(info.run, info.tag)
            if series is None or len(series) == 0:
                continue
            most = max(most, len(series))
            s0, s1 = int(series.step.min()), int(series.step.max())
            lo = s0 if lo is None else min(lo, s0)
            hi = s1 if hi is None else max(hi, s1)
        box = dict(style or {})
        box["display"] = "block" if most > MAX_DRAWN_STEPS else "none"
        if lo is None:
            return 0, 1, [0, 1], box
        if hi == lo:
            hi = lo + 1
        if not value or len(value) != 2:
            new = [lo, hi]
        else:
            a = max(lo, min(int(value[0]), hi))
            # the upper handle follows the newest step while it sits at the old end
            b = hi if old_max is None or int(value[1]) >= int(old_max) else max(a, min(int(value[1]), hi))
            new = [a, b]
        return lo, hi, new, box

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.THEME, "data"),
        Input(ids.ACTIVE_TAB, "data"), Input(MODE, "value"), Input(RANGE, "value"),
        State(RANGE_BOX, "style"), State(SIGNATURE, "data"),
    )
    def draw(selected: list[str] | None, _version: Any, theme: str | None, active: str | None,
             mode: str, step_range: list[int] | None, box: dict | None, old_sig: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        infos = provider.tags(Kind.HISTOGRAMS, _runs(selected))
        ranged = bool(box and box.get("display") == "block" and step_range and len(step_range) == 2)
        sig = [[i.run, i.tag, i.version] for i in infos] + [[theme, mode, step_range if ranged else None]]
        if sig == old_sig:
            return no_update, no_update

        def draw_one(info: TagInfo, series: HistogramSeries, title: str) -> Any:
            fig = histogram_figure(
                series, mode=mode or "offset",
                step_range=(int(step_range[0]), int(step_range[1])) if ranged else None,
                max_steps=MAX_DRAWN_STEPS, color=run_color(info.run), theme=theme or "light", title=title,
            )
            fig.update_layout(height=340)
            return fig

        return histogram_cards(provider, infos, ID, draw_one), sig


DASHBOARD = Dashboard(
    id=ID, title="Histograms", kinds=(Kind.HISTOGRAMS,), layout=layout,
    register_callbacks=register_callbacks,
)
