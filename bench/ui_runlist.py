"""The 10,000-run run list in Chromium, vizboard against TensorBoard: open -> list rendered, filter typed -> list updated.

Called by :func:`bench.ui.run` (``python -m bench.ui``). Logdir: 10,000 runs x 1 tag x 5 steps
(tensorboardX, :mod:`bench.logdirs`). Both servers load it first (untimed, bounded by the
config's start timeout; a server that does not finish is reported as not coping). Trials
alternate the tools, each in a fresh browser context:

1. **open -> run list rendered**: from ``page.goto`` until the run list shows rows (ours: the
   virtualised ``[data-vb-run]`` rows; TensorBoard: its runs table's rows).
2. **filter typed -> list updated**: the run regex ``run\\d{3}7`` (a tenth of the runs) typed
   into the run filter; until at least one row is shown and every shown row matches.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import Measurement, Sample
from bench.logdirs import LogdirSpec, ensure_logdir, run_name, tag_names
from bench.servers import CHROMIUM, CHROMIUM_ARGS, OURS, TB, TENSORBOARD, VIZBOARD, Server, free_port
from bench.trials import alternating
from bench.ui_probes import OURS_UI, TB_UI, UiAdapter

__all__ = ["RUNLIST", "PATTERN", "runlist_rows"]

RUNLIST = LogdirSpec(10_000, 1, 5, 1)
PATTERN = r"run\d{3}7"
"""Keeps the runs whose number ends in 7 (1,000 of 10,000); no anchor, so a table row's extra text is fine."""

_ROWS_JS = ("css => { const rows = Array.from(document.querySelectorAll(css))"
            ".filter(r => r.getBoundingClientRect().height > 0 && r.textContent.includes('run'));"
            " return rows; }")
_RENDERED = "css => (" + _ROWS_JS + ")(css).length > 0"
_FILTERED = ("([css, p]) => { const rx = new RegExp(p); const rows = (" + _ROWS_JS + ")(css);"
             " return rows.length > 0 && rows.every(r => rx.test(r.textContent)); }")


def _trial(browser: Any, ui: UiAdapter, base: str, wait_s: float) -> tuple[float, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(wait_s * 1000)
        start = time.perf_counter()
        page.goto(base + ui.path, wait_until="commit")
        page.wait_for_function(_RENDERED, arg=ui.rows_css, polling="raf")
        opened = time.perf_counter() - start
        box = page.locator(ui.filter_css).first
        box.wait_for()
        start = time.perf_counter()
        box.fill(PATTERN)
        box.press("End")  # a key event too: TensorBoard filters on keyup
        page.wait_for_function(_FILTERED, arg=[ui.rows_css, PATTERN], polling="raf")
        return opened, time.perf_counter() - start
    finally:
        context.close()


def runlist_rows(trials: int, start_s: float, wait_s: float, work: Path, skip: dict[str, str]) -> list[Measurement]:
    """The two run-list rows (see module doc), ``trials`` alternating trials per tool."""
    from playwright.sync_api import sync_playwright

    from bench.ui import launch_wait  # the same "every run listed and loaded" wait as the other cases

    logdir = ensure_logdir(RUNLIST)
    runs = [run_name(i) for i in range(RUNLIST.runs)]
    tag = tag_names(RUNLIST.tags, RUNLIST.sections)[-1]
    errors = dict(skip)
    flavors = {OURS: VIZBOARD, TB: TENSORBOARD}
    adapters = {OURS: OURS_UI, TB: TB_UI}
    servers: dict[str, Server] = {}
    values: dict[tuple[str, str], list[float]] = {}
    try:
        for tool in (OURS, TB):
            if tool not in errors:
                port = free_port()
                servers[tool] = Server(tool, flavors[tool].command(logdir, port), port, work / f"runlist-{tool}.log")
                servers[tool].start()
        for tool, server in list(servers.items()):
            t0 = time.perf_counter()
            try:
                launch_wait(server, flavors[tool], runs, tag, RUNLIST.steps, start_s)
            except Exception as exc:  # noqa: BLE001 - reported as "did not cope"
                errors[tool] = (f"did not load the 10,000 runs within {start_s:.0f} s "
                                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
                server.stop()
                del servers[tool]
                continue
            print(f"[bench.ui] {tool}: 10,000 runs loaded in {time.perf_counter() - t0:.0f} s", flush=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for _k, tool in alternating(trials, (OURS, TB)):
                    if tool not in servers or tool in errors:
                        continue
                    try:
                        opened, filtered = _trial(browser, adapters[tool], servers[tool].base, wait_s)
                    except Exception as exc:  # noqa: BLE001 - reported; the other tool goes on
                        errors[tool] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                        continue
                    values.setdefault((tool, "open"), []).append(opened)
                    values.setdefault((tool, "filter"), []).append(filtered)
            finally:
                browser.close()
    finally:
        for server in servers.values():
            server.stop()
    rows = []
    for step, figure in (("open", "open the page -> run list rendered"),
                         ("filter", f"run regex {PATTERN!r} typed -> run list shows only matching runs")):
        ours, theirs = Sample(tuple(values.get((OURS, step), []))), Sample(tuple(values.get((TB, step), [])))
        note = "; ".join(f"{t}: not measured: {e}" for t, e in errors.items())
        rows.append(Measurement(group=f"ui: {RUNLIST.label}", figure=figure, unit="s", ours=ours,
                                theirs={TB: theirs}, note=note))
    return rows
