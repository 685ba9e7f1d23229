"""The Audio tab: per (tag, run), a player for each clip at the step chosen with a slider."""

from __future__ import annotations

from dash import Dash, html

from vizboard.components.card_grid import card_grid_layout, card_style, grid_style
from vizboard.components.step_slider import register_step_cards, step_at
from vizboard.dashboards.base import Dashboard
from vizboard.data.models import BlobRef, Kind
from vizboard.data.provider import DataProvider
from vizboard.figures.audio import clip_info, describe_clip
from vizboard.figures.images import blob_url, items_at, steps_of

__all__ = ["DASHBOARD", "ID"]

ID = "audio"
CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"
SLIDER = f"{ID}-step-slider"
VIEW = f"{ID}-view"

_CARD_STYLE = card_style("8px")
_GRID_STYLE = grid_style(340)


def layout() -> html.Div:
    """The grid of audio cards (filled by a callback)."""
    return card_grid_layout(ID, _GRID_STYLE)


def _view(provider: DataProvider, refs: list[BlobRef], position: int | None) -> list:
    """The step label and a player (with rate and length) per clip at slider ``position`` (newest if None)."""
    steps = steps_of(refs)
    if not steps:
        return [html.P("no audio")]
    step = step_at(steps, position)
    out: list = [html.Div(f"step {step}", className=f"{ID}-step", style={"fontSize": "12px"})]
    for ref in items_at(refs, step):
        info = clip_info(ref)
        if info is None:  # TF 2.x audio tensors carry no format: read the WAV header
            try:
                info = clip_info(ref, provider.read_blob(ref))
            except (OSError, ValueError, KeyError):  # unreadable: say so, never fail the card
                info = None
        out.append(html.Div(className=f"{ID}-clip", children=[
            html.Audio(src=blob_url(ref), controls=True, preload="metadata", className=f"{ID}-player",
                       style={"width": "100%"}),
            html.Div((f"{ref.label} · " if ref.label else "") + describe_clip(info),
                     className=f"{ID}-info", style={"fontSize": "12px"}),
        ]))
    return out


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Build a card per (tag, run); each card's slider picks the step whose clips are shown."""
    register_step_cards(app, provider, prefix=ID, kind=Kind.AUDIO, card_style=_CARD_STYLE,
                        view=lambda refs, _tag, position: _view(provider, refs, position),
                        empty="No audio in the selected runs.")


DASHBOARD = Dashboard(
    id=ID, title="Audio", kinds=(Kind.AUDIO,), layout=layout, register_callbacks=register_callbacks,
)
