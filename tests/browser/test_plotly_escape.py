"""Plotly in Chromium shows escaped names literally: no link, no bold, no template substitution (issue 16c)."""

from __future__ import annotations

import json

import pytest
from plotly.offline import get_plotlyjs

from vizboard.figures.escape import escape_template, escape_text

pytestmark = [pytest.mark.browser]

NAMES = ['<a href="https:/evil.example/">x</a>', "<b>x</b>", "x & y", "&lt;z&gt;", "p %{y}"]


def test_escaped_names_render_as_typed(page) -> None:
    traces = [{"type": "scatter", "x": [1], "y": [i], "name": escape_text(n)} for i, n in enumerate(NAMES)]
    traces.append({"type": "scatter", "x": [1], "y": [9], "name": "t",
                   "hovertemplate": escape_template("p %{y} <b>q</b>") + "<extra></extra>"})
    layout = {"title": {"text": escape_text("<b>T</b>")}}
    page.set_content(f"<html><body><div id=g></div><script>{get_plotlyjs()}</script>"
                     f"<script>Plotly.newPlot('g', {json.dumps(traces)}, {json.dumps(layout)})</script></body></html>")
    page.wait_for_selector(".legendtext")
    shown = page.eval_on_selector_all(".legendtext", "els => els.map(e => e.textContent)")
    assert shown == [*NAMES, "t"]
    assert page.eval_on_selector_all(".legend a, .gtitle a", "els => els.length") == 0
    assert page.eval_on_selector_all(".legendtext tspan[style*='bold'], .gtitle tspan[style*='bold']",
                                     "els => els.length") == 0
    assert page.eval_on_selector(".gtitle", "e => e.textContent") == "<b>T</b>"
