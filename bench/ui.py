"""What a user feels: vizboard's Scalars page against TensorBoard's Time Series, in Chromium.

``python -m bench.ui [--quick]``. For each logdir (written by tensorboardX, see
:mod:`bench.logdirs`) both servers run side by side on the same files; trials alternate
vizboard, TensorBoard, vizboard, TensorBoard ... each in a fresh browser context (empty cache).
One trial on one dashboard:

1. **open -> first curve**: from ``page.goto`` until a chart has drawn at least one run's line.
2. **run regex**: fill the run filter with a regex keeping about a tenth of the runs; time until
   every chart in view shows exactly the matching runs.
3. **tick one run**: untick the first matching run (untimed, wait until it is gone), tick it
   again; time until every chart in view shows it again.
4. **scroll sections** (with the filter still on): for each next section (up to 19), scroll its
   header to the top and click it when it is collapsed; time until every chart of it in view shows
   the filtered runs. One sample per section.

"Drawn" is defined per dashboard in :mod:`bench.ui_probes` (Plotly's draw promise resolved /
TensorBoard's chart worker finished a redraw after receiving the new series). Separately, on the
1,000-run logdir each server is launched fresh (alternating, n trials) and timed until every run
serves all its points (:func:`bench.servers.launch_until_served`). Last, the 10,000-run run list:
open -> list rendered, filter typed -> list updated (:mod:`bench.ui_runlist`).

Fairness notes (also printed in the report): Chromium runs with ``--disable-gpu``, so
TensorBoard's WebGL charts render on SwiftShader, which is slower than a GPU; vizboard's Plotly
SVG lines use no GPU. Both servers stay up through all trials of a logdir. Each dashboard runs
at its defaults (smoothing 0.6 on both).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Measurement, Sample
from bench.logdirs import LogdirSpec, ensure_logdir, run_name, tag_names
from bench.servers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    OURS,
    TB,
    TENSORBOARD,
    VIZBOARD,
    Flavor,
    PartialResults,
    Server,
    free_port,
    launch_until_served,
    ours_landed,
    tensorboard_missing,
)
from bench.trials import RatioTarget, alternating, expected_runs, filter_patterns
from bench.ui_probes import OURS_UI, PROBE_JS, TB_UI, UiAdapter
from bench.ui_runlist import RUNLIST, runlist_rows

__all__ = ["UiCase", "UiConfig", "QUICK", "FULL", "run"]

FIRST_CURVE = RatioTarget(0.7)
FILTER = RatioTarget(0.5)
ALL_DATA = RatioTarget(1.0)
_TOOLS = (OURS, TB)
_ADAPTERS = {OURS: OURS_UI, TB: TB_UI}
_FLAVORS = {OURS: VIZBOARD, TB: TENSORBOARD}


@dataclass(frozen=True)
class UiCase:
    """One logdir, how many alternating browser trials run on it, sections scrolled per trial, and
    its time budget (s): a next trial pair starts only if the last pair's duration still fits."""

    spec: LogdirSpec
    trials: int
    scroll_sections: int
    budget_s: float


@dataclass(frozen=True)
class UiConfig:
    """The cases, the launch-to-data logdir and its trial count, and per-wait timeouts (s)."""

    cases: tuple[UiCase, ...]
    launch: LogdirSpec
    launch_trials: int
    wait_s: float
    start_s: float
    budget_s: float
    runlist_trials: int = 3


FULL = UiConfig(
    cases=(UiCase(LogdirSpec(30, 12, 2000, 4), 5, 3, 300), UiCase(LogdirSpec(200, 20, 50, 20), 5, 10, 420),
           UiCase(LogdirSpec(1000, 20, 50, 20), 5, 0, 660)),
    launch=LogdirSpec(1000, 20, 50, 20), launch_trials=5, wait_s=240, start_s=600, budget_s=200)
