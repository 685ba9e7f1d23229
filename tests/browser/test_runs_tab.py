"""Runs tab in real Chromium: rows per run, group rows, ticking rows selects runs everywhere, CSV download."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

RUNS = ["adam_seed0", "adam_seed1", "sgd_seed0", "sgd_seed1"]
CHECKED = ("() => [...document.querySelectorAll('#shell-run-checklist input[type=checkbox]')]"
           ".filter(b => b.checked).map(b => b.value).sort().join(',')")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("runs_tab")
    for i, run in enumerate(RUNS):
        with SummaryWriter(str(root / run)) as w:
            for step in range(5):
                w.add_scalar("loss", 10.0 - step - i, step * 10)
    return root


def _row(page, run: str):
    return page.locator("#runs-table tr", has=page.locator("td[data-dash-column='run']", has_text=run))


def test_rows_selection_groups_and_csv(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    page.goto(f"{base}/?tab=runs")
    page.locator("#runs-table td[data-dash-column='run']", has_text="sgd_seed1").wait_for(timeout=90_000)  # busy machine
    assert _row(page, "adam_seed1").locator("td[data-dash-column='metric:loss:last']").text_content().strip() == "5"
    assert _row(page, "adam_seed1").locator("td[data-dash-column='last_step']").text_content().strip() == "40"

    # ticking a row selects exactly that run in the shell's run selector (every tab follows)
    _row(page, "sgd_seed0").locator("input[type='checkbox']").check()
    page.wait_for_function(f"() => ({CHECKED})() === 'sgd_seed0'")

    # CSV of the rows as shown
    with page.expect_download() as dl:
        page.locator("#runs-download-button").click()
    text = Path(dl.value.path()).read_text()
    assert text.splitlines()[0].startswith("run,status,loss/last,loss/min,loss/max,last step,start (UTC),duration")
    assert sum(1 for line in text.splitlines()[1:] if line) == 4

    # group by a name regex: one row per learning setup; ticking it selects both seeds
    page.locator("#runs-group-by").get_by_text("run name regex").click()
    key = page.locator("#runs-group-key")
    key.fill(r"(.*)_seed\d+")
    key.press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('#runs-table td[data-dash-column=\"run\"]')]"
                           ".map(td => td.textContent.trim()).sort().join(',') === 'adam,sgd'")
    assert _row(page, "adam").locator("td[data-dash-column='runs']").text_content().strip() == "2"
    _row(page, "adam").locator("input[type='checkbox']").check()
    page.wait_for_function(f"() => ({CHECKED})() === 'adam_seed0,adam_seed1'")
