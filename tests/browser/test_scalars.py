"""The Scalars tab in headless Chromium on logs written by logger: cards, runs, smoothing, live points, URL."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CARDS_JS = """() => Array.from(document.querySelectorAll('.vb-card')).map(card => {
  const gd = card.querySelector('.js-plotly-plot');
  const t = card.querySelector('.vb-card-title');
  return {title: t ? t.textContent : '',
          traces: ((gd && gd._fullData) || []).map(d => ({name: d.meta && d.meta.label !== undefined ? d.meta.label : d.name,
                   shown: d.name, role: d.meta ? d.meta.role : null,
                   x: Array.from(d.x || []), y: Array.from(d.y || []).map(v => v === null ? null : Number(v))})),
          yaxis: gd && gd._fullLayout ? gd._fullLayout.yaxis.type : null};
})"""


def _write(logdir: Path, runs=("alpha", "beta"), n=200) -> None:
    from logger import SummaryWriter

    for k, run in enumerate(runs):
        w = SummaryWriter(str(logdir / run))
        for i in range(n):
            w.add_scalar("loss/train", (k + 1) * 10.0 / (i + 1) + (0.5 if i % 2 else -0.5), i)
            w.add_scalar("loss/val", (k + 1) * 5.0 / (i + 1), i)
            w.add_scalar("acc", i / n, i)
        w.close()


def cards(page) -> list[dict]:
    return page.evaluate(CARDS_JS)


def wait_cards(page, pred, timeout: float = 30.0) -> list[dict]:
    """Poll the drawn cards until ``pred(cards)`` holds (deadline)."""
    deadline = time.monotonic() + timeout
    last: list[dict] = []
    while time.monotonic() < deadline:
        last = cards(page)
        if last and pred(last):
            return last
        page.wait_for_timeout(100)
    seen = [(c["title"], [t["name"] for t in c["traces"]]) for c in last]
    raise AssertionError(f"cards never satisfied the condition; last: {seen}")


def lines(card: dict, role: str = "smoothed") -> dict[str, dict]:
    return {t["name"]: t for t in card["traces"] if t["role"] == role}


def by_title(cs: list[dict]) -> dict[str, dict]:
    return {c["title"]: c for c in cs}


@pytest.fixture()
def logdir(tmp_path) -> Path:
    _write(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def shared(serve_module, tmp_path_factory) -> str:
    """One server for the tests that only read (they must not write to its logdir)."""
    d = tmp_path_factory.mktemp("shared")
    _write(d)
    return serve_module(d)


def test_one_card_per_tag_with_one_trace_per_run(page, shared):
    page.goto(shared)
    cs = wait_cards(page, lambda cs: len(cs) == 3 and all(len(lines(c)) == 2 for c in cs))
    assert sorted(c["title"] for c in cs) == ["acc", "loss/train", "loss/val"]
    for c in cs:
        assert set(lines(c)) == {"alpha", "beta"}
        assert set(lines(c, "raw")) == {"alpha", "beta"}
        assert len(lines(c)["alpha"]["x"]) == 200
    # sections by prefix
    heads = page.locator(".vb-section-head").all_text_contents()
    assert any("loss (2)" in h for h in heads) and any("acc (1)" in h for h in heads)


def test_run_regex_filter_hides_a_run(page, shared):
    page.goto(shared)
    wait_cards(page, lambda cs: len(cs) == 3 and all(len(lines(c)) == 2 for c in cs))
    page.fill("#shell-run-filter", "^alp")
    page.press("#shell-run-filter", "Enter")
    wait_cards(page, lambda cs: all(set(lines(c)) == {"alpha"} for c in cs))
    assert page.locator(".vb-run-list label").count() == 1
    page.wait_for_function("() => location.search.includes('run_re=%5Ealp')")


def test_changing_the_smoothing_changes_the_drawn_line(page, shared):
    page.goto(shared)
    cs = wait_cards(page, lambda cs: len(cs) == 3 and all(len(lines(c)) == 2 for c in cs))
    before = lines(by_title(cs)["loss/train"])["alpha"]["y"]
    page.fill("#scalars-weight", "0.95")
    page.press("#scalars-weight", "Enter")
    cs = wait_cards(page, lambda cs: lines(by_title(cs)["loss/train"])["alpha"]["y"] != before)
    after = lines(by_title(cs)["loss/train"])["alpha"]["y"]
    raw = lines(by_title(cs)["loss/train"], "raw")["alpha"]["y"]
    # heavier smoothing: the zig-zag of the raw series is flattened more
    def roughness(v):
        return sum(abs(v[i + 1] - v[i]) for i in range(100, 199))
    assert roughness(after) < roughness(before) < roughness(raw)
    page.wait_for_function("() => location.search.includes('w=0.95')")


def test_a_flushed_point_appears_without_reload(serve, page, logdir):
    from logger import SummaryWriter

    page.goto(serve(logdir))
    wait_cards(page, lambda cs: len(cs) == 3 and all(len(lines(c)) == 2 for c in cs))
    page.evaluate("() => { window.__marker = 1; }")  # vanishes if the page reloads
    w = SummaryWriter(str(logdir / "alpha"))
    try:
        w.add_scalar("acc", 7.0, 5000)
        w.flush()
        cs = wait_cards(page, lambda cs: 5000 in lines(by_title(cs)["acc"], "raw")["alpha"]["x"], timeout=30)
        raw = lines(by_title(cs)["acc"], "raw")["alpha"]
        assert raw["y"][raw["x"].index(5000)] == 7.0
        assert page.evaluate("() => window.__marker") == 1
    finally:
        w.close()


def test_the_url_restores_the_view(page, shared):
    page.goto(shared + "/?tag_re=loss&smooth=none&run=beta&opt=log_y")
    cs = wait_cards(page, lambda cs: len(cs) == 2 and all(set(lines(c, "raw")) == {"beta"} for c in cs))
    assert sorted(c["title"] for c in cs) == ["loss/train", "loss/val"]
    assert all(not lines(c) for c in cs)  # smoothing none: raw lines only
    assert all(c["yaxis"] == "log" for c in cs)
    assert page.input_value("#scalars-tag-filter") == "loss"
    assert page.is_checked(".vb-run-list input[value='beta']")
    assert page.locator(".vb-run-list input:checked").count() == 1


def test_markup_in_run_and_tag_names_is_shown_as_plain_text(serve, page, tmp_path):
    from logger import SummaryWriter

    evil_run = "<img src=x onerror=window.__xss=1>"
    evil_tag = "**bold**<script>window.__xss=2</script>"
    w = SummaryWriter(str(tmp_path / evil_run))
    w.add_scalar(evil_tag, 1.0, 0)
    w.add_scalar(evil_tag, 2.0, 1)
    w.close()
    page.goto(serve(tmp_path))
    cs = wait_cards(page, lambda cs: len(cs) == 1 and lines(cs[0]))
    assert cs[0]["title"] == evil_tag
    assert list(lines(cs[0])) == [evil_run]
    # Plotly reads trace names as pseudo-HTML: the name it gets is escaped, so it shows literally
    assert lines(cs[0])[evil_run]["shown"] == evil_run.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert page.locator("#shell-run-checklist .vb-run-label").first.text_content() == evil_run
    assert page.locator(".vb-card-title").first.text_content() == evil_tag
    assert page.locator(".vb-app img").count() == 0
    assert page.locator(".vb-app script").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert re.search(r"<strong>", page.content()) is None
