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
