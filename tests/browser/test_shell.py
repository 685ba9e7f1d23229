"""The app shell in headless Chromium: header, status, problems modal, theme, tabs, live run list, token."""

from __future__ import annotations

import glob
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def _writer(path: Path):
    from logger import SummaryWriter

    return SummaryWriter(str(path))


@pytest.fixture()
def logdir(tmp_path) -> Path:
    for run in ("r1", "r2"):
        w = _writer(tmp_path / run)
        for i in range(20):
            w.add_scalar("loss", 1.0 / (i + 1), i)
        w.close()
    return tmp_path


def _wait_text(page, selector: str, pred, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        loc = page.locator(selector)
        text = loc.first.text_content() if loc.count() else ""
        if pred(text or ""):
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector}: {text!r}")


def test_header_shows_logdir_and_status_and_only_tabs_with_data(serve, page, logdir):
    page.goto(serve(logdir))
    assert page.locator(".vb-logdir").text_content() == str(logdir)
    _wait_text(page, "#shell-status-text", lambda t: t.startswith("updated "))
    page.wait_for_selector(".vb-card .js-plotly-plot")
    tabs = page.locator("#shell-tabs .tab, #shell-tabs [role=tab]").all_text_contents()
    assert [t.strip() for t in tabs] == ["Scalars", "Runs"]  # tabs without data (Histograms, ...) stay hidden
    assert page.locator("#shell-problems-button").is_hidden()


def test_the_live_check_costs_no_dash_work_while_idle_and_follows_new_data(serve, page, logdir):
    from helpers import wait_dash_idle

    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(serve(logdir))
    page.wait_for_selector(".vb-card .js-plotly-plot")
    wait_dash_idle(page)
    done = page.evaluate("() => ((window.dash_stores || [])[0] || window.store).getState().callbacks.completed")
    seen.clear()
    deadline = time.monotonic() + 30
    while sum("/api/version" in u for u in seen) < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert sum("/api/version" in u for u in seen) >= 4, seen  # polled every 0.3 s
    assert not [u for u in seen if "_dash-update-component" in u]
    # an unchanged version runs no callback, not even in the browser (a dcc.Interval ran one per tick)
    assert page.evaluate("() => ((window.dash_stores || [])[0] || window.store).getState().callbacks.completed") == done
    # new data of a new kind: the version changes, and the tabs follow it
    import numpy as np

    w = _writer(logdir / "r1")
    w.add_histogram("weights", np.arange(10.0), 0)
    w.close()
    page.wait_for_selector("#shell-tabs [role=tab]:has-text('Histograms'), #shell-tabs .tab:has-text('Histograms')",
                           timeout=30_000)


def test_a_page_load_runs_the_shells_callbacks_once_when_the_data_is_unchanged(serve, page, logdir):
    """The layout carries the data version and loading flag of its moment: the live check's first
    answer, equal to them, writes no store, so the status line and tab list are not asked again."""
    import json

    from helpers import wait_dash_idle

    outputs: list[str] = []
    page.on("request", lambda r: outputs.append(json.loads(r.post_data or "{}").get("output", ""))
            if "_dash-update-component" in r.url else None)
    base = serve(logdir)
    page.goto(base)
    wait_dash_idle(page)  # the live check has answered (data-seen-version) and Dash is idle
    seen = int(page.evaluate("() => document.getElementById('shell-live-interval').dataset.seenVersion"))
    served = int(page.evaluate("() => document.getElementById('shell-live-interval').dataset.version"))
    assert seen == served  # nothing was written between the layout and the first answer
    tabs = [o for o in outputs if "shell-tabs.children" in o]
    status = [o for o in outputs if "shell-status-text.children" in o]
    assert len(tabs) == 1 and len(status) == 1, outputs


