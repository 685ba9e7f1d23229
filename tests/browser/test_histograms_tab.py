"""Histograms and Distributions tabs in real Chromium, on histograms from logger's and torch's writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import WRITERS, card_sel, open_tab, write_with_both
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


STEPS = 120


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def write(w) -> None:
        rng = np.random.default_rng(0)
        for s in range(STEPS):
            w.add_histogram("weights/w", rng.normal(s * 0.01, 1.0, 500), s)
        w.add_histogram("few/b", np.arange(10.0), 0)

    root = tmp_path_factory.mktemp("histograms")
    write_with_both(root, write)
    return root


def traces(page, selector: str) -> list[dict]:
    """The traces Plotly drew in the graph under ``selector`` (name, fill, step, x), decoded arrays."""
    return page.locator(f"{selector} .js-plotly-plot").evaluate(
        "(g) => g._fullData.map(t => ({name: t.name, fill: t.fill === 'none' ? null : t.fill, n: t.x.length,"
        " step: t.customdata ? t.customdata[0][0] : null, x: Array.from(t.x)}))")


def _open_section(page, tab: str, name: str) -> None:
    """Click a closed section's header (only the first section starts open)."""
    toggle = page.locator(f'.{tab}-section[data-section="{name}"] .{tab}-section-toggle', has_text="▸")
    toggle.wait_for(timeout=90_000)  # the first load on a busy shared machine can be slow
    toggle.click()


def test_histograms_offset_overlay_and_step_range(page, serve, logdir: Path) -> None:
    open_tab(page, serve(logdir), "histograms")
    _open_section(page, "histograms", "weights")
    for run in WRITERS:
        sel = card_sel("histograms", run, "weights/w")
        page.locator(f"{sel} .js-plotly-plot .scatterlayer .trace").first.wait_for()
        ts = traces(page, sel)
        # 120 steps: at most 64 ridges, evenly sampled, oldest first and the newest last (in front)
        assert len(ts) == 64
        assert ts[0]["step"] == 0 and ts[-1]["step"] == STEPS - 1
        assert all(t["fill"] == "toself" for t in ts)
        few = traces(page, card_sel("histograms", run, "few/b"))
        assert len(few) == 1 and few[0]["step"] == 0

    # many steps: the range control is shown; narrowing it to 100..119 draws exactly those steps
    box = page.locator("#histograms-range-box")
    expect(box).to_be_visible()
    low = box.locator("input").first
    low.fill("100")
    low.press("Tab")  # the typed value is committed when the box loses focus
    sel = card_sel("histograms", "ours", "weights/w")
    page.wait_for_function(
        "(s) => { const g = document.querySelector(s + ' .js-plotly-plot');"
        " return g && g._fullData.length === 20 && g._fullData[0].name === 'step 100'; }", arg=sel)
    ts = traces(page, sel)
    assert [t["step"] for t in ts] == list(range(100, 120))

    page.locator("#histograms-mode").get_by_text("Overlay").click()
    page.wait_for_function(
        "(s) => { const g = document.querySelector(s + ' .js-plotly-plot');"
        " return g && g._fullData.length && g._fullData[0].fill === 'none'; }", arg=sel)
    ts = traces(page, sel)
    assert len(ts) == 20 and ts[-1]["step"] == STEPS - 1

    # hover over the newest ridge shows its step, bucket range and count
    page.locator(f"{sel} .js-plotly-plot").evaluate(
        "(g) => Plotly.Fx.hover(g, [{curveNumber: g.data.length - 1, pointNumber: 20}])")
    hover = page.locator(f"{sel} .hoverlayer")
    expect(hover).to_contain_text("step 119")
    expect(hover).to_contain_text("bucket [")
    expect(hover).to_contain_text("count")


def test_sections_filter_and_lazy_cards(page, serve, logdir: Path) -> None:
    open_tab(page, serve(logdir), "histograms")
    few = page.locator('.histograms-section[data-section="few"]')
    few.locator(".histograms-card").first.wait_for(timeout=90_000)
    toggle = page.locator('.histograms-section[data-section="weights"] .histograms-section-toggle')
    expect(toggle).to_have_text(f"▸ weights ({len(WRITERS)})")
    assert page.locator('.histograms-card[data-tag="weights/w"]').count() == 0  # closed: never built
    toggle.click()
    expect(page.locator('.histograms-card[data-tag="weights/w"]')).to_have_count(len(WRITERS))
    toggle.click()
    expect(page.locator('.histograms-card[data-tag="weights/w"]')).to_have_count(0)
    flt = page.locator("#histograms-tag-filter")
    flt.fill("weights")
    flt.press("Enter")
    expect(page.locator(".histograms-section")).to_have_count(1)  # only the matching section
    expect(page.locator('.histograms-section[data-section="few"]')).to_have_count(0)
    toggle.click()  # it stays as the user left it (closed) across the redraw
    expect(page.locator('.histograms-card[data-tag="weights/w"]')).to_have_count(len(WRITERS))


def test_distributions_bands(page, serve, logdir: Path) -> None:
    open_tab(page, serve(logdir), "distributions")
    _open_section(page, "distributions", "weights")
    for run in WRITERS:
        sel = card_sel("distributions", run, "weights/w")
        page.locator(f"{sel} .js-plotly-plot .scatterlayer .trace").first.wait_for()
        ts = traces(page, sel)
        assert len(ts) == 9  # 4 filled bands (2 edges each) + the median
        assert [t["fill"] for t in ts[:8]] == [None, "tonexty"] * 4
        assert ts[-1]["name"] == "median" and ts[-1]["n"] == STEPS
        assert ts[-1]["x"][0] == 0 and ts[-1]["x"][-1] == STEPS - 1
