"""Hostile-scale figures (issue 16): 10,000 runs cold start and idle CPU against TensorBoard, and memory after
1,000 distinct run selections.

Per server (fresh process, same logdir, alternating A B A B): seconds from launch until every run is
listed and sampled runs serve all their points, and the CPU seconds the process tree spent to get
there; then the process tree's CPU use (cores) over an idle window with no client. In-process: the
RSS growth of a served Store while 1,000 distinct run selections go through the selection-keyed
paths (tag listing, the batch scalar read, smoothing).
Run alone: ``python -m bench.hostile [--quick]``.
"""

from __future__ import annotations

import gc
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import Measurement, Sample
from bench.logdirs import LogdirSpec, ensure_logdir, run_name, tag_names
from bench.servers import (
    TENSORBOARD,
    VIZBOARD,
    Flavor,
    Server,
    count_points,
    count_runs,
    free_port,
    get_json,
    running,
    tensorboard_missing,
    tree_processes,
    tree_rss,
    wait_until,
)

__all__ = ["HostileConfig", "QUICK", "FULL", "run"]

_OURS, _TB = "vizboard", "TensorBoard"


@dataclass(frozen=True)
class HostileConfig:
    """``runs`` x ``tags`` x ``steps`` logdir; ``repeats`` launches per tool (alternating), the first
    ``idle_repeats`` of them also measured idle (``idle_s`` CPU window each); ``selections`` distinct run
    selections."""

    runs: int
    tags: int
    steps: int
    repeats: int
    idle_repeats: int
    probes: int
    idle_s: float
    selections: int
    start_timeout_s: float


QUICK = HostileConfig(runs=300, tags=2, steps=10, repeats=1, idle_repeats=1, probes=10, idle_s=8.0, selections=200,
                      start_timeout_s=120)
FULL = HostileConfig(runs=10_000, tags=2, steps=10, repeats=5, idle_repeats=2, probes=40, idle_s=30.0, selections=1000,
                     start_timeout_s=900)


