"""The browser-driven Scalars page: interactions that change no data ask the server nothing, new data is
fetched per series, only cards in view are fetched and drawn, zoom re-queries, live points are drawn."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import wait_dash_idle

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

RUNS = ("alpha", "beta", "gamma")


def _write(logdir: Path, tags: int = 3, n: int = 50) -> None:
    from logger import SummaryWriter

    for k, run in enumerate(RUNS):
        w = SummaryWriter(str(logdir / run))
        for i in range(n):
            for t in range(tags):
                w.add_scalar(f"loss/t{t:02d}", (k + 1) / (i + 1) + t, i)
        w.close()


def _drawn(page) -> dict[str, list[str] | None]:
    return page.evaluate("() => Object.fromEntries([...document.querySelectorAll('.vb-chart-card')].map(c =>"
                         " [c.querySelector('.vb-card-title').textContent,"
                         "  c.hasAttribute('data-vb-drawn') ? JSON.parse(c.dataset.vbDrawn) : null]))")


def _wait_drawn(page, runs: list[str], count: int | None = None) -> None:
    """Wait until every card in view carries ``data-vb-drawn`` == ``runs`` (and ``count`` such cards)."""
    page.wait_for_function(
        "([runs, count]) => { const want = JSON.stringify(runs);"
        " const cs = [...document.querySelectorAll('.vb-chart-card')].filter(c => { const r = c.getBoundingClientRect();"
        "   return r.bottom > 0 && r.top < innerHeight; });"
        " return cs.length > 0 && (count === null || cs.length === count) && cs.every(c => c.dataset.vbDrawn === want); }",
        arg=[runs, count], timeout=30_000)


class _Requests:
    """Records the URL and body of every request the page sends."""

    def __init__(self, page) -> None:
        self.seen: list[tuple[str, str | None]] = []
        page.on("request", lambda r: self.seen.append((r.url, r.post_data)))

    def clear(self) -> None:
        self.seen.clear()

    def to(self, part: str) -> list[tuple[str, str | None]]:
        return [(u, b) for u, b in self.seen if part in u]

    def data(self) -> list[tuple[str, str | None]]:
        """Requests for data under /api/page/, leaving out the live long poll (always one open)."""
        return [(u, b) for u, b in self.to("/api/page/") if "/api/page/live" not in u]

    def callbacks(self) -> list[list[str]]:
        """The changed props of each Dash callback request, leaving out the HParams table's own
        ``derived_*`` bookkeeping (the DataTable emits it when its lazy chunk renders, whatever the user does)."""
        out = []
        for _, body in self.to("/_dash-update-component"):
            changed = json.loads(body or "{}").get("changedPropIds", [])
            if not all(c.startswith("hparams-table.derived_") for c in changed) or not changed:
                out.append(changed)
        return out


@pytest.fixture(scope="module")
def shared(serve_module, tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("page")
    _write(d)
    return serve_module(d)


def test_run_filter_and_ticks_change_no_data_and_send_no_request(page, shared):
    reqs = _Requests(page)
    page.goto(shared)
    _wait_drawn(page, list(RUNS), count=3)
    page.wait_for_function("() => document.body.dataset.vbVersion !== undefined")
    wait_dash_idle(page)
    reqs.clear()
    page.fill("#shell-run-filter", "^(alpha|gamma)$")
    _wait_drawn(page, ["alpha", "gamma"], count=3)
    assert page.locator("#shell-run-count").text_content().startswith("2 of 3 runs")
    page.uncheck("[data-vb-run='gamma'] input[type=checkbox]")
    _wait_drawn(page, ["alpha"], count=3)
    page.wait_for_function("() => location.search.includes('run_off=gamma') && location.search.includes('run_re=')")
    # every line was already in the browser: no series request, no Dash callback
    assert reqs.data() == [] and reqs.callbacks() == []


def test_a_newly_ticked_run_fetches_only_its_own_series(page, shared):
    reqs = _Requests(page)
    page.goto(shared + "/?run=alpha")
    _wait_drawn(page, ["alpha"], count=3)
    wait_dash_idle(page)
    init = reqs.to("/api/page/init")
    assert len(init) == 1 and "run=alpha" in init[0][0]
    reqs.clear()
    page.check("[data-vb-run='beta'] input[type=checkbox]")
    _wait_drawn(page, ["alpha", "beta"], count=3)
    bodies = [json.loads(b) for _, b in reqs.to("/api/page/series")]
    assert bodies, "the new run's series were fetched"
    items = [tuple(i) for b in bodies for i in b["items"]]
    assert {r for r, _ in items} == {"beta"}
    assert sorted(t for _, t in items) == ["loss/t00", "loss/t01", "loss/t02"]
    assert reqs.callbacks() == []
    page.wait_for_function("() => location.search.includes('run=alpha') && location.search.includes('run=beta')")


def test_cards_below_the_fold_are_fetched_and_drawn_only_when_scrolled_into_view(serve, page, tmp_path):
    _write(tmp_path, tags=24, n=20)
    reqs = _Requests(page)
    page.goto(serve(tmp_path))
    page.locator(".vb-chart-card[data-vb-drawn]").first.wait_for()
    last = page.locator(".vb-chart-card").last
    assert last.locator(".vb-card-title").text_content() == "loss/t23"
    page.wait_for_function("() => document.body.dataset.vbVersion !== undefined")

    def asked_for(tag: str) -> bool:
        urls = reqs.data()
        return any(b and tag in b for _, b in urls) or any(tag in u for u, _ in urls)

    assert last.get_attribute("data-vb-drawn") is None
    assert not asked_for("loss/t23")
    last.scroll_into_view_if_needed()
    page.wait_for_function("() => { const c = [...document.querySelectorAll('.vb-chart-card')].pop();"
                           " return c.dataset.vbDrawn === JSON.stringify(['alpha', 'beta', 'gamma']); }")
    assert asked_for("loss/t23")
    trace_names = page.evaluate("() => [...document.querySelectorAll('.vb-chart-card')].pop()"
                                ".querySelector('.js-plotly-plot')._fullData.map(d => d.meta.run)")
    assert sorted(set(trace_names)) == list(RUNS)


def test_zoom_requeries_and_a_live_point_is_drawn(serve, page, tmp_path):
    from logger import SummaryWriter

    n = 5000
    w = SummaryWriter(str(tmp_path / "run"))
    for i in range(n):
        w.add_scalar("signal", float(i % 100), i)
    w.close()
    reqs = _Requests(page)
    page.goto(serve(tmp_path, "--reload-interval", "0.2"))
    page.locator(".vb-chart-card[data-vb-drawn]").first.wait_for()
    raw_x = ("() => { const g = document.querySelector('.vb-chart-card .js-plotly-plot');"
             " const d = g && (g._fullData || []).find(t => t.meta && t.meta.role === 'raw');"
             " return d ? Array.from(d.x) : null; }")
    before = page.evaluate(raw_x)
    assert len(before) < n  # downsampled
    reqs.clear()
    page.evaluate("() => vbPlotly.relayout(document.querySelector('.vb-chart-card .js-plotly-plot'),"
                  " {'xaxis.range': [1000, 1100]})")
    page.wait_for_function(f"() => ({raw_x})().filter(s => s >= 1000 && s <= 1100).length === 101")
    (zoom,) = [json.loads(b) for _, b in reqs.to("/api/page/series")]
    assert zoom["x_range"] == [1000, 1100] and zoom["items"] == [["run", "signal"]]
    # back to the full view, then a live point is drawn without reload
    page.evaluate("() => vbPlotly.relayout(document.querySelector('.vb-chart-card .js-plotly-plot'),"
                  " {'xaxis.autorange': true})")
    page.wait_for_function(f"() => !({raw_x})().every(s => s >= 999 && s <= 1101)")
    version = int(page.evaluate("() => document.body.dataset.vbVersion"))
    w = SummaryWriter(str(tmp_path / "run"))
    w.add_scalar("signal", 500.0, n + 10)
    w.close()
    page.wait_for_function(f"() => ({raw_x})().includes({n + 10})")
    page.wait_for_function("v => Number(document.body.dataset.vbVersion) > v", arg=version)


def test_a_live_point_is_drawn_through_the_long_poll_without_dash_or_version_polls(serve, page, tmp_path):
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"))
    for i in range(100):
        w.add_scalar("signal", float(i), i)
    w.close()
    reqs = _Requests(page)
    page.goto(serve(tmp_path, "--reload-interval", "0.2"))
    page.locator(".vb-chart-card[data-vb-drawn]").first.wait_for()
    wait_dash_idle(page)
    blocked: list[str] = []

    def refuse(route) -> None:
        blocked.append(route.request.url)
        route.abort()

    # from here on neither a Dash callback nor the /api/version poll reaches the server
    page.route("**/_dash-update-component*", refuse)
    page.route("**/api/version*", refuse)
    page.route("**/api/page/changes*", refuse)
    page.route("**/api/page/series*", refuse)
    w = SummaryWriter(str(tmp_path / "run"))
    w.add_scalar("signal", 7.0, 250)
    w.close()
    page.wait_for_function("() => { const g = document.querySelector('.vb-chart-card .js-plotly-plot');"
                           " return (g._fullData || []).some(d => d.meta && d.meta.role === 'raw' && "
                           " Array.from(d.x).includes(250)); }", timeout=30_000)
    live = [json.loads(b or "{}") for _, b in reqs.to("/api/page/live")]
    assert any(["run", "signal"] in b["items"] for b in live)  # the long poll asked for the drawn series
    assert not [u for u in blocked if "/api/page/" in u]  # the point came with the long poll's answer


def test_new_data_runs_no_hidden_tab_callback_while_scalars_is_open(serve, page, tmp_path):
    """Server-drawn tabs follow the data version only while one of them is shown: a live point on the
    Scalars page triggers none of their callbacks; opening a server tab catches it up once."""
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"))
    for i in range(20):
        w.add_scalar("loss", 1.0 / (i + 1), i)
        w.add_text("notes", f"note {i}", i)
    w.flush()
    reqs = _Requests(page)
    page.goto(serve(tmp_path, "--reload-interval", "0.2"))
    _wait_drawn(page, ["run"])
    wait_dash_idle(page)
    version = int(page.evaluate("() => document.body.dataset.vbVersion"))
    reqs.clear()
    w.add_scalar("loss", 0.01, 100)
    w.flush()
    page.wait_for_function("v => Number(document.body.dataset.vbVersion) > v", arg=version)

    def dash_saw_version() -> bool:
        return any("shell-data-version.data" in c for c in reqs.callbacks())

    deadline = time.monotonic() + 30
    while not dash_saw_version() and time.monotonic() < deadline:  # the shell's status line follows the version
        page.wait_for_timeout(50)
    assert dash_saw_version(), "the Dash side never saw the new data version"
    wait_dash_idle(page)
    outputs = [json.loads(b or "{}").get("output", "") for _, b in reqs.to("/_dash-update-component")]
    # only the shell's own callbacks (tab list, status line) ran; no tab's callback did
    assert outputs and all(o.lstrip(".").startswith("shell-") for o in outputs), outputs
    reqs.clear()
    page.locator(".vb-tab", has_text="Text").click()
    page.wait_for_function("() => document.body.innerText.includes('note 19')")
    triggered = [c for changed in reqs.callbacks() for c in changed]
    assert "shell-loaded-pages.data" in triggered, triggered  # first open: the page is built, its callbacks run
    # back on Scalars, new data: the Text tab (built, hidden) runs nothing; opening it again catches up once
    page.locator(".vb-tab", has_text="Scalars").click()
    wait_dash_idle(page)
    version = int(page.evaluate("() => document.body.dataset.vbVersion"))
    reqs.clear()
    w.add_scalar("loss", 0.005, 101)
    w.add_text("notes", "note 101", 101)
    w.flush()
    page.wait_for_function("v => Number(document.body.dataset.vbVersion) > v", arg=version)
    deadline = time.monotonic() + 30
    while not dash_saw_version() and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    wait_dash_idle(page)
    outputs = [json.loads(b or "{}").get("output", "") for _, b in reqs.to("/_dash-update-component")]
    assert all(o.lstrip(".").startswith("shell-") for o in outputs), outputs
    reqs.clear()
    page.locator(".vb-tab", has_text="Text").click()
    page.wait_for_function("() => document.body.innerText.includes('note 101')")
    triggered = [c for changed in reqs.callbacks() for c in changed]
    assert "shell-tab-data-version.data" in triggered and "shell-loaded-pages.data" not in triggered, triggered
    w.close()
