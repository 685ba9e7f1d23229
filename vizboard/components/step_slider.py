"""Step-slider cards: one card per (tag, run) of blob data whose slider picks the step shown.

Used by the Images and Audio tabs. ``register_step_cards`` wires the two callbacks such a tab needs:
``build`` (one card per (tag, run), redrawn only when a tag's version changes, keeping a slider the user
moved back) and ``show`` (the view of one card at its slider's position). The tab supplies the view.
With ``pinnable`` (Images) the tab also has a tag filter (``{prefix}-tag-filter``), a pin button on
each card and a Pinned row (``vizboard.components.card_pins``) that the filter does not touch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dash import ALL, MATCH, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.card_pins import pin_button, pin_key, pinned_infos, pinned_row, register_pins
from vizboard.components.run_selector import run_colors_of
from vizboard.components.scalar_index import compile_filter
from vizboard.data.models import BlobRef, Kind, TagInfo
from vizboard.data.provider import DataProvider
from vizboard.figures.images import steps_of

__all__ = ["StepView", "card_key", "kept_position", "register_step_cards", "slider_states", "step_at",
           "step_card", "step_label", "step_marks", "step_slider"]

StepView = Callable[[list[BlobRef], str, "int | None"], list]
"""``view(refs, tag, position)``: the children of a card's view at slider ``position`` (newest if None)."""


def card_key(run: str, tag: str, row: str = "grid") -> str:
    """The pattern-matching index of a (run, tag) card: ``json.dumps([run, tag])``, or
    ``json.dumps([run, tag, row])`` for its copy in another ``row`` (the Pinned row)."""
    return json.dumps([run, tag]) if row == "grid" else json.dumps([run, tag, row])


def step_at(steps: list[int], position: int | None) -> int:
    """The step at slider ``position`` (an index into ``steps``, clamped; the newest step if None)."""
    pos = len(steps) - 1 if position is None else max(0, min(int(position), len(steps) - 1))
    return steps[pos]


def slider_states(slider_ids: list[dict], values: list[Any], maxes: list[Any]) -> dict[str, tuple[Any, Any]]:
    """The ``(value, max)`` of each step slider on the page, by its id's ``index`` (from ALL-pattern States)."""
    return {sid["index"]: (v, m) for sid, v, m in zip(slider_ids, values, maxes)}


def kept_position(old: tuple[Any, Any] | None, last: int) -> int:
    """Where a rebuilt slider over positions 0..``last`` starts: the newest step, unless the user had moved
    its ``old`` ``(value, max)`` back from the end, then that position (clamped to ``last``)."""
    if old is not None and old[0] is not None and old[1] is not None and old[0] < old[1]:
        return min(int(old[0]), last)  # the user picked an older step: stay there
    return last


def step_label(step: int) -> str:
    """A step as people read it: every digit, thousands separated (``180,000``, never ``180k`` or cut)."""
    return f"{int(step):,}"


def step_marks(steps: list[int]) -> dict[int, dict[str, Any]]:
    """Slider marks for the first and last step, each kept inside the track.

    rc-slider centres a mark label on its position, so the end labels stuck out of the card and
    were clipped (step 180,000 read "18000"); the first label is anchored on its left edge and
    the last on its right edge instead.
    """
    last = len(steps) - 1
    nowrap = {"whiteSpace": "nowrap"}
    if last <= 0:
        return {0: {"label": step_label(steps[0]), "style": {**nowrap, "transform": "translateX(0)"}}}
    return {0: {"label": step_label(steps[0]), "style": {**nowrap, "transform": "translateX(0)"}},
            last: {"label": step_label(steps[last]), "style": {**nowrap, "transform": "translateX(-100%)"}}}


def step_slider(slider_type: str, key: str, steps: list[int], value: int) -> dcc.Slider:
    """A keyboard-friendly slider over the indices of ``steps``, marked with the first and last step."""
    last = len(steps) - 1
    marks = step_marks(steps)
    return dcc.Slider(id={"type": slider_type, "index": key}, min=0, max=max(last, 0), step=1, value=value,
                      marks=marks, updatemode="drag", allow_direct_input=False, disabled=last == 0)


def step_card(prefix: str, info: TagInfo, steps: list[int], position: int, children: list,
              card_style: dict[str, Any], color: str | None = None, row: str = "grid",
              pinned: bool | None = None) -> html.Div:
    """The card of one (run, tag) in a step-slider grid: title, run (in the run's ``color``), the slider
    at ``position`` over ``steps``, and the view ``children`` (ids as in :func:`register_step_cards`);
    with ``pinned`` not None, a pin button (in that state) too. ``row`` as in :func:`card_key`."""
    key = card_key(info.run, info.tag, row)
    pin = [] if pinned is None else [pin_button(prefix, info.run, info.tag, pinned, row)]
    return html.Div(className=f"{prefix}-card", style=card_style, **{"data-run": info.run, "data-tag": info.tag},
                    children=[
                        html.Div([html.Span(info.display_name or info.tag), *pin],
                                 style={"fontWeight": "600", "display": "flex", "gap": "8px",
                                        "justifyContent": "space-between", "alignItems": "baseline"}),
                        html.Div(info.run, className=f"{prefix}-run", style={"fontSize": "12px", "opacity": 0.75}
                                 | ({"color": color} if color else {})),
                        step_slider(f"{prefix}-step-slider", key, steps, position),
                        html.Div(children, id={"type": f"{prefix}-view", "index": key}, className=f"{prefix}-view"),
                    ])