QUICK = UiConfig(
    cases=(UiCase(LogdirSpec(30, 12, 200, 4), 1, 3, 150), UiCase(LogdirSpec(50, 20, 20, 20), 1, 3, 150)),
    launch=LogdirSpec(200, 20, 10, 20), launch_trials=1, wait_s=90, start_s=180, budget_s=60, runlist_trials=1)
"""Quick: one trial per tool and case (a smoke run, not a comparison). Budgets (per case, and
``budget_s`` for the launches) stop starting new trials once spent, so a busy machine yields
fewer trials, reported as such, instead of a killed module."""


class _Trial:
    """One dashboard page in a fresh browser context; each method times one user action."""

    def __init__(self, browser: Any, ui: UiAdapter, base: str, wait_s: float) -> None:
        self.ui = ui
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(PROBE_JS[ui.name])
        self.page = self.context.new_page()
        self.page.set_default_timeout(wait_s * 1000)
        self.base = base
        self.clicked_select_all = False

    def close(self) -> None:
        self.context.close()

    def _until(self, js: str, arg: object, what: str) -> None:
        try:
            self.page.wait_for_function(js, arg=arg, polling="raf")
        except Exception as exc:
            state = self.page.evaluate("() => window.__vbBench && window.__vbBench.visibleState()")
            shown = [None if s is None else len(s) for s in (state or [])]
            raise TimeoutError(f"{self.ui.name}: {what} not reached; charts in view show runs: {shown}") from exc

    def open(self, select_all: bool) -> float:
        """Seconds from navigation until a chart has drawn a run's line. With ``select_all``, a run
        list that shows no ticked run gets its select-all box clicked (inside the timed span), as a
        user must do in TensorBoard over 500 runs (it ticks every run by default only up to 500)."""
        start = time.perf_counter()
        self.page.goto(self.base + self.ui.path, wait_until="commit")
        if select_all:
            self._until("() => window.__vbBench && (window.__vbBench.firstCurve() || window.__vbBench.noneSelected())",
                        None, "first curve drawn or an unticked run list shown")
            if self.page.evaluate("() => window.__vbBench.noneSelected()"):
                self.page.locator(self.ui.select_all_css).first.click()
                self.clicked_select_all = True
        self._until("() => window.__vbBench && window.__vbBench.firstCurve()", None, "first curve drawn")
        return time.perf_counter() - start

    def settle(self, expected: list[str]) -> None:
        self._until("e => window.__vbBench.visibleDrawn(e)", expected, f"every chart in view drawn ({len(expected)} runs)")

    def mode(self) -> str:
        return str(self.page.evaluate("() => window.__vbBench.mode()"))

    def filter(self, pattern: str, expected: list[str]) -> float:
        box = self.page.locator(self.ui.filter_css).first
        box.wait_for()
        start = time.perf_counter()
        box.fill(pattern)
        box.press("End")  # a key event too: TensorBoard filters on keyup
        self._until("e => window.__vbBench.visibleDrawn(e)", expected, f"filter {pattern!r} -> {len(expected)} runs")
        return time.perf_counter() - start

    def _checkbox(self, run: str) -> Any:
        for css in self.ui.checkbox_selectors(run):
            loc = self.page.locator(css)
            if loc.count():
                return loc.first
        raise LookupError(f"{self.ui.name}: no checkbox for run {run!r} in the run list")

    def tick(self, run: str, expected: list[str]) -> float:
        box = self._checkbox(run)
        box.click()
        self._until("e => window.__vbBench.visibleDrawn(e)", [r for r in expected if r != run],
                    f"run {run!r} unticked")
        box = self._checkbox(run)
        start = time.perf_counter()
        box.click()
        self._until("e => window.__vbBench.visibleDrawn(e)", expected, f"run {run!r} ticked")
        return time.perf_counter() - start

    def scroll(self, sections: int, expected: list[str]) -> list[float]:
        total = int(self.page.evaluate("() => window.__vbBench.sectionCount()"))
        out = []
        for k in range(1, min(total, sections + 1)):
            start = time.perf_counter()
            self.page.evaluate("k => window.__vbBench.openSection(k)", k)
            try:
                self.page.wait_for_function("([k, e]) => window.__vbBench.sectionDrawn(k, e)", arg=[k, expected],
                                            polling="raf")
            except Exception as exc:
                raise TimeoutError(f"{self.ui.name}: section {k} of {total} never drawn") from exc
            out.append(time.perf_counter() - start)
        return out