def test_new_runs_appear_live_in_the_run_list_with_stable_colours(serve, page, logdir):
    from vizboard.figures.theme import run_colors

    page.goto(serve(logdir))
    page.wait_for_selector(".vb-run-list input[value='r2']")
    _wait_text(page, "#shell-run-count", lambda t: t == "2 of 2 runs · 2 selected")
    w = _writer(logdir / "r3")
    w.add_scalar("loss", 0.3, 0)
    w.close()
    _wait_text(page, "#shell-run-count", lambda t: t == "3 of 3 runs · 3 selected")
    assert page.is_checked(".vb-run-list input[value='r3']")
    hexcol = run_colors(["r1", "r2", "r3"])[2]  # colours by run order: the first runs all differ
    rgb = "rgb({}, {}, {})".format(*(int(hexcol[i:i + 2], 16) for i in (1, 3, 5)))
    swatch = page.locator(".vb-run-list label", has=page.locator("input[value='r3']")).locator(".vb-run-label")
    page.wait_for_function(
        "([e, rgb]) => getComputedStyle(e, '::before').backgroundColor === rgb", arg=[swatch.element_handle(), rgb]
    )
    assert page.locator(".vb-run-list input[value='r3']").evaluate("e => getComputedStyle(e).accentColor") == rgb
    # select none / all
    page.click("#shell-run-none")
    _wait_text(page, "#shell-run-count", lambda t: t == "3 of 3 runs · 0 selected")
    page.wait_for_function("() => location.search.includes('runs=none')")
    page.click("#shell-run-all")
    _wait_text(page, "#shell-run-count", lambda t: t == "3 of 3 runs · 3 selected")


def test_theme_follows_the_os_and_toggles(serve, browser, logdir):
    base = serve(logdir)
    for scheme in ("dark", "light"):
        ctx = browser.new_context(color_scheme=scheme)
        try:
            page = ctx.new_page()
            page.goto(base)
            page.wait_for_function(f"() => document.documentElement.dataset.theme === '{scheme}'")
            page.click("#shell-theme-toggle")
            other = "light" if scheme == "dark" else "dark"
            page.wait_for_function(f"() => document.documentElement.dataset.theme === '{other}'")
            # the charts follow: their layout template changes background
            page.wait_for_selector(".vb-card .js-plotly-plot")
            want = "#1e1e1e" if other == "dark" else "#ffffff"
            page.wait_for_function(
                "w => { const g = document.querySelector('.vb-card .js-plotly-plot');"
                " return !!(g && g._fullLayout && g._fullLayout.plot_bgcolor === w); }", arg=want)
        finally:
            ctx.close()


def test_data_problems_badge_opens_a_list(serve, page, tmp_path):
    from logger.records import frame

    w = _writer(tmp_path / "bad")
    w.add_scalar("x", 1.0, 0)
    w.close()
    (path,) = glob.glob(str(tmp_path / "bad" / "*tfevents*"))
    rec = bytearray(frame(b"\x09" + b"\x00" * 20))
    rec[-5] ^= 0xFF  # corrupt the payload: its CRC no longer matches
    with open(path, "ab") as f:
        f.write(bytes(rec) + frame(b"\x09" + b"\x00" * 8))
    page.goto(serve(tmp_path))
    _wait_text(page, "#shell-problems-button", lambda t: t == "1 data problem")
    page.click("#shell-problems-button")
    page.wait_for_selector("#shell-problems-modal:not([hidden])")
    row = page.locator("#shell-problems-body tbody tr").first.text_content()
    assert "payload_crc" in row and "bad" in row
    page.click("#shell-problems-close")
    page.wait_for_selector("#shell-problems-modal", state="hidden")


def test_token_page_flow(serve, page, logdir):
    base = serve(logdir, token="let-me-in")
    resp = page.goto(base + "/")
    assert resp.status == 401
    page.goto(base + "/?token=let-me-in&tag_re=loss")
    page.wait_for_function("() => !location.search.includes('token') && location.search.includes('tag_re=loss')")
    page.wait_for_selector(".vb-card .js-plotly-plot")  # the page's API works with the cookie
    # the URL's tag_re reaches the Dash control through a callback (with the cookie); the first
    # card is drawn before Dash has booted (app.py, page_scripts_first), so wait for the callback
    page.wait_for_function("() => { const e = document.getElementById('scalars-tag-filter'); return e && e.value; }")
    assert page.input_value("#scalars-tag-filter") == "loss"
    cookies = page.context.cookies()
    (c,) = [c for c in cookies if c["name"] == "vizboard_token"]
    assert c["httpOnly"] and c["sameSite"] == "Strict"


