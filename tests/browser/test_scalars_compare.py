"""The Scalars page's comparison tools in Chromium: run groups with bands (hover, expand, URL), metric as x,
pinned cards surviving a tag filter and a reload, and the step cursor with its readout table."""

from __future__ import annotations

import math
import urllib.parse
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

RUNS = [f"lr_{lr}_seed{k}" for lr in ("0.1", "0.01") for k in range(3)]
GROUP_Q = [("g_by", "regex"), ("g_key", r"(.*)_seed\d+")]


def _write(root: Path) -> None:
    from logger import SummaryWriter

    for j, run in enumerate(RUNS):
        w = SummaryWriter(str(root / run))
        lr = float(run.split("_")[1])
        for i in range(0, 300, 1 + j % 3):  # seeds log at different steps: the group interpolates
            w.add_scalar("train/loss", math.exp(-i * lr / 5) + 0.05 * (j % 3), i)
            w.add_scalar("train/tokens", i * 256.0, i)
        for i in range(0, 300, 30):
            w.add_scalar("eval/acc", 1 - math.exp(-i * lr / 5), i)
        w.close()


@pytest.fixture(scope="module")
def base(serve_module, tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("compare")
    _write(root)
    return serve_module(str(root))


def _card(title: str) -> str:
    return f'.vb-chart-card[data-vb-title="{title}"]'


def _traces(page, sel: str) -> list[dict]:
    return page.evaluate("(sel) => { const c = document.querySelector(sel); const gd = c && c.querySelector('.js-plotly-plot');"
                         " return gd && gd.data ? gd.data.map(d => Object.assign({n: d.x.length, name: d.name || '',"
                         "   fill: d.fill || '', xmax: Math.max(...d.x)}, d.meta || {})) : []; }", sel)


def _wait_traces(page, sel: str, pred: str) -> list[dict]:
    page.wait_for_function("([sel, pred]) => { const c = document.querySelector(sel);"
                           " const gd = c && c.querySelector('.js-plotly-plot');"
                           " if (!gd || !gd.data || !c.hasAttribute('data-vb-drawn')) return false;"
                           " const ts = gd.data.map(d => d.meta || {}); return new Function('ts', 'return ' + pred)(ts); }",
                           arg=[sel, pred], timeout=30_000)
    return _traces(page, sel)


def _hover_point(page, sel: str, until: str):
    """Move the real mouse onto the middle point of the card's first hoverable line until ``until`` (JS) returns
    a truthy value, and return that value (read in the same task, as a later redraw may clear the hover label).
    Waits first for the card to sit in Dash's Scalars root: the first cards are drawn in a stand-in box
    before Dash has booted, and moving them resizes the charts. Retried, as a chart still settling its
    layout (legend, margins) can move the point under the mouse."""
    page.locator("#vb-scalars-root " + sel + "[data-vb-drawn]").wait_for()
    for attempt in range(6):
        _move_to_point(page, sel)
        try:
            return page.wait_for_function(until, timeout=4_000).json_value()
        except Exception:
            if attempt == 5:
                raise
            page.mouse.move(1, 1)


def _move_to_point(page, sel: str) -> None:
    x, y = page.evaluate(
        "(sel) => { const gd = document.querySelector(sel).querySelector('.js-plotly-plot'), fl = gd._fullLayout;"
        " const t = gd.data.find(d => d.hoverinfo !== 'skip' && d.meta"
        "   && d.meta.role !== 'band-lo' && d.meta.role !== 'band-hi');"
        " const i = Math.floor(t.x.length / 2), r = gd.getBoundingClientRect();"
        " return [r.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[i]), r.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[i])]; }", sel)
    page.mouse.move(x - 25, y)
    page.mouse.move(x, y)


def test_groups_draw_a_line_and_band_each_with_member_count_and_expand(page, base):
    page.goto(base + "/?" + urllib.parse.urlencode(GROUP_Q + [("smooth", "none")]))
    loss = _card("train/loss")
    ts = _wait_traces(page, loss, "ts.filter(t => t.role === 'group').length === 2")
    groups = [t for t in ts if t.get("role") == "group"]
    assert sorted(t["group"] for t in groups) == ["lr_0.01", "lr_0.1"]
    assert all(t["name"].endswith("(3)") for t in groups)
    assert sum(1 for t in ts if t.get("role") == "band-hi" and t["fill"] == "tonexty") == 2  # a filled band each
    assert not any(t.get("run") for t in ts)  # no single run drawn while grouped

    text = _hover_point(page, loss, "() => { const t = [...document.querySelectorAll('.hovertext')]"
                                    ".map(h => h.textContent).join(' '); return /of 3 runs/.test(t) && t; }")
    assert "group of 3 runs" in text and "min\u2013max" in text

    page.locator(".vb-group-chip[data-vb-group='lr_0.1']").click()  # expand one group back into its runs
    ts = _wait_traces(page, loss, "ts.filter(t => t.memberOf === 'lr_0.1').length === 3")
    assert [t["group"] for t in ts if t.get("role") == "group"] == ["lr_0.01"]
    assert "g_open=lr_0.1" in page.url
    page.reload()  # groups, and the expanded one, come back from the URL
    ts = _wait_traces(page, loss, "ts.filter(t => t.memberOf === 'lr_0.1').length === 3"
                                  " && ts.filter(t => t.role === 'group').length === 1")
    assert page.locator("#vb-group-key").input_value() == r"(.*)_seed\d+"


def test_run_selection_filters_group_members(page, base):
    page.goto(base + "/?" + urllib.parse.urlencode(GROUP_Q + [("run_off", "lr_0.1_seed0"), ("run_off", "lr_0.1_seed1")]))
    ts = _wait_traces(page, _card("train/loss"), "ts.filter(t => t.role === 'group').length === 2")
    names = sorted(t["name"] for t in ts if t.get("role") == "group")
    assert names == ["lr_0.01 (3)", "lr_0.1 (1)"]


def test_metric_as_x_joins_by_step_and_lives_in_the_url(page, base):
    page.goto(base + "/")
    loss = _card("train/loss")
    _wait_traces(page, loss, "ts.some(t => t.run)")
    page.locator("#vb-xtag").select_option("train/tokens")
    page.wait_for_function("(sel) => document.querySelector(sel).querySelector('.js-plotly-plot')._fullLayout.xaxis.title.text"
                           " === 'train/tokens'", arg=loss)
    ts = _traces(page, loss)
    assert sorted({t["run"] for t in ts}) == sorted(RUNS)
    assert max(t["xmax"] for t in ts) == pytest.approx(299 * 256.0, rel=0.02)  # x is tokens, not steps
    assert "xtag=train%2Ftokens" in page.url
    page.reload()
    page.wait_for_function("(sel) => { const c = document.querySelector(sel); const gd = c && c.querySelector('.js-plotly-plot');"
                           " return gd && gd._fullLayout && gd._fullLayout.xaxis.title.text === 'train/tokens'; }", arg=loss)
    # groups and metric-as-x together: one aggregated line per group on the tokens axis
    page.goto(base + "/?" + urllib.parse.urlencode(GROUP_Q + [("xtag", "train/tokens")]))
    ts = _wait_traces(page, loss, "ts.filter(t => t.role === 'group').length === 2")
    assert max(t["xmax"] for t in ts if t.get("role") == "group") > 1000
    # zoom asks the server again for that x window (in tokens) at full resolution
    page.evaluate("(sel) => vbPlotly.relayout(document.querySelector(sel).querySelector('.js-plotly-plot'),"
                  " {'xaxis.range': [20000, 40000]})", loss)
    page.wait_for_function("(sel) => { const gd = document.querySelector(sel).querySelector('.js-plotly-plot');"
                           " const g = gd.data.filter(d => d.meta && d.meta.role === 'group');"
                           " return g.length === 2 && g.every(d => Math.min(...d.x) >= 19000 && Math.max(...d.x) <= 41000); }",
                           arg=loss)


def test_pinned_card_survives_tag_filter_and_reload(page, base):
    page.goto(base + "/")
    page.locator(_card("eval/acc") + " .vb-pin").click()
    pinned = ".vb-section[data-vb-section='Pinned'] " + _card("eval/acc")
    page.locator(pinned).wait_for()
    page.locator("#scalars-tag-filter").fill("loss")
    page.wait_for_function("() => !document.querySelector(\".vb-section[data-vb-section='eval']\")"
                           " || document.querySelector(\".vb-section[data-vb-section='eval']\").offsetParent === null")
    assert page.locator(pinned).is_visible()
    page.wait_for_function("(sel) => document.querySelector(sel).hasAttribute('data-vb-drawn')", arg=pinned)
    assert "pin=" in page.url
    page.reload()
    page.locator(pinned).wait_for(timeout=60_000)  # a full page load on a busy 2-core machine
    assert page.locator(pinned + " .vb-pin").text_content() == "Unpin"
    page.locator(pinned + " .vb-pin").click()
    page.wait_for_function("() => !document.querySelector(\".vb-section[data-vb-section='Pinned']\")"
                           " || !document.querySelector(\".vb-section[data-vb-section='Pinned']\").isConnected")
    assert "pin=" not in page.url


def test_cursor_spans_every_drawn_chart_and_readout_lists_each_run(page, base):
    page.goto(base + "/?smooth=none")
    loss = _card("train/loss")
    _wait_traces(page, loss, "ts.filter(t => t.run).length === 6")
    page.wait_for_function("() => document.querySelectorAll('.vb-chart-card[data-vb-drawn]').length >= 2")
    _hover_point(page, loss, "() => document.querySelector('.vb-chart-card[data-vb-title=\"train/loss\"] .vb-readout table')")
    rows = page.evaluate("(sel) => [...document.querySelectorAll(sel + ' .vb-readout tr[data-vb-row]')]"
                         ".map(r => [...r.cells].map(c => c.textContent))", loss)
    assert sorted(r[1] for r in rows) == sorted(RUNS)
    step = rows[0][4]
    assert step.replace(",", "").isdigit() and all(r[2] for r in rows)
    drawn = page.evaluate("() => [...document.querySelectorAll('.vb-chart-card[data-vb-drawn]')]"
                          ".filter(c => { const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; })"
                          ".map(c => [c.dataset.vbCursor, c.querySelector('.js-plotly-plot')._fullLayout.shapes.length])")
    assert len(drawn) >= 2 and all(c == drawn[0][0] and n == 1 for c, n in drawn)


def test_a_live_point_extends_its_group_line_and_the_page_reports_the_version(serve, page, tmp_path):
    from logger import SummaryWriter

    for k in range(2):
        w = SummaryWriter(str(tmp_path / f"a_seed{k}"))
        for i in range(50):
            w.add_scalar("loss", 1.0 / (i + 1) + k, i)
        w.close()
    page.goto(serve(tmp_path, "--reload-interval", "0.2") + "/?" + urllib.parse.urlencode(GROUP_Q + [("smooth", "none")]))
    sel = _card("loss")
    ts = _wait_traces(page, sel, "ts.filter(t => t.role === 'group').length === 1")
    assert [t["xmax"] for t in ts if t.get("role") == "group"] == [49]
    page.wait_for_function("() => Number(document.body.dataset.vbVersion) >= 0")
    version = int(page.evaluate("() => document.body.dataset.vbVersion"))
    w = SummaryWriter(str(tmp_path / "a_seed1"))
    w.add_scalar("loss", 9.0, 60)
    w.close()
    page.wait_for_function("(sel) => { const gd = document.querySelector(sel).querySelector('.js-plotly-plot');"
                           " const g = gd.data.find(d => d.meta && d.meta.role === 'group');"
                           " return g && Math.max(...g.x) === 60; }",
                           arg=sel)
    # the band reaches the new point of the one seed that logged it; the page reports the new data version
    hi = page.evaluate("(sel) => { const gd = document.querySelector(sel).querySelector('.js-plotly-plot');"
                       " const b = gd.data.find(d => d.meta && d.meta.role === 'band-hi'); return b.y[b.y.length - 1]; }", sel)
    assert hi == pytest.approx(9.0)
    page.wait_for_function("v => Number(document.body.dataset.vbVersion) > v", arg=version)


def test_group_by_an_hparam_chosen_in_the_toolbar(serve, page, tmp_path):
    from logger import SummaryWriter

    for lr in (0.1, 0.01):
        for k in range(2):
            w = SummaryWriter(str(tmp_path / f"lr{lr}_s{k}"))
            for i in range(20):
                w.add_scalar("loss", i * lr + k, i)
            w.add_hparams({"lr": lr}, {"hparam/final": 1.0}, run_name=".")
            w.close()
    page.goto(serve(tmp_path) + "/?smooth=none")
    sel = _card("loss")
    _wait_traces(page, sel, "ts.filter(t => t.run).length === 4")
    page.locator("#vb-group-by").select_option("hparam")
    page.locator("#vb-group-key").fill("lr")
    ts = _wait_traces(page, sel, "ts.filter(t => t.role === 'group').length === 2")
    assert sorted(t["name"] for t in ts if t.get("role") == "group") == ["0.01 (2)", "0.1 (2)"]
    assert "g_by=hparam" in page.url and "g_key=lr" in page.url
