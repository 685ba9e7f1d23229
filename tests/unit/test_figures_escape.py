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



def test_tab_figures_escape_user_names_for_plotly():
    """Titles, legend names and hover text of the other tabs' figures show user names literally (issue 16)."""
    import json

    import numpy as np

    from vizboard.data.models import PrCurveEntry
    from vizboard.figures.hparams import scatter_figure
    from vizboard.figures.pr_curves import pr_figure

    evil = '<a href="https://evil.example/">x</a>'
    rows = [{"run": evil, "hparam:lr": 0.1, "metric:acc": 0.5}]
    hp = scatter_figure(rows, "lr", "acc", [])
    data = np.array([[5, 3], [2, 1], [0, 2], [0, 1], [0.7, 0.75], [1.0, 0.6]], dtype=np.float64)
    pr = pr_figure({evil: PrCurveEntry(3, 0.0, data)}, title=evil)
    # What Plotly renders as text (customdata, used for clicks, keeps the raw name).
    shown = json.dumps([list(hp.data[0].text), pr.data[0].name, pr.layout.title.text])
    assert "<a href" not in shown and shown.count("&lt;a href") == 3
