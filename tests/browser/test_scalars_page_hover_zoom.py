"""The Scalars page's hover shows step, value, smoothed value, wall time and relative time; each card's
zoom is kept in the URL and restored on load."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


def _write(logdir: Path) -> None:
    from logger import SummaryWriter

    for run in ("a", "b"):
        w = SummaryWriter(str(logdir / run))
        for i in range(200):
            w.add_scalar("loss", 1.0 / (i + 1) + (run == "b"), i, walltime=1.7e9 + i * 90.0)
            w.add_scalar("acc", i / 200.0, i, walltime=1.7e9 + i * 90.0)
        w.close()


@pytest.fixture(scope="module")
def shared(serve_module, tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("hover")
    _write(d)
    return serve_module(d)


GD = ("() => { const gd = t => [...document.querySelectorAll('.vb-chart-card')]"
      ".find(c => c.querySelector('.vb-card-title').textContent === t).querySelector('.js-plotly-plot'); ")


def _card(title: str) -> str:
    return f".vb-chart-card:has(.vb-card-title:text-is('{title}'))"


def test_hover_shows_step_value_smoothed_wall_time_and_relative_time(page, shared):
    page.goto(shared + "/?run=a")
    page.locator(_card("loss") + "[data-vb-drawn]").wait_for()
    # hover the smoothed line of run a at step 5 (the raw line is drawn faint and does not hover)
    page.evaluate(GD + "const g = gd('loss');"
                  " const i = g._fullData.findIndex(d => d.meta && d.meta.role === 'smoothed');"
                  " vbPlotly.Fx.hover(g, [{curveNumber: i, pointNumber: 5}]); }")
    label = page.locator(_card("loss") + " .hoverlayer .hovertext")
    label.wait_for()
    text = label.text_content()
    assert "step 5" in text
    assert "value 0.166667" in text  # 1 / 6
    assert "smoothed " in text
    assert "2023-11-14 22:20:50 UTC" in text  # 1.7e9 + 5 * 90 s
    assert "7.50 min" in text  # 450 s after the run's first point


def test_a_cards_zoom_survives_a_reload_through_the_url(page, shared):
    page.goto(shared + "/?run=a&run=b")
    page.locator(_card("loss") + "[data-vb-drawn]").wait_for()
    page.locator(_card("acc") + "[data-vb-drawn]").wait_for()
    page.evaluate(GD + "vbPlotly.relayout(gd('loss'), {'xaxis.range': [50, 80]}); }")
    page.wait_for_function("() => new URLSearchParams(location.search).getAll('zoom').length === 1")
    (zoom,) = page.evaluate("() => new URLSearchParams(location.search).getAll('zoom')")
    assert zoom.startswith("50,80,")
    url = page.url
    page.goto(url)
    page.locator(_card("loss") + "[data-vb-drawn]").wait_for()
    page.locator(_card("acc") + "[data-vb-drawn]").wait_for()
    # the zoomed card shows x 50..80 from full-resolution data; the other card is not zoomed
    page.wait_for_function(GD + "const l = gd('loss')._fullLayout.xaxis.range;"
                           " return Math.abs(l[0] - 50) < 1e-9 && Math.abs(l[1] - 80) < 1e-9; }")
    xs = page.evaluate(GD + "return gd('loss')._fullData.filter(d => d.meta && d.meta.role === 'raw')"
                       ".map(d => Array.from(d.x).filter(x => x >= 50 && x <= 80).length); }")
    assert xs == [31, 31]
    acc = page.evaluate(GD + "return gd('acc')._fullLayout.xaxis.range; }")
    assert acc[0] < 1 and acc[1] > 190
    # back to the full view: the URL forgets the zoom
    page.evaluate(GD + "vbPlotly.relayout(gd('loss'), {'xaxis.autorange': true}); }")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('zoom')")
