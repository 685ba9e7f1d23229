"""The Distributions tab: percentile bands over steps, one chart per (tag, run), from the histograms.

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
from vizboard.figures.distributions import distribution_figure
from vizboard.figures.theme import color_of

__all__ = ["DASHBOARD", "ID", "MAX_POINTS"]

ID = "distributions"
MAX_POINTS = 1000
"""Steps drawn per chart at most, evenly sampled, always including the newest."""

CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"
FILTER = f"{ID}-tag-filter"
_OPEN = section_ids(ID)["open"]
PINS = f"{ID}-pins"
PINNED = f"{ID}-pinned"
PIN_SIGNATURE = f"{ID}-pin-signature"


def layout() -> html.Div:
    """The tag filter above the sections of charts (filled by a callback)."""
    return html.Div(id=f"{ID}-root", children=[
        html.Div(tag_filter_input(ID), style={"margin": "6px 0"}),
        dcc.Store(id=SIGNATURE), dcc.Store(id=PIN_SIGNATURE), html.Div(id=PINNED), html.Div(id=CARDS),
    ])


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Draw one band chart per (tag, run) of histogram data in the selected runs."""

    def make_draw(theme: str | None) -> Any:
        colors = run_colors_of(provider)

        def draw_one(info: TagInfo, series: HistogramSeries, title: str) -> Any:
            fig = distribution_figure(series, max_points=MAX_POINTS, color=color_of(colors, info.run),
                                      theme=theme or "light", title=title)
            fig.update_layout(height=320)
            return fig

        return draw_one

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.THEME, "data"),
        Input(ids.ACTIVE_TAB, "data"), Input(FILTER, "value"), State(SIGNATURE, "data"),
        State({"type": _OPEN, "index": ALL}, "data"), State({"type": _OPEN, "index": ALL}, "id"),
        State(PINS, "data"),
    )
    def draw(selected: list[str] | None, _version: Any, theme: str | None, active: str | None,
             tag_filter: str | None, old_sig: Any, open_values: list[Any], open_ids: list[dict], pins: list[str] | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        return sections_update(provider, ID, selected, tag_filter, old_sig, [theme], lambda: make_draw(theme),
                               opened_state(open_ids, open_values), pins or [])

    register_section_toggle(app, provider, ID, make_draw, [State(ids.THEME, "data")])

    @app.callback(
        Output(PINNED, "children"), Output(PIN_SIGNATURE, "data"),
        Input(PINS, "data"), Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"),
        Input(ids.THEME, "data"), Input(ids.ACTIVE_TAB, "data"), State(PIN_SIGNATURE, "data"),
    )
    def draw_pinned(pins: list[str] | None, selected: list[str] | None, _version: Any, theme: str | None,
                    active: str | None, old_sig: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        return pinned_update(provider, ID, selected, pins, old_sig, [pins, theme], lambda: make_draw(theme))

    register_pins(app, ID)


DASHBOARD = Dashboard(
    id=ID, url_params=lambda: [pins_param(ID)], stores=lambda: [pins_store(ID)],
    title="Distributions", kinds=(Kind.HISTOGRAMS,), layout=layout,
    register_callbacks=register_callbacks,
)