@dataclass
class _CaseResult:
    samples: dict[tuple[str, str], list[float]]
    errors: dict[tuple[str, str], str]
    modes: dict[str, str]
    cut: str = ""
    clicked: set[str] = field(default_factory=set)


def _browser_case(case: UiCase, logdir: Path, cfg: UiConfig, work: Path, skip: dict[str, str]) -> _CaseResult:
    from playwright.sync_api import sync_playwright

    runs = [run_name(i) for i in range(case.spec.runs)]
    tag = tag_names(case.spec.tags, case.spec.sections)[-1]
    res = _CaseResult({}, {}, {})
    servers: dict[str, Server] = {}
    patterns = filter_patterns(len(runs), case.trials)
    try:
        for tool in _TOOLS:
            if tool in skip:
                continue
            flavor = _FLAVORS[tool]
            port = free_port()
            servers[tool] = Server(tool, flavor.command(logdir, port), port, work / f"ui-{tool}-{port}.log")
        for server in servers.values():  # start both, then wait until both have loaded (not timed)
            server.start()
        for tool, server in list(servers.items()):
            try:
                launch_wait(server, _FLAVORS[tool], runs, tag, case.spec.steps, cfg.start_s)
            except Exception as exc:  # noqa: BLE001 - recorded; the other tool still runs
                res.errors[(tool, "server")] = f"{type(exc).__name__}: {str(exc)[:300]}"
                server.stop()
                del servers[tool]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                deadline = time.perf_counter() + case.budget_s
                pair_start, last_pair = time.perf_counter(), 0.0
                for k, tool in alternating(case.trials, _TOOLS):
                    if tool not in servers:
                        continue
                    if tool == _TOOLS[0] and k > 0:
                        now = time.perf_counter()
                        last_pair, pair_start = now - pair_start, now
                        if now + last_pair > deadline:
                            res.cut = (f"time budget ({case.budget_s:.0f} s) spent: stopped after {k} of "
                                       f"{case.trials} trials")
                            break
                    _one_trial(browser, tool, servers[tool].base, case, runs, patterns[k], cfg, res)
            finally:
                browser.close()
    finally:
        for server in servers.values():
            server.stop()
    return res


def launch_wait(server: Server, flavor: Flavor, runs: list[str], tag: str, steps: int, timeout_s: float) -> None:
    """Block until ``server`` lists every run and serves every step of ``tag`` in its last run."""
    from bench.servers import count_runs, get_json, wait_until

    deadline = time.perf_counter() + timeout_s
    wait_until(lambda: count_runs(get_json(server.base + flavor.runs_path)) >= len(runs), server, deadline,
               "run list complete")
    wait_until(lambda: flavor.complete(get_json(server.base + flavor.scalars_path(runs[-1], tag)), steps), server,
               deadline, "last run loaded")


