"""Exact step labels on image sliders and graph search focus (issue 14's glitches)."""

from __future__ import annotations

from vizboard.components.step_slider import step_label, step_marks
from vizboard.dashboards.graphs import focus_view


def test_step_labels_keep_every_digit_and_stay_inside_the_track():
    assert step_label(180_000) == "180,000" and step_label(7) == "7"
    marks = step_marks([0, 90_000, 180_000])
    assert marks[0]["label"] == "0" and marks[2]["label"] == "180,000"
    assert marks[2]["style"]["transform"] == "translateX(-100%)"  # right-anchored: never clipped
    assert list(step_marks([5])) == [0]


def test_graph_search_centres_the_first_match():
    elements = [
        {"data": {"id": "a"}, "classes": "module leaf", "position": {"x": 10.0, "y": 10.0}},
        {"data": {"id": "g"}, "classes": "module group match"},  # a group box has no position of its own
        {"data": {"id": "b"}, "classes": "module leaf match", "position": {"x": 400.0, "y": 1200.0}},
        {"data": {"id": "e", "source": "a", "target": "b"}, "classes": "edge"},
    ]
    zoom, pan = focus_view(elements, 0.5, view_w=900, view_h=600)
    assert zoom == 0.8  # too small to read: zoomed in
    assert pan == {"x": 450 - 400 * 0.8, "y": 300 - 1200 * 0.8}
    zoom2, _ = focus_view(elements, 1.5, view_w=900, view_h=600)
    assert zoom2 == 1.5
    inside = [{"data": {"id": "c"}, "classes": "module collapsed match-inside", "position": {"x": 0.0, "y": 0.0}}]
    assert focus_view(inside, None, view_w=100, view_h=100) == (1.0, {"x": 50.0, "y": 50.0})
    assert focus_view(elements[:1], 1.0) is None
