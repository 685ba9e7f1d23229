"""The Distributions tab: percentile bands over steps, one chart per (tag, run), from the histograms."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.card_grid import card_grid_layout
from vizboard.components.histogram_cards import GRID_STYLE, histogram_cards
from vizboard.dashboards.base import Dashboard
from vizboard.data.models import HistogramSeries, Kind, TagInfo
from vizboard.data.provider import DataProvider
from vizboard.figures.distributions import distribution_figure
from vizboard.figures.theme import run_color

__all__ = ["DASHBOARD", "ID", "MAX_POINTS"]

ID = "distributions"
MAX_POINTS = 1000
"""Steps drawn per chart at most, evenly sampled, always including the newest."""

CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"


def layout() -> html.Div:
    """The chart grid (filled by a callback)."""
    return card_grid_layout(ID, GRID_STYLE)


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Draw one band chart per (tag, run) of histogram data in the selected runs."""

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.THEME, "data"),
        Input(ids.ACTIVE_TAB, "data"), State(SIGNATURE, "data"),
    )
    def draw(selected: list[str] | None, _version: Any, theme: str | None, active: str | None,
             old_sig: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        infos = provider.tags(Kind.HISTOGRAMS, list(selected) if selected is not None else None)
        sig = [[i.run, i.tag, i.version] for i in infos] + [theme]
        if sig == old_sig:
            return no_update, no_update

        def draw_one(info: TagInfo, series: HistogramSeries, title: str) -> Any:
            fig = distribution_figure(series, max_points=MAX_POINTS, color=run_color(info.run),
                                      theme=theme or "light", title=title)
            fig.update_layout(height=320)
            return fig

        return histogram_cards(provider, infos, ID, draw_one), sig


DASHBOARD = Dashboard(
    id=ID, title="Distributions", kinds=(Kind.HISTOGRAMS,), layout=layout,
    register_callbacks=register_callbacks,
)
