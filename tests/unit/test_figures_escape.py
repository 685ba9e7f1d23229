"""vizboard.figures.escape: names shown literally in Plotly's pseudo-HTML (legends, hovers, titles)."""

from __future__ import annotations

import html

import pytest

from vizboard.figures.escape import escape_all, escape_template, escape_text

NASTY = [
    '<a href="https:/evil.example/">x</a>', "<b>x</b>", "a<br>b", "&lt;already&gt;", "x & y", "<img src=x onerror=alert(1)>",
    "plain/run-1", "",
]


@pytest.mark.parametrize("name", NASTY)
def test_no_markup_survives_and_the_text_round_trips(name: str) -> None:
    out = escape_text(name)
    assert "<" not in out and ">" not in out
    assert html.unescape(out) == name  # Plotly decodes &amp; &lt; &gt; back to what was typed


def test_templates_do_not_substitute_embedded_placeholders() -> None:
    out = escape_template("run %{y} <i>")
    assert "%{" not in out and "<" not in out
    assert html.unescape(out) == "run %{y} <i>"


def test_escape_all() -> None:
    assert escape_all(["<b>", "ok"]) == ["&lt;b&gt;", "ok"]
