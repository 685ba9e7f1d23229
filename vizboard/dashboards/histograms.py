"""The Histograms tab: one offset (ridgeline) or overlay chart per (tag, run), with a step-range control.

Cards are grouped into sections by tag prefix with a tag filter (as in the Scalars tab);
only open sections build their charts.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.card_pins import pins_param, pins_store, register_pins
from vizboard.components.histogram_cards import (
    opened_state,
    pinned_update,
    register_section_toggle,
    section_ids,
    sections_update,
    tag_filter_input,
)
from vizboard.dashboards.base import Dashboard, run_colors_of
from vizboard.data.models import HistogramSeries, Kind, TagInfo
from vizboard.data.provider import DataProvider
from vizboard.figures.histograms import histogram_figure, kept_range, step_bounds
from vizboard.figures.theme import color_of

__all__ = ["DASHBOARD", "ID", "MAX_DRAWN_STEPS"]

ID = "histograms"
MAX_DRAWN_STEPS = 64
"""Offset mode draws at most this many steps per chart, evenly sampled (the newest always)."""

MODE = f"{ID}-mode"
RANGE = f"{ID}-step-range"
RANGE_BOX = f"{ID}-range-box"
CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"
FILTER = f"{ID}-tag-filter"
_OPEN = section_ids(ID)["open"]
PINS = f"{ID}-pins"
PINNED = f"{ID}-pinned"
PIN_SIGNATURE = f"{ID}-pin-signature"


def layout() -> html.Div:
    """Mode switch, step-range slider (shown when some series has many steps) and the chart grid."""
    return html.Div(id=f"{ID}-root", children=[
        html.Div(style={"display": "flex", "gap": "24px", "alignItems": "center", "flexWrap": "wrap"},
                 children=[
            tag_filter_input(ID),
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
        dcc.Store(id=SIGNATURE), dcc.Store(id=PIN_SIGNATURE), html.Div(id=PINNED),
        html.Div(id=CARDS),
    ])


def _runs(selected: list[str] | None) -> list[str] | None:
    return list(selected) if selected is not None else None


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Keep the step range in line with the data, and draw one chart per (tag, run)."""

    @app.callback(
        Output(RANGE, "min"), Output(RANGE, "max"), Output(RANGE, "value"), Output(RANGE_BOX, "style"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        State(RANGE, "value"), State(RANGE, "max"), State(RANGE_BOX, "style"), State(SIGNATURE, "data"),
    )
    def update_range(selected: list[str] | None, _version: Any, active: str | None,
                     value: list[int] | None, old_max: int | None, style: dict | None, drawn: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        infos = provider.tags(Kind.HISTOGRAMS, _runs(selected))
        if drawn and [d[:3] for d in drawn[:-1]] == [[i.run, i.tag, i.version] for i in infos]:
            raise PreventUpdate  # no histogram changed since the charts were drawn
        bounds = step_bounds(provider.histograms(i.run, i.tag) for i in infos)
        box = dict(style or {}, display="block" if bounds and bounds[2] > MAX_DRAWN_STEPS else "none")
        if bounds is None:
            return 0, 1, [0, 1], box
        lo, hi, _most = bounds
        return lo, hi, kept_range(value, old_max, lo, hi), box

    def make_draw(theme: str | None, mode: str | None, step_range: list[int] | None,
                  box: dict | None) -> Any:
        ranged = bool(box and box.get("display") == "block" and step_range and len(step_range) == 2)
        colors = run_colors_of(provider)

        def draw_one(info: TagInfo, series: HistogramSeries, title: str) -> Any:
            fig = histogram_figure(
                series, mode=mode or "offset",
                step_range=(int(step_range[0]), int(step_range[1])) if ranged and step_range else None,
                max_steps=MAX_DRAWN_STEPS, color=color_of(colors, info.run), theme=theme or "light", title=title,
            )
            fig.update_layout(height=340)
            return fig

        return draw_one

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.THEME, "data"),
        Input(ids.ACTIVE_TAB, "data"), Input(MODE, "value"), Input(RANGE, "value"), Input(FILTER, "value"),
        State(RANGE_BOX, "style"), State(SIGNATURE, "data"),
        State({"type": _OPEN, "index": ALL}, "data"), State({"type": _OPEN, "index": ALL}, "id"),
        State(PINS, "data"),
    )
    def draw(selected: list[str] | None, _version: Any, theme: str | None, active: str | None,
             mode: str, step_range: list[int] | None, tag_filter: str | None, box: dict | None, old_sig: Any,
             open_values: list[Any], open_ids: list[dict], pins: list[str] | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        ranged = bool(box and box.get("display") == "block" and step_range and len(step_range) == 2)
        return sections_update(provider, ID, selected, tag_filter, old_sig, [theme, mode, step_range if ranged else None],
                               lambda: make_draw(theme, mode, step_range, box), opened_state(open_ids, open_values), pins or [])

    register_section_toggle(app, provider, ID, make_draw, [
        State(ids.THEME, "data"), State(MODE, "value"), State(RANGE, "value"), State(RANGE_BOX, "style")])

    @app.callback(
        Output(PINNED, "children"), Output(PIN_SIGNATURE, "data"),
        Input(PINS, "data"), Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"),
        Input(ids.THEME, "data"), Input(ids.ACTIVE_TAB, "data"), Input(MODE, "value"), Input(RANGE, "value"),
        State(RANGE_BOX, "style"), State(PIN_SIGNATURE, "data"),
    )
    def draw_pinned(pins: list[str] | None, selected: list[str] | None, _version: Any, theme: str | None,
                    active: str | None, mode: str, step_range: list[int] | None, box: dict | None,
                    old_sig: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        ranged = bool(box and box.get("display") == "block" and step_range and len(step_range) == 2)
        return pinned_update(provider, ID, selected, pins, old_sig, [pins, theme, mode, step_range if ranged else None],
                             lambda: make_draw(theme, mode, step_range, box))

    register_pins(app, ID)


DASHBOARD = Dashboard(
    id=ID, url_params=lambda: [pins_param(ID)], stores=lambda: [pins_store(ID)],
    title="Histograms", kinds=(Kind.HISTOGRAMS,), layout=layout,
    register_callbacks=register_callbacks,
)
