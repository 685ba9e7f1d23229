"""Text tab in real Chromium: Markdown rendered, tables for rank 1/2, and nothing in the text can run."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient_expect():
    """The machine is shared: give each page assertion 20 s (Playwright's default is 5 s)."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)

WRITERS = ("ours", "torch")
HOSTILE = (
    "**bold** <script>window.xss = 1</script> "
    '<img src="x" onerror="window.xss = 2"> '
    "[click me](javascript:window.xss=3) [ok](https://example.com/)"
)


def write_tf2_text(run_dir: Path, tag: str, data: np.ndarray, step: int) -> None:
    """A TF 2.x ``tf.summary.text`` record: a DT_STRING tensor of ``data``'s own shape."""
    from logger._pb import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from logger.records import frame

    run_dir.mkdir(parents=True, exist_ok=True)
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in data.shape])
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=shape,
                                    string_val=[s.encode() for s in data.reshape(-1)])
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    ev = event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor)]))
    head = event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
    (run_dir / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.2.0").write_bytes(
        frame(head.SerializeToString()) + frame(ev.SerializeToString()))


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter as OurWriter

    root = tmp_path_factory.mktemp("text")
    for name, cls in zip(WRITERS, (OurWriter, TorchWriter)):
        w = cls(str(root / name))
        w.add_text("notes", HOSTILE, 0)
        w.add_text("notes", "second *step*", 1)
        w.close()
    write_tf2_text(root / "tf2", "table", np.array([["**a**", "b"], ["c", "`<d>`"]]), 5)
    return root


def test_text_renders_markdown_safely(page, serve, logdir: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = serve(logdir)
    page.goto(f"{base}/?tab=text")
    page.locator(".text-row").first.wait_for()

    notes = page.locator('.text-card[data-tag="notes/text_summary"]')
    expect(notes.locator(".text-title")).to_have_text("notes")  # torch's /text_summary suffix is dropped
    for run in WRITERS:
        rows = notes.locator(f'.text-row[data-run="{run}"]')
        expect(rows).to_have_count(2)
        assert rows.first.get_attribute("data-step") == "1"  # newest first
        hostile = notes.locator(f'.text-row[data-run="{run}"][data-step="0"]')
        # torch writes shape [1]: a one-cell table whose cell is Markdown
        expect(hostile.locator("table td")).to_have_count(1)
        expect(hostile.locator("td strong")).to_have_text("bold")
        expect(hostile).to_contain_text("<script>window.xss = 1</script>")
        expect(hostile).to_contain_text('<img src="x" onerror=')
        links = hostile.locator("a")
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        assert "https://example.com/" in hrefs
        assert not any(h.strip().lower().startswith("javascript") for h in hrefs)
        assert hostile.locator("script, img, iframe, [onerror]").count() == 0
        expect(hostile).to_contain_text("click me")
        assert hostile.locator("a", has_text="click me").count() == 0  # shown, not a link
    # clicking the neutralised link runs nothing
    notes.get_by_text("click me").first.click()
    assert page.evaluate("() => window.xss") is None
    assert dialogs == []

    table = page.locator('.text-card[data-tag="table"] .text-row[data-run="tf2"] table')
    expect(table.locator("tr")).to_have_count(2)
    expect(table.locator("td")).to_have_count(4)
    expect(table.locator("tr").first.locator("td").first.locator("strong")).to_have_text("a")
    expect(table.locator("tr").nth(1).locator("td code")).to_have_text("<d>")