def _cards(provider: DataProvider, prefix: str, infos: list[TagInfo], view: StepView, card_style: dict[str, str],
           previous: dict[str, tuple[Any, Any]], colors: dict[str, str], pins: list[str] | None,
           row: str = "grid") -> list[html.Div]:
    cards = []
    pinned = None if pins is None else set(pins)
    for info in infos:
        refs = provider.blobs(info.run, info.tag)
        steps = steps_of(refs)
        if not steps:
            continue
        value = kept_position(previous.get(card_key(info.run, info.tag, row)), len(steps) - 1)
        cards.append(step_card(prefix, info, steps, value, view(refs, info.tag, value), card_style,
                               colors.get(info.run), row,
                               None if pinned is None else pin_key(info.run, info.tag) in pinned))
    return cards


def register_step_cards(app: Dash, provider: DataProvider, *, prefix: str, kind: Kind, view: StepView,
                        card_style: dict[str, str], empty: str, pinnable: bool = False) -> None:
    """Register the ``build`` and ``show`` callbacks of a step-slider tab.

    Component ids: ``{prefix}-cards`` (the grid), ``{prefix}-signature`` (a Store), and per card
    ``{"type": "{prefix}-step-slider"|"{prefix}-view", "index": card_key(run, tag)}``. ``empty`` is the
    message shown when the selected runs hold no ``kind`` data. ``pinnable`` tabs also need the
    ``{prefix}-tag-filter`` input, ``{prefix}-pins`` and ``{prefix}-pin-signature`` Stores and the
    ``{prefix}-pinned`` row in their layout (pinned copies use ``card_key(run, tag, "pinned")``).
    """
    cards_id, signature_id = f"{prefix}-cards", f"{prefix}-signature"
    slider_type, view_type = f"{prefix}-step-slider", f"{prefix}-view"
    sliders = [State({"type": slider_type, "index": ALL}, "value"), State({"type": slider_type, "index": ALL}, "max"),
               State({"type": slider_type, "index": ALL}, "id")]
    extra = [Input(f"{prefix}-tag-filter", "value"), State(f"{prefix}-pins", "data")] if pinnable else []

    @app.callback(
        Output(cards_id, "children"), Output(signature_id, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        *sliders, State(signature_id, "data"), *extra,
    )
    def build(selected: list[str] | None, _version: Any, active: str | None, values: list[Any],
              maxes: list[Any], slider_ids: list[dict], old_sig: Any, tag_filter: str | None = None,
              pins: list[str] | None = None) -> tuple:
        if active != prefix:
            raise PreventUpdate
        infos = provider.tags(kind, list(selected) if selected is not None else None)
        colors = run_colors_of(provider)  # a new run can shift the colours of the runs after it
        sig = [[i.run, i.tag, i.version, colors.get(i.run)] for i in infos]
        if pinnable:
            keep = compile_filter(tag_filter)
            infos = [i for i in infos if keep(i.tag)]
            sig.append([tag_filter or ""])
        if sig == old_sig:
            return no_update, no_update
        cards = _cards(provider, prefix, infos, view, card_style, slider_states(slider_ids, values, maxes), colors,
                       (pins or []) if pinnable else None)
        if not cards:
            return html.P(empty + (" (or none match the filter)" if pinnable and tag_filter else ""),
                          className=f"{prefix}-empty"), sig
        return cards, sig

    if pinnable:
        @app.callback(
            Output(f"{prefix}-pinned", "children"), Output(f"{prefix}-pin-signature", "data"),
            Input(f"{prefix}-pins", "data"), Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"),
            Input(ids.ACTIVE_TAB, "data"), *sliders, State(f"{prefix}-pin-signature", "data"),
        )
        def build_pinned(pins: list[str] | None, selected: list[str] | None, _version: Any, active: str | None,
                         values: list[Any], maxes: list[Any], slider_ids: list[dict], old_sig: Any) -> tuple:
            if active != prefix:
                raise PreventUpdate
            infos = pinned_infos(provider.tags(kind, list(selected) if selected is not None else None), pins)
            colors = run_colors_of(provider)
            sig = [[i.run, i.tag, i.version, colors.get(i.run)] for i in infos]
            if sig == old_sig:
                return no_update, no_update
            cards = _cards(provider, prefix, infos, view, card_style, slider_states(slider_ids, values, maxes), colors,
                           [pin_key(i.run, i.tag) for i in infos], "pinned")
            return pinned_row(prefix, cards), sig

        register_pins(app, prefix)

    @app.callback(
        Output({"type": view_type, "index": MATCH}, "children"),
        Input({"type": slider_type, "index": MATCH}, "value"), State({"type": slider_type, "index": MATCH}, "id"),
        prevent_initial_call=True,  # build() renders each card's first view itself
    )
    def show(position: int | None, slider_id: dict) -> list:
        run, tag = json.loads(slider_id["index"])[:2]
        return view(provider.blobs(run, tag), tag, position)
