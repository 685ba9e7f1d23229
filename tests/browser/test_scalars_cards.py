"""Scalars cards at scale and per-card tools: lazy sections, pagination, zoom re-query, CSV, full screen."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser


def _wait(page, js: str, arg=None, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = page.evaluate(js, arg)
        if last:
            return last
        page.wait_for_timeout(100)
    raise AssertionError(f"condition never held: {js} (last {last!r})")


@pytest.fixture()
def many_tags(tmp_path) -> Path:
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"))
    for s in range(8):  # 8 sections; section "g0" has 30 tags
        for t in range(30 if s == 0 else 3):
            for i in range(3):
                w.add_scalar(f"g{s}/tag{t:02d}", float(i * t), i)
    w.close()
    return tmp_path


def test_only_open_sections_hold_cards_and_only_cards_in_view_are_drawn(serve, page, many_tags):
    page.goto(serve(many_tags))
    heads = page.locator(".vb-section-head")
    _wait(page, "() => document.querySelectorAll('.vb-section-head').length === 8")
    # the first 3 sections are open (30 + 3 + 3 cards); the rest are collapsed and hold no card
    _wait(page, "() => document.querySelectorAll('.vb-chart-card').length === 36")
    first = page.locator(".vb-section").first.locator(".vb-card-title").all_text_contents()
    assert first == [f"g0/tag{t:02d}" for t in range(30)]
    assert "g0 (30)" in heads.first.text_content()
    _wait(page, "() => document.querySelector('[data-vb-card]').hasAttribute('data-vb-drawn')")
    # cards far below the fold are not drawn until they are scrolled into view
    last = page.locator(".vb-section").first.locator(".vb-chart-card").last
    assert last.get_attribute("data-vb-drawn") is None
    last.scroll_into_view_if_needed()
    _wait(page, "() => { const c = document.querySelectorAll('.vb-section')[0].querySelectorAll('.vb-chart-card');"
                " return c[c.length - 1].getAttribute('data-vb-drawn') === '[\"run\"]'; }")
    # opening a collapsed section creates and draws its cards
    assert "▸" in heads.nth(5).text_content()
    assert page.locator(".vb-section").nth(5).locator(".vb-chart-card").count() == 0
    heads.nth(5).click()
    page.locator(".vb-section").nth(5).scroll_into_view_if_needed()
    _wait(page, "() => document.querySelectorAll('.vb-section')[5]"
                ".querySelectorAll('.vb-chart-card[data-vb-drawn]').length === 3")
    # the tag filter narrows sections and cards
    page.fill("#scalars-tag-filter", "^g7/")
    page.press("#scalars-tag-filter", "Enter")
    _wait(page, "() => document.querySelectorAll('.vb-section-head').length === 1")


def test_zoom_requeries_the_window_at_full_resolution(serve, page, tmp_path):
    from logger import SummaryWriter

    n = 20_000
    v = np.sin(np.arange(n) / 300.0)
    v[12_345] = 9.0  # a spike that must be drawn at every zoom level
    w = SummaryWriter(str(tmp_path / "run"))
    for i in range(n):
        w.add_scalar("signal", float(v[i]), i)
    w.close()
    page.goto(serve(tmp_path))
    js_points = ("() => { const g = document.querySelector('.vb-card .js-plotly-plot');"
                 " const d = g && (g._fullData || []).find(t => t.meta && t.meta.role === 'raw');"
                 " return d ? Array.from(d.x) : null; }")
    xs = _wait(page, js_points)
    assert len(xs) <= 4000 and 12_345 in xs
    page.evaluate("() => vbPlotly.relayout(document.querySelector('.vb-card .js-plotly-plot'),"
                  " {'xaxis.range': [12000, 12600]})")
    xs = _wait(page, f"() => {{ const x = ({js_points})();"
                     " return x && x.filter(s => s >= 12000 && s <= 12600).length === 601 ? x : null; }")
    assert 12_345 in xs
    # the zoom survives a live update (uirevision) and the update is drawn
    rng = page.evaluate("() => document.querySelector('.vb-card .js-plotly-plot')._fullLayout.xaxis.range")
    assert rng == [12000, 12600]
    w = SummaryWriter(str(tmp_path / "run"))
    w.add_scalar("signal", 0.5, n)
    w.close()
    _wait(page, f"() => {{ const x = ({js_points})(); return x && x.includes(12601); }}")
    assert page.evaluate("() => document.querySelector('.vb-card .js-plotly-plot')._fullLayout.xaxis.range") == [12000, 12600]


def test_csv_download_and_full_screen(serve, page, tmp_path):
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"))
    for i in range(5):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.add_scalar("loss", float("nan"), 5)
    w.close()
    page.goto(serve(tmp_path))
    page.wait_for_selector(".vb-card .js-plotly-plot")
    with page.expect_download() as dl:
        page.locator(".vb-card").first.get_by_text("CSV").click()
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text())))
    assert rows[0] == ["run", "tag", "step", "wall_time", "value"]
    # one CSV spelling with `vizboard export`
    assert [r[2] for r in rows[1:]] == ["0", "1", "2", "3", "4", "5"] and rows[-1][4] == "nan"
    assert dl.value.suggested_filename == "loss.csv"
    page.locator(".vb-card").first.get_by_title("Full screen (toggle)").click()
    page.wait_for_selector(".vb-card.vb-fullscreen")
    box = page.locator(".vb-card.vb-fullscreen").bounding_box()
    assert box["width"] > 1200 and box["height"] > 850
    page.wait_for_function("() => { const g = document.querySelector('.vb-fullscreen .js-plotly-plot');"
                           " return g && g._fullLayout && g._fullLayout.height > 700; }")  # the chart grew too
    page.locator(".vb-card").first.get_by_title("Full screen (toggle)").click()
    page.wait_for_selector(".vb-card.vb-fullscreen", state="detached")


def test_custom_scalars_layout_and_add_scalars_draw_merged_charts(serve, page, tmp_path):
    from logger import SummaryWriter

    for r in ("a", "b"):
        w = SummaryWriter(str(tmp_path / r))
        for i in range(5):
            w.add_scalar("loss/train", i * 1.0, i)
            w.add_scalar("loss/val", i * 2.0, i)
        w.add_scalars("grp", {"x": 1.0, "y": 2.0}, 0)
        if r == "a":
            w.add_custom_scalars({"Overview": {"losses": ["Multiline", ["loss/.*"]]}})
        w.close()
    page.set_viewport_size({"width": 1280, "height": 1400})  # every card on screen: only those are drawn
    page.goto(serve(tmp_path))
    js = ("() => Array.from(document.querySelectorAll('.vb-card')).map(c => [c.querySelector('.vb-card-title')"
          ".textContent, ((c.querySelector('.js-plotly-plot') || {})._fullData || [])"
          ".filter(d => d.meta && d.meta.role === 'smoothed').map(d => d.name).sort()])")
    cards = dict(_wait(page, f"() => {{ const c = ({js})(); return c.length === 4 && c.every(x => x[1].length) ? c : null; }}"))
    assert page.locator(".vb-section-head").first.text_content().endswith("Custom: Overview (1)")
    assert cards["losses"] == ["a: loss/train", "a: loss/val", "b: loss/train", "b: loss/val"]
    assert cards["grp"] == ["a: x", "a: y", "b: x", "b: y"]
    assert cards["loss/train"] == ["a", "b"]