def _tree_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants."""
    import psutil

    total = 0.0
    for p in tree_processes(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
        except psutil.NoSuchProcess:
            pass
    return total


def _tags(cfg: HostileConfig) -> list[str]:
    return tag_names(cfg.tags, 1)


def _measure_server(flavor: Flavor, logdir: Path, runs: list[str], cfg: HostileConfig, work: Path,
                    idle: bool = True) -> dict[str, float]:
    port = free_port()
    server = Server(flavor.name, flavor.command(logdir, port), port, work / f"{flavor.name}-{port}.log")
    last_tag = _tags(cfg)[-1]
    rng = random.Random(7)
    probes = sorted({runs[0], runs[-1], *rng.sample(runs, min(cfg.probes, len(runs)))})
    with running(server):
        deadline = server.started_at + cfg.start_timeout_s
        base = server.base
        wait_until(lambda: count_runs(get_json(base + flavor.runs_path)) >= len(runs), server, deadline,
                   f"all {len(runs)} runs listed")
        pending = list(probes)

        def complete() -> bool:
            while pending and count_points(get_json(base + flavor.scalars_path(pending[0], last_tag))) >= cfg.steps:
                pending.pop(0)
            return not pending

        cold = wait_until(complete, server, deadline, f"{cfg.steps} points of {last_tag} in {len(probes)} sampled runs")
        assert server.proc is not None
        cold_cpu = _tree_cpu(server.proc.pid)  # CPU seconds to get there: less distorted by a loaded machine
        if not idle:
            return {"cold": cold, "cold_cpu": cold_cpu}
        time.sleep(3.0)  # let the first full pass's follow-up work settle before the idle window
        assert server.proc is not None
        c0, t0 = _tree_cpu(server.proc.pid), time.perf_counter()
        time.sleep(cfg.idle_s)  # no client: what does the server burn on its own?
        c1, t1 = _tree_cpu(server.proc.pid), time.perf_counter()
        return {"cold": cold, "cold_cpu": cold_cpu, "idle": (c1 - c0) / (t1 - t0),
                "rss": float(tree_rss(server.proc.pid))}


def _selection_growth(logdir: Path, runs: list[str], cfg: HostileConfig) -> float:
    """RSS growth (bytes) of a served Store over ``cfg.selections`` distinct run selections."""
    import psutil

    from vizboard.components.smoothing_cache import SmoothingCache
    from vizboard.data import load
    from vizboard.data.models import Kind
    from vizboard.data.served import served
    from vizboard.data.smoothing import smooth_series

    provider = served(load(str(logdir)))
    cache = SmoothingCache(smooth_series)
    tag = _tags(cfg)[-1]
    rng = random.Random(3)

    def one(i: int) -> None:
        sel = sorted(rng.sample(runs, rng.randint(2, min(200, len(runs)))))
        provider.tags(Kind.SCALARS, sel)
        got = provider.read_scalars(runs=sel, tag=tag, max_points=1000)
        for s in list(got.values())[:20]:
            cache.get(s, "ema", 0.5 + (i % 7) / 100)

    for i in range(50):  # warm up: first-use allocations are not growth
        one(i)
    gc.collect()
    before = psutil.Process().memory_info().rss
    for i in range(cfg.selections):
        one(i)
    gc.collect()
    return float(psutil.Process().memory_info().rss - before)


def run(quick: bool = False) -> list[Measurement]:
    """Generate the logdir, measure vizboard and TensorBoard on it (alternating), return the figures."""
    cfg = QUICK if quick else FULL
    results: dict[str, list[dict[str, float]]] = {_OURS: [], _TB: []}
    errors: dict[str, str] = {}
    missing = tensorboard_missing()
    if missing:
        errors[_TB] = missing
    growth: list[float] = []
    logdir = ensure_logdir(LogdirSpec(cfg.runs, cfg.tags, cfg.steps, 1))  # cached between runs
    runs = [run_name(i) for i in range(cfg.runs)]
    with tempfile.TemporaryDirectory(prefix="vizboard-bench-hostile-") as tmp:
        work = Path(tmp)
        for rep in range(cfg.repeats):
            order = [(_OURS, VIZBOARD), (_TB, TENSORBOARD)]
            if rep % 2:
                order.reverse()
            for tool, flavor in order:
                if tool in errors:
                    continue
                try:
                    results[tool].append(_measure_server(flavor, logdir, runs, cfg, work,
                                                         idle=rep < cfg.idle_repeats))
                except Exception as exc:  # noqa: BLE001 - recorded; the other tool still runs
                    errors[tool] = f"{type(exc).__name__}: {str(exc)[:300]}"
        growth.append(_selection_growth(logdir, runs, cfg))

    def sample(tool: str, key: str) -> Sample:
        return Sample(tuple(r[key] for r in results[tool] if key in r))

    def theirs(key: str) -> dict[str, Sample]:
        return {"TensorBoard (default: Rust data server)": sample(_TB, key)} if results[_TB] else {}

    gaps = "; ".join(f"{k}: not measured: {v}" for k, v in errors.items())
    size = f"{cfg.runs:,} runs x {cfg.tags} tags x {cfg.steps} steps"
    cold, idle = sample(_OURS, "cold"), sample(_OURS, "idle")
    tb_cold, tb_idle = sample(_TB, "cold"), sample(_TB, "idle")
    both = bool(cold.values and tb_cold.values)
    return [
        Measurement("hostile", f"launch -> every run listed and sampled runs complete ({size})", "s", cold,
                    theirs("cold"), target="no later than TensorBoard",
                    met=(cold.median <= tb_cold.median) if both else None,
                    note=" ".join(filter(None, [f"Sampled runs: first, last and {cfg.probes} random.", gaps]))),
        Measurement("hostile", f"CPU seconds from launch to every run listed and sampled runs complete ({size})",
                    "s", sample(_OURS, "cold_cpu"), theirs("cold_cpu"),
                    note="Process-tree user+system CPU (includes interpreter start-up and imports); wall times on "
                         "a shared machine move with its load, CPU seconds much less."),
        Measurement("hostile", f"idle CPU, no client, after load ({size})", "cores", idle, theirs("idle"),
                    target="<= TensorBoard's", met=(idle.median <= tb_idle.median) if both else None,
                    note=f"Process-tree CPU seconds over {cfg.idle_s:.0f} s with no request. {gaps}".strip()),
        Measurement("hostile", "server memory after load (RSS of the process tree)", "bytes", sample(_OURS, "rss"),
                    theirs("rss"), note=gaps),
        Measurement("hostile", f"RSS growth over {cfg.selections:,} distinct run selections (in-process)", "bytes",
                    Sample(tuple(growth)), target="flat (caches bounded in bytes)",
                    note="Each selection (2-200 runs) lists tags, batch-reads one tag and smooths 20 series."),
    ]


if __name__ == "__main__":
    for m in run(quick="--quick" in sys.argv):
        print(m.figure, m.unit, m.ours.values, {k: v.values for k, v in m.theirs.items()}, m.note)
