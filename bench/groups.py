r"""Run-group benchmark: 1,000 runs x 1 tag grouped into 10 groups (mean line + min-max band), and the runs table.

Figures: server time to group (name regex) and aggregate on full-resolution series, then
downsample (``vizboard.data.groups``), against what a user would write instead in a notebook
(pandas: concatenate every run, ``groupby([group, step]).agg(mean, min, max)``, no downsampling);
the JSON payload of the 10 groups' traces (``vizboard.figures.groups``) against drawing the
1,000 runs one line each at the same points per line; and the server time to build the
runs table of 1,000 runs with last/min/max of one tag (rows as the Runs tab sends them).
In Chromium (``_browser``): a served 1,000-run logdir (one tag, tensorboardX-written, cached by
``bench.logdirs``) grouped by ``(sweep\d+)/`` into 10 groups on the Scalars page: time from
navigation until the grouped chart is drawn, the server time of its ``/api/page/groups/series``
request (request start to first byte) and that response's payload, against the same page drawing
the 1,000 runs one line each; and the Runs tab's first render of its 1,000 rows.

``python -m bench.groups [--quick]`` prints a table.
"""

from __future__ import annotations

import json
import time

import numpy as np

from bench.common import Measurement, Sample

__all__ = ["run"]

_RUNS = 1_000
_GROUPS = 10
_MAX_POINTS = 1_000


class _Provider:
    """Just enough of a DataProvider for grouping and the runs table: 1,000 runs, one tag."""

    def __init__(self, points: int) -> None:
        from vizboard.data.models import HParamsData, Kind, RunInfo, ScalarSeries, TagInfo

        rng = np.random.default_rng(0)
        step = np.arange(points, dtype=np.int64) * 10
        self._series = {}
        self._runs = []
        self._tags = []
        for i in range(_RUNS):
            run = f"cfg{i % _GROUPS}_seed{i // _GROUPS}"
            value = np.exp(-step / (points * 4.0)) + rng.normal(0, 0.05, points) + 0.01 * (i % _GROUPS)
            wall = 1.7e9 + step.astype(np.float64)
            self._series[run] = ScalarSeries(run, "loss", step, wall, value, 1)
            self._runs.append(RunInfo(run, 1, float(wall[-1]), 1, 0))
            self._tags.append(TagInfo(run, "loss", Kind.SCALARS, "scalars", points, 1))
        self._hp = HParamsData((), (), ())

    def scalars(self, run: str, tag: str):  # noqa: ANN201 - duck-typed provider
        return self._series.get(run) if tag == "loss" else None

    def runs(self):  # noqa: ANN201
        return list(self._runs)

    def tags(self, kind=None, runs=None):  # noqa: ANN001, ANN201
        keep = None if runs is None else set(runs)
        return [t for t in self._tags if keep is None or t.run in keep]

    def hparams(self):  # noqa: ANN201
        return self._hp


def _ours(p: _Provider) -> tuple[float, list[dict]]:
    from vizboard.data.groups import aggregate_groups, group_by_regex
    from vizboard.figures.groups import groups_traces

    t0 = time.perf_counter()
    groups = group_by_regex([r.name for r in p.runs()], r"(.*)_seed\d+")
    aggs = aggregate_groups(p, groups, "loss", max_points=_MAX_POINTS)
    traces = groups_traces(aggs, ["#1f77b4"] * len(aggs))
    return time.perf_counter() - t0, traces


def _pandas(p: _Provider) -> float:
    import pandas as pd

    t0 = time.perf_counter()
    frames = []
    for r in p.runs():
        s = p.scalars(r.name, "loss")
        frames.append(pd.DataFrame({"run": r.name, "step": s.step, "value": s.value}))
    df = pd.concat(frames, ignore_index=True)
    df["group"] = df["run"].str.extract(r"(.*)_seed\d+", expand=False)
    df.groupby(["group", "step"])["value"].agg(["mean", "min", "max", "count"])
    return time.perf_counter() - t0


def _per_run_payload(p: _Provider) -> int:
    from vizboard.data.downsample import downsample

    total = 0
    for r in p.runs():
        s = p.scalars(r.name, "loss")
        idx = downsample(s.step, s.value, _MAX_POINTS)
        total += len(json.dumps({"type": "scatter", "name": r.name, "x": s.step[idx].tolist(),
                                 "y": s.value[idx].tolist()}))
    return total


def _table(p: _Provider) -> float:
    from vizboard.data.runs_table import build_runs_table
    from vizboard.figures import runs_table as rt

    t0 = time.perf_counter()
    table = build_runs_table(p, ["loss"])  # type: ignore[arg-type]
    rows = rt.records(table)
    json.dumps(rows)
    return time.perf_counter() - t0


_GROUPED = ("() => { const c = document.querySelector('.vb-chart-card[data-vb-drawn]');"
            " const gd = c && c.querySelector('.js-plotly-plot');"
            " return !!(gd && gd.data && gd.data.filter(d => d.meta && d.meta.role === 'group').length === 10); }")
_LINES = ("() => { const c = document.querySelector('.vb-chart-card[data-vb-drawn]');"
          " return !!(c && JSON.parse(c.dataset.vbDrawn).length === 1000); }")
