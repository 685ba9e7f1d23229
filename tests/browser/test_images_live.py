"""Images tab while training runs: new steps appear live; a slider at the newest step follows it,
one the user moved back stays where it is."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import card_sel, open_tab
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


LIVE_TIMEOUT_MS = 30_000


def image(step: int) -> np.ndarray:
    img = np.zeros((4, 4, 3), dtype=np.uint8)
    img[..., 1] = 10 * step
    return img


def test_new_steps_appear_and_slider_follows_newest(page, serve, tmp_path: Path) -> None:
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "live"))
    try:
        for s in range(3):
            w.add_image("a", image(s), s, dataformats="HWC")
            w.add_image("b", image(s), s, dataformats="HWC")
        w.flush()
        open_tab(page, serve(tmp_path, "--reload-interval", "0.5"), "images")
        card_a = page.locator(card_sel("images", None, "a"))
        card_b = page.locator(card_sel("images", None, "b"))
        img_a, img_b = card_a.locator("img.images-img"), card_b.locator("img.images-img")
        img_b.wait_for()
        expect(img_a).to_have_attribute("src", re.compile(r"step=2&"))
        # the user goes back to step 0 on "b" only
        card_b.locator('[role="slider"]').focus()
        page.keyboard.press("Home")
        expect(img_b).to_have_attribute("src", re.compile(r"step=0&"))

        for s in (3, 4):
            w.add_image("a", image(s), s, dataformats="HWC")
            w.add_image("b", image(s), s, dataformats="HWC")
        w.flush()
        expect(img_a).to_have_attribute("src", re.compile(r"step=4&"), timeout=LIVE_TIMEOUT_MS)
        expect(card_a.locator('[role="slider"]')).to_have_attribute("aria-valuemax", "4")
        expect(card_b.locator('[role="slider"]')).to_have_attribute("aria-valuemax", "4")
        expect(img_b).to_have_attribute("src", re.compile(r"step=0&"))
        # and every new step is reachable from the keyboard
        card_b.locator('[role="slider"]').focus()
        page.keyboard.press("End")
        expect(img_b).to_have_attribute("src", re.compile(r"step=4&"))
    finally:
        w.close()
