"""Pin state of the Histograms, Distributions and Images tabs (vizboard.components.card_pins)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vizboard.components.card_pins import (
    MAX_PINS,
    clean_pins,
    is_pin_key,
    pin_key,
    pinned_infos,
    pinned_row,
    pins_param,
    toggle_pin,
)
from vizboard.components.url_state import decode_query, encode_query
from vizboard.data.models import Kind, TagInfo


def _info(run: str, tag: str) -> TagInfo:
    return TagInfo(run=run, tag=tag, kind=Kind.HISTOGRAMS, plugin="histograms", num_points=1, version=1)


def test_pin_key_is_unambiguous_whatever_the_names_hold() -> None:
    assert pin_key("a:b", "c") != pin_key("a", "b:c")
    assert pin_key('a"],["', "x") != pin_key("a", '"],["x')
    assert json.loads(pin_key("run/1", "w/ü")) == ["run/1", "w/ü"]


@given(st.text(), st.text())
def test_any_names_make_a_valid_pin(run: str, tag: str) -> None:
    key = pin_key(run, tag)
    assert is_pin_key(key) and json.loads(key) == [run, tag]


@pytest.mark.parametrize("bad", [None, 3, "", "x", "[]", '["a"]', '["a", 1]', '["a","b","c"]', "{}"])
def test_malformed_pins_are_not_pins(bad) -> None:
    assert not is_pin_key(bad)


def test_toggle_appends_then_removes_keeping_the_order() -> None:
    a, b, c = pin_key("r", "a"), pin_key("r", "b"), pin_key("r", "c")
    pins = toggle_pin(toggle_pin(toggle_pin([], a), b), c)
    assert pins == [a, b, c]
    assert toggle_pin(pins, b) == [a, c]
    assert toggle_pin(toggle_pin(pins, b), b) == [a, c, b]  # re-pinned goes last


def test_toggle_rejects_a_non_pin_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="pin_key"):
        toggle_pin([], "loss")


def test_clean_drops_junk_and_repeats_and_caps_the_count() -> None:
    a = pin_key("r", "a")
    assert clean_pins([a, "junk", a, None, '["x"]']) == [a]
    assert clean_pins(None) == []
    many = [pin_key("r", str(i)) for i in range(MAX_PINS + 5)]
    assert clean_pins(many) == many[-MAX_PINS:]
    assert toggle_pin(many, pin_key("r", "new"))[-1] == pin_key("r", "new")


def test_pinned_infos_ignore_the_filter_and_follow_pin_order() -> None:
    infos = [_info("r1", "w/a"), _info("r1", "w/b"), _info("r2", "w/a")]
    pins = [pin_key("r2", "w/a"), pin_key("gone", "w/a"), pin_key("r1", "w/a")]
    assert [(i.run, i.tag) for i in pinned_infos(infos, pins)] == [("r2", "w/a"), ("r1", "w/a")]
    assert pinned_infos(infos, []) == [] and pinned_infos([], pins) == []


def test_pinned_row_is_empty_without_cards() -> None:
    assert pinned_row("histograms", []) == []
    row = pinned_row("histograms", ["card"])
    assert len(row) == 1 and row[0].to_plotly_json()["props"]["data-section"] == "Pinned"


@pytest.mark.parametrize(("tab", "name"), [("histograms", "hpin"), ("distributions", "dpin"), ("images", "ipin")])
def test_pins_round_trip_through_the_url(tab: str, name: str) -> None:
    param = pins_param(tab)
    pins = [pin_key("run a", "w&b=1"), pin_key("r", "x")]
    query = encode_query([param], [pins])
    assert query.startswith(f"?{name}=")
    assert decode_query([param], query) == [pins]
    assert decode_query([param], "") == [[]]
    assert param.component_id == f"{tab}-pins" and param.prop == "data"
