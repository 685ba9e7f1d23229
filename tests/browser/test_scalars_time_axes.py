"""Relative and wall time on the Scalars page in Chromium: the step cursor lands at the same time on charts
drawn in different units (s on one, h on another), and run groups follow the x mode (each group at its
runs' mean time per step)."""

from __future__ import annotations

import urllib.parse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

T0 = 1_760_000_000.0


@pytest.fixture(scope="module")
def base(serve_module, tmp_path_factory) -> str:
    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("time_axes")
    for k, run in enumerate(["a_seed0", "a_seed1"]):
        w = SummaryWriter(str(root / run))
        for i in range(101):
            w.add_scalar("fast/x", float(i + k), i, walltime=T0 + i * 1.0)  # 100 s: drawn in s
            w.add_scalar("slow/y", float(i - k), i, walltime=T0 + i * 200.0)  # 20,000 s: drawn in h
            w.add_scalar("grp/z", float(i * (k + 1)), i, walltime=T0 + i * (1.0 + 2.0 * k))  # seed1 3x slower
        w.close()
    return serve_module(str(root))


def _card(title: str) -> str:
    return f'.vb-chart-card[data-vb-title="{title}"]'


def _layout(page, sel: str) -> dict:
    return page.evaluate("(sel) => { const gd = document.querySelector(sel).querySelector('.js-plotly-plot');"
                         " const fl = gd._fullLayout; return {title: fl.xaxis.title.text, type: fl.xaxis.type,"
                         " shapes: (fl.shapes || []).map(s => s.x0), cursor: document.querySelector(sel).dataset.vbCursor,"
                         " traces: gd.data.map(d => Object.assign({xmax: Math.max(...d.x), xmin: Math.min(...d.x),"
                         "   name: d.name || '', hover: d.hovertemplate || ''}, d.meta || {}))}; }", sel)


def _wait_title(page, sel: str, text: str) -> None:
    page.wait_for_function("([sel, text]) => { const c = document.querySelector(sel);"
                           " const gd = c && c.querySelector('.js-plotly-plot');"
                           " return !!(gd && gd._fullLayout && c.hasAttribute('data-vb-drawn')"
                           "   && gd._fullLayout.xaxis.title.text.indexOf(text) === 0); }", arg=[sel, text], timeout=60_000)


def test_cursor_lands_at_the_same_time_on_charts_in_different_units(page, base):
    page.goto(base + "/?" + urllib.parse.urlencode([("x", "relative"), ("smooth", "none"), ("tag_re", "^(fast|slow)/")]))
    fast, slow = _card("fast/x"), _card("slow/y")
    _wait_title(page, fast, "relative time (s)")
    _wait_title(page, slow, "relative time (h)")
    # hover fast/x at its point of step 50 (50 s): slow/y's cursor must be at 50 s = 0.01389 h, not 50 h
    where = ("(sel) => { const gd = document.querySelector(sel).querySelector('.js-plotly-plot'), fl = gd._fullLayout;"
             " const t = gd.data.find(d => d.meta && d.meta.run === 'a_seed0'), i = 50, r = gd.getBoundingClientRect();"
             " return [r.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[i]), r.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[i])]; }")
    for attempt in range(6):
        x, y = page.evaluate(where, fast)  # again on each attempt: a redraw may have moved the plot area
        page.mouse.move(x - 20, y)
        page.mouse.move(x, y)
        try:
            page.wait_for_function("(sel) => document.querySelector(sel).dataset.vbCursor !== undefined", arg=slow,
                                   timeout=4_000)
            break
        except Exception:
            if attempt == 5:
                raise
            page.mouse.move(1, 1)
    # both cursors and the slow chart's line, read in one task: each hover (the mouse crossed several
    # points) moves every chart's cursor in one animation frame, so two reads could straddle two hovers
    got = page.evaluate(
        "([fast, slow]) => { const c = s => document.querySelector(s);"
        " const fl = c(slow).querySelector('.js-plotly-plot')._fullLayout;"
        " return [c(fast).dataset.vbCursor, c(slow).dataset.vbCursor, (fl.shapes || []).map(s => s.x0)]; }", [fast, slow])
    secs = float(got[0])
    assert 45 <= secs <= 55  # the hovered chart: seconds
    assert float(got[1]) == pytest.approx(secs / 3600, rel=1e-6)
    assert got[2] == [pytest.approx(secs / 3600, rel=1e-6)]


def test_groups_follow_relative_and_wall_time(page, base):
    q = [("g_by", "regex"), ("g_key", r"(.*)_seed\d+"), ("smooth", "none")]
    grp = _card("grp/z")
    page.goto(base + "/?" + urllib.parse.urlencode(q + [("x", "relative")]))
    _wait_title(page, grp, "relative time (min)")
    lay = _layout(page, grp)
    group = [t for t in lay["traces"] if t.get("role") == "group"]
    assert len(group) == 1 and "a (2)" in group[0]["name"]
    # step 100: seed0 at 100 s, seed1 at 300 s -> the group at their mean, 200 s = 3.33 min
    assert group[0]["xmax"] == pytest.approx(200 / 60, rel=1e-3) and group[0]["xmin"] == pytest.approx(0, abs=1e-9)
    assert "mean relative time" in group[0]["hover"] and "mean" in lay["title"]

    page.goto(base + "/?" + urllib.parse.urlencode(q + [("x", "wall_time")]))
    _wait_title(page, grp, "wall time (UTC)")
    lay = _layout(page, grp)
    assert lay["type"] == "date"
    group = [t for t in lay["traces"] if t.get("role") == "group"]
    assert group[0]["xmin"] == pytest.approx(T0 * 1000, abs=5) and group[0]["xmax"] == pytest.approx((T0 + 200) * 1000, abs=5)

    page.goto(base + "/?" + urllib.parse.urlencode(q))  # step: unchanged
    _wait_title(page, grp, "step")
    group = [t for t in _layout(page, grp)["traces"] if t.get("role") == "group"]
    assert group[0]["xmax"] == 100
