"""Images tab in real Chromium: logged pixels come back through <img src>, the step slider moves with
the keyboard, TF 2.x multi-image tensors show every sample, brightness/contrast/actual size apply."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import WRITERS, card_sel, open_tab, write_tf2_strings, write_with_both
from PIL import Image
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


STEPS = 12


def pixels(step: int) -> np.ndarray:
    """The HWC uint8 image logged at ``step``: 6x10, distinct per step."""
    img = np.zeros((6, 10, 3), dtype=np.uint8)
    img[..., 0] = 20 * step
    img[:, step % 10, 1] = 255
    img[step % 6, :, 2] = 200
    return img


def sample(k: int) -> np.ndarray:
    """The k-th sample of the TF 2.x multi-image tensor (4x5 RGB)."""
    img = np.full((4, 5, 3), 40 * k, dtype=np.uint8)
    img[0, 0] = (255, 0, 255)
    return img


def _png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def write_tf2_images(run_dir: Path, tag: str, steps: range, k: int) -> None:
    """A TF 2.x ``tf.summary.image`` record: DT_STRING [2+k] = [width, height, png_1..png_k]."""
    content = [b"5", b"4"] + [_png(sample(i)) for i in range(k)]
    write_tf2_strings(run_dir, tag, "images", [(step, content, (len(content),)) for step in steps], "1.0")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def write(w) -> None:
        for s in range(STEPS):
            w.add_image("pics/img", pixels(s), s, dataformats="HWC")
        w.add_images("pics/grid", np.stack([sample(i) for i in range(3)]), 0, dataformats="NHWC")

    root = tmp_path_factory.mktemp("images")
    write_with_both(root, write)
    write_tf2_images(root / "tf2", "pics/multi", range(2), k=3)
    return root


def fetch_image(page, src: str) -> np.ndarray:
    """GET ``src`` from inside the page and decode the bytes with PIL (as RGB)."""
    data = page.evaluate(
        "async (u) => { const r = await fetch(u); if (!r.ok) throw new Error(r.status);"
        " return Array.from(new Uint8Array(await r.arrayBuffer())); }", src)
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))


def card(page, run: str, tag: str):
    return page.locator(card_sel("images", run, tag))


def test_images_show_logged_pixels_and_keyboard_slider(page, serve, logdir: Path) -> None:
    open_tab(page, serve(logdir), "images", "img.images-img")
    for run in WRITERS:
        img = card(page, run, "pics/img").locator("img.images-img")
        expect(img).to_have_attribute("src", re.compile(r"step=11&"))
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("(e) => e.naturalWidth") == 10  # the browser decoded it
        np.testing.assert_array_equal(fetch_image(page, img.get_attribute("src")), pixels(STEPS - 1))
        # every step is reachable: Home goes to step 0, ArrowRight to step 1
        thumb = card(page, run, "pics/img").locator('[role="slider"]')
        thumb.focus()
        page.keyboard.press("Home")
        expect(img).to_have_attribute("src", re.compile(r"step=0&"))
        thumb.press("ArrowRight")
        expect(img).to_have_attribute("src", re.compile(r"step=1&"))
        np.testing.assert_array_equal(fetch_image(page, img.get_attribute("src")), pixels(1))
        expect(card(page, run, "pics/img").locator(".images-step")).to_have_text("step 1")


def test_multi_image_grid_and_view_controls(page, serve, logdir: Path) -> None:
    open_tab(page, serve(logdir), "images", "img.images-img")
    # TF 2.x tensor with 3 samples: three images, each the logged sample
    imgs = card(page, "tf2", "pics/multi").locator("img.images-img")
    imgs.nth(2).wait_for()
    assert imgs.count() == 3
    for k in range(3):
        np.testing.assert_array_equal(fetch_image(page, imgs.nth(k).get_attribute("src")), sample(k))
    # add_images tiles the batch into one grid image
    for run in WRITERS:
        grid = card(page, run, "pics/grid").locator("img.images-img")
        grid.wait_for()
        assert grid.count() == 1
        assert fetch_image(page, grid.get_attribute("src")).shape[:2] == (4, 15)

    img = card(page, "ours", "pics/img").locator("img.images-img")
    expect(img).to_have_css("filter", "brightness(1) contrast(1)")
    page.locator("#images-brightness [role='slider']").press("ArrowRight")
    expect(img).to_have_css("filter", "brightness(1.05) contrast(1)")
    page.locator("#images-contrast [role='slider']").press("ArrowLeft")
    expect(img).to_have_css("filter", "brightness(1.05) contrast(0.95)")
    page.locator("#images-reset").click()
    expect(img).to_have_css("filter", "brightness(1) contrast(1)")
    # fit-to-card scales the 10 px wide image up; actual size shows it at its 10 px
    assert img.evaluate("(e) => e.getBoundingClientRect().width") > 100
    page.locator("#images-actual-size input[type=checkbox]").check()
    expect(img).to_have_css("width", "10px")
