"""Writer benchmark: logger vs torch.utils.tensorboard vs tensorboardX, each tool in fresh subprocesses.

Figures (DESIGN.md §5): median ``add_scalar`` time on the training thread; total process
CPU per logged scalar over N calls with flush and close included (``time.process_time``
counts every thread, so our writer thread is included); ``add_histogram`` of a 1M-element
tensor and ``add_image`` of a 3x256x256 image (the call alone, and call + flush, since
torch and tensorboardX do the work inside the call); and import time in a fresh
interpreter (``python -c "import <mod>"``, timed inside the child around the import).

``python -m bench.writer [--quick]`` prints a table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Measurement, Sample, ratio

__all__ = ["run", "TOOLS"]

TOOLS = {
    "logger": ("logger", "logger"),
    "torch": ("torch.utils.tensorboard", "torch.utils.tensorboard"),
    "tensorboardX": ("tensorboardX", "tensorboardX"),
}
_OURS = "logger"
_REPO = Path(__file__).resolve().parent.parent

_WORKER = r"""
import json, os, shutil, statistics, sys, time
tool, n, reps, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
import numpy as np
import torch
if tool == "logger":
    from logger import SummaryWriter
elif tool == "torch":
    from torch.utils.tensorboard import SummaryWriter
else:
    from tensorboardX import SummaryWriter
res = {"median_ns": [], "cpu_us": [], "hist_call_ms": [], "hist_total_ms": [], "img_call_ms": [], "img_total_ms": []}
pc = time.perf_counter_ns
for rep in range(reps):
    d = os.path.join(out, f"{tool}-{rep}")
    w = SummaryWriter(d)
    add = w.add_scalar
    times = [0] * n
    c0 = time.process_time()
    for i in range(n):
        t0 = pc()
        add("loss", 0.5, i)
        times[i] = pc() - t0
    w.close()
    c1 = time.process_time()
    times.sort()
    res["median_ns"].append(times[n // 2])
    res["cpu_us"].append((c1 - c0) / n * 1e6)
    shutil.rmtree(d, ignore_errors=True)
    w = SummaryWriter(d)
    hist = torch.randn(1_000_000)
    img = torch.rand(3, 256, 256)
    for kind, call in (("hist", lambda s: w.add_histogram("h", hist, s)), ("img", lambda s: w.add_image("i", img, s))):
        call(0)
        w.flush()
        calls, totals = [], []
        for s in range(1, 4):
            t0 = pc()
            call(s)
            t1 = pc()
            w.flush()
            t2 = pc()
            calls.append((t1 - t0) / 1e6)
            totals.append((t2 - t0) / 1e6)
        res[kind + "_call_ms"].append(statistics.median(calls))
        res[kind + "_total_ms"].append(statistics.median(totals))
    w.close()
    shutil.rmtree(d, ignore_errors=True)
print(json.dumps(res))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(_REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _worker(tool: str, n: int, reps: int, out: str) -> dict[str, list[float]]:
    proc = subprocess.run([sys.executable, "-c", _WORKER, tool, str(n), str(reps), out], capture_output=True, text=True,
                          env=_env(), timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _import_seconds(module: str, reps: int) -> Sample:
    """Seconds to ``import module`` in a fresh interpreter, timed inside it (start-up excluded)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"

    def once() -> float:
        proc = subprocess.run([sys.executable, "-c", code], check=True, env=_env(), capture_output=True, text=True)
        return float(proc.stdout.strip().splitlines()[-1])

    return Sample(tuple(once() for _ in range(reps)))


def _available(tool: str) -> bool:
    import importlib.util

    top = TOOLS[tool][0].split(".")[0]
    return importlib.util.find_spec(top) is not None


def run(quick: bool = False) -> list[Measurement]:
    """Measure every figure for logger and each installed competitor; see the module docstring."""
    n = 20_000 if quick else 200_000
    reps = 2 if quick else 3
    tools = [t for t in TOOLS if _available(t)]
    if "torch" not in tools:
        raise ModuleNotFoundError("torch is needed to benchmark the writer", name="torch")
    out = tempfile.mkdtemp(prefix="bench-writer-")
    try:
        data = {t: _worker(t, n, reps, out) for t in tools}
        imports = {t: _import_seconds(TOOLS[t][1], reps if quick else reps + 2) for t in tools}
    finally:
        shutil.rmtree(out, ignore_errors=True)

    def sample(tool: str, key: str, scale: float = 1.0) -> Sample:
        return Sample(tuple(v * scale for v in data[tool][key]))

    def theirs(key: str, scale: float = 1.0) -> dict[str, Sample]:
        return {t: sample(t, key, scale) for t in tools if t != _OURS}

    ours_med = sample(_OURS, "median_ns", 1e-3)
    ours_cpu = sample(_OURS, "cpu_us")
    torch_cpu = sample("torch", "cpu_us")
    ours_imp, torch_imp = imports[_OURS], imports["torch"]
    rows = [
        Measurement("writer", "add_scalar on the training thread (median per call)", "us", ours_med,
                    theirs("median_ns", 1e-3), target="<= 2 us", met=ours_med.median <= 2.0),
        Measurement("writer", f"total CPU per logged scalar ({n:,} calls, flush+close included)", "us", ours_cpu,
                    theirs("cpu_us"), target=">= 10x less than torch", met=torch_cpu.median >= 10 * ours_cpu.median),
        Measurement("writer", "add_histogram(1M-element tensor): the call", "ms", sample(_OURS, "hist_call_ms"),
                    theirs("hist_call_ms"), note="ours only snapshots the tensor; the histogram is built on the writer thread"),
        Measurement("writer", "add_histogram(1M-element tensor): call + flush", "ms", sample(_OURS, "hist_total_ms"),
                    theirs("hist_total_ms")),
        Measurement("writer", "add_image(3x256x256): the call", "ms", sample(_OURS, "img_call_ms"), theirs("img_call_ms")),
        Measurement("writer", "add_image(3x256x256): call + flush", "ms", sample(_OURS, "img_total_ms"), theirs("img_total_ms")),
        Measurement("writer", "import time in a fresh interpreter", "s", ours_imp,
                    {t: imports[t] for t in tools if t != _OURS}, target="<= 0.2 s and >= 5x faster than torch.utils.tensorboard",
                    met=ours_imp.median <= 0.2 and torch_imp.median >= 5 * ours_imp.median),
    ]
    return rows


def _fmt(sample: Sample) -> str:
    lo, hi = sample.spread
    return f"{sample.median:.4g} [{lo:.3g}..{hi:.3g}]"


if __name__ == "__main__":
    for m in run(quick="--quick" in sys.argv):
        others = "; ".join(f"{k}: {_fmt(v)} (ours {ratio(m.ours, v):.1f}x better)" for k, v in m.theirs.items())
        verdict = "" if m.met is None else ("  MET" if m.met else "  MISSED")
        print(f"{m.figure}: logger {_fmt(m.ours)} {m.unit}; {others}{(' | target ' + m.target) if m.target else ''}{verdict}")
