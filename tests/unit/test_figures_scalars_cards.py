"""Scalars tab logic without a browser: card index (tags, add_scalars charts, custom layouts),
URL state codecs, relayout parsing, run selection, smoothing cache."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.fake_provider import FakeProvider
from vizboard.components.run_selector import resolve_selection
from vizboard.components.scalar_index import OPEN_SECTIONS, ScalarIndex, build_sections, compile_filter
from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.components.url_state import decode_query, encode_query, float_param, list_param, run_state_param, text_param
from vizboard.dashboards.scalars import parse_relayout, parse_y_relayout
from vizboard.data.models import ChartLayout, Kind, ScalarSeries, TagInfo


def _tag(run, tag, chart=None):
    return TagInfo(run, tag, Kind.SCALARS, "scalars", 10, 1, chart=chart)


def test_sections_group_by_prefix_with_one_card_per_tag():
    tags = [_tag(r, t) for r in ("a", "b") for t in ("loss/train", "loss/val", "acc", "lr/group0")]
    secs = build_sections(tags, [], ["a", "b"])
    assert [s.name for s in secs] == ["acc", "loss", "lr"]
    loss = secs[1]
    assert [c.title for c in loss.cards] == ["loss/train", "loss/val"]
    assert [line[:2] for line in loss.cards[0].lines] == [("a", "loss/train"), ("b", "loss/train")]
    # only selected runs draw lines; cards keep stable keys
    secs_a = build_sections(tags, [], ["a"])
    assert [line[0] for line in secs_a[1].cards[0].lines] == ["a"]
    assert secs_a[1].cards[0].key == loss.cards[0].key


def test_add_scalars_tags_merge_into_one_chart_and_layout_duplicates_are_skipped():
    tags = [_tag("a", "losses/train", chart="losses"), _tag("a", "losses/val", chart="losses"),
            _tag("b", "losses/train", chart="losses")]
    layouts = [ChartLayout("", "losses", ("losses/.*",))]  # what the provider reports for the group
    secs = build_sections(tags, layouts, ["a", "b"])
    assert len(secs) == 1 and len(secs[0].cards) == 1
    card = secs[0].cards[0]
    assert card.kind == "chart" and card.title == "losses"
    assert [lbl for _, _, lbl in card.lines] == ["a: train", "a: val", "b: train"]


def test_custom_scalars_layouts_come_first_and_match_regexes_across_runs():
    tags = [_tag(r, t) for r in ("a", "b") for t in ("loss/train", "loss/val", "acc")]
    layouts = [ChartLayout("Overview", "all losses", ("loss/.*",)),
               ChartLayout("Overview", "bad regex", ("(",)),
               ChartLayout("Hidden", "acc", ("acc",), closed=True)]
    secs = build_sections(tags, layouts, ["a", "b"])
    assert [s.name for s in secs[:2]] == ["Custom: Overview", "Custom: Hidden"]
    losses = secs[0].cards[0]
    assert {(r, t) for r, t, _ in losses.lines} == {(r, t) for r in "ab" for t in ("loss/train", "loss/val")}
    assert secs[0].cards[1].lines == ()  # an invalid regex matches literally, not crash
    assert secs[1].open_by_default is False
    margin = build_sections(tags, [ChartLayout("M", "band", margin=(("acc", "loss/val", "loss/train"),))], ["a"])
    assert {t for _, t, _ in margin[0].cards[0].lines} == {"acc", "loss/val", "loss/train"}


def test_only_the_first_sections_start_open_and_the_tag_filter_applies():
    tags = [_tag("a", f"s{i}/x") for i in range(10)]
    secs = build_sections(tags, [], ["a"])
    assert [s.open_by_default for s in secs] == [True] * OPEN_SECTIONS + [False] * (10 - OPEN_SECTIONS)
    assert [s.name for s in build_sections(tags, [], ["a"], "^s[12]/")] == ["s1", "s2"]
    assert compile_filter("[")("a[b")  # invalid regex: literal substring
    assert compile_filter("")("anything")


def test_scalar_index_caches_per_version():
    p = FakeProvider()
    p.add_scalars("a", "x", [0], [1.0])
    idx = ScalarIndex(p)
    first = idx.sections(["a"], "")
    assert idx.sections(["a"], "") is first
    p.add_scalars("a", "y", [0], [1.0])
    assert [s.name for s in idx.sections(["a"], "")] == ["x", "y"]
    key = first[0].cards[0].key
    assert idx.card(key, ["a"], "").title == "x" and idx.card("nope", ["a"], "") is None


def test_scalar_index_cache_is_bounded_in_bytes():
    """Issue 16: the sections cache is bounded by the bytes it holds, not by a count of selections."""
    p = FakeProvider()
    runs = [f"r{i:04d}" for i in range(300)]
    for r in runs:
        p.add_scalars(r, "x", [0], [1.0])
    budget = 200 << 10
    idx = ScalarIndex(p, max_bytes=budget)
    for k in range(30):  # each answer holds 300 lines of ~3 strings
        sel = runs[k:]
        assert [line[0] for line in idx.sections(sel, "")[0].cards[0].lines] == sel
    assert 0 < idx.cache_bytes <= budget


def test_url_state_round_trip_and_defaults_left_out():
    params = [text_param("tab", "tabs", default="scalars", allowed=["scalars", "images"]),
              text_param("tag_re", "f"), float_param("w", "w", 0.6, 0.0, 0.999),
              list_param("opt", "o", allowed=["log_y", "log_x"]), run_state_param("rs")]
    values = ["images", "loss|acc", 0.9, ["log_y"], {"mode": "list", "on": ["b", "a&b=c"]}]
    q = encode_query(params, values)
    assert decode_query(params, q) == ["images", "loss|acc", 0.9, ["log_y"], {"mode": "list", "on": ["a&b=c", "b"]}]
    assert encode_query(params, ["scalars", "", 0.6, [], {"mode": "all", "off": []}]) == ""
    # junk in the URL falls back to defaults or is clamped; the token never leaks into the view
    junk = decode_query(params, "?tab=evil&w=7&opt=rm&runs=none&token=x")
    assert junk == ["scalars", "", 0.999, [], {"mode": "list", "on": []}]
    assert decode_query(params, "?run_off=x")[-1] == {"mode": "all", "off": ["x"]}


def test_run_selection_modes():
    runs = ["a", "b", "c"]
    assert resolve_selection(runs, {"mode": "all", "off": ["b"]}, "") == (runs, ["a", "c"])
    assert resolve_selection(runs, {"mode": "list", "on": ["b"]}, "") == (runs, ["b"])
    assert resolve_selection(runs, None, "^[ab]$") == (["a", "b"], ["a", "b"])


@pytest.mark.parametrize("event,x_axis,log_x,current,want", [
    ({"xaxis.range[0]": 10, "xaxis.range[1]": 5}, "step", False, None, [5.0, 10.0]),
    ({"xaxis.range": [1, 2]}, "step", True, None, [10.0, 100.0]),
    ({"xaxis.range[0]": "2023-11-14 22:13:20", "xaxis.range[1]": "2023-11-14 22:13:30.5"}, "wall_time", False,
     None, [1700000000.0, 1700000010.5]),
    ({"xaxis.autorange": True}, "step", False, [1, 2], None),
    ({"autosize": True}, "step", False, [1, 2], [1, 2]),
    ({"yaxis.range[0]": 0, "yaxis.range[1]": 1}, "step", False, [1, 2], [1, 2]),
    (None, "step", False, [3, 4], [3, 4]),
])
def test_parse_relayout(event, x_axis, log_x, current, want):
    assert parse_relayout(event, x_axis, log_x, current) == want


def test_parse_y_relayout():
    assert parse_y_relayout({"yaxis.range[0]": 0, "yaxis.range[1]": 2}, None) == [0.0, 2.0]
    assert parse_y_relayout({"yaxis.autorange": True}, [0, 1]) is None
    assert parse_y_relayout({"xaxis.range": [0, 1]}, [0, 1]) == [0, 1]


def test_smoothing_cache_is_keyed_by_version_and_bounded():
    calls = []

    def smooth(s, kind, w):
        calls.append((s.version, kind, w))
        return np.asarray(s.value) * 2

    cache = SmoothingCache(smooth, max_bytes=3 * 8 * 100)
    v = np.arange(100, dtype=np.float64)
    s1 = ScalarSeries("r", "t", np.arange(100), v, v, 1)
    s2 = ScalarSeries("r", "t", np.arange(100), v, v, 2)
    cache.get(s1, "ema", 0.6)
    cache.get(s1, "ema", 0.6)
    assert len(calls) == 1
    cache.get(s2, "ema", 0.6)
    assert len(calls) == 2
    assert cache.get(s1, "none", 0.6) is None
    for w in (0.1, 0.2, 0.3, 0.4):
        cache.get(s1, "ema", w)
    assert cache.nbytes <= 3 * 8 * 100
