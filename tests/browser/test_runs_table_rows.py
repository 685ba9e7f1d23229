"""The Runs table shows its last row whole: with a few rows (not virtualised) and with 1,000 rows
(virtualised) scrolled to the end. Dash's virtualisation sized the body 1 px short per row, so
with every row fitting in the box the last one was cut off (docs/runs_table.png)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

# The last rendered run row, and the bottom of the innermost box that clips it (any overflow box).
LAST_ROW = """() => {
  const rows = [...document.querySelectorAll('#runs-table tr')].filter(r => r.querySelector("td[data-dash-column='run']"));
  const last = rows[rows.length - 1], r = last.getBoundingClientRect();
  let el = last.parentElement, top = -Infinity, bottom = Infinity;
  while (el && el !== document.body) {
    if (/(auto|scroll|hidden)/.test(getComputedStyle(el).overflowY)) {
      const b = el.getBoundingClientRect(); bottom = Math.min(bottom, b.bottom); top = Math.max(top, b.top);
    }
    el = el.parentElement;
  }
  return {run: last.querySelector("td[data-dash-column='run']").textContent.trim(), top: r.top, bottom: r.bottom,
          height: r.height, clipTop: top, clipBottom: bottom};
}"""
# Scroll every scrolling box of the table to its end.
SCROLL_END = """() => { let moved = false;
  document.querySelectorAll('#runs-table *').forEach(e => {
    if (e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(e).overflowY)
        && e.scrollTop + e.clientHeight < e.scrollHeight - 1) { e.scrollTop = e.scrollHeight; moved = true; } });
  return moved; }"""


def _logdir(root: Path, n: int) -> Path:
    from logger import SummaryWriter

    for i in range(n):
        with SummaryWriter(str(root / f"run{i:04d}")) as w:
            w.add_scalar("loss", 1.0 / (i + 1), 0)
    return root


@pytest.mark.parametrize("n", [1, 3, 15, 1000])
def test_last_row_is_fully_visible(page, serve, tmp_path: Path, n: int) -> None:
    base = serve(_logdir(tmp_path, n))
    page.goto(f"{base}/?tab=runs")
    page.locator("#runs-table td[data-dash-column='run']").first.wait_for(timeout=120_000)
    page.wait_for_function("(n) => document.querySelector('#runs-note').textContent.trim() === n + ' runs'", arg=n)
    virtual = page.locator("#runs-table .dash-virtualized").count() > 0
    assert virtual == (n > 100)
    # scroll to the end until the last run is rendered and nothing moves any more
    page.wait_for_function(f"() => !({SCROLL_END})() && ({LAST_ROW})().run === 'run{n - 1:04d}'", timeout=60_000)
    _assert_whole(page.evaluate(LAST_ROW))
    if n > 100:  # grouped into 10 rows, the table stops being virtualised and still shows its last row whole
        page.locator("#runs-group-by").get_by_text("run name regex").click()
        key = page.locator("#runs-group-key")
        key.fill(r"run(\d\d)\d")
        key.press("Enter")
        page.wait_for_function("() => document.querySelector('#runs-note').textContent.trim().indexOf('10 groups') === 0")
        page.wait_for_function("() => !document.querySelector('#runs-table .dash-virtualized')")
        page.wait_for_function(f"() => !({SCROLL_END})() && ({LAST_ROW})().run === '09'", timeout=60_000)
        _assert_whole(page.evaluate(LAST_ROW))


def _assert_whole(last: dict) -> None:
    assert last["height"] > 10
    assert last["clipTop"] - 0.5 <= last["top"] and last["bottom"] <= last["clipBottom"] + 0.5, last
