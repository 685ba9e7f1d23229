"""Graphs tab in real Chromium, on graphs written by logger.add_graph and by torch's SummaryWriter.add_graph.

The cytoscape instance is read through its container (``_cyreg.cy``, set by cytoscape.js),
so the tests see exactly the nodes the page draws; nodes are clicked with the real mouse
at their rendered position.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = pytest.mark.browser

CY = "document.getElementById('graphs-cytoscape')._cyreg.cy"


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) + x


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(8, 16)
        self.body = nn.Sequential(*[Block() for _ in range(4)])
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.body(self.stem(x)))


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("graphs")
    with SummaryWriter(str(root / "a_logger")) as w:
        w.add_graph(Net().eval(), torch.zeros(2, 8))
    tw = TorchWriter(str(root / "b_torch"))
    tw.add_graph(Net().eval(), torch.zeros(2, 8))
    tw.close()
    return root


def _open(page, base: str) -> None:
    page.goto(f"{base}/?tab=graphs")
    page.wait_for_function("() => { const e = document.getElementById('graphs-cytoscape');"
                           " return e && e._cyreg && e._cyreg.cy.nodes().length > 0; }")


def _ids(page) -> set[str]:
    return set(page.evaluate(f"() => {CY}.nodes().map(n => n.id())"))


def _click_node(page, node_id: str) -> None:
    """Scroll ``node_id`` into view and click it with the mouse (a real cytoscape tap)."""
    box = page.evaluate(
        f"""async (id) => {{ const cy = {CY}; const n = cy.getElementById(id);
            await new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(ok)));
            if (n.isParent()) {{ cy.fit(n, 40); }} else {{ cy.center(n); }}
            const r = cy.container().getBoundingClientRect();
            if (n.isParent()) {{  // a group's own area: its top-left padding (children and edges fill the rest)
                const bb = n.children().renderedBoundingBox({{includeLabels: false}});
                const pad = 7 * cy.zoom();  // half the group padding, outside every child
                return {{x: r.left + bb.x1 - pad, y: r.top + bb.y1 - pad}};
            }}
            const p = n.renderedPosition();
            return {{x: r.left + p.x, y: r.top + p.y}}; }}""", node_id)
    page.mouse.click(box["x"], box["y"])


def _tap_leaf_until(page, node_id: str, text: str, attempts: int = 5) -> None:
    """Tap leaf ``node_id`` until the details panel shows ``text`` (a leaf tap is idempotent,
    so a tap that landed while cytoscape was still re-rendering is simply repeated)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    details = page.locator("#graphs-details")
    for _ in range(attempts):
        _click_node(page, node_id)
        try:
            details.get_by_text(text, exact=True).wait_for(timeout=5000)
            return
        except PlaywrightTimeout:
            continue
    details.get_by_text(text, exact=True).wait_for()


def test_module_tree_renders_and_expands_and_collapses(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    _open(page, base)
    page.wait_for_function(f"() => {CY}.getElementById('m:stem').length === 1")
    ids = _ids(page)
    assert {"io:input:0", "m:stem", "m:body", "m:head", "io:output:0"} <= ids
    assert "from the module tree" in page.text_content("#graphs-info")
    # the default depth opens the body: its four identical blocks are one folded node
    label = page.evaluate(f"() => {CY}.getElementById('fold:body.0..3').data('label')")
    assert label.startswith("Block ×4")
    shape = page.evaluate(f"() => {CY}.getElementById('e:m:stem->fold:body.0..3').data('label')")
    assert shape == "2×16"

    _click_node(page, "fold:body.0..3")  # expand the fold: the four blocks appear inside it, open to the depth
    page.wait_for_function(f"() => {CY}.getElementById('m:body.2.fc').length === 1")
    assert page.evaluate(f"() => {CY}.getElementById('m:body.2').parent().id()") == "fold:body.0..3"
    _click_node(page, "m:body.2")  # tap an open block's box: it collapses to one node
    page.wait_for_function(f"() => {CY}.getElementById('m:body.2.fc').length === 0")
    assert page.evaluate(f"() => {CY}.getElementById('m:body.2').hasClass('collapsed')")
    assert "m:body.1.fc" in _ids(page)
    _click_node(page, "m:body.2")  # tap the collapsed block: it opens again
    page.wait_for_function(f"() => {CY}.getElementById('m:body.2.act').length === 1")

    _click_node(page, "fold:body.0..3")  # tap the group box: it folds back, children gone
    page.wait_for_function(f"() => {CY}.getElementById('m:body.2').length === 0")
    assert "fold:body.0..3" in _ids(page) and "m:body.2.fc" not in _ids(page)
    # details of the tapped node
    page.wait_for_function("() => document.getElementById('graphs-details').textContent.includes('Block ×4')")


def test_cytoscape_is_loaded_only_when_the_graphs_tab_is_opened(page, serve, logdir: Path) -> None:
    """The index page does not run dash_cytoscape's bundle (0.5 MB): the Scalars page never asks
    for it; opening the Graphs tab loads it before the tab's page is built, and the graph draws."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    base = serve(logdir)
    page.goto(base)
    page.locator("#vb-scalars-root").wait_for()
    page.wait_for_function("() => document.getElementById('shell-live-interval')"
                           " && document.getElementById('shell-live-interval').dataset.seenVersion !== undefined")
    assert not [u for u in urls if "dash_cytoscape" in u]
    assert page.evaluate("() => typeof window.dash_cytoscape") == "undefined"
    page.locator("#shell-tabs [role=tab]:has-text('Graphs'), #shell-tabs .tab:has-text('Graphs')").first.click()
    page.wait_for_function("() => { const e = document.getElementById('graphs-cytoscape');"
                           " return e && e._cyreg && e._cyreg.cy.nodes().length > 0; }")
    assert len([u for u in urls if "/dash_cytoscape/" in u]) == 1


def test_details_panel_depth_and_search(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    _open(page, base)
    page.wait_for_function(f"() => {CY}.getElementById('m:head').length === 1")
    _tap_leaf_until(page, "m:head", "Linear")
    details = page.locator("#graphs-details")
    text = details.text_content()
    assert "51 (51)" in text and "2×16" in text and "2×3" in text and "in_features=16" in text

    page.fill("#graphs-search", "body.3.act")
    page.press("#graphs-search", "Enter")
    page.wait_for_function(f"() => {CY}.getElementById('m:body.3.act').length === 1")
    assert page.evaluate(f"() => {CY}.getElementById('m:body.3.act').hasClass('match')")

    # depth 1 collapses everything under the root again
    page.click("#graphs-depth")
    page.locator("#graphs-root").get_by_role("option", name="1", exact=True).click()
    page.wait_for_function(f"() => {CY}.getElementById('m:body.3.act').length === 0")
    assert _ids(page) == {"io:input:0", "m:stem", "m:body", "m:head", "io:output:0"}


def test_graphdef_from_torch_writer_uses_the_same_view(page, serve, logdir: Path) -> None:
    base = serve(logdir)
    _open(page, base)
    page.click("#graphs-run")
    page.locator("#graphs-root").get_by_role("option", name="b_torch").click()
    page.wait_for_function("() => document.getElementById('graphs-info').textContent.includes('GraphDef')")
    page.wait_for_function(f"() => {CY}.getElementById('fold:body.0..3').length === 1")
    ids = _ids(page)
    assert {"io:input:0", "m:stem", "m:body", "m:head", "io:output:0"} <= ids
    assert not [i for i in ids if "GetAttr" in i or "Constant" in i]
