"""Text tab in real Chromium: Markdown rendered, tables for rank 1/2, and nothing in the text can run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import WRITERS, card_sel, open_tab, write_tf2_strings, write_with_both
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


HOSTILE = (
    "**bold** <script>window.xss = 1</script> "
    '<img src="x" onerror="window.xss = 2"> '
    "[click me](javascript:window.xss=3) [ok](https://example.com/)"
)


def write_tf2_text(run_dir: Path, tag: str, data: np.ndarray, step: int) -> None:
    """A TF 2.x ``tf.summary.text`` record: a DT_STRING tensor of ``data``'s own shape."""
    write_tf2_strings(run_dir, tag, "text", [(step, [s.encode() for s in data.reshape(-1)], data.shape)], "2.0")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def write(w) -> None:
        w.add_text("notes", HOSTILE, 0)
        w.add_text("notes", "second *step*", 1)

    root = tmp_path_factory.mktemp("text")
    write_with_both(root, write)
    write_tf2_text(root / "tf2", "table", np.array([["**a**", "b"], ["c", "`<d>`"]]), 5)
    return root


def test_text_renders_markdown_safely(page, serve, logdir: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_tab(page, serve(logdir), "text", ".text-row")

    notes = page.locator(card_sel("text", None, "notes/text_summary"))
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

    table = page.locator(card_sel("text", None, "table") + ' .text-row[data-run="tf2"] table')
    expect(table.locator("tr")).to_have_count(2)
    expect(table.locator("td")).to_have_count(4)
    expect(table.locator("tr").first.locator("td").first.locator("strong")).to_have_text("a")
    expect(table.locator("tr").nth(1).locator("td code")).to_have_text("<d>")


def test_long_json_texts_of_two_runs_render(page, serve, tmp_path: Path) -> None:
    """HF Trainer's ``args`` and ``model_config`` (long JSON) of two runs: every cell shows its text.

    Before the Markdown bundle was preloaded with the page these cells stayed blank in most loads.
    """
    import json

    from logger import SummaryWriter

    args = {f"option_{i}": (i * 0.1 if i % 3 else f"value-{i}") for i in range(120)}
    config = {"architectures": ["BertForSequenceClassification"], "hidden_size": 768,
              "id2label": {str(i): f"L{i}" for i in range(30)}}
    for run in ("bert/runs/Dec02_15-47-55_vm", "bert/runs/Dec02_16-10-00_vm"):
        with SummaryWriter(str(tmp_path / run)) as w:
            w.add_text("args", json.dumps(args, indent=2), 0)
            w.add_text("model_config", json.dumps(config, indent=2), 0)
    base = serve(tmp_path)
    page.goto(f"{base}/?tab=text")
    page.locator(".text-row").first.wait_for(timeout=90_000)  # a shared, busy machine: be patient
    page.wait_for_function(
        "() => { const cells = [...document.querySelectorAll('.text-row .text-markdown')];"
        " return cells.length === 4 && cells.every(c => c.textContent.includes('\"')); }", timeout=60_000)
    texts = page.locator(".text-row .text-markdown").all_text_contents()
    assert sum("option_119" in t for t in texts) == 2 and sum("hidden_size" in t for t in texts) == 2
