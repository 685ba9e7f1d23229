"""Projector tab in real Chromium, on embeddings written by torch's add_embedding and by logger's add_embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

GRAPH = "document.querySelector('#projector-graph .js-plotly-plot')"
N_TORCH, N_LOGGER, CLASSES = 120, 90, 4


def _clusters(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n points in CLASSES far-apart clusters (so every point's nearest neighbours share its class)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLASSES, 16)) * 20
    labels = np.arange(n) % CLASSES
    return (centres[labels] + rng.normal(size=(n, 16))).astype(np.float32), labels


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    import torch
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("projector")
    x, lab = _clusters(N_TORCH, 0)
    imgs = torch.zeros(N_TORCH, 3, 6, 6)
    for i, c in enumerate(lab):
        imgs[i, int(c) % 3] = 1.0
    tw = TorchWriter(str(root / "torch_run"))
    tw.add_embedding(torch.from_numpy(x), metadata=[[f"t{i}", f"class{c}"] for i, c in enumerate(lab)],
                     metadata_header=["name", "class"], label_img=imgs, tag="features", global_step=5)
    tw.add_scalar("loss", 1.0, 0)
    tw.close()
    y, lab2 = _clusters(N_LOGGER, 1)
    with SummaryWriter(str(root / "logger_run")) as w:
        w.add_embedding(y, metadata=[f"class{c}" for c in lab2], tag="emb", global_step=2)
        w.add_scalar("loss", 1.0, 0)
    return root


def _points(page) -> int:
    return int(page.evaluate(f"() => {{ const g = {GRAPH}; return g && g.data && g.data.length === 3 ? "
                             f"g.data[0].x.length : -1; }}"))


FIRST_DRAW_MS = 90_000
"""The first draw waits for the whole app's first callbacks (slow on a loaded, shared machine)."""


def _wait_points(page, n: int) -> None:
    page.wait_for_function(f"() => {{ const g = {GRAPH}; return g && g.data && g.data.length === 3 && "
                           f"g.data[0].x.length === {n}; }}", timeout=FIRST_DRAW_MS)


def _click_point(page, i: int) -> None:
    """Click point ``i`` of trace 0 where plotly drew it (2-D)."""
    xy = page.evaluate(f"""() => {{ const g = {GRAPH}; const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
        return [xa._offset + xa.d2p(g.data[0].x[{i}]), ya._offset + ya.d2p(g.data[0].y[{i}])]; }}""")
    box = page.locator("#projector-graph .js-plotly-plot").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def _choose(page, picker: str, option: str) -> None:
    page.locator(picker).click()
    page.locator("#projector-root").get_by_role("option", name=option, exact=True).click()


def test_torch_embedding_scatter_click_shows_metadata_image_and_neighbours(page, serve_module, logdir: Path) -> None:
    from playwright.sync_api import expect

    base = serve_module(logdir)
    page.goto(f"{base}/?tab=projector")
    expect(page.locator(".vb-tab", has_text="Projector")).to_be_visible(timeout=FIRST_DRAW_MS)
    _wait_points(page, N_LOGGER)  # the first run by name, logger_run, is drawn first
    _choose(page, "#projector-run", "torch_run")
    _wait_points(page, N_TORCH)
    expect(page.locator("#projector-status")).to_contain_text(f"{N_TORCH} points")
    expect(page.locator("#projector-status")).to_contain_text("PC1")
    expect(page.locator("#projector-step")).to_contain_text("5")
    assert page.evaluate(f"() => {GRAPH}.data[0].type") == "scattergl"

    _click_point(page, 6)  # row 6 -> class2
    row = int(page.evaluate(f"() => {GRAPH}.data[0].customdata[6]"))
    details = page.locator("#projector-details")
    expect(details.locator("h4").first).to_have_text(f"Point #{row}")
    expect(details).to_contain_text(f"class{row % CLASSES}")
    expect(details.locator("img.projector-thumb")).to_be_visible()
    neighbours = details.locator("ol.projector-neighbours li")
    expect(neighbours).to_have_count(10)
    rows = [int(r) for r in neighbours.evaluate_all("els => els.map(e => e.dataset.row)")]
    assert row not in rows and all(r % CLASSES == row % CLASSES for r in rows)  # same cluster
    page.wait_for_function(f"() => {GRAPH}.data[2].x.length === 11")  # the point and its 10 neighbours ringed


def test_logger_embedding_search_and_recolour_happen_in_the_browser(page, serve_module, logdir: Path) -> None:
    from playwright.sync_api import expect

    base = serve_module(logdir)
    page.goto(f"{base}/?tab=projector")
    _wait_points(page, N_LOGGER)  # logger_run is first
    expect(page.locator("#projector-label")).to_contain_text("label")
    posts: list[str] = []
    def note(request) -> None:  # server callbacks that would redraw the chart (the 5 s run-list refresh is fine)
        body = request.post_data or ""
        if "_dash-update-component" in request.url and ("projector-graph" in body or "projector-data" in body):
            posts.append(body[:200])

    page.on("request", note)
    page.locator("#projector-search").fill("class1")
    expected = sum(1 for i in range(N_LOGGER) if i % CLASSES == 1)
    expect(page.locator("#projector-search-info")).to_have_text(f"{expected} matches")
    page.wait_for_function(f"() => {GRAPH}.data[1].x.length === {expected}")
    page.locator("#projector-search").fill("/^class[23]$/")
    expected23 = sum(1 for i in range(N_LOGGER) if i % CLASSES in (2, 3))
    expect(page.locator("#projector-search-info")).to_have_text(f"{expected23} matches")
    _choose(page, "#projector-color", "(index)")
    page.wait_for_function(f"() => typeof {GRAPH}.data[0].marker.color === 'string'")
    _choose(page, "#projector-color", "label")
    page.wait_for_function(f"() => Array.isArray({GRAPH}.data[0].marker.color)")
    assert posts == []  # search and colour-by never asked the server for the chart
    _click_point(page, 0)
    expect(page.locator("#projector-details ol.projector-neighbours li")).to_have_count(10)


def test_tab_is_hidden_without_embeddings(page, serve, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from logger import SummaryWriter

    with SummaryWriter(str(tmp_path / "run")) as w:
        w.add_scalar("loss", 1.0, 0)
    base = serve(tmp_path)
    page.goto(base)
    expect(page.locator(".vb-tab", has_text="Scalars")).to_be_visible(timeout=FIRST_DRAW_MS)
    expect(page.locator(".vb-tab", has_text="Projector")).to_have_count(0)