def _one_trial(browser: Any, tool: str, base: str, case: UiCase, runs: list[str], pattern: str, cfg: UiConfig,
               res: _CaseResult) -> None:
    trial = _Trial(browser, _ADAPTERS[tool], base, cfg.wait_s)
    expected = expected_runs(runs, pattern)
    steps: list[tuple[str, Callable[[], float | list[float] | None]]] = [
        ("open", lambda: trial.open(select_all=len(runs) > 500)),
        ("settle", lambda: trial.settle(sorted(runs))),  # untimed: the filter starts from a quiet page
        ("filter", lambda: trial.filter(pattern, expected)),
        ("tick", lambda: trial.tick(expected[0], expected)),
    ]
    if case.scroll_sections:
        steps.append(("scroll", lambda: trial.scroll(case.scroll_sections, expected)))
    try:
        for name, fn in steps:
            if (tool, name) in res.errors:
                return  # failed in an earlier trial: keep that reason; later steps need this one's state
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - reported; the other tool and later trials go on
                res.errors[(tool, name)] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                return
            if value is None:
                continue
            values = value if isinstance(value, list) else [value]
            res.samples.setdefault((tool, name), []).extend(values)
            if name == "open":
                res.modes.setdefault(tool, trial.mode())
                if trial.clicked_select_all:
                    res.clicked.add(tool)
    finally:
        trial.close()


_STEPS = ("server", "open", "settle", "filter", "tick", "scroll")
"""Order of a trial's steps: a failed step also leaves every later step unmeasured."""

_SCENARIOS = (
    ("open", "open the page -> first curve drawn", FIRST_CURVE),
    ("filter", "run regex typed -> every chart in view shows only the matching runs", FILTER),
    ("tick", "tick one run -> its line drawn in every chart in view", None),
    ("scroll", "scroll to the next section (opening it if collapsed) -> its charts in view drawn, per section", None),
)


_FAIRNESS = ("Chromium runs headless with --disable-gpu, so TensorBoard's WebGL line charts render on "
             "SwiftShader (software WebGL) in its chart worker; with a GPU its drawing would be faster, while "
             "vizboard's Plotly SVG lines do not use the GPU. Both servers stay up during all trials (their idle "
             "reload loops share the machine alike); each trial is a fresh browser context (no HTTP cache). Each "
             "tool draws at its defaults (smoothing 0.6; TensorBoard keeps a 1,000-point sample per series, "
             "vizboard draws a min/max downsample of the full series).")


def _case_rows(case: UiCase, res: _CaseResult) -> list[Measurement]:
    rows = []
    how = "; ".join(f"{tool} drawn = {mode}" for tool, mode in res.modes.items())
    for key, what, target in _SCENARIOS:
        if key == "scroll" and not case.scroll_sections:
            continue
        ours = Sample(tuple(res.samples.get((OURS, key), ())))
        theirs = Sample(tuple(res.samples.get((TB, key), ())))
        errs = [f"{tool}: {k} failed: {res.errors[(tool, k)]}" for tool in _TOOLS
                for k in (key, "server", "open", "settle", "filter", "tick")
                if (tool, k) in res.errors and (k == key or not res.samples.get((tool, key)))
                and _STEPS.index(k) <= _STEPS.index(key)]
        notes = [target.verdict(ours, theirs)] if target else []
        if key == "scroll":
            notes.append("with the run filter still on; one sample per section; TensorBoard opens its first two "
                         "sections, the others by a click, as a user would")
        notes += [how, _FAIRNESS] if key == "open" and how else []
        notes += [f"{tool} showed no ticked run at first (TensorBoard ticks all runs by default only up to "
                  f"500), so the trial clicked its select-all box; that click is inside the timed open."
                  for tool in sorted(res.clicked) if key == "open"]
        notes += sorted(set(errs)) + ([res.cut] if res.cut else [])
        rows.append(Measurement(
            group=f"ui: {case.spec.label}", figure=what, unit="s", ours=ours, theirs={TB: theirs},
            target=target.text if target else None, met=target.met(ours, theirs) if target else None,
            note=" ".join(notes)))
    return rows


