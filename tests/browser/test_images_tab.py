"""Images tab in real Chromium: logged pixels come back through <img src>, the step slider moves with
the keyboard, TF 2.x multi-image tensors show every sample, brightness/contrast/actual size apply."""

from __future__ import annotations

import io
import re
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient_expect():
    """The machine is shared: give each page assertion 20 s (Playwright's default is 5 s)."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)

STEPS = 12
WRITERS = ("ours", "torch")


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
    from logger._pb import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from logger.records import frame

    run_dir.mkdir(parents=True, exist_ok=True)
    out = [frame(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())]
    for step in steps:
        content = [b"5", b"4"] + [_png(sample(i)) for i in range(k)]
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, string_val=content,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(content))]),
        )
        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="images"))
        value = summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor)
        ev = event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value]))
        out.append(frame(ev.SerializeToString()))
    (run_dir / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.1.0").write_bytes(b"".join(out))


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter as OurWriter

    root = tmp_path_factory.mktemp("images")
    for name, cls in zip(WRITERS, (OurWriter, TorchWriter)):
        w = cls(str(root / name))
        for s in range(STEPS):
            w.add_image("pics/img", pixels(s), s, dataformats="HWC")
        w.add_images("pics/grid", np.stack([sample(i) for i in range(3)]), 0, dataformats="NHWC")
        w.close()
    write_tf2_images(root / "tf2", "pics/multi", range(2), k=3)
    return root


def fetch_image(page, src: str) -> np.ndarray:
    """GET ``src`` from inside the page and decode the bytes with PIL (as RGB)."""
    data = page.evaluate(
        "async (u) => { const r = await fetch(u); if (!r.ok) throw new Error(r.status);"
        " return Array.from(new Uint8Array(await r.arrayBuffer())); }", src)
    return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))


def card(page, run: str, tag: str):
    return page.locator(f'.images-card[data-run="{run}"][data-tag="{tag}"]')


def open_tab(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    page.goto(f"{base}/?tab=images")
    page.locator("img.images-img").first.wait_for()


def test_images_show_logged_pixels_and_keyboard_slider(page, serve, logdir: Path) -> None:
    open_tab(page, serve, logdir)
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
    open_tab(page, serve, logdir)
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
