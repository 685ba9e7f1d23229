"""The benchmark report renderer: ratios, spreads, verdicts and gaps shown honestly."""

from __future__ import annotations

import pytest

from bench.common import Measurement, Sample
from bench.machine import MachineFacts
from bench.report import NotMeasured, format_ratio, format_sample, format_value, format_verdict, preamble, render

FACTS = MachineFacts(
    date="2026-11-22 12:00 UTC",
    cpu_model="Test CPU",
    logical_cores=2,
    physical_cores=2,
    memory_bytes=8 << 30,
    os="Linux-test",
    python="CPython 3.11.7",
    packages={"vizboard": "0.1.0", "tensorboard": "2.21.0"},
    load_average=(0.1, 0.2, 0.3),
)


def _row(line_start: str, text: str) -> str:
    rows = [line for line in text.splitlines() if line.startswith(line_start)]
    assert len(rows) == 1, (line_start, rows)
    return rows[0]


def test_ratio_lower_is_better_ours_wins() -> None:
    assert format_ratio(Sample((1.0, 1.0, 1.0)), Sample((10.0, 12.0, 8.0))) == "**10.0x better**"


def test_ratio_lower_is_better_ours_loses() -> None:
    assert format_ratio(Sample((4.0,)), Sample((2.0,))) == "2.00x worse"


def test_ratio_higher_is_better() -> None:
    assert format_ratio(Sample((300.0,)), Sample((100.0,)), better="higher") == "**3.00x better**"
    assert format_ratio(Sample((100.0,)), Sample((300.0,)), better="higher") == "3.00x worse"


def test_ratio_uses_medians_not_means() -> None:
    # mean of ours would be 34, median is 1: the ratio must follow the median
    assert format_ratio(Sample((1.0, 1.0, 100.0)), Sample((5.0, 5.0, 5.0))) == "**5.00x better**"


def test_ratio_missing_side() -> None:
    assert format_ratio(Sample(()), Sample((1.0,))) == "—"
    assert format_ratio(Sample((1.0,)), None) == "—"


def test_sample_shows_median_spread_and_count_in_one_unit() -> None:
    # 1.2 ms median, spread 0.9 ms .. 2.5 ms, all shown in ms
    assert format_sample(Sample((0.0012, 0.0009, 0.0025)), "s") == "1.20 ms (0.900–2.50, n=3)"


