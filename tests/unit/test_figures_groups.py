"""Group band traces (vizboard.figures.groups): band order and fill, hover with member count and interpolation note."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from vizboard.data.groups import aggregate
from vizboard.data.models import ScalarSeries
from vizboard.figures.groups import band_fill, group_traces, groups_traces


def _s(run, steps, values):
    st = np.asarray(steps, dtype=np.int64)
    return ScalarSeries(run, "loss", st, st.astype(np.float64), np.asarray(values, dtype=np.float64), 1)


def test_band_then_line_with_fill_and_legend_group():
    agg = aggregate([_s("a", [0, 10], [1, 2]), _s("b", [0, 5, 10], [3, 3, 4])], name="lr0.1")
    lower, upper, line = group_traces(agg, "#1f77b4")
    assert upper["fill"] == "tonexty" and upper["fillcolor"] == "rgba(31,119,180,0.2)"
    assert lower["y"] == [1.0, 1.5, 2.0] and upper["y"] == [3.0, 3.0, 4.0]
    assert line["y"] == [2.0, 2.25, 3.0] and line["line"]["color"] == "#1f77b4"
    assert lower["legendgroup"] == upper["legendgroup"] == line["legendgroup"]
    assert not lower["showlegend"] and "showlegend" not in line
    assert line["name"] == "lr0.1 (2 runs)"
    assert "interpolated" in line["text"][1] and "interpolated" not in line["text"][0]
    assert "n=2 of 2 runs" in line["text"][0]
    assert "%{customdata[0]:,d}" in line["hovertemplate"]  # exact step numbers, with separators
    go.Figure(data=[lower, upper, line])  # valid plotly traces


def test_nan_becomes_gap_and_no_band_variants():
    agg = aggregate([_s("a", [0, 1], [math.nan, 1.0])], band="none")
    (line,) = group_traces(agg, "#000000")
    assert line["y"] == [None, 1.0]
    agg2 = aggregate([_s("a", [0, 1], [0.0, 1.0])])
    assert len(group_traces(agg2, "#000000", show_band=False)) == 1


def test_custom_x_and_bad_inputs():
    agg = aggregate([_s("a", [0, 1], [0.0, 1.0])])
    traces = group_traces(agg, "rgb(1, 2, 3)", x=np.array([100.0, 200.0]))
    assert traces[-1]["x"] == [100.0, 200.0] and traces[1]["fillcolor"] == "rgba(1,2,3,0.2)"
    with pytest.raises(ValueError, match="x must"):
        group_traces(agg, "#000000", x=np.array([1.0]))
    with pytest.raises(ValueError, match="color"):
        band_fill("blue")
    with pytest.raises(ValueError, match="colors"):
        groups_traces([agg], [])
    assert len(groups_traces([agg, agg], ["#000000", "#ffffff"])) == 6
