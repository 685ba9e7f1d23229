"""HParams tab in real Chromium, on sessions written by torch's add_hparams and by logger's add_hparams."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

LOSSES = [5.0, 2.0, 0.5, 3.0, 4.0]  # logger run: last 4.0, min 0.5, max 5.0
SCATTER = "document.querySelector('#hparams-scatter .js-plotly-plot')"


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("hparams")
    for i, (lr, opt) in enumerate([(0.1, "sgd"), (0.01, "adam"), (0.001, "adam")]):
        tw = TorchWriter(str(root / "torch"))
        tw.add_hparams({"lr": lr, "optimizer": opt}, {"accuracy": 0.5 + 0.125 * i}, run_name=f"trial{i}")
        tw.close()
    with SummaryWriter(str(root / "logger_run")) as w:
        w.add_hparams({"lr": 0.03, "optimizer": "adamw", "use_bn": True}, {"loss": LOSSES[0]}, global_step=0)
        for step, v in enumerate(LOSSES[1:], start=1):
            w.add_scalar("loss", v, step)
    return root


def _cell(page, run: str, column: str):
    row = page.locator("#hparams-table tr", has=page.locator("td[data-dash-column='run']", has_text=run))
    return row.locator(f"td[data-dash-column='{column}']")


def _open(page, base: str) -> None:
    page.goto(f"{base}/?tab=hparams")
    page.locator("#hparams-table td[data-dash-column='run']", has_text="torch/trial2").wait_for(timeout=90_000)


def test_table_rows_show_the_logged_values(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    _open(page, base)
    runs = page.locator("#hparams-table td[data-dash-column='run']").all_text_contents()
    assert sorted(r.strip() for r in runs) == ["logger_run", "torch/trial0", "torch/trial1", "torch/trial2"]
    assert _cell(page, "torch/trial1", "hparam:lr").text_content().strip() == "0.01"
    assert _cell(page, "torch/trial1", "hparam:optimizer").text_content().strip() == "adam"
    assert _cell(page, "torch/trial2", "metric:accuracy").text_content().strip() == "0.75"
    assert _cell(page, "logger_run", "hparam:use_bn").text_content().strip() == "true"
    assert _cell(page, "logger_run", "metric:loss").text_content().strip() == "4"  # the last value

    page.locator("#hparams-mode").get_by_role("radio", name="min").check()  # best values over all steps
    page.wait_for_function("() => [...document.querySelectorAll('#hparams-table td[data-dash-column=\"metric:loss\"]')]"
                           ".some(td => td.textContent.trim() === '0.5')")
    page.locator("#hparams-mode").get_by_role("radio", name="max").check()
    page.wait_for_function("() => [...document.querySelectorAll('#hparams-table td[data-dash-column=\"metric:loss\"]')]"
                           ".some(td => td.textContent.trim() === '5')")
    # the parallel-coordinates plot has one line per session and a categorical optimizer axis
    page.wait_for_function("() => { const g = document.querySelector('#hparams-parcoords .js-plotly-plot');"
                           " return g && g.data && g.data[0] && g.data[0].dimensions.length === 5; }")
    ticks = page.evaluate("() => document.querySelector('#hparams-parcoords .js-plotly-plot').data[0]"
                          ".dimensions.find(d => d.label === 'optimizer').ticktext")
    assert ticks == ["adam", "adamw", "sgd"]


def test_filter_and_row_selection_drive_the_plots(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    _open(page, base)
    page.locator("#hparams-x").click()
    page.locator("#hparams-root").get_by_role("option", name="optimizer").click()
    page.locator("#hparams-y").click()
    page.locator("#hparams-root").get_by_role("option", name="accuracy").click()
    page.wait_for_function(f"() => {SCATTER} && {SCATTER}.layout.xaxis.type === 'category'"
                           f" && {SCATTER}.data[0].customdata.length === 3")

    # tick torch/trial1: its point in the scatter gets a ring (selection reaches the store and the plot)
    row = page.locator("#hparams-table tr", has=page.locator("td[data-dash-column='run']", has_text="torch/trial1"))
    row.locator("input[type='checkbox']").check()
    page.wait_for_function(f"() => {{ const d = {SCATTER}.data[0];"
                           " const i = d.customdata.indexOf('torch/trial1'); return i >= 0 && d.marker.line.width[i] === 3; }")
    # ... and the shell's run selector now selects exactly that run, so every other tab follows
    page.wait_for_function(
        "() => { const boxes = [...document.querySelectorAll('#shell-run-checklist input[type=checkbox]')];"
        " const on = boxes.filter(b => b.checked).map(b => b.value);"
        " return boxes.length > 1 && on.length === 1 && on[0] === 'torch/trial1'; }"
    )

    # filtering the table filters the plots
    flt = page.locator("#hparams-table th.dash-filter[data-dash-column='hparam:optimizer'] input[type='text']")
    flt.fill("eq adam")  # exact: a bare value would mean 'contains' and keep adamw
    flt.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#hparams-table td[data-dash-column=\"run\"]').length === 2")
    page.wait_for_function(f"() => {SCATTER}.data[0].customdata.length === 2")
    assert sorted(page.evaluate(f"() => {SCATTER}.data[0].customdata")) == ["torch/trial1", "torch/trial2"]


def test_csv_download_and_table_within_the_page(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    page.set_viewport_size({"width": 900, "height": 800})
    _open(page, base)
    with page.expect_download() as dl:
        page.locator("#hparams-download-button").click()
    lines = Path(dl.value.path()).read_text().splitlines()
    assert lines[0].startswith("run,status,hparams/lr,hparams/optimizer")
    assert len(lines) == 5 and any(line.startswith("logger_run,") and ",true," in line for line in lines)
    # the page itself never scrolls sideways: a wide table scrolls inside its own box
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    # use_bn exists only in logger_run: the other sessions sit on an explicit "(missing)" tick
    # the parallel-coordinates figure follows the table (a chained callback): wait until it is drawn
    use_bn = ("() => { const gd = document.querySelector('#hparams-parcoords .js-plotly-plot');"
              " const d = gd && gd.data && gd.data[0] && gd.data[0].dimensions;"
              " return d ? d.filter(x => x.label === 'use_bn')[0] || null : null; }")
    page.wait_for_function(use_bn, timeout=30_000)
    dims = page.evaluate(use_bn)
    assert dims["ticktext"][0] == "(missing)" and all(v is not None for v in dims["values"])
