"""Markdown rendering of a benchmark run: comparison tables, target verdicts, gaps and the machine."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.common import Measurement, Sample, ratio
from bench.machine import MachineFacts

__all__ = [
    "NotMeasured",
    "GROUP_ORDER",
    "format_value",
    "format_sample",
    "format_ratio",
    "format_verdict",
    "load_line",
    "module_of_title",
    "previous_sections",
    "ratio_cell",
    "preamble",
    "render",
]

GROUP_ORDER: tuple[str, ...] = ("writer", "loader", "serve", "scale", "hostile", "groups", "ui")
"""Groups are shown in this order (the order a user meets them), matched on the text before any
``:``; other groups follow in the order the modules returned them."""

_GROUP_TITLES = {
    "writer": "Writing (training process)",
    "loader": "Loading event files",
    "serve": "Serving (live latency, chart requests)",
    "scale": "Scale (many runs and tags)",
    "ui": "In the browser (what a user feels)",
}
_NO_RATIO = "no ratio (not the same thing)"


@dataclass(frozen=True)
class NotMeasured:
    """A benchmark module (or a part of one) that produced no figures, and why (one line)."""

    module: str
    reason: str


# ---------------------------------------------------------------------------------------------
# Number formatting

_TIME_SCALES = (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9))
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_BYTE_SCALES = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("bytes", 1))
_BYTE_UNITS = {"bytes": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def _sig(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, no exponent for everyday magnitudes."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= 12 or magnitude < -4:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    return text


def _scale_for(value: float, unit: str) -> tuple[str, float]:
    """Pick a display unit for ``value`` (given in ``unit``); returns (display unit, divisor)."""
    if value == 0 or not math.isfinite(value):
        return unit, 1.0
    if unit in _TIME_UNITS:
        seconds = abs(value) * _TIME_UNITS[unit]
        for name, size in _TIME_SCALES:
            if seconds >= size or name == "ns":
                return name, size / _TIME_UNITS[unit]
    if unit in _BYTE_UNITS:
        nbytes = abs(value) * _BYTE_UNITS[unit]
        for name, size in _BYTE_SCALES:
            if nbytes >= size or name == "bytes":
                return name, size / _BYTE_UNITS[unit]
    return unit, 1.0


def format_value(value: float, unit: str, *, like: float | None = None) -> str:
    """``value`` in ``unit`` as text, rescaling seconds and bytes to a readable unit.

    ``like`` picks the display unit from another value (so a spread reads in the median's unit).
    """
    shown, divisor = _scale_for(value if like is None else like, unit)
    number = _sig(value / divisor)
    return f"{number} {shown}".rstrip() if shown else number


def format_sample(sample: Sample | None, unit: str) -> str:
    """Median with its min–max spread and repetition count, e.g. ``1.20 ms (1.10–1.40 ms, n=5)``."""
    if sample is None or not sample.values:
        return "not measured"
    median = sample.median
    if len(sample.values) == 1:
        return f"{format_value(median, unit)} (n=1)"
    low, high = sample.spread
    shown, divisor = _scale_for(median, unit)
    spread = f"{_sig(low / divisor)}–{_sig(high / divisor)}"
    return f"{format_value(median, unit)} ({spread}, n={len(sample.values)})"


def format_ratio(ours: Sample | None, theirs: Sample | None, better: str = "lower") -> str:
    """vizboard against a competitor from the medians: ``12.3x better`` or ``2.0x worse``."""
    if ours is None or theirs is None or not ours.values or not theirs.values:
        return "—"
    r = ratio(ours, theirs, better)
    if math.isnan(r):
        return "—"
    if math.isinf(r):
        return "∞ better" if r > 0 else "—"
    if r == 0:
        return "∞ worse"
    if abs(r - 1) < 0.005:
        return "same"
    if r > 1:
        return f"**{_sig(r)}x better**"
    return f"{_sig(1 / r)}x worse"


def ratio_cell(m: Measurement, competitor: str, theirs: Sample | None) -> str:
    """The ratio column of one competitor row: none for a competitor shown only for context."""
    if competitor in m.no_ratio:
        return _NO_RATIO
    return format_ratio(m.ours, theirs, m.better)


def format_verdict(met: bool | None) -> str:
    """Whether this run met the DESIGN.md target: a missed target is shown as missed."""
    if met is None:
        return "not checked"
    return "✅ met" if met else "❌ **missed**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------------------------------
# Sections

_HOW_TO = """\
## How to reproduce

```bash
python -m bench                 # every benchmark; writes docs/benchmarks.md{duration}
python -m bench --quick         # CI-sized smoke run (a few minutes); writes a temporary file
python -m bench --only scale --out /tmp/scale.md
python -m bench.<name>          # one module alone, printing its table (writer, loader, serve, scale, ui)
```

Each module runs in a fresh Python process, one after the other, so import times and memory
are not shared between them; every competitor runs in the same session on the same machine as
vizboard, and every server binds 127.0.0.1 and is stopped by its PID. Run it on a quiet machine:
the report states how busy the machine was. Budgets come from DESIGN.md §5; a missed budget is
shown as missed.

## What the figures mean

- **Writing** (vizboard's `logger.SummaryWriter` against `torch.utils.tensorboard` and
  tensorboardX, `bench/writer.py`): the median time one `add_scalar` call holds the *training*
  thread; the total CPU time per logged scalar, writer thread, flush and close included (what
  logging really costs the machine); `add_histogram` of a 1M-element tensor and `add_image` of a
  3x256x256 image, the call alone and the call plus `flush()`; the time of a cold `import` in a
  fresh interpreter (torch not preloaded).
- **Loading** (vizboard's reader against TensorBoard's Python `EventAccumulator`, its Rust data
  server and tbparse, all told to keep every point, `bench/loader.py`): wall and CPU seconds of a
  cold load of 1M scalar events in one run and of 100 runs x 10 tags x 1k steps; how many points
  each keeps; the peak resident memory of the loading process; vizboard's resident bytes per
  stored point; and how soon an appended, fsynced record is visible in vizboard's store
  (watchdog and polling).
- **Serving** (`bench/serve.py`; TensorBoard at its default reload interval and at
  `--reload_interval 1`, all servers up at once and the points alternating between them): live
  latency from the writer's `flush()` until the point is in the JSON API, and until it is drawn
  on the page in headless Chromium (p50 and p95 over many flushes); the server work of an idle
  open page; for one scalar chart over 10 runs x 1M points, the server time of the chart's data
  (the page's `/api/page/series` route, or the Dash card callback on older pages) on first view
  and on a live update where every run got a point (both must recompute smoothing; budget
  0.3 s), asked again with no new data (cached), and zoomed; the bytes sent and the points per
  trace.
- **Scale** (1,000 runs x 20 tags x 50 steps written by tensorboardX, against TensorBoard on the
  same logdir, `bench/scale.py`): fresh server processes alternating vizboard / TensorBoard;
  seconds from launching the server until the first page answers and its run list holds all
  1,000 runs (TensorBoard: `/data/runs`), and until every run serves every step; the resident
  memory of the server's process tree after loading, and how much it grows over 100 rounds of
  the same requests on both servers (memory should grow with data, not with requests).
- **UI** (`bench/ui.py`; headless Chromium, vizboard's Scalars page against TensorBoard's Time
  Series on the same tensorboardX logdirs, both servers up, trials alternating vizboard /
  TensorBoard in fresh browser contexts): open the page until the first curve is drawn; type a
  run regex until every chart in view shows only the matching runs; tick one run until its line
  is drawn in every chart in view; scroll to each next section (opening it when collapsed) until
  its charts in view are drawn; and, on the 1,000-run logdir, fresh launches until every run's
  data is served. "Drawn" means painted: vizboard's card carries `data-vb-drawn` once Plotly's
  draw promise resolved (pages without that hook: every Plotly trace rendered); TensorBoard's
  chart worker reported a finished redraw after it received the series and their visibility
  (`bench/ui_probes.py` says how this is observed). Targets are ratios of medians,
  vizboard / TensorBoard.
"""


def preamble(minutes: int | None = None) -> str:
    """The "how to reproduce" and "what the figures mean" sections; ``minutes`` is a full run's length."""
    duration = f" (about {minutes} min on the machine below)" if minutes else ""
    return _HOW_TO.format(duration=duration)


def _ordered_groups(measurements: Sequence[Measurement]) -> list[str]:
    """Groups by GROUP_ORDER of their prefix (``"serve: live latency"`` -> ``serve``), then as returned."""
    present = list(dict.fromkeys(m.group for m in measurements))

    def key(group: str) -> tuple[int, int]:
        prefix = group.split(":", 1)[0].strip()
        rank = GROUP_ORDER.index(prefix) if prefix in GROUP_ORDER else len(GROUP_ORDER)
        return (rank, present.index(group))

    return sorted(present, key=key)


def _group_table(rows: Sequence[Measurement]) -> list[str]:
    lines = [
        "| figure | vizboard | competitor | competitor's figure | vizboard vs competitor | target | met? |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes: list[str] = []
    for m in rows:
        figure = _cell(m.figure) + (" (higher is better)" if m.better == "higher" else "")
        if m.note:
            notes.append(m.note)
            figure += f" [{len(notes)}]"
        competitors: list[tuple[str, Sample | None]] = list(m.theirs.items()) or [("—", None)]
        for i, (name, theirs) in enumerate(competitors):
            first = i == 0
            lines.append(
                "| "
                + " | ".join(
                    (
                        figure if first else "″",
                        format_sample(m.ours, m.unit) if first else "″",
                        _cell(name),
                        format_sample(theirs, m.unit) if theirs is not None else "—",
                        ratio_cell(m, name, theirs),
                        _cell(m.target or "—") if first else "″",
                        format_verdict(m.met) if first else "″",
                    )
                )
                + " |"
            )
    if notes:
        lines.append("")
        lines.extend(f"{i}. {_cell(note)}" for i, note in enumerate(notes, 1))
    return lines


def _summary(measurements: Sequence[Measurement], not_measured: Sequence[NotMeasured]) -> list[str]:
    checked = [m for m in measurements if m.met is not None]
    met = [m for m in checked if m.met]
    missed = [m for m in checked if not m.met]
    lines = [
        f"**Targets (DESIGN.md §5): {len(met)} met, {len(missed)} missed, "
        f"{len(measurements) - len(checked)} figures without a checkable target, "
        f"{len(not_measured)} benchmark parts not measured.**",
    ]
    if missed:
        lines.append("")
        lines.append("Missed in this run:")
        lines.extend(
            f"- {_cell(m.group)} / {_cell(m.figure)}: {format_sample(m.ours, m.unit)} against target "
            f"{_cell(m.target or '?')}"
            for m in missed
        )
    return lines


def _machine_section(machine: MachineFacts, load_after: tuple[float, float, float] | None) -> list[str]:
    memory = format_value(machine.memory_bytes, "bytes") if machine.memory_bytes else "unknown"
    cores = f"{machine.logical_cores} logical"
    if machine.physical_cores:
        cores += f", {machine.physical_cores} physical"
    lines = [
        "## Machine",
        "",
        f"- Date: {machine.date}",
        f"- CPU: {machine.cpu_model} ({cores} cores)",
        f"- Memory: {memory}",
        f"- OS: {machine.os}",
        f"- Python: {machine.python}",
    ]
    if machine.load_average is not None:
        before = ", ".join(f"{x:.2f}" for x in machine.load_average)
        text = f"- Load average (1/5/15 min) at start: {before}"
        if load_after is not None:
            text += "; at end: " + ", ".join(f"{x:.2f}" for x in load_after)
        lines.append(text)
    lines += ["", "| package | version |", "| --- | --- |"]
    lines += [f"| {_cell(name)} | {_cell(version)} |" for name, version in machine.packages.items()]
    return lines


def load_line(machine: MachineFacts, load_after: tuple[float, float, float] | None) -> str:
    """The machine's load during the run, for the header (empty when the OS does not report it)."""
    if machine.load_average is None:
        return ""
    text = (f"Machine load: load average (1/5/15 min) {', '.join(f'{x:.2f}' for x in machine.load_average)} "
            f"at start")
    if load_after is not None:
        text += f", {', '.join(f'{x:.2f}' for x in load_after)} at end"
    return text + f", on {machine.logical_cores} logical cores."


def module_of_title(title: str) -> str | None:
    """Which module a report section (``### title``) belongs to, or None (e.g. "Not measured")."""
    for module, text in _GROUP_TITLES.items():
        if title == text:
            return module
    prefix = title.split(":", 1)[0].strip()
    return prefix if prefix in GROUP_ORDER else None


_KEPT_TITLE = "Kept from earlier runs (not rerun here)"
_KEPT_RE = re.compile(r"^These figures were measured on (.+?) and copied unchanged", re.MULTILINE)


def previous_sections(text: str, modules: Iterable[str]) -> str:
    """The result sections of ``modules`` in an earlier report ``text``, verbatim, each under the
    date (and load) of the run that measured it; empty when there are none.

    Lets ``python -m bench --only X --update`` rerun some modules and keep the figures of the
    others, clearly marked as older, instead of dropping them. Sections the earlier report had
    itself kept keep their own, older date.
    """
    wanted = set(modules)
    results = text.split("## Results", 1)[-1].split("\n## Machine", 1)
    body = results[0]
    when = re.search(r"^Run on ([^,.]+)", body, re.MULTILINE)
    load = re.search(r"^- Load average \(1/5/15 min\) at start: (.+)$", results[1] if len(results) > 1 else "",
                     re.MULTILINE)
    run_date = (when.group(1) if when else "an earlier date") + (f" (load average at start: {load.group(1)})"
                                                                 if load else "")
    groups: dict[str, list[str]] = {}
    for chunk in body.split("\n### ")[1:]:
        title = chunk.split("\n", 1)[0].strip()
        if title.startswith("Kept from"):
            older = _KEPT_RE.findall(chunk)
            for k, part in enumerate(re.split(r"^These figures were measured on .*$", chunk, flags=re.MULTILINE)[1:]):
                for sub in part.split("\n#### ")[1:]:
                    if module_of_title(sub.split("\n", 1)[0].strip()) in wanted:
                        groups.setdefault(older[k] if k < len(older) else "an earlier date", []).append(
                            "#### " + sub.rstrip())
        elif module_of_title(title) in wanted:
            groups.setdefault(run_date, []).append("#### " + chunk.rstrip())
    if not groups:
        return ""
    out = [f"### {_KEPT_TITLE}"]
    for date, chunks in groups.items():
        out.append(f"These figures were measured on {date} and copied unchanged from that report; they were "
                   "not measured in this run.")
        out += chunks
    return "\n\n".join(out)


def render(
    measurements: Iterable[Measurement],
    *,
    machine: MachineFacts,
    not_measured: Sequence[NotMeasured] = (),
    preamble: str = "",
    header_note: str = "",
    duration_s: float | None = None,
    quick: bool = False,
    load_after: tuple[float, float, float] | None = None,
    kept: str = "",
) -> str:
    """The whole Markdown document for one run.

    ``preamble`` (how to reproduce, what figures mean) goes first; ``header_note`` is a
    warning shown right under the title (e.g. the machine was busy). ``duration_s`` is the
    wall time of the whole run in seconds. ``kept`` is a block of older sections
    (:func:`previous_sections`) shown after this run's tables.
    """
    rows = list(measurements)
    out: list[str] = ["# vizboard benchmarks", ""]
    load = load_line(machine, load_after)
    if header_note or load:
        lines = [x for x in (header_note, load) if x]
        out += [f"> {line}" if line else ">" for line in "\n\n".join(lines).splitlines()] + [""]
    if quick:
        out += ["> **Quick (smoke) run**: CI-sized inputs and few repetitions; not a published comparison.", ""]
    if preamble:
        out += [preamble.rstrip(), ""]
    out += ["## Results", ""]
    when = f"Run on {machine.date}"
    if duration_s is not None:
        when += f", took {duration_s / 60:.1f} min"
    out += [
        when + ". Each cell is the median with the min–max spread and the number of repetitions (n); "
        "every competitor ran in the same session on the same machine. "
        "\"x better\" compares medians in the direction that wins for that figure.",
        "",
    ]
    out += _summary(rows, not_measured) + [""]
    for group in _ordered_groups(rows):
        out += [f"### {_GROUP_TITLES.get(group, group)}", ""]
        out += _group_table([m for m in rows if m.group == group]) + [""]
    if kept:
        out += [kept.rstrip(), ""]
    if not_measured:
        out += ["### Not measured", ""]
        out += [f"- {_cell(item.module)}: not measured: {_cell(item.reason)}" for item in not_measured]
        out += [""]
    out += _machine_section(machine, load_after)
    return "\n".join(out).rstrip() + "\n"