def test_sample_single_and_empty() -> None:
    assert format_sample(Sample((3.0,)), "s") == "3.00 s (n=1)"
    assert format_sample(Sample(()), "s") == "not measured"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.5e-6, "s", "1.50 us"),
        (250.0, "us", "250 us"),
        (2500.0, "us", "2.50 ms"),
        (3 * (1 << 20), "bytes", "3.00 MiB"),
        (1_000_000.0, "points", "1,000,000 points"),
        (0.5, "x", "0.500 x"),
    ],
)
def test_format_value_rescales_times_and_bytes(value: float, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


def test_verdicts() -> None:
    assert "met" in format_verdict(True) and "missed" not in format_verdict(True)
    assert "missed" in format_verdict(False)
    assert format_verdict(None) == "not checked"


def test_render_shows_missed_target_as_missed_and_counts_it() -> None:
    slow = Measurement(
        group="serve",
        figure="flush -> API p95",
        unit="s",
        ours=Sample((0.4, 0.5, 0.6)),
        theirs={"TensorBoard": Sample((4.8, 5.0, 4.6))},
        target="p95 <= 0.25 s",
        met=False,
    )
    text = render([slow], machine=FACTS)
    row = _row("| flush -> API p95", text)
    assert "❌ **missed**" in row
    assert "**9.60x better**" in row  # still better than TensorBoard, and still missed
    assert "0 met, 1 missed" in text
    assert "Missed in this run:" in text and "p95 <= 0.25 s" in text


def test_render_one_row_per_competitor_and_footnotes() -> None:
    m = Measurement(
        group="writer",
        figure="import time",
        unit="s",
        ours=Sample((0.05, 0.06)),
        theirs={"torch.utils.tensorboard": Sample((1.0, 1.1)), "tensorboardX": Sample((0.5,))},
        target=">= 5x faster",
        met=True,
        note="fresh interpreter, torch not preloaded",
    )
    text = render([m], machine=FACTS)
    assert "| import time [1] |" in text
    assert "| ″ | ″ | tensorboardX |" in text
    assert "1. fresh interpreter, torch not preloaded" in text
    assert "1 met, 0 missed" in text


def test_render_groups_in_user_order_and_lists_gaps_and_machine() -> None:
    rows = [
        Measurement("scale", "time to first page", "s", Sample((2.0,))),
        Measurement("writer", "add_scalar", "us", Sample((1.0,))),
    ]
    text = render(
        rows,
        machine=FACTS,
        not_measured=[NotMeasured("loader", "bench/loader.py has not landed yet")],
        header_note="Not a quiet run.",
        preamble=preamble(12),
    )
    assert text.index("### Writing") < text.index("### Scale")
    assert "- loader: not measured: bench/loader.py has not landed yet" in text
    assert "> Not a quiet run." in text
    assert "about 12 min" in text
    assert "| tensorboard | 2.21.0 |" in text
    assert "Test CPU (2 logical, 2 physical cores)" in text
    assert "2026-11-22" in text


def test_render_escapes_pipes_in_names() -> None:
    m = Measurement("loader", "a|b", "s", Sample((1.0,)), theirs={"x|y": Sample((2.0,))})
    text = render([m], machine=FACTS)
    assert "a\\|b" in text and "x\\|y" in text


def test_groups_with_a_suffix_follow_their_module_order() -> None:
    rows = [
        Measurement("scale", "s1", "s", Sample((1.0,))),
        Measurement("zzz", "z1", "s", Sample((1.0,))),
        Measurement("serve: live latency", "l1", "s", Sample((1.0,))),
        Measurement("serve: chart", "c1", "s", Sample((1.0,))),
    ]
    text = render(rows, machine=FACTS)
    heads = [line for line in text.splitlines() if line.startswith("### ")]
    assert heads == ["### serve: live latency", "### serve: chart", "### Scale (many runs and tags)", "### zzz"]


def test_module_failures_are_classified_for_the_exit_status() -> None:
    from bench.__main__ import _classify

    not_landed = ModuleNotFoundError("No module named 'bench.loader'", name="bench.loader")
    assert _classify("loader", not_landed) == ("missing", "bench/loader.py has not landed yet")
    competitor = ModuleNotFoundError("No module named 'tbparse'", name="tbparse")
    assert _classify("loader", competitor)[0] == "missing"
    ours = RuntimeError("vizboard serve exited (1)")
    assert _classify("scale", ours) == ("crash", "RuntimeError: vizboard serve exited (1)")
    broken_import = ImportError("cannot import name 'SummaryWriter' from 'logger'")
    assert _classify("writer", broken_import)[0] == "crash"


def test_only_rejects_unknown_modules(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--quick", "--only", "writer,nope"])
    assert exc.value.code == 2
    assert "unknown module(s) nope" in capsys.readouterr().err


def test_competitor_shown_for_context_gets_no_ratio() -> None:
    m = Measurement("loader", "points kept", "points", Sample((1e6,)),
                    {"Rust (keep all)": Sample((1e6,)), "Rust (default sampling)": Sample((1e4,))},
                    better="higher", no_ratio=("Rust (default sampling)",))
    text = render([m], machine=FACTS)
    context_row = _row("| ″ | ″ | Rust (default sampling)", text)
    assert "no ratio" in context_row and "better" not in context_row
    assert "same" in _row("| points kept", text)


def test_header_states_the_machine_load_at_start_and_end() -> None:
    text = render([], machine=FACTS, load_after=(2.5, 1.0, 0.5))
    header = text.split("## Results")[0]
    assert "0.10, 0.20, 0.30 at start" in header
    assert "2.50, 1.00, 0.50 at end" in header


def test_ui_groups_come_after_scale() -> None:
    rows = [Measurement("ui: 30 runs", "first curve", "s", Sample((1.0,))),
            Measurement("scale", "first page", "s", Sample((1.0,)))]
    text = render(rows, machine=FACTS)
    assert text.index("### Scale") < text.index("### ui: 30 runs")


def test_ui_module_is_known_to_the_runner() -> None:
    from bench.__main__ import MODULES

    assert "ui" in MODULES


def test_update_keeps_older_sections_of_modules_not_rerun_marked_with_their_date() -> None:
    from bench.report import module_of_title, previous_sections

    old = render([Measurement("writer", "add_scalar", "s", Sample((1e-6,))),
                  Measurement("serve: live latency", "flush -> API", "s", Sample((0.01,))),
                  Measurement("ui: 30 runs", "first curve", "s", Sample((1.0,)))],
                 machine=FACTS)
    kept = previous_sections(old, ["writer"])
    assert "2026-11-22 12:00 UTC" in kept and "0.10, 0.20, 0.30" in kept
    assert "#### Writing (training process)" in kept and "add_scalar" in kept
    assert "flush -> API" not in kept and "first curve" not in kept
    assert previous_sections(old, ["loader"]) == ""
    assert module_of_title("serve: live latency") == "serve"
    assert module_of_title("ui: 1,000 runs x 20 tags x 50 steps") == "ui"
    assert module_of_title("Not measured") is None
    new = render([Measurement("ui: 30 runs", "first curve", "s", Sample((0.5,)))], machine=FACTS, kept=kept)
    assert new.index("### ui: 30 runs") < new.index("### Kept from earlier runs")
    again = previous_sections(new, ["writer"])  # a second update keeps the first date
    assert "2026-11-22 12:00 UTC" in again and "add_scalar" in again and again.count("#### Writing") == 1


def test_update_keeps_every_module_it_did_not_rerun() -> None:
    """Every module the runner knows is kept by an update that does not rerun it (the hostile section
    was once dropped: its group was missing from GROUP_ORDER)."""
    from bench.__main__ import MODULES
    from bench.report import previous_sections

    old = render([Measurement(m, f"figure of {m}", "s", Sample((1.0,))) for m in MODULES], machine=FACTS)
    for m in MODULES:
        others = [o for o in MODULES if o != m]
        kept = previous_sections(old, others)
        assert f"figure of {m}" not in kept
        assert all(f"figure of {o}" in kept for o in others), (m, kept)
