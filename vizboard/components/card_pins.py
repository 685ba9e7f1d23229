"""Pinned cards of the server-drawn (tag, run) tabs (Histograms, Distributions, Images): state, URL and buttons.

A pin is the key of one (run, tag) card, ``json.dumps([run, tag])`` (unambiguous whatever the
names hold). A tab keeps its pins, in pin order, in a ``{prefix}-pins`` Store that the URL mirrors
as a repeated parameter (``hpin=`` Histograms, ``dpin=`` Distributions, ``ipin=`` Images), so a
link restores them. Pinned cards are drawn again in a "Pinned" row (``{prefix}-pinned``) at the
top of the tab, which ignores the tab's tag filter and closed sections; a pin whose run is not
selected (or whose tag is gone) stays in the URL and draws nothing. The pure functions below hold
the rules; :func:`register_pins` wires the thin callbacks (toggle on click, paint the buttons).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html
from dash.exceptions import PreventUpdate

from vizboard.components.url_state import UrlParam, list_param
from vizboard.data.models import TagInfo

__all__ = ["MAX_PINS", "PIN_PARAMS", "clean_pins", "is_pin_key", "pin_button", "pin_key", "pin_label",
           "pinned_infos", "pinned_row", "pins_param", "pins_store", "register_pins", "toggle_pin"]

MAX_PINS = 50
"""At most this many pins per tab are kept (older ones drop first): each is a drawn card."""

PIN_PARAMS = {"histograms": "hpin", "distributions": "dpin", "images": "ipin"}
"""The URL parameter of each tab's pins."""


def pin_key(run: str, tag: str) -> str:
    """The pin of the (``run``, ``tag``) card: ``json.dumps([run, tag])``."""
    return json.dumps([run, tag])


def is_pin_key(key: Any) -> bool:
    """Whether ``key`` is a well-formed pin (a JSON list of two strings), e.g. one read back from a URL."""
    if not isinstance(key, str):
        return False
    try:
        value = json.loads(key)
    except ValueError:
        return False
    return isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)


def clean_pins(pins: Iterable[Any] | None) -> list[str]:
    """``pins`` without malformed keys and repeats, first occurrence kept, at most :data:`MAX_PINS` (newest)."""
    out: list[str] = []
    for key in pins or []:
        if is_pin_key(key) and key not in out:
            out.append(key)
    return out[-MAX_PINS:]


def toggle_pin(pins: Iterable[Any] | None, key: str) -> list[str]:
    """``pins`` with ``key`` removed if it was pinned, else appended (pin order is the row's order)."""
    if not is_pin_key(key):
        raise ValueError(f"key: {key!r} is not a pin (use pin_key(run, tag))")
    now = clean_pins(pins)
    return [k for k in now if k != key] if key in now else clean_pins([*now, key])


def pinned_infos(infos: Sequence[TagInfo], pins: Iterable[Any] | None) -> list[TagInfo]:
    """The ``infos`` (the tab's tags in the selected runs, unfiltered) that are pinned, in pin order."""
    by_key = {pin_key(i.run, i.tag): i for i in infos}
    return [by_key[k] for k in clean_pins(pins) if k in by_key]


def pin_label(pinned: bool) -> str:
    """A pin button's text."""
    return "Unpin" if pinned else "Pin"


def pin_button(prefix: str, run: str, tag: str, pinned: bool, row: str) -> html.Button:
    """The pin button of a card; ``row`` is ``"pinned"`` in the Pinned row, ``"grid"`` elsewhere (the same
    card can be on the page twice, so the row is part of the id)."""
    return html.Button(pin_label(pinned), id={"type": f"{prefix}-pin", "index": pin_key(run, tag), "row": row},
                       n_clicks=0, className="vb-tool vb-pin" + (" vb-pinned" if pinned else ""),
                       title="Pin this card to the row at the top (kept through the tag filter)",
                       style={"fontSize": "12px", "cursor": "pointer", "flex": "none"})


def pins_store(prefix: str) -> dcc.Store:
    """The Store holding a tab's pins (one of the tab's shell ``stores``: the URL writes it before the tab is opened)."""
    return dcc.Store(id=f"{prefix}-pins", data=[])


def pins_param(prefix: str) -> UrlParam:
    """The URL parameter mirroring the ``prefix`` tab's pins store (see :data:`PIN_PARAMS`)."""
    return list_param(PIN_PARAMS[prefix], f"{prefix}-pins", prop="data")


def pinned_row(prefix: str, cards: list[Any]) -> list[Any]:
    """The children of the ``{prefix}-pinned`` row: a "Pinned" header over ``cards`` (nothing without cards)."""
    if not cards:
        return []
    return [html.Div(className=f"{prefix}-section {prefix}-pinned-section", **{"data-section": "Pinned"},
                     style={"marginBottom": "8px"}, children=[
        html.Div(f"Pinned ({len(cards)})", style={"fontWeight": "600", "fontSize": "15px", "padding": "6px 0"}),
        html.Div(cards, className=f"{prefix}-pinned-grid", style={
            "display": "grid", "gridTemplateColumns": "repeat(auto-fill, minmax(420px, 1fr))", "gap": "10px"}),
    ])]


_PAINT_JS = """
function (pins, ids) {
    var on = new Set(pins || []);
    return [(ids || []).map(function (i) { return on.has(i.index) ? "Unpin" : "Pin"; }),
            (ids || []).map(function (i) { return "vb-tool vb-pin" + (on.has(i.index) ? " vb-pinned" : ""); })];
}
"""


def register_pins(app: Dash, prefix: str) -> None:
    """Toggle a pin when a card's pin button is clicked, and keep every button's text in step with the pins."""
    button = {"type": f"{prefix}-pin", "index": ALL, "row": ALL}

    @app.callback(Output(f"{prefix}-pins", "data"), Input(button, "n_clicks"), State(f"{prefix}-pins", "data"),
                  prevent_initial_call=True)
    def toggle(_clicks: list[Any], pins: list[Any] | None) -> list[str]:
        hits = [t for t in callback_context.triggered if t.get("value")]
        if len(hits) != 1:  # new buttons arriving (n_clicks 0), not a click
            raise PreventUpdate
        key = json.loads(hits[0]["prop_id"].rsplit(".", 1)[0])["index"]
        return toggle_pin(pins, key)

    app.clientside_callback(_PAINT_JS, Output(button, "children"), Output(button, "className"),
                            Input(f"{prefix}-pins", "data"), Input(button, "id"))
