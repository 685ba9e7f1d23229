"""The Scalars page before Dash has mounted its layout: the run list works in its stand-in box and
moves into the sidebar with what was typed; only the first card is drawn until the shell is up."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

RUNS = ("alpha", "beta", "gamma")
TAGS = 4


def _write(logdir: Path) -> None:
    from logger import SummaryWriter

    for k, run in enumerate(RUNS):
        w = SummaryWriter(str(logdir / run))
        for i in range(40):
            for t in range(TAGS):
                w.add_scalar(f"loss/t{t:02d}", (k + 1) / (i + 1) + t, i)
        w.close()


class _HeldLayout:
    """Holds the page's ``/_dash-layout`` request (Dash cannot mount) until :meth:`release`."""

    def __init__(self, page) -> None:
        self.page = page
        self.routes: list = []
        page.route("**/_dash-layout*", self._hold)

    def _hold(self, route) -> None:
        self.routes.append(route)

    def release(self) -> None:
        self.page.wait_for_function("() => true")  # let the route handler run (Playwright's dispatch)
        assert self.routes, "the page never asked for Dash's layout"
        for r in self.routes:
            r.continue_()
        self.page.unroute("**/_dash-layout*")


def _early_drawn(page) -> list:
    return page.evaluate("() => [...document.querySelectorAll('.vb-early .vb-chart-card')]"
                         ".map(c => c.hasAttribute('data-vb-drawn') ? JSON.parse(c.dataset.vbDrawn) : null)")


def test_the_run_filter_works_before_dash_mounts_and_moves_into_the_sidebar_as_typed(serve, page, tmp_path):
    _write(tmp_path)
    held = _HeldLayout(page)
    page.goto(serve(tmp_path))
    box = page.locator(".vb-early-runs #shell-run-filter")
    box.wait_for()
    page.locator(".vb-early .vb-chart-card[data-vb-drawn]").first.wait_for()
    assert page.locator("#vb-runs-root").count() == 0  # Dash has not mounted its layout
    box.click()
    page.keyboard.type("^(alpha|beta)$")
    page.wait_for_function("() => document.getElementById('shell-run-count').textContent.startsWith('2 of 3 runs')")
    page.wait_for_function("() => { const c = document.querySelector('.vb-early .vb-chart-card');"
                           " return c.dataset.vbDrawn === JSON.stringify(['alpha', 'beta']); }")
    page.evaluate("() => document.getElementById('shell-run-filter').setSelectionRange(2, 7)")  # 'alpha' selected
    held.release()
    page.locator("#vb-runs-root #shell-run-filter").wait_for()
    assert page.locator(".vb-early-runs").count() == 0
    assert page.locator("#shell-run-filter").count() == 1
    state = page.evaluate("() => { const f = document.getElementById('shell-run-filter');"
                          " return [f.value, document.activeElement === f, f.selectionStart, f.selectionEnd]; }")
    assert state == ["^(alpha|beta)$", True, 2, 7]
    page.keyboard.type("gamma")  # replaces the selection: the caret came along
    assert page.input_value("#shell-run-filter") == "^(gamma|beta)$"
    page.wait_for_function("() => { const cs = [...document.querySelectorAll('#vb-scalars-root .vb-chart-card')];"
                           " return cs.length > 0 && cs[0].dataset.vbDrawn === JSON.stringify(['beta', 'gamma']); }")


def test_before_dash_mounts_cards_after_the_first_wait_for_the_shell_or_a_time_limit(serve, page, tmp_path):
    _write(tmp_path)
    held = _HeldLayout(page)
    page.goto(serve(tmp_path))
    page.locator(".vb-early .vb-chart-card[data-vb-drawn]").first.wait_for()
    on_screen = page.evaluate("() => [...window.vbScalars.state.cards.values()].filter(c => c.onScreen).length")
    assert on_screen >= 2, "the test needs a second card on screen"
    # the layout is still held: the second card on screen is drawn only once the wait has run out
    page.wait_for_function(f"() => [...document.querySelectorAll('.vb-early .vb-chart-card[data-vb-drawn]')].length"
                           f" >= {on_screen}", timeout=30_000)
    reacts = page.evaluate("() => performance.getEntriesByType('mark').filter(m => m.name.startsWith('vb:react:'))"
                           ".map(m => m.startTime)")
    assert len(reacts) >= 2
    assert reacts[1] - reacts[0] >= 1500  # SHELL_WAIT_MS in scalars_page.js
    held.release()
    page.locator("#vb-scalars-root .vb-chart-card[data-vb-drawn]").first.wait_for()
    assert _early_drawn(page) == []  # the early box is gone: its cards moved into Dash's layout
    assert page.locator("#vb-scalars-root .vb-chart-card").count() == TAGS


def test_once_dash_mounts_the_held_cards_are_drawn_without_waiting_for_the_time_limit(serve, page, tmp_path):
    _write(tmp_path)
    # the time limit (a 1500 ms timer) is made 10 minutes: only the mount can start the held draws
    page.add_init_script("(() => { const st = window.setTimeout; window.setTimeout = function (f, ms, ...a) {"
                         " return st.call(this, f, ms === 1500 ? 600000 : ms, ...a); }; })()")
    held = _HeldLayout(page)
    page.goto(serve(tmp_path))
    page.locator(".vb-early .vb-chart-card[data-vb-drawn]").first.wait_for()
    assert sum(d is not None for d in _early_drawn(page)) == 1
    held.release()
    page.locator("#vb-scalars-root").wait_for()
    page.wait_for_function("() => { const cs = [...window.vbScalars.state.cards.values()].filter(c => c.onScreen);"
                           " return cs.length >= 2 && cs.every(c => c.el.hasAttribute('data-vb-drawn')); }")


def test_a_dark_page_draws_its_first_chart_dark_before_dash_mounts(serve, browser, tmp_path):
    """The theme is set by the index page's head script, so the first chart (drawn before Dash's
    bundles and theme callback have run) is already dark: no light flash, no redraw after boot."""
    _write(tmp_path)
    base = serve(tmp_path)
    ctx = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        held = _HeldLayout(page)
        page.goto(base)
        page.locator(".vb-early .vb-chart-card[data-vb-drawn]").first.wait_for()
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        bg = page.evaluate("() => document.querySelector('.vb-early .vb-chart-card .js-plotly-plot')._fullLayout.plot_bgcolor")
        assert bg == "#1e1e1e"
        held.release()
        page.locator("#vb-scalars-root .vb-chart-card[data-vb-drawn]").first.wait_for()
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    finally:
        ctx.close()