def _launch_rows(cfg: UiConfig, logdir: Path, work: Path, skip: dict[str, str], deadline: float
                 ) -> list[Measurement]:
    spec = cfg.launch
    runs = [run_name(i) for i in range(spec.runs)]
    tag = tag_names(spec.tags, spec.sections)[-1]
    values: dict[str, list[float]] = {OURS: [], TB: []}
    errors: dict[str, str] = dict(skip)
    cut = ""
    for k, tool in alternating(cfg.launch_trials, _TOOLS):
        if tool in errors:
            continue
        if tool == _TOOLS[0] and k > 0 and time.perf_counter() > deadline:
            cut = f"time budget spent: stopped after {k} of {cfg.launch_trials} trials"
            break
        try:
            out = launch_until_served(_FLAVORS[tool], logdir, runs, tag, spec.steps, cfg.start_s, work)
            values[tool].append(float(out["all_data"]))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - recorded; the other tool still runs
            errors[tool] = f"{type(exc).__name__}: {str(exc)[:300]}"
    ours, theirs = Sample(tuple(values[OURS])), Sample(tuple(values[TB]))
    note = " ".join([ALL_DATA.verdict(ours, theirs),
                     "From launching the server process until every run serves every step of the last tag "
                     "(probe runs polled every 50 ms, then every run checked; TensorBoard at its defaults, "
                     f"which keep all {spec.steps} steps)."] + [f"{t}: not measured: {e}" for t, e in errors.items()]
                    + ([cut] if cut else []))
    events = f"{spec.runs * spec.tags * spec.steps:,} scalar events"
    return [Measurement(group=f"ui: {spec.label}", figure=f"launch -> every run's data served ({events})", unit="s",
                        ours=ours, theirs={TB: theirs}, target=ALL_DATA.text, met=ALL_DATA.met(ours, theirs),
                        note=note)]


def run(quick: bool = False) -> list[Measurement]:
    """Every UI figure (vizboard against TensorBoard, alternating trials); ``quick``: small logdirs."""
    import os

    cfg = QUICK if quick else FULL
    skip: dict[str, str] = {}
    if (why := ours_landed()) is not None:
        skip[OURS] = why
    if (why := tensorboard_missing()) is not None:
        skip[TB] = why
    if not os.path.exists(CHROMIUM):
        raise FileNotFoundError(CHROMIUM)
    rows: list[Measurement] = []
    crash: str | None = None
    with tempfile.TemporaryDirectory(prefix="vizboard-bench-ui-") as tmp:
        work = Path(tmp)
        for case in cfg.cases:
            logdir = ensure_logdir(case.spec)
            print(f"[bench.ui] {case.spec.label}: {case.trials} alternating trials", file=sys.stderr, flush=True)
            res = _browser_case(case, logdir, cfg, work, skip)
            rows += _case_rows(case, res)
            # our server failing to start or load is a crash; a page step that timed out is a reported gap
            crash = crash or next((e for (tool, step), e in res.errors.items() if tool == OURS and step == "server"),
                                  None)
        print(f"[bench.ui] {cfg.launch.label}: launch -> all data, {cfg.launch_trials} alternating trials",
              file=sys.stderr, flush=True)
        rows += _launch_rows(cfg, ensure_logdir(cfg.launch), work, skip, time.perf_counter() + cfg.budget_s)
        print(f"[bench.ui] {RUNLIST.label}: run list, {cfg.runlist_trials} alternating trials", file=sys.stderr, flush=True)
        rows += runlist_rows(cfg.runlist_trials, cfg.start_s, cfg.wait_s, work, skip)
    if crash:
        raise PartialResults(f"vizboard failed in the UI benchmark: {crash}", rows)
    return rows


def _main() -> None:
    quick = "--quick" in sys.argv
    try:
        rows = run(quick)
    except PartialResults as exc:
        print(f"partial: {exc}", file=sys.stderr)
        rows = exc.measurements
    for m in rows:
        theirs = m.theirs.get(TB)
        t = f"{theirs.median:.3f}" if theirs and theirs.values else "—"
        o = f"{m.ours.median:.3f}" if m.ours.values else "—"
        print(f"{m.group:40} {m.figure[:60]:60} vizboard {o:>7} s (n={len(m.ours.values)})  TensorBoard {t:>7} s"
              f"  {m.note[:160]}")


if __name__ == "__main__":
    _main()
