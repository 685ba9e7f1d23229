"""Pinned cards on the Histograms, Distributions and Images tabs in real Chromium: pin a card, filter the
tags so its grid card goes, it stays in the Pinned row; reload, still pinned (from the URL); unpin."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from helpers import open_tab
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

PARAM = {"histograms": "hpin", "distributions": "dpin", "images": "ipin"}


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("pins")
    rng = np.random.default_rng(1)
    for run in ("r1", "r2"):
        w = SummaryWriter(str(root / run))
        for s in range(3):
            for sec in ("alpha", "beta"):
                w.add_histogram(f"{sec}/w", rng.normal(s, 1.0, 200), s)
                w.add_image(f"{sec}/img", rng.integers(0, 255, (4, 6, 3), dtype=np.uint8), s, dataformats="HWC")
        w.close()
    return root


def _pins_in_url(page, tab: str) -> list[list[str]]:
    return [json.loads(v) for v in parse_qs(urlparse(page.url).query).get(PARAM[tab], [])]


def _tag(tab: str, sec: str) -> str:
    return f"{sec}/img" if tab == "images" else f"{sec}/w"


def _drawn(tab: str) -> str:
    return "img" if tab == "images" else ".js-plotly-plot .main-svg"


@pytest.mark.parametrize("tab", ["histograms", "distributions", "images"])
def test_pin_survives_the_tag_filter_and_a_reload(page, serve_module, logdir: Path, tab: str) -> None:
    base = serve_module(logdir)
    open_tab(page, base, tab)
    grid = page.locator(f"#{tab}-cards")
    pinned = page.locator(f"#{tab}-pinned")
    card = f'.{tab}-card[data-run="r2"][data-tag="{_tag(tab, "alpha")}"]'
    grid.locator(f"{card} {_drawn(tab)}").first.wait_for(timeout=90_000)
    expect(pinned.locator(f".{tab}-card")).to_have_count(0)

    grid.locator(f"{card} .vb-pin").click()
    expect(pinned.locator(f".{tab}-card")).to_have_count(1)
    pinned.locator(f"{card} {_drawn(tab)}").first.wait_for()
    expect(pinned.locator('[data-section="Pinned"]')).to_be_visible()
    expect(grid.locator(f"{card} .vb-pin")).to_have_text("Unpin")
    expect(pinned.locator(f"{card} .vb-pin")).to_have_text("Unpin")
    page.wait_for_function("(p) => location.search.indexOf(p + '=') >= 0", arg=PARAM[tab])
    assert _pins_in_url(page, tab) == [["r2", _tag(tab, "alpha")]]
    if tab == "images":  # the brightness/contrast controls apply to the pinned copy too
        filters = page.evaluate(f"() => ['#images-cards', '#images-pinned'].map(s =>"
                                f" getComputedStyle(document.querySelector(s + ' {card} img')).filter)")
        assert filters[0] == filters[1] and "brightness" in filters[1]

    # filter the tags so the card leaves the grid: the pinned copy stays (and stays drawn)
    box = page.locator(f"#{tab}-tag-filter")
    box.fill("^beta")
    box.press("Enter")
    expect(grid.locator(card)).to_have_count(0)
    if tab == "images":
        expect(grid.locator(f'.{tab}-card[data-tag="beta/img"]')).to_have_count(2)
    else:  # the alpha section is gone, beta's header is there (closed: it was closed before the filter)
        expect(grid.locator(f'.{tab}-section[data-section="alpha"]')).to_have_count(0)
        expect(grid.locator(f'.{tab}-section[data-section="beta"]')).to_have_count(1)
    expect(pinned.locator(card)).to_have_count(1)
    expect(pinned.locator(f"{card} {_drawn(tab)}").first).to_be_visible()

    # a reload restores the pin from the URL (the filter is not kept: the grid shows the card again)
    page.reload()
    pinned.locator(f"{card} {_drawn(tab)}").first.wait_for(timeout=90_000)
    expect(pinned.locator(f".{tab}-card")).to_have_count(1)
    expect(pinned.locator(f"{card} .vb-pin")).to_have_text("Unpin")

    # a second pin goes after the first; unpinning from the Pinned row removes it everywhere
    other = f'.{tab}-card[data-run="r1"][data-tag="{_tag(tab, "alpha")}"]'
    grid.locator(f"{other} .vb-pin").click()
    expect(pinned.locator(f".{tab}-card")).to_have_count(2)
    page.wait_for_function("(p) => new URLSearchParams(location.search).getAll(p).length === 2", arg=PARAM[tab])
    assert _pins_in_url(page, tab) == [["r2", _tag(tab, "alpha")], ["r1", _tag(tab, "alpha")]]
    assert pinned.locator(f".{tab}-card").first.get_attribute("data-run") == "r2"
    pinned.locator(f"{card} .vb-pin").click()
    expect(pinned.locator(f".{tab}-card")).to_have_count(1)
    expect(grid.locator(f"{card} .vb-pin")).to_have_text("Pin")
    pinned.locator(f"{other} .vb-pin").click()
    expect(pinned.locator(f".{tab}-card")).to_have_count(0)
    page.wait_for_function("(p) => location.search.indexOf(p + '=') < 0", arg=PARAM[tab])


def test_pins_of_runs_not_shown_draw_nothing(page, serve_module, logdir: Path) -> None:
    base = serve_module(logdir)
    stale = json.dumps(["gone", "alpha/img"])
    page.goto(f"{base}/?tab=images&ipin={stale}&ipin=junk")
    page.locator('#images-cards .images-card img').first.wait_for(timeout=90_000)
    expect(page.locator("#images-pinned .images-card")).to_have_count(0)
    assert page.locator("#images-cards .images-card").count() == 4
