"""PR curves tab in real Chromium: one trace per run, TensorBoard's trailing trim, step slider, hover."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import WRITERS, card_sel, open_tab, write_with_both
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


T = 5


def counts(step: int) -> dict[str, np.ndarray]:
    """Raw PR counts at ``step``; the last column has TP + FP = 0 (trimmed by the viewer)."""
    tp = np.array([10, 8, 5 - step, 2, 0], dtype=float)
    fp = np.array([10, 4, 1, 0, 0], dtype=float)
    tn = 10 - fp
    fn = 10 - tp
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn,
            "precision": tp / np.maximum(tp + fp, 1e-7), "recall": tp / np.maximum(tp + fn, 1e-7)}


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def write(w) -> None:
        for s in range(3):
            c = counts(s)
            w.add_pr_curve_raw("pr/raw", c["tp"], c["fp"], c["tn"], c["fn"], c["precision"], c["recall"],
                               s, num_thresholds=T)
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, 300)
        w.add_pr_curve("pr/computed", labels, np.clip(0.6 * labels + 0.5 * rng.random(300), 0, 1), 0)

    root = tmp_path_factory.mktemp("pr")
    write_with_both(root, write)
    return root


def traces(page, selector: str) -> list[dict]:
    return page.locator(f"{selector} .js-plotly-plot").evaluate(
        "(g) => g._fullData.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y),"
        " thr: Array.from(t.customdata, r => r[0])}))")


def test_pr_curves_per_run_with_step_slider(page, serve, logdir: Path) -> None:
    sel = card_sel("pr_curves", None, "pr/raw")
    open_tab(page, serve(logdir), "pr_curves", f"{sel} .js-plotly-plot .scatterlayer .trace")
    expect(page.locator(f"{sel} .gtitle")).to_have_text("step 2")
    ts = traces(page, sel)
    assert sorted(t["name"] for t in ts) == list(WRITERS)
    c = counts(2)
    for t in ts:
        assert len(t["x"]) == T - 1  # trailing TP + FP = 0 column trimmed
        np.testing.assert_allclose(t["y"], c["precision"][:-1], rtol=1e-6)
        np.testing.assert_allclose(t["x"], c["recall"][:-1], rtol=1e-6)
        np.testing.assert_allclose(t["thr"], np.linspace(0, 1, T)[:-1])

    page.locator(f"{sel} [role='slider']").focus()
    page.keyboard.press("Home")
    expect(page.locator(f"{sel} .gtitle")).to_have_text("step 0")
    page.wait_for_function(
        "(s) => { const g = document.querySelector(s + ' .js-plotly-plot');"
        " return g && g._fullData.length && Math.abs(g._fullData[0].x[2] - 0.5) < 1e-6; }", arg=sel)
    for t in traces(page, sel):
        np.testing.assert_allclose(t["x"], counts(0)["recall"][:-1], rtol=1e-6)

    # hover: threshold, precision, recall and the four counts
    page.locator(f"{sel} .js-plotly-plot").evaluate("(g) => Plotly.Fx.hover(g, [{curveNumber: 0, pointNumber: 1}])")
    hover = page.locator(f"{sel} .hoverlayer")
    for word in ("threshold 0.250", "precision 0.6667", "recall 0.8000", "TP 8", "FP 4", "TN 6", "FN 2"):
        expect(hover).to_contain_text(word)

    computed = card_sel("pr_curves", None, "pr/computed")
    page.locator(f"{computed} .js-plotly-plot .scatterlayer .trace").first.wait_for()
    ts = traces(page, computed)
    assert sorted(t["name"] for t in ts) == list(WRITERS)
    assert all(0 < len(t["x"]) <= 127 for t in ts)
    np.testing.assert_allclose(ts[0]["y"], ts[1]["y"], rtol=1e-6)  # same data, same curve from both writers
    expect(page.locator(f"{computed} .gtitle")).to_have_text("step 0")