"""Every run's line drawn (over 500 runs the page merges them into colour-bucket traces, so count the runs
the card says it drew, not traces)."""
_RESOURCE = ("(part) => performance.getEntriesByType('resource').filter(e => e.name.includes(part))"
             ".map(e => [e.responseStart - e.requestStart, e.encodedBodySize, e.decodedBodySize])")


def _browser(quick: bool) -> list[Measurement]:
    """Chromium: grouped chart of 1,000 runs (server + browser + payload) and the Runs tab's 1,000 rows."""
    import os
    import subprocess
    import sys
    import urllib.parse
    import urllib.request

    from playwright.sync_api import sync_playwright

    from bench.logdirs import LogdirSpec, ensure_logdir
    from bench.servers import free_port
    from bench.ui import CHROMIUM, CHROMIUM_ARGS

    steps = 100 if quick else 300
    logdir = ensure_logdir(LogdirSpec(runs=_RUNS, tags=1, steps=steps, sections=1))
    port = free_port()
    srv = subprocess.Popen([sys.executable, "-m", "vizboard", "serve", str(logdir), "--port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    grouped, lines, server, payload, table = [], [], [], [], []
    try:
        deadline = time.monotonic() + 300
        while True:  # answering, and done loading every run
            try:
                with urllib.request.urlopen(base + "/api/page/init?n=0", timeout=5) as r:
                    if not json.loads(r.read()).get("loading"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or srv.poll() is not None:
                raise RuntimeError("the vizboard server did not load the 1,000-run logdir in 300 s")
            time.sleep(0.5)
        q = urllib.parse.urlencode({"g_by": "regex", "g_key": r"(sweep\d+)/", "smooth": "none"})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for _ in range(1 if quick else 3):
                    for url, until, out in ((f"{base}/?{q}", _GROUPED, grouped), (f"{base}/?smooth=none", _LINES, lines),
                                            (f"{base}/?tab=runs", "() => document.querySelectorAll("
                                             "'#runs-table td[data-dash-column=\"run\"]').length > 10", table)):
                        page = browser.new_page(viewport={"width": 1400, "height": 900})
                        page.goto(url)
                        page.wait_for_function(until, timeout=180_000, polling=50)
                        out.append(page.evaluate("() => performance.now()") / 1e3)
                        if out is grouped:
                            res = page.evaluate(_RESOURCE, "/api/page/groups/series")
                            server.append(sum(r[0] for r in res) / 1e3)
                            payload.append(sum(r[1] for r in res) / 1e3)
                        page.close()
            finally:
                browser.close()
    finally:
        srv.terminate()
        srv.wait(10)
    shape = f"{_RUNS:,} runs x 1 tag x {steps} steps -> 10 groups"
    return [
        Measurement("groups", f"Scalars page, navigation to grouped chart drawn (Chromium): {shape}", "s",
                    Sample(tuple(grouped)), {"same page, 1,000 run lines": Sample(tuple(lines))},
                    note="first visit is cold (server aggregates), later visits hit the server's caches"),
        Measurement("groups", f"server time of /api/page/groups/series (request to first byte): {shape}", "s",
                    Sample(tuple(server))),
        Measurement("groups", "payload of /api/page/groups/series (gzip, 10 groups: line + band + counts)", "KB",
                    Sample(tuple(payload))),
        Measurement("groups", f"Runs tab: navigation to first rows of the {_RUNS:,}-run table (Chromium)", "s",
                    Sample(tuple(table))),
    ]


def run(quick: bool = False) -> list[Measurement]:
    """Measure grouping, payload and runs-table figures (see the module docstring)."""
    points = 1_000 if quick else 10_000
    reps = 2 if quick else 3
    p = _Provider(points)
    ours, theirs, tables = [], [], []
    traces: list[dict] = []
    for _ in range(reps):
        t, traces = _ours(p)
        ours.append(t)
        theirs.append(_pandas(p))
        tables.append(_table(p))
    payload = len(json.dumps(traces))
    per_run = _per_run_payload(p)
    shape = f"{_RUNS:,} runs x 1 tag x {points:,} points -> {_GROUPS} groups"
    return [
        Measurement("groups", f"group + aggregate (mean, min-max band), downsampled: {shape}", "s",
                    Sample(tuple(ours)), {"pandas groupby": Sample(tuple(theirs))},
                    note="pandas computes the same statistics without downsampling or traces"),
        Measurement("groups", f"payload of the grouped chart ({_GROUPS} groups: line + band)", "KB",
                    Sample((payload / 1e3,)), {"1,000 run lines": Sample((per_run / 1e3,))},
                    note=f"both downsampled to at most {_MAX_POINTS:,} points per line"),
        Measurement("groups", f"runs table rows: {_RUNS:,} runs, last/min/max of 1 tag (server, JSON)", "s",
                    Sample(tuple(tables)), note="browser first render: see the Runs tab row below"),
    ] + _browser(quick)


if __name__ == "__main__":
    import sys

    for m in run(quick="--quick" in sys.argv):
        others = "; ".join(f"{k}: {v.median:.4g}" for k, v in m.theirs.items())
        print(f"{m.figure}: vizboard {m.ours.median:.4g} {m.unit}" + (f"; {others} {m.unit}" if others else ""))
