"""One colour per run on every tab (#14): the Scalars page's run-order colour is the colour the
server-drawn tabs use, whatever runs are selected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import open_tab
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

RUNS = ("a_run", "b_run", "c_run")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("colors")
    for i, run in enumerate(RUNS):
        w = SummaryWriter(str(root / run))
        w.add_scalar("loss", 1.0 / (i + 1), 0)
        if run != "a_run":  # the first run has no text: colours go by index among ALL runs
            w.add_text("notes", f"hello from {run}", 0)
            w.add_image("picture", np.full((3, 4, 4), 0.5 * i, dtype=np.float32), 0)
        w.close()
    return root


def _swatch_rgb(page, run: str) -> str:
    label = page.locator(".vb-run-list label", has=page.locator(f"input[value='{run}']")).locator(".vb-run-label")
    label.wait_for(timeout=90_000)
    return label.evaluate("e => getComputedStyle(e, '::before').backgroundColor")


def _rgb(hexcol: str) -> str:
    return "rgb({}, {}, {})".format(*(int(hexcol[i:i + 2], 16) for i in (1, 3, 5)))


def test_text_tab_colours_a_run_as_the_scalars_page_does_even_when_filtered(serve, page, logdir: Path) -> None:
    from vizboard.figures.theme import run_colors

    base = serve(logdir)
    page.goto(f"{base}/?tab=scalars")
    page.wait_for_selector(".vb-card .js-plotly-plot", timeout=90_000)
    scalars_rgb = _swatch_rgb(page, "c_run")
    assert scalars_rgb == _rgb(run_colors(list(RUNS))[2])
    assert len({_swatch_rgb(page, r) for r in RUNS}) == 3

    open_tab(page, base, "text")
    for only_c in (False, True):  # all runs, then only c_run ticked in the run list: the colour stays
        if only_c:
            page.click("#shell-run-none")
            page.get_by_role("checkbox", name="c_run", exact=True).check()
            expect(page.locator('.text-run[data-run="b_run"]')).to_have_count(0, timeout=90_000)
        head = page.locator('.text-run[data-run="c_run"]').first
        head.wait_for(timeout=90_000)  # a shared, busy machine: be patient
        assert head.evaluate("e => getComputedStyle(e).color") == scalars_rgb
        assert page.locator('.text-run[data-run="b_run"]').count() == (0 if only_c else 1)

def test_images_tab_colours_the_run_label_with_the_run_order_colour(serve, page, logdir: Path) -> None:
    from vizboard.figures.theme import run_colors

    open_tab(page, serve(logdir), "images")
    label = page.locator('.images-card[data-run="c_run"] .images-run').first
    label.wait_for(timeout=90_000)  # a shared, busy machine: be patient
    assert label.evaluate("e => getComputedStyle(e).color") == _rgb(run_colors(list(RUNS))[2])
