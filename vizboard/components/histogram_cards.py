"""Histogram chart cards: one graph card per (tag, run) of histogram data, for the Histograms and
Distributions tabs (which differ only in the figure they draw)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dash import dcc, html

from vizboard.components.card_grid import card_style, grid_style
from vizboard.data.models import HistogramSeries, TagInfo
from vizboard.data.provider import DataProvider

__all__ = ["CARD_STYLE", "GRID_STYLE", "histogram_cards"]

CARD_STYLE = card_style("4px")
"""Style of one chart card."""
GRID_STYLE = grid_style(420)
"""Style of the grid holding the cards."""


def histogram_cards(provider: DataProvider, infos: Sequence[TagInfo], prefix: str,
                    draw: Callable[[TagInfo, HistogramSeries, str], Any]) -> list[html.Div] | html.P:
    """One ``{prefix}-card`` (tagged with data-run/data-tag) per (tag, run) in ``infos`` holding histograms.

    ``draw(info, series, title)`` returns the Plotly figure of one card (``title``: "tag · run"); tags with
    no (or empty) series get no card. With no ``infos`` at all, a ``{prefix}-empty`` message instead.
    """
    if not infos:
        return html.P("No histograms in the selected runs.", className=f"{prefix}-empty")
    cards = []
    for info in infos:
        series = provider.histograms(info.run, info.tag)
        if series is None or len(series) == 0:
            continue
        fig = draw(info, series, f"{info.display_name or info.tag} · {info.run}")
        cards.append(html.Div(className=f"{prefix}-card", style=CARD_STYLE,
                              **{"data-run": info.run, "data-tag": info.tag}, children=[
            dcc.Graph(figure=fig, config={"displaylogo": False}, className=f"{prefix}-graph"),
        ]))
    return cards
