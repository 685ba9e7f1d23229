"""One colour per run everywhere (#14): run-order colours among ALL runs, the same in the Scalars
page's structure, ``/api/runs`` and every figure the other tabs draw, whatever is selected."""

from __future__ import annotations

import numpy as np
from fake_provider import FakeProvider
from flask import Flask

from vizboard.api import register_api
from vizboard.dashboards.base import run_colors_of
from vizboard.data.colors import ORDER_PALETTE, color_of, run_color, run_color_map
from vizboard.data.models import ScalarSeries
from vizboard.figures import hparams as hf
from vizboard.figures.pr_curves import pr_figure
from vizboard.figures.profile import step_timing_figure, system_metrics_figure
from vizboard.page_api import PageData

RUNS = ["adam_seed0", "adam_seed1", "adam_seed2", "sgd_seed0", "sgd_seed1", "sgd_seed2"]


def _provider() -> FakeProvider:
    p = FakeProvider()
    for i, run in enumerate(RUNS):
        p.add_scalars(run, "loss", [0, 1], [1.0, 0.5 + i])
    return p


def test_map_is_by_index_among_all_runs_and_distinct() -> None:
    colors = run_color_map(RUNS)
    assert [colors[r] for r in RUNS] == list(ORDER_PALETTE[:6])
    assert len(set(colors.values())) == len(RUNS)  # the hash picked two pairs of equal colours here
    assert color_of(colors, "sgd_seed1") == ORDER_PALETTE[4]
    assert color_of(colors, "not-a-run") == run_color("not-a-run")  # e.g. a profile-only run
    assert color_of(None, "x") == run_color("x")


def test_tabs_page_and_api_agree() -> None:
    p = _provider()
    page = PageData(p).structure()
    by_page = dict(zip(page["runs"], page["colors"]))
    server = Flask("t")
    register_api(server, p)
    by_api = {r["name"]: r["color"] for r in server.test_client().get("/api/runs").get_json()}
    assert run_colors_of(p) == by_page == by_api


def test_figures_use_the_map_not_the_selection() -> None:
    colors = run_color_map(RUNS)
    only = "sgd_seed2"  # drawn alone (the only selected run) it keeps its index-5 colour
    pr = pr_figure({only: _pr_entry()}, colors=colors)
    assert pr.data[0].line.color == ORDER_PALETTE[5]
    s = ScalarSeries(only, "time/samples_per_sec", np.arange(3, dtype=np.int64), np.arange(3.0) + 1.7e9,
                     np.ones(3), 1)
    fig = step_timing_figure([s], colors_by_run=colors)
    assert [t.line.color for t in fig.data if t.name == only] == [ORDER_PALETTE[5]]
    sys_s = ScalarSeries(only, "system/cpu_percent", s.step, s.wall_time, s.value, 1)
    assert system_metrics_figure([sys_s], colors_by_run=colors).data[0].line.color == ORDER_PALETTE[5]
    rows = [{"run": only, hf.HP_PREFIX + "lr": 0.1, hf.METRIC_PREFIX + "loss": 0.5}]
    assert list(hf.scatter_figure(rows, "lr", "loss", colors=colors).data[0].marker.color) == [ORDER_PALETTE[5]]


def _pr_entry():
    from vizboard.data.models import PrCurveEntry

    data = np.zeros((6, 3))
    data[0] = [3, 2, 1]
    data[1] = [1, 1, 0]
    data[4] = [0.75, 0.66, 1.0]
    data[5] = [1.0, 0.66, 0.33]
    return PrCurveEntry(0, 1.7e9, data)
