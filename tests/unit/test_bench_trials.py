"""Pure parts of the side-by-side trials: alternating order, ratio targets, percentiles, filters."""

from __future__ import annotations

import pytest

from bench.common import Sample
from bench.logdirs import LogdirSpec, run_name, tag_names
from bench.servers import probe_runs
from bench.trials import RatioTarget, alternating, expected_runs, filter_patterns, percentile, ratio_of_medians


def test_alternating_is_a_b_a_b() -> None:
    assert alternating(3, ("A", "B")) == [(0, "A"), (0, "B"), (1, "A"), (1, "B"), (2, "A"), (2, "B")]


def test_alternating_gives_every_tool_every_trial() -> None:
    order = alternating(5, ("vizboard", "TensorBoard"))
    assert [t for _, t in order].count("vizboard") == 5
    assert [t for _, t in order].count("TensorBoard") == 5
    assert all(order[i][1] != order[i + 1][1] for i in range(len(order) - 1))


@pytest.mark.parametrize("tools", [(), ("A", "A")])
def test_alternating_rejects_bad_tools(tools: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="tools"):
        alternating(2, tools)


def test_ratio_of_medians_uses_medians() -> None:
    # ours: median 1.0 despite one outlier; theirs: median 4.0
    assert ratio_of_medians(Sample((1.0, 1.0, 50.0)), Sample((4.0, 3.0, 5.0))) == pytest.approx(0.25)


def test_ratio_of_medians_missing_side_is_none() -> None:
    assert ratio_of_medians(Sample(()), Sample((1.0,))) is None
    assert ratio_of_medians(Sample((1.0,)), Sample(())) is None


def test_ratio_target_met_and_missed() -> None:
    target = RatioTarget(0.7)
    assert target.met(Sample((0.69,)), Sample((1.0,))) is True
    assert target.met(Sample((0.7,)), Sample((1.0,))) is True
    assert target.met(Sample((0.71,)), Sample((1.0,))) is False
    assert "MISSED" in target.verdict(Sample((2.0,)), Sample((1.0,)))
    assert "met" in target.verdict(Sample((0.5,)), Sample((1.0,)))


def test_ratio_target_without_data_is_not_a_pass() -> None:
    target = RatioTarget(1.0)
    assert target.met(Sample(()), Sample((1.0,))) is None
    assert "not available" in target.verdict(Sample(()), Sample((1.0,)))
    assert target.text == "vizboard/TensorBoard <= 1"


def test_percentile_interpolates() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([3.0], 95) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_filter_patterns_differ_per_trial_and_keep_a_tenth() -> None:
    runs = [run_name(i) for i in range(200)]
    patterns = filter_patterns(len(runs), 5)
    assert len(set(patterns)) == 5
    kept = [expected_runs(runs, p) for p in patterns]
    assert all(len(k) == 20 for k in kept)
    assert len({tuple(k) for k in kept}) == 5
    assert expected_runs(runs, patterns[3])[0] == "sweep0/run0003"


def test_expected_runs_sorted_search_semantics() -> None:
    assert expected_runs(["b/run1", "a/run1", "c/run2"], r"run1$") == ["a/run1", "b/run1"]


def test_probe_runs_spread_and_ends() -> None:
    runs = [run_name(i) for i in range(1000)]
    probes = probe_runs(runs)
    assert probes[0] == runs[0] and probes[-1] == runs[-1]
    assert len(probes) == 8 and len(set(probes)) == 8
    assert probe_runs(runs[:3]) == runs[:3]


def test_tag_names_fill_sections_evenly() -> None:
    names = tag_names(12, 4)
    assert len(names) == 12 and len(set(names)) == 12
    assert len({n.split("/")[0] for n in names}) == 4
    assert len({n.split("/")[0] for n in tag_names(20, 20)}) == 20


def test_logdir_spec_validates() -> None:
    with pytest.raises(ValueError, match="sections"):
        LogdirSpec(runs=2, tags=3, steps=1, sections=4)
    with pytest.raises(ValueError, match="runs"):
        LogdirSpec(runs=0, tags=3, steps=1, sections=1)
    assert LogdirSpec(1000, 20, 50, 20).label == "1,000 runs x 20 tags x 50 steps"


def test_probe_scripts_are_complete_for_both_dashboards() -> None:
    from bench.ui_probes import OURS_UI, PROBE_JS, TB_UI

    for ui in (OURS_UI, TB_UI):
        js = PROBE_JS[ui.name]
        assert "window.__vbBench" in js
        for placeholder in ("SECTION", "HEAD", "ROWS", "MODE()"):
            assert placeholder not in js, (ui.name, placeholder)
        assert js.count("{") == js.count("}") and js.count("(") == js.count(")")
    assert "data-vb-drawn" in PROBE_JS[OURS_UI.name]
    assert "transferControlToOffscreen" in PROBE_JS[TB_UI.name]


def test_checkbox_selectors_quote_run_names() -> None:
    from bench.ui_probes import OURS_UI, TB_UI

    assert OURS_UI.checkbox_selectors("sweep0/run0003")[0] == '[data-vb-run="sweep0/run0003"] input[type=checkbox]'
    assert '[data-id$="/sweep0/run0003"]' in TB_UI.checkbox_selectors("sweep0/run0003")[0]


def test_count_points_reads_the_full_series_length_not_the_downsampled_columns() -> None:
    from bench.servers import count_points, count_runs

    assert count_points({"num_points": 2000, "step": list(range(1500))}) == 2000
    assert count_points([[0.0, 1, 0.5], [0.1, 2, 0.4]]) == 2
    assert count_points({"step": [1, 2, 3]}) == 3
    assert count_points(None) == 0
    assert count_runs([{"name": "a"}, {"name": "b"}]) == 2
    assert count_runs({"a": {}, "b": {}, "c": {}}) == 3


def test_tensorboard_counts_as_loaded_with_its_default_sample_and_the_last_step() -> None:
    from bench.servers import TENSORBOARD, VIZBOARD

    sample = [[0.0, s, 1.0] for s in range(0, 2000, 2)]  # 1,000 kept of 2,000, the last step missing
    assert not TENSORBOARD.complete(sample, 2000)
    assert TENSORBOARD.complete([*sample[:-1], [0.0, 1999, 1.0]], 2000)
    assert VIZBOARD.complete({"num_points": 2000, "step": list(range(0, 2000, 4)) + [1999]}, 2000)
    assert not VIZBOARD.complete({"num_points": 1999, "step": [1998]}, 2000)