def test_successive_filters_that_shrink_the_run_list_keep_working(serve, page, tmp_path):
    """Regression: 200 -> 50 -> 30 -> 1 runs. Dash 4 reused index-keyed rows with component
    labels and the renderer crashed on the second filter, resetting it."""
    logdir = tmp_path / "many"
    for s in range(2):
        for r in range(100):
            w = _writer(logdir / f"sweep{s}" / f"run{r:04d}")
            w.add_scalar("loss", 1.0, 0)
            w.close()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(serve(logdir))
    _wait_text(page, "#shell-run-count", lambda t: t.startswith("200 of 200 runs"))
    for pattern, expected in ((r"run00[0-4]\d", 100), (r"sweep1/run00[0-2]\d", 30), ("run0000", 2), (r"sweep0/run0000$", 1)):
        page.fill("#shell-run-filter", pattern)
        _wait_text(page, "#shell-run-count", lambda t, n=expected: t.startswith(f"{n} of 200 runs"))
        page.wait_for_function(
            "([n, rx]) => { const v = [...document.querySelectorAll('#shell-run-checklist input')].map(e => e.value);"
            " return (n < 100 ? v.length === n : v.length > 0 && v.length <= n) && v.every(x => new RegExp(rx).test(x)); }",
            arg=[expected, pattern],
        )
        assert page.input_value("#shell-run-filter") == pattern
    assert not [e for e in errors if "props" in e], errors


def test_the_page_starts_on_the_basic_bundle_and_loads_the_full_one_for_the_tabs_that_need_it(serve, page, tmp_path):
    """Issue 11: the first screen runs plotly.js's 1.2 MB basic bundle, not the 4.8 MB full one;
    Histograms draws with the basic bundle too; HParams (parallel coordinates) gets its page only
    after the full bundle has loaded, and every chart drawn before keeps working beside it."""
    import numpy as np

    for run, lr in (("r1", 0.1), ("r2", 0.01)):
        w = _writer(tmp_path / run)
        for i in range(20):
            w.add_scalar("loss", lr / (i + 1), i)
            w.add_histogram("weights", np.random.default_rng(i).normal(size=200), i)
        w.add_hparams({"lr": lr, "layers": 2 if run == "r1" else 3}, {"hparam/acc": 1.0 - lr})
        w.close()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(serve(tmp_path))
    page.wait_for_function("() => { const c = document.querySelector('.vb-chart-card[data-vb-drawn]');"
                           " return c && JSON.parse(c.dataset.vbDrawn).length >= 2; }")
    state = page.evaluate("() => [window.Plotly === window.vbPlotly, typeof window.vbPlotly.react,"
                          " document.querySelector('.vb-chart-card .js-plotly-plot')._fullData.length > 0]")
    assert state == [True, "function", True]
    assert any("/_vb/plotly-basic-" in u for u in urls)

    def tab(title: str):
        return page.locator(f"#shell-tabs [role=tab]:has-text('{title}'), #shell-tabs .tab:has-text('{title}')").first

    tab("Histograms").click()
    page.locator(".histograms-card .js-plotly-plot .main-svg").first.wait_for()
    assert not any(u.endswith("/plotly.min.js") for u in urls)  # drawn with the basic bundle
    assert page.evaluate("() => window.Plotly === window.vbPlotly")

    tab("HParams").click()
    page.locator("#hparams-parcoords .js-plotly-plot .parcoords").first.wait_for()
    assert any(u.endswith("/plotly.min.js") for u in urls)
    assert page.evaluate("() => window.Plotly !== window.vbPlotly && window.Plotly.version === window.vbPlotly.version")

    tab("Histograms").click()  # a chart drawn by the basic bundle, now updated by the full one
    page.evaluate("() => window.Plotly.relayout(document.querySelector('.histograms-card .js-plotly-plot'),"
                  " {'xaxis.range': [0, 1]})")
    assert page.evaluate("() => document.querySelector('.histograms-card .js-plotly-plot')._fullLayout.xaxis.range") == [0, 1]
    tab("Scalars").click()
    page.fill("#shell-run-filter", "r2")
    page.wait_for_function("() => { const c = document.querySelector('.vb-chart-card[data-vb-drawn]');"
                           " return c && c.dataset.vbDrawn === '[\"r2\"]'"
                           " && c.querySelector('.js-plotly-plot')._fullData.filter(t => t.meta.run === 'r1').length === 0; }")
