"""Writer benchmark: logger vs torch.utils.tensorboard vs tensorboardX, each repetition in a fresh subprocess.

Figures (DESIGN.md §5), each for the same input on every tool: median ``add_scalar`` time
on the training thread, for a Python float AND for a 0-d CPU tensor (``torch.tensor(0.5)``,
what a training loop usually holds); total process CPU per logged scalar over N calls with
flush and close included (``time.process_time`` counts every thread, so our writer thread
is included); ``add_histogram`` of a 1M-element tensor and ``add_image`` of a 3x256x256
image (the call alone, and call + flush, since torch and tensorboardX do the work inside
the call); and the time of ``from <tool> import SummaryWriter`` in a fresh interpreter,
**cold** (nothing preloaded: torch's import pulls in torch itself) and **warm** (torch
already imported, as in a training script: the fair comparison).

Competitors are interleaved: repetition r runs every tool once (A B C A B C ...), so a
noisy spell on the shared machine hits all tools alike. ``python -m bench.writer [--quick]``
prints a table.
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
    "logger": "logger",
    "torch": "torch.utils.tensorboard",
    "tensorboardX": "tensorboardX",
}
_OURS = "logger"
_REPO = Path(__file__).resolve().parent.parent

_WORKER = r"""
import json, os, shutil, statistics, sys, time
tool, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import numpy as np
import torch
if tool == "logger":
    from logger import SummaryWriter
elif tool == "torch":
    from torch.utils.tensorboard import SummaryWriter
else:
    from tensorboardX import SummaryWriter
res = {}
pc = time.perf_counter_ns
for kind, value in (("float", 0.5), ("tensor", torch.tensor(0.5))):
    d = os.path.join(out, f"{tool}-{kind}")
    w = SummaryWriter(d)
    add = w.add_scalar
    times = [0] * n
    c0 = time.process_time()
    for i in range(n):
        t0 = pc()
        add("loss", value, i)
        times[i] = pc() - t0
    w.close()
    c1 = time.process_time()
    times.sort()
    res[kind + "_median_ns"] = times[n // 2]
    res[kind + "_cpu_us"] = (c1 - c0) / n * 1e6
    shutil.rmtree(d, ignore_errors=True)
d = os.path.join(out, f"{tool}-media")
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
    res[kind + "_call_ms"] = statistics.median(calls)
    res[kind + "_total_ms"] = statistics.median(totals)
w.close()
shutil.rmtree(d, ignore_errors=True)
print(json.dumps(res))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(_REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _worker(tool: str, n: int, out: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _WORKER, tool, str(n), out], capture_output=True, text=True,
                          env=_env(), timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _import_seconds(module: str, warm: bool) -> float:
    """Seconds for ``from module import SummaryWriter`` in a fresh interpreter, timed inside it (start-up excluded).

    ``warm``: torch is imported first (outside the timed part), as in a training script.
    """
    pre = "import torch; " if warm else ""
    code = f"{pre}import time; t = time.perf_counter(); from {module} import SummaryWriter; print(time.perf_counter() - t)"
    proc = subprocess.run([sys.executable, "-c", code], check=True, env=_env(), capture_output=True, text=True)
    return float(proc.stdout.strip().splitlines()[-1])


def _available(tool: str) -> bool:
    import importlib.util

    top = TOOLS[tool].split(".")[0]
    return importlib.util.find_spec(top) is not None


def run(quick: bool = False) -> list[Measurement]:
    """Measure every figure for logger and each installed competitor, interleaved; see the module docstring."""
    n = 20_000 if quick else 200_000
    reps = 3 if quick else 5
    tools = [t for t in TOOLS if _available(t)]
    if "torch" not in tools:
        raise ModuleNotFoundError("torch is needed to benchmark the writer", name="torch")
    out = tempfile.mkdtemp(prefix="bench-writer-")
    data: dict[str, dict[str, list[float]]] = {t: {} for t in tools}
    try:
        for _ in range(reps):  # A B C, A B C, ...: every tool sees the same machine weather
            for t in tools:
                for key, value in _worker(t, n, out).items():
                    data[t].setdefault(key, []).append(value)
                for warm in (False, True):
                    key = "import_warm_s" if warm else "import_cold_s"
                    data[t].setdefault(key, []).append(_import_seconds(TOOLS[t], warm))
    finally:
        shutil.rmtree(out, ignore_errors=True)

    def sample(tool: str, key: str, scale: float = 1.0) -> Sample:
        return Sample(tuple(v * scale for v in data[tool][key]))

    def theirs(key: str, scale: float = 1.0) -> dict[str, Sample]:
        return {t: sample(t, key, scale) for t in tools if t != _OURS}

    rows = []
    for kind, label in (("float", "a Python float"), ("tensor", "a 0-d CPU tensor")):
        med = sample(_OURS, f"{kind}_median_ns", 1e-3)
        cpu, torch_cpu = sample(_OURS, f"{kind}_cpu_us"), sample("torch", f"{kind}_cpu_us")
        rows += [
            Measurement("writer", f"add_scalar({label}) on the training thread (median per call)", "us", med,
                        theirs(f"{kind}_median_ns", 1e-3), target="<= 2 us", met=med.median <= 2.0),
            Measurement("writer", f"total CPU per logged scalar ({label}; {n:,} calls, flush+close included)", "us", cpu,
                        theirs(f"{kind}_cpu_us"), target=">= 10x less than torch", met=torch_cpu.median >= 10 * cpu.median),
        ]
    cold, warm = sample(_OURS, "import_cold_s"), sample(_OURS, "import_warm_s")
    rows += [
        Measurement("writer", "add_histogram(1M-element tensor): the call", "ms", sample(_OURS, "hist_call_ms"),
                    theirs("hist_call_ms"), note="ours only snapshots the tensor; the histogram is built on the writer thread"),
        Measurement("writer", "add_histogram(1M-element tensor): call + flush", "ms", sample(_OURS, "hist_total_ms"),
                    theirs("hist_total_ms")),
        Measurement("writer", "add_image(3x256x256): the call", "ms", sample(_OURS, "img_call_ms"), theirs("img_call_ms")),
        Measurement("writer", "add_image(3x256x256): call + flush", "ms", sample(_OURS, "img_total_ms"), theirs("img_total_ms")),
        Measurement("writer", "from <tool> import SummaryWriter, cold (fresh interpreter, nothing preloaded)", "s", cold,
                    theirs("import_cold_s"), target="<= 0.2 s", met=cold.median <= 0.2,
                    note="torch's cold import includes importing torch itself"),
        Measurement("writer", "from <tool> import SummaryWriter, warm (torch already imported)", "s", warm,
                    theirs("import_warm_s"), target="faster than torch.utils.tensorboard",
                    met=warm.median < sample("torch", "import_warm_s").median),
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
