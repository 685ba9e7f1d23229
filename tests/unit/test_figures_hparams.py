"""HParams builders: table rows/columns, last/min/max metric values, parallel coordinates, scatter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vizboard.data.models import HParamsData, HParamsSession, ScalarSeries
from vizboard.figures import hparams as hf


def _series(values: list[float]) -> ScalarSeries:
    n = len(values)
    return ScalarSeries("r", "loss", np.arange(n, dtype=np.int64), np.zeros(n), np.asarray(values, dtype=np.float64), 1)


@pytest.fixture()
def data() -> HParamsData:
    return HParamsData(
        hparam_names=("lr", "optimizer", "dropout_on"),
        metric_tags=("loss", "accuracy"),
        sessions=(
            HParamsSession("run-a", "run-a", {"lr": 0.1, "optimizer": "sgd", "dropout_on": True},
                           {"loss": 0.5, "accuracy": 0.8}, status="success"),
            HParamsSession("run-b", "run-b", {"lr": 0.01, "optimizer": "adam", "dropout_on": False},
                           {"loss": 0.3}, status="running"),
            HParamsSession("run-c", "run-c", {"lr": 0.001, "optimizer": "adam"}, {"loss": float("nan")}),
        ),
    )


def test_table_has_one_row_per_session_and_typed_columns(data: HParamsData) -> None:
    columns, rows = hf.table(data)
    ids = [c["id"] for c in columns]
    assert ids == ["run", "status", "hparam:lr", "hparam:optimizer", "hparam:dropout_on", "metric:loss", "metric:accuracy"]
    types = {c["id"]: c.get("type") for c in columns}
    assert types["hparam:lr"] == "numeric" and types["hparam:optimizer"] == "text" and types["metric:loss"] == "numeric"
    assert types["hparam:dropout_on"] == "text"  # booleans are categories, not 0/1
    assert [r["id"] for r in rows] == ["run-a", "run-b", "run-c"]
    a, b, c = rows
    assert a == {"id": "run-a", "run": "run-a", "status": "success", "hparam:lr": 0.1, "hparam:optimizer": "sgd",
                 "hparam:dropout_on": "true", "metric:loss": 0.5, "metric:accuracy": 0.8}
    assert "metric:accuracy" not in b and "hparam:dropout_on" not in c  # missing stays missing
    assert c["metric:loss"] == "nan"  # NaN is shown, not dropped as JSON null


def test_best_values_override_last(data: HParamsData) -> None:
    _, rows = hf.table(data, {("run-a", "loss"): 0.25, ("run-b", "loss"): None})
    assert rows[0]["metric:loss"] == 0.25
    assert rows[1]["metric:loss"] == 0.3  # no best value -> the session's last value


def test_metric_value_modes() -> None:
    s = _series([3.0, 1.0, float("nan"), 2.0])
    assert hf.metric_value(s, "last") == 2.0
    assert hf.metric_value(s, "min") == 1.0
    assert hf.metric_value(s, "max") == 3.0
    assert math.isnan(hf.metric_value(_series([float("nan")]), "min"))
    assert hf.metric_value(None, "max") is None and hf.metric_value(_series([]), "last") is None
    with pytest.raises(ValueError, match="mode"):
        hf.metric_value(s, "best")


def test_parcoords_maps_categories_to_ticks(data: HParamsData) -> None:
    _, rows = hf.table(data)
    fig = hf.parcoords_figure(rows, data.hparam_names, data.metric_tags, color_metric="loss")
    (trace,) = fig.data
    dims = {d.label: d for d in trace.dimensions}
    assert list(dims) == ["lr", "optimizer", "dropout_on", "loss", "accuracy"]
    assert list(dims["lr"].values) == [0.1, 0.01, 0.001] and dims["lr"].tickvals is None
    assert list(dims["optimizer"].ticktext) == ["adam", "sgd"] and list(dims["optimizer"].values) == [1, 0, 0]
    assert list(dims["dropout_on"].ticktext) == ["(missing)", "false", "true"]
    assert list(dims["dropout_on"].values) == [2, 1, 0]  # run-c has no dropout_on: an explicit tick, no stray line
    assert list(trace.line.color)[:2] == [0.5, 0.3]
    empty = hf.parcoords_figure([], (), ())
    assert not empty.data and empty.layout.annotations


def test_parcoords_numeric_axis_gives_missing_values_their_own_tick(data: HParamsData) -> None:
    _, rows = hf.table(data)
    fig = hf.parcoords_figure(rows, data.hparam_names, data.metric_tags)
    dims = {d.label: d for d in fig.data[0].dimensions}
    acc = dims["accuracy"]  # only run-a has it
    assert all(math.isfinite(v) for v in acc.values)
    assert acc.values[0] == 0.8 and acc.values[1] == acc.values[2] < 0.8
    assert acc.ticktext[0] == "(missing)" and acc.tickvals[0] == acc.values[1]
    loss = dims["loss"]  # run-c's NaN loss: numeric axis, drawn at (missing)
    assert list(loss.values[:2]) == [0.5, 0.3] and loss.values[2] < 0.3 and loss.ticktext[0] == "(missing)"
    assert loss.range[0] < loss.values[2]


def test_scatter_plots_metric_against_hparam(data: HParamsData) -> None:
    _, rows = hf.table(data)
    fig = hf.scatter_figure(rows, "optimizer", "loss", selected=["run-b"])
    (trace,) = fig.data
    assert list(trace.x) == ["sgd", "adam"] and list(trace.y) == [0.5, 0.3]  # run-c's NaN loss is not a point
    assert list(trace.customdata) == ["run-a", "run-b"]
    assert fig.layout.xaxis.type == "category"
    assert list(trace.marker.line.width) == [0, 3]
    numeric = hf.scatter_figure(rows, "lr", "loss")
    assert numeric.layout.xaxis.type is None  # 0.1 and 0.01: one decade, linear
    rows.append({"run": "run-d", "hparam:lr": 0.0001, "metric:loss": 0.2})
    assert hf.scatter_figure(rows, "lr", "loss").layout.xaxis.type == "log"
    assert hf.scatter_figure(rows, None, "loss").layout.annotations
