"""How the Scalars page draws: faded raw lines only for a few runs per card, the run list updated before
the cards are redrawn, the cards just below the fold redrawn only when the page is idle, a card's hover
still names each point's UTC wall time, cards below the fold drawn once scrolled into view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

RUNS = tuple(f"r{i:02d}" for i in range(12))
WALL0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def _write(logdir: Path) -> None:
    from logger import SummaryWriter

    for k, run in enumerate(RUNS):
        w = SummaryWriter(str(logdir / run))
        for i in range(20):
            for t in range(12):  # one section of 12 cards: 6 rows, the last ones far below the fold
                w.add_scalar(f"loss/t{t:02d}", (k + 1) / (i + 1) + t, i, walltime=WALL0 + 90_061 * i)
        w.close()


@pytest.fixture(scope="module")
def shared(serve_module, tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("draw")
    _write(d)
    return serve_module(d)


def _traces(page, title: str) -> list[str]:
    """``role:run`` of each trace drawn in the card titled ``title``."""
    return page.evaluate(
        "t => { const c = [...document.querySelectorAll('.vb-chart-card')].find(c =>"
        "  c.querySelector('.vb-card-title').textContent === t);"
        " return c.querySelector('.vb-graph').data.map(d => d.meta.role + ':' + d.meta.run).sort(); }", title)


def _wait_card(page, title: str, runs: list[str]) -> None:
    page.wait_for_function(
        "([t, want]) => [...document.querySelectorAll('.vb-chart-card')].some(c =>"
        " c.querySelector('.vb-card-title').textContent === t && c.dataset.vbDrawn === want)",
        arg=[title, json.dumps(sorted(runs), separators=(",", ":"))], timeout=30_000)


def test_faded_raw_lines_are_drawn_only_for_a_few_runs(page, shared):
    page.goto(shared)
    _wait_card(page, "loss/t00", list(RUNS))
    # 12 runs, smoothing on: one smoothed line per run, no faded raw lines
    assert _traces(page, "loss/t00") == sorted(f"smoothed:{r}" for r in RUNS)
    page.fill("#shell-run-filter", "^r0[0-2]$")
    _wait_card(page, "loss/t00", ["r00", "r01", "r02"])
    assert _traces(page, "loss/t00") == sorted([f"raw:{r}" for r in ("r00", "r01", "r02")]
                                              + [f"smoothed:{r}" for r in ("r00", "r01", "r02")])


def test_without_smoothing_every_run_keeps_its_raw_line(page, shared):
    page.goto(shared + "/?smooth=none")
    _wait_card(page, "loss/t00", list(RUNS))
    assert _traces(page, "loss/t00") == sorted(f"raw:{r}" for r in RUNS)


def test_the_run_list_is_updated_before_the_cards_are_redrawn(page, shared):
    page.goto(shared)
    _wait_card(page, "loss/t00", list(RUNS))
    page.wait_for_selector("[data-vb-run='r00']")  # the run list is mounted (a first card can be drawn before it)
    # one task: the input event updates the list at once; the card still shows its previous draw
    seen = page.evaluate(
        "() => { const box = document.getElementById('shell-run-filter'); box.value = '^r0[01]$';"
        " box.dispatchEvent(new Event('input', {bubbles: true}));"
        " const card = document.querySelector('.vb-chart-card');"
        " return [document.getElementById('shell-run-count').textContent,"
        "   [...document.querySelectorAll('[data-vb-run]')].map(r => r.dataset.vbRun).sort(), card.dataset.vbDrawn]; }")
    assert seen[0].startswith("2 of 12 runs")
    assert seen[1] == ["r00", "r01"]
    assert json.loads(seen[2]) == list(RUNS)
    _wait_card(page, "loss/t00", ["r00", "r01"])


def _scroll_row_below_fold(page) -> list[str]:
    """Scroll so that a row of cards starts 60 px below the fold: inside the 150 px margin in which
    cards are drawn ahead of being scrolled into view, but not on screen. Returns their titles."""
    return page.evaluate(
        "() => { const cs = [...document.querySelectorAll('.vb-chart-card[data-vb-card]')];"
        " let sc = cs[0].parentElement;"
        " while (sc && sc !== document.body && !/(auto|scroll)/.test(getComputedStyle(sc).overflowY)) sc = sc.parentElement;"
        " if (!sc || sc === document.body) sc = document.scrollingElement;"
        " const tops = [...new Set(cs.map(c => c.getBoundingClientRect().top))].sort((a, b) => a - b);"
        " const top = tops.find(t => t > innerHeight + 60); sc.scrollTop += top - (innerHeight + 60);"
        " return cs.filter(c => Math.abs(c.getBoundingClientRect().top - (innerHeight + 60)) < 2)"
        "   .map(c => c.querySelector('.vb-card-title').textContent); }")


def _drawn_runs(page) -> dict[str, list[str] | None]:
    return page.evaluate("() => Object.fromEntries([...document.querySelectorAll('.vb-chart-card[data-vb-card]')].map(c =>"
                         " [c.querySelector('.vb-card-title').textContent,"
                         "  c.hasAttribute('data-vb-drawn') ? JSON.parse(c.dataset.vbDrawn) : null]))")


def _on_screen(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.vb-chart-card[data-vb-card]')].filter(c => {"
        " const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })"
        " .map(c => c.querySelector('.vb-card-title').textContent)")


def test_cards_just_below_the_fold_are_fetched_ahead_and_drawn_only_on_screen(page, shared):
    """Issue 11: a card within 150 px below the fold gets its series ahead of time but no Plotly
    draw (a draw is one uninterruptible task that would hold up the next key typed); scrolled
    onto the screen it is drawn from the data it has, with no request; after a filter change
    only the cards on screen are redrawn."""
    page.goto(shared)
    _wait_card(page, "loss/t00", list(RUNS))
    margin = _scroll_row_below_fold(page)
    assert margin, "a row of cards just below the fold"
    page.wait_for_function(
        "([ts, rs]) => ts.every(t => rs.every(r => window.vbScalars.state.series.has(r + '\\u0000' + t)))",
        arg=[margin, list(RUNS)], timeout=30_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 100))))")
    drawn = _drawn_runs(page)
    assert all(drawn[t] is None for t in margin), drawn  # fetched, not drawn
    shown = _on_screen(page)
    assert shown and not set(shown) & set(margin)

    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/page/series" in r.url else None)
    page.mouse.wheel(0, 200)
    for title in margin:
        _wait_card(page, title, list(RUNS))
    assert asked == []  # drawn from the series fetched ahead

    margin = _scroll_row_below_fold(page)
    assert margin
    page.wait_for_function(
        "([ts, rs]) => ts.every(t => rs.every(r => window.vbScalars.state.series.has(r + '\\u0000' + t)))",
        arg=[margin, list(RUNS)], timeout=30_000)
    before = _drawn_runs(page)
    page.fill("#shell-run-filter", "^r0[01]$")
    shown = _on_screen(page)
    for title in shown:
        _wait_card(page, title, ["r00", "r01"])
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 400))))")
    drawn = _drawn_runs(page)
    assert all(drawn[t] == before[t] for t in margin), drawn  # off screen: not redrawn for the filter


def test_hover_names_the_points_utc_wall_time(page, shared):
    page.goto(shared + "/?run=r03")
    _wait_card(page, "loss/t00", ["r03"])
    custom = page.evaluate(
        "() => { const c = [...document.querySelectorAll('.vb-chart-card')].find(c =>"
        "  c.querySelector('.vb-card-title').textContent === 'loss/t00');"
        " const d = c.querySelector('.vb-graph').data.find(d => d.meta.role === 'smoothed');"
        " return [d.customdata[0], d.customdata[3]]; }")
    # step 0 at WALL0; step 3 is 3 x (1 day 1 h 1 min 1 s) later, past midnight
    assert custom[0][1] == 0 and custom[0][2] == "2023-11-14 22:13:20"
    assert custom[1][1] == 3 and custom[1][2] == "2023-11-18 01:16:23"


def test_cards_below_the_fold_are_drawn_once_scrolled_into_view(page, shared):
    page.goto(shared + "/?run=r00")
    _wait_card(page, "loss/t00", ["r00"])
    last = page.locator(".vb-chart-card[data-vb-card]").last
    title = last.locator(".vb-card-title").text_content()
    assert title == "loss/t11"
    assert last.get_attribute("data-vb-drawn") is None  # off screen: not drawn
    last.scroll_into_view_if_needed()
    _wait_card(page, "loss/t11", ["r00"])
