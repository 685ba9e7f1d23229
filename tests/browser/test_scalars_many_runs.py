"""A Scalars card over 500 runs draws every run merged into a few colour-bucket traces (Plotly's cost is per
trace: 10,000 runs froze the page for 20 s), names each point's run in the hover, marks non-finite values
in merged marker traces, and goes back to one trace per run once a filter leaves 500 runs or fewer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

NRUNS = 520
RUNS = tuple(f"run{i:03d}" for i in range(NRUNS))
NAN_RUN = "run007"


def _write(logdir: Path) -> None:
    from logger._pb import event_pb2
    from logger.records import frame

    for k, run in enumerate(RUNS):
        recs = [frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())]
        for step in range(4):
            ev = event_pb2.Event(wall_time=1.7e9 + step, step=step)
            value = float("nan") if (run == NAN_RUN and step == 2) else k + step / 10
            ev.summary.value.add(tag="loss", simple_value=value)
            recs.append(frame(ev.SerializeToString()))
        (logdir / run).mkdir()
        (logdir / run / "events.out.tfevents.1700000000.host.1.0").write_bytes(b"".join(recs))


@pytest.fixture(scope="module")
def many(serve_module, tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("many_runs")
    _write(d)
    return serve_module(d)


def _wait_drawn(page, runs: list[str]) -> None:
    page.wait_for_function(
        "want => { const c = document.querySelector('.vb-chart-card'); return c && c.dataset.vbDrawn === want; }",
        arg=json.dumps(sorted(runs), separators=(",", ":")), timeout=60_000)


_TRACES = ("() => document.querySelector('.vb-chart-card .vb-graph').data.map(d => ({role: d.meta.role, "
           "runs: d.meta.runs, run: d.meta.run, nonfinite: d.meta.nonfinite, names: d.text || null, n: d.x.length}))")


def test_a_card_of_more_than_500_runs_draws_every_run_in_a_few_traces(page, many):
    page.goto(many)
    _wait_drawn(page, list(RUNS))
    traces = page.evaluate(_TRACES)
    bulk = [t for t in traces if t["role"] == "bulk"]
    assert 1 < len(bulk) <= 36 and len(traces) == len(bulk) + 1  # + one NaN marker trace
    assert sum(t["runs"] for t in bulk) == NRUNS
    named = [n for t in bulk for n in t["names"] if n]
    assert sorted(set(named)) == sorted(RUNS)
    assert len(named) == 4 * NRUNS  # every point of every run, none dropped
    nan = [t for t in traces if t["nonfinite"] == "nan"]
    assert len(nan) == 1 and nan[0]["names"] == [NAN_RUN]


def test_the_hover_of_a_merged_line_names_the_point_s_run(page, many):
    page.goto(many)
    _wait_drawn(page, list(RUNS))
    label = page.evaluate(
        "run => { const gd = document.querySelector('.vb-chart-card .vb-graph');"
        " const c = gd.data.findIndex(d => d.meta.role === 'bulk' && (d.text || []).includes(run));"
        " const p = gd.data[c].text.lastIndexOf(run);"
        " vbPlotly.Fx.hover(gd, [{curveNumber: c, pointNumber: p}]);"
        " const h = gd.querySelector('.hoverlayer'); return h ? h.textContent : ''; }", "run123")
    assert "run123" in label and re.search(r"step\s*3", label)


def test_a_filter_to_500_runs_or_fewer_draws_one_line_per_run_again(page, many):
    page.goto(many)
    _wait_drawn(page, list(RUNS))
    page.fill("#shell-run-filter", r"^run00\d$")
    want = [r for r in RUNS if re.search(r"^run00\d$", r)]
    _wait_drawn(page, want)
    traces = page.evaluate(_TRACES)
    assert sorted(t["run"] for t in traces if t["role"] == "smoothed") == want
    assert not [t for t in traces if t["role"] == "bulk"]
