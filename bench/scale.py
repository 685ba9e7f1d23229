"""The scale figures: 1,000 runs x 20 tags served by vizboard and by TensorBoard, server to server.

Each repetition launches a fresh server process on the same logdir (written by tensorboardX,
:mod:`bench.logdirs`; the same one :mod:`bench.ui` uses for its 1,000-run figures), alternating
vizboard, TensorBoard, vizboard, TensorBoard (n >= 3 each in the full run). Measured from the
launch of the process: until the page answers and the run list holds every run; until every run
serves all its points; then the resident memory of the process tree, and its growth over a
burst of request rounds with the same request mix on both servers (run list, every run's scalar
tags, one scalar series). The browser figures (run filter, first curve) live in :mod:`bench.ui`.
Run alone: ``python -m bench.scale [--quick]``.
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import Measurement, Sample
from bench.logdirs import LogdirSpec, ensure_logdir, run_name, tag_names
from bench.servers import (
    OURS,
    TB,
    TENSORBOARD,
    VIZBOARD,
    Flavor,
    PartialResults,
    Server,
    http_get,
    launch_until_served,
    ours_landed,
    tensorboard_missing,
    tree_rss,
)
from bench.trials import alternating

__all__ = ["ScaleConfig", "QUICK", "FULL", "run"]


@dataclass(frozen=True)
class ScaleConfig:
    """The logdir, repetitions per server (alternating), request rounds in the burst, start timeout (s)."""

    spec: LogdirSpec
    repeats: int
    requests: int
    start_timeout_s: float


QUICK = ScaleConfig(spec=LogdirSpec(200, 20, 10, 20), repeats=1, requests=20, start_timeout_s=120)
FULL = ScaleConfig(spec=LogdirSpec(1000, 20, 50, 20), repeats=3, requests=100, start_timeout_s=600)

_FLAVORS: dict[str, Flavor] = {OURS: VIZBOARD, TB: TENSORBOARD}


def _burst(flavor: Flavor, runs: list[str], tags: list[str], rounds: int) -> Callable[[Server], dict[str, object]]:
    """RSS after load, then growth over ``rounds`` request rounds (same mix and seed on both servers)."""

    def measure(server: Server) -> dict[str, object]:
        assert server.proc is not None
        rss_load = tree_rss(server.proc.pid)
        rng = random.Random(1)
        for _ in range(rounds):
            for path in flavor.burst_paths(rng.choice(runs), rng.choice(tags)):
                http_get(server.base + path, timeout=60)
        return {"rss": float(rss_load), "growth": float(tree_rss(server.proc.pid) - rss_load)}

    return measure


def _measurements(results: dict[str, list[dict[str, object]]], errors: dict[str, str], cfg: ScaleConfig
                  ) -> list[Measurement]:
    def sample(tool: str, key: str) -> Sample:
        return Sample(tuple(float(r[key]) for r in results.get(tool, []) if key in r))  # type: ignore[arg-type]

    def theirs(key: str) -> dict[str, Sample]:
        return {"TensorBoard (default: Rust data server)": sample(TB, key)}

    gaps = " ".join(f"{tool}: not measured: {why}" for tool, why in errors.items())
    size = cfg.spec.label
    full_scale = cfg.spec.runs >= 1000 and cfg.spec.tags >= 20
    first, rss, growth = sample(OURS, "first_page"), sample(OURS, "rss"), sample(OURS, "growth")
    growth_ok = growth.median <= 0.10 * rss.median if rss.values and growth.values else None
    order = "Fresh server process per repetition, alternating vizboard / TensorBoard."
    return [
        Measurement(
            "scale", f"launch -> first page with all runs listed ({size})", "s", first, theirs("first_page"),
            target="1,000 runs x 20 tags browsable", met=(bool(first.values) if full_scale else None),
            note=" ".join(filter(None, [
                "From launching the server process until GET / (vizboard: and the Dash layout) answers 200 and "
                "the run list (/api/runs; TensorBoard: /data/runs) holds every run.", order, gaps]))),
        Measurement(
            "scale", f"cold load server to server: launch -> every run's data served "
                     f"({cfg.spec.runs * cfg.spec.tags * cfg.spec.steps:,} scalar events)", "s",
            sample(OURS, "all_data"), theirs("all_data"),
            note=" ".join(filter(None, [
                "Same launches: until every run serves every step of the last tag (probe runs polled, then every "
                "run checked). The budget (no later than TensorBoard) is checked in the UI group, n=5.",
                order, gaps]))),
        Measurement("scale", "server memory after load (RSS of the process tree)", "bytes", rss, theirs("rss"),
                    note=gaps),
        Measurement(
            "scale", f"RSS growth over {cfg.requests} request rounds", "bytes", growth, theirs("growth"),
            target="memory grows with data, not with requests (growth <= 10% of load RSS)", met=growth_ok,
            note=" ".join(filter(None, [
                "Each round asks both servers the same things: the run list, every run's scalar tags "
                "(/api/tags?kind=scalars; TensorBoard: /data/plugin/scalars/tags) and one random scalar series "
                "(same seed on both).", gaps]))),
    ]


def run(quick: bool = False) -> list[Measurement]:
    """Launch vizboard and TensorBoard alternately on the shared logdir; return the scale figures."""
    cfg = QUICK if quick else FULL
    errors: dict[str, str] = {}
    for tool, why in ((OURS, ours_landed()), (TB, tensorboard_missing())):
        if why:
            errors[tool] = why
    results: dict[str, list[dict[str, object]]] = {OURS: [], TB: []}
    runs = [run_name(i) for i in range(cfg.spec.runs)]
    tags = tag_names(cfg.spec.tags, cfg.spec.sections)
    logdir = ensure_logdir(cfg.spec)
    ours_crash: str | None = None
    with tempfile.TemporaryDirectory(prefix="vizboard-bench-scale-") as tmp:
        for _, tool in alternating(cfg.repeats, (OURS, TB)):
            if tool in errors:
                continue
            flavor = _FLAVORS[tool]
            after = _burst(flavor, runs, tags, cfg.requests)
            try:
                results[tool].append(launch_until_served(flavor, logdir, runs, tags[-1], cfg.spec.steps,
                                                         cfg.start_timeout_s, Path(tmp), after))
            except Exception as exc:  # noqa: BLE001 - recorded, the other tool still runs
                errors[tool] = f"{type(exc).__name__}: {str(exc)[:400]}"
                if tool == OURS:
                    ours_crash = errors[tool]
    rows = _measurements(results, errors, cfg)
    if ours_crash:
        raise PartialResults(f"vizboard failed in the scale benchmark: {ours_crash}", rows)
    return rows


if __name__ == "__main__":
    for m in run(quick="--quick" in sys.argv):
        theirs_text = ", ".join(f"{k}: {v.median:.4g}" for k, v in m.theirs.items() if v.values)
        ours = f"{m.ours.median:.4g} {m.unit}" if m.ours.values else "not measured"
        print(f"{m.figure}: vizboard {ours}; {theirs_text} ({m.unit})")
