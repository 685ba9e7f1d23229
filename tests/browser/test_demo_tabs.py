"""The demo's logdir served in Chromium: clicking every tab shows its main element with the demo's data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import dash_errors, wait_dash_idle

pytest.importorskip("torch")
pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
RUNS = tuple(f"lr_{lr}_seed{k}" for lr in ("0.001", "0.003", "0.01") for k in (0, 1))


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_tabs") / "logs"
    proc = subprocess.run([sys.executable, str(REPO / "demo" / "train.py"), "--quick", "--logdir", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _click_tab(page, title: str) -> None:  # noqa: ANN001
    page.locator("#shell-tabs").get_by_text(title, exact=True).click()


def test_every_tab_renders_the_demo(page, serve, logdir: Path) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    base = serve(logdir)
    page.goto(base + "/")

    # Scalars: loss (train and val of every run on one chart) and the rest, drawn.
    page.locator(".vb-card .js-plotly-plot .scatterlayer .trace").first.wait_for()
    titles = page.locator(".vb-card-title").all_text_contents()
    assert "loss" in titles and "accuracy" in titles
    for run in RUNS:  # every run listed and selected in the run picker
        expect(page.get_by_role("checkbox", name=run, exact=True)).to_be_checked()

    _click_tab(page, "Histograms")
    page.locator('.histograms-card[data-tag="gradients/features.0.0.weight"] .js-plotly-plot .scatterlayer .trace'
                 ).first.wait_for(timeout=60_000)

    _click_tab(page, "Distributions")
    page.locator(".distributions-card .js-plotly-plot .scatterlayer .trace").first.wait_for(timeout=60_000)

    _click_tab(page, "Images")
    img = page.locator('.images-card[data-tag="confusion_matrix"] img.images-img').first
    img.wait_for()
    expect(img).to_have_js_property("complete", True)
    assert img.evaluate("(e) => e.naturalWidth") > 64  # the browser decoded the PNG

    _click_tab(page, "Audio")
    player = page.locator("audio.audio-player").first
    player.wait_for()
    expect(page.locator(".audio-info").first).to_contain_text("16000 Hz")

    _click_tab(page, "Text")
    page.locator(".text-row table").first.wait_for()  # the config is a Markdown table
    expect(page.locator(".text-row").filter(has_text="learning rate").first).to_be_visible()
    expect(page.locator(".text-row").filter(has_text="epoch 2/2").first).to_be_attached()

    _click_tab(page, "PR curves")
    page.locator('.pr_curves-card[data-tag="pr/circle"] .js-plotly-plot .scatterlayer .trace').first.wait_for()

    _click_tab(page, "Graphs")
    page.wait_for_function("() => { const e = document.getElementById('graphs-cytoscape');"
                           " return e && e._cyreg && e._cyreg.cy.nodes().length > 0; }")

    _click_tab(page, "HParams")
    cells = page.locator("#hparams-table td[data-dash-column='run']")
    expect(cells).to_have_count(len(RUNS))
    page.wait_for_function(  # the table may re-render while the sessions arrive: wait for every run name
        "(runs) => { const t = [...document.querySelectorAll(\"#hparams-table td[data-dash-column='run']\")]"
        ".map(e => e.textContent.trim()).sort(); return JSON.stringify(t) === JSON.stringify(runs); }",
        arg=sorted(RUNS))

    _click_tab(page, "Profile")
    expect(page.locator("#profile-ops tbody tr:has(td)").first).to_be_visible(timeout=30_000)
    expect(page.locator("#profile-ops")).to_contain_text("aten::")

    _click_tab(page, "Runs")
    expect(page.locator("#runs-table td[data-dash-column='run']")).to_have_count(len(RUNS))
    wait_dash_idle(page)
    assert dash_errors(page) == []  # callback validation is on (vizboard.app): no callback/layout mismatch
