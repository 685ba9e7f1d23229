"""The Text and PR-curves tabs' card builders (moved out of their callbacks): cards per tag,
run colours from the shared map, slider positions kept, empty tags left out."""

from __future__ import annotations

import numpy as np
from fake_provider import FakeProvider

from vizboard.dashboards.pr_curves import pr_cards
from vizboard.dashboards.text import text_cards
from vizboard.data.colors import run_color_map
from vizboard.data.models import Kind


def _find(component, pred) -> list:
    out = [component] if pred(component) else []
    kids = getattr(component, "children", None)
    for k in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
        if hasattr(k, "to_plotly_json"):
            out += _find(k, pred)
    return out


def test_text_cards_one_per_tag_with_run_colours_and_limit() -> None:
    p = FakeProvider()
    for step in range(5):
        p.add_text("a", "notes", step, f"a{step}")
    p.add_text("b", "notes", 0, "b0")
    p.add_text("b", "other", 0, "x")
    colors = run_color_map(["a", "b"])
    cards = text_cards(p, p.tags(Kind.TEXT), 2, colors)
    assert [c.to_plotly_json()["props"]["data-tag"] for c in cards] == ["notes", "other"]
    heads = _find(cards[0], lambda c: getattr(c, "className", "") == "text-run")
    assert [(h.children, h.style["color"]) for h in heads] == [("a", colors["a"]), ("b", colors["b"])]
    rows = _find(cards[0], lambda c: getattr(c, "className", "") == "text-row")
    assert [r.to_plotly_json()["props"]["data-step"] for r in rows] == ["4", "3", "0"]  # newest 2 of a, then b


def test_pr_cards_union_of_steps_and_kept_position() -> None:
    p = FakeProvider()
    data = np.zeros((6, 3))
    data[4], data[5] = [1.0, 0.5, 0.2], [0.1, 0.5, 1.0]
    p.add_pr_curve("a", "pr", 0, data)
    p.add_pr_curve("a", "pr", 10, data)
    p.add_pr_curve("b", "pr", 5, data)
    (card,) = pr_cards(p, p.tags(Kind.PR_CURVES), {"pr": (1, 2)}, None, "light")
    steps = _find(card, lambda c: getattr(c, "id", None) == {"type": "pr_curves-steps", "index": "pr"})
    assert steps[0].data == [0, 5, 10]
    graph = _find(card, lambda c: getattr(c, "className", "") == "pr_curves-graph")[0]
    assert graph.figure.layout.title.text == "step 5"  # the slider was at position 1 of 3: kept
    assert pr_cards(p, [], {}, None, "light") == []
