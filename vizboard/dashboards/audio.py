"""The Audio tab: per (tag, run), a player for each clip at the step chosen with a slider."""

from __future__ import annotations

import json
from typing import Any

from dash import ALL, MATCH, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
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

_CARD_STYLE = {"border": "1px solid rgba(128,128,128,.3)", "borderRadius": "6px", "padding": "8px"}
_GRID_STYLE = {"display": "grid", "gridTemplateColumns": "repeat(auto-fill, minmax(340px, 1fr))",
               "gap": "10px"}


def layout() -> html.Div:
    """The grid of audio cards (filled by a callback)."""
    return html.Div(id=f"{ID}-root", children=[dcc.Store(id=SIGNATURE), html.Div(id=CARDS, style=_GRID_STYLE)])


def _view(provider: DataProvider, refs: list[BlobRef], position: int | None) -> list:
    """The step label and a player (with rate and length) per clip at slider ``position`` (newest if None)."""
    steps = steps_of(refs)
    if not steps:
        return [html.P("no audio")]
    pos = len(steps) - 1 if position is None else max(0, min(int(position), len(steps) - 1))
    step = steps[pos]
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

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        State({"type": SLIDER, "index": ALL}, "value"), State({"type": SLIDER, "index": ALL}, "max"),
        State({"type": SLIDER, "index": ALL}, "id"), State(SIGNATURE, "data"),
    )
    def build(selected: list[str] | None, _version: Any, active: str | None, values: list[Any],
              maxes: list[Any], slider_ids: list[dict], old_sig: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        infos = provider.tags(Kind.AUDIO, list(selected) if selected is not None else None)
        sig = [[i.run, i.tag, i.version] for i in infos]
        if sig == old_sig:
            return no_update, no_update
        previous = {sid["index"]: (v, m) for sid, v, m in zip(slider_ids, values, maxes)}
        cards = []
        for info in infos:
            refs = provider.blobs(info.run, info.tag)
            steps = steps_of(refs)
            if not steps:
                continue
            key = json.dumps([info.run, info.tag])
            last = len(steps) - 1
            value = last
            old = previous.get(key)
            if old is not None and old[0] is not None and old[1] is not None and old[0] < old[1]:
                value = min(int(old[0]), last)  # the user picked an older step: stay there
            marks = {0: str(steps[0]), last: str(steps[last])} if last > 0 else {0: str(steps[0])}
            cards.append(html.Div(className=f"{ID}-card", style=_CARD_STYLE,
                                  **{"data-run": info.run, "data-tag": info.tag}, children=[
                html.Div(info.display_name or info.tag, style={"fontWeight": "600"}),
                html.Div(info.run, style={"fontSize": "12px", "opacity": 0.75}),
                dcc.Slider(id={"type": SLIDER, "index": key}, min=0, max=last, step=1, value=value,
                           marks=marks, updatemode="drag", allow_direct_input=False, disabled=last == 0),
                html.Div(_view(provider, refs, value), id={"type": VIEW, "index": key}, className=f"{ID}-view"),
            ]))
        if not cards:
            return html.P("No audio in the selected runs.", className=f"{ID}-empty"), sig
        return cards, sig

    @app.callback(
        Output({"type": VIEW, "index": MATCH}, "children"),
        Input({"type": SLIDER, "index": MATCH}, "value"), State({"type": SLIDER, "index": MATCH}, "id"),
        prevent_initial_call=True,  # build() renders each card's first view itself
    )
    def show(position: int | None, slider_id: dict) -> list:
        run, tag = json.loads(slider_id["index"])
        return _view(provider, provider.blobs(run, tag), position)

DASHBOARD = Dashboard(
    id=ID, title="Audio", kinds=(Kind.AUDIO,), layout=layout, register_callbacks=register_callbacks,
)
