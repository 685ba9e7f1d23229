"""Loader benchmark: cold load of scalar event files, vizboard vs TensorBoard's loaders and tbparse.

Workloads (generated once per run into a temp dir):

- ``1 run``: 10 tags x 100k steps = 1M simple_value events in one file, equal-length tag
  names in a fixed cycle: the vectorised reader's best case;
- ``100 runs``: 100 runs x 10 tags x 1k steps = 1M events in 100 files (same shape);
- ``realistic``: what a training script writes with ``torch.utils.tensorboard``: 2 runs,
  each with train/val/lr scalars of different tag lengths at different rates, ``add_scalars``
  (one sub-run per key, as torch writes it), histograms every 100 steps, an image every
  1,000 steps and text every 1,000 steps.
(``quick``: 20x fewer events.)

Repetitions are interleaved (vizboard, competitor 1, competitor 2, ..., then again), n = 3
(1 in ``quick``), so a change of machine load hits every tool alike; the two slow competitors
(``_SLOW``: the Python loader and tbparse, 25-150 s per load) run in the first round only.

Tools, each in its own fresh subprocess (so memory and imports do not mix):

- ``vizboard``: ``vizboard.data.load(logdir)``;
- ``Python loader``: TensorBoard's ``plugin_event_multiplexer.EventMultiplexer`` (what
  ``--load_fast=false`` serves from), keeping every scalar (``tensor_size_guidance={"scalars": 0}``);
- ``tbparse``: ``SummaryReader(logdir).scalars``;
- ``Rust data server``: ``tensorboard --load_fast=true`` timed from process start until its
  HTTP API returns the complete series (the last series is polled every 50 ms, then every
  series is verified through ``/data/plugin/timeseries/timeSeries``), with
  ``--samples_per_plugin scalars=1000000000`` (keep all; ``=0`` makes its HTTP API return no
  points and ``all`` is rejected) and with its default (1,000 per series).

Figures: seconds, points kept, peak RSS (the whole process tree for TensorBoard), and for
vizboard the RSS growth per stored point. TensorBoard's default sampling (1,000 points per
series) appears only as a time: comparing points kept by two defaults says nothing about
what either tool can do, so the points row compares keep-all configurations only.
``python -m bench.loader [--quick]`` prints a table.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.common import Measurement, Sample

__all__ = ["run", "generate"]

_REPO = Path(__file__).resolve().parent.parent
_TAGS = 10
_SLOW = frozenset({"python_loader", "tbparse"})
"""Competitors 30-190x slower than vizboard here: measured once per workload (first round of the interleave)."""

_WORKER = r"""
import json, sys, time
tool, logdir = sys.argv[1], sys.argv[2]
import psutil
proc = psutil.Process()
import numpy  # noqa: F401  (every tool needs it; keep it out of the timed part)
if tool == "vizboard":
    from vizboard.data import load
    from vizboard.data.models import Kind
    rss0 = proc.memory_info().rss
    t0, c0 = time.perf_counter(), time.process_time()
    store = load(logdir)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    points = sum(len(store.scalars(t.run, t.tag)) for t in store.tags(Kind.SCALARS))
elif tool == "python_loader":
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    rss0 = proc.memory_info().rss
    t0, c0 = time.perf_counter(), time.process_time()
    mux = pem.EventMultiplexer(tensor_size_guidance={"scalars": 0})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    points = sum(len(mux.Tensors(run, tag)) for run, tags in mux.PluginRunToTagToContent("scalars").items()
                 for tag in tags)
elif tool == "tbparse":
    from tbparse import SummaryReader
    rss0 = proc.memory_info().rss
    t0, c0 = time.perf_counter(), time.process_time()
    df = SummaryReader(logdir).scalars
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    points = len(df)
rss1 = proc.memory_info().rss
# VmHWM resets at exec; ru_maxrss would include the (forked) parent's high-water mark.
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": secs, "cpu": cpu, "points": points, "peak_rss": peak, "rss_growth": rss1 - rss0}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(_REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def generate(root: str, runs: int, steps: int, tags: int = _TAGS) -> int:
    """Write ``runs`` runs of ``tags`` x ``steps`` simple_value scalars under ``root``; return events."""
    sys.path.insert(0, str(_REPO))
    from logger._pb import event_pb2
    from logger.records import frame

    names = [f"metric/{k}" for k in range(tags)]
    for r in range(runs):
        run_dir = os.path.join(root, f"run{r:03d}") if runs > 1 else root
        os.makedirs(run_dir, exist_ok=True)
        out = [frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())]
        e = event_pb2.Event()
        v = e.summary.value.add()
        for step in range(steps):
            e.wall_time = 1.7e9 + step * 0.01
            e.step = step
            for k, name in enumerate(names):
                v.tag = name
                v.simple_value = (step * 0.001 + k) % 7.0
                out.append(frame(e.SerializeToString()))
        with open(os.path.join(run_dir, "events.out.tfevents.1700000000.bench.1.0"), "wb") as f:
            f.write(b"".join(out))
    return runs * steps * tags


def generate_realistic(root: str, steps: int) -> dict[tuple[str, str], int]:
    """Write a training-like logdir with torch's SummaryWriter; return {(run, tag): points} of its scalars."""
    import numpy as np
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(0)
    series: dict[tuple[str, str], int] = {}
    for run in ("run_a", "run_b"):
        w = SummaryWriter(os.path.join(root, run), max_queue=1000, flush_secs=60)
        for step in range(steps):
            loss = 2.0 / (1 + step * 0.001) + rng.random() * 0.05
            w.add_scalar("train/loss", loss, step)
            w.add_scalar("train/accuracy_top1", 1 - loss / 3, step)
            w.add_scalar("lr", 0.1 * 0.5 ** (step // 10_000), step)
            if step % 10 == 0:
                w.add_scalar("val/loss", loss * 1.1, step)
                w.add_scalar("val/accuracy", 1 - loss / 2.5, step)
                w.add_scalars("loss_compare", {"train": loss, "val": loss * 1.1}, step)
            if step % 100 == 0:
                w.add_histogram("weights/conv1", rng.normal(0, 1 + step * 1e-5, 1000), step)
                w.add_histogram("grads/conv1", rng.normal(0, 0.01, 1000), step)
            if step % 1000 == 0:
                w.add_image("samples", rng.random((3, 32, 32)), step)
                w.add_text("notes", f"step {step}: loss {loss:.3f}", step)
        w.close()
        every, tenth = steps, (steps + 9) // 10
        series.update({(run, "train/loss"): every, (run, "train/accuracy_top1"): every, (run, "lr"): every,
                       (run, "val/loss"): tenth, (run, "val/accuracy"): tenth,
                       (f"{run}/loss_compare_train", "loss_compare"): tenth,
                       (f"{run}/loss_compare_val", "loss_compare"): tenth})
    return series


def _worker(tool: str, logdir: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _WORKER, tool, logdir], capture_output=True, text=True,
                          env=_env(), timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: bytes | None = None) -> object:
    with urllib.request.urlopen(url, data=data, timeout=60) as resp:
        return json.loads(resp.read())


def _rust(logdir: str, series: dict[tuple[str, str], int], keep_all: bool) -> dict[str, float]:
    """Time TensorBoard's Rust data server until every series is complete over HTTP.

    ``series`` maps (run, tag) to its number of points; the last entry is polled until
    complete, then every series is verified.
    """
    import psutil

    port = _free_port()
    args = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--load_fast=true", "--port", str(port),
            "--host", "127.0.0.1", "--reload_interval", "1"]
    if keep_all:
        args += ["--samples_per_plugin", "scalars=1000000000"]
    def want(n: int) -> int:
        return n if keep_all else min(n, 1000)

    base = f"http://127.0.0.1:{port}"
    (last_run, last_tag), last_n = list(series.items())[-1]
    tags = sorted({t for _, t in series})
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    peak = 0
    try:
        ps = psutil.Process(proc.pid)
        deadline = time.monotonic() + 1500
        while time.monotonic() < deadline:
            try:
                tree = [ps] + ps.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"tensorboard exited with {proc.returncode}")
            try:
                q = urllib.parse.urlencode({"run": last_run, "tag": last_tag})
                pts = _get(f"{base}/data/plugin/scalars/scalars?{q}")
            except (OSError, ValueError):
                pts = []
            if len(pts) >= want(last_n):
                secs = time.perf_counter() - t0
                cpu = 0.0
                for p in [ps] + ps.children(recursive=True):
                    try:
                        t = p.cpu_times()
                        cpu += t.user + t.system
                    except psutil.Error:
                        pass
                total, ok = 0, True
                for tag in tags:
                    body = urllib.parse.urlencode(
                        {"requests": json.dumps([{"plugin": "scalars", "tag": tag}])}).encode()
                    [resp] = _get(f"{base}/experiment/defaultExperimentId/data/plugin/timeseries/timeSeries", body)
                    got = resp.get("runToSeries", {})
                    for (r, t), n in series.items():
                        if t == tag:
                            c = len(got.get(r, []))
                            total += c
                            ok = ok and c >= want(n)
                if ok:
                    return {"seconds": secs, "cpu": cpu, "points": total, "peak_rss": peak}
            time.sleep(0.05)
        raise TimeoutError("tensorboard did not serve the complete data in time")
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


_LATENCY = r"""
import json, os, sys, tempfile, threading, time
from logger._pb import event_pb2
from logger.records import frame
from vizboard.data import Ingestor, Store
n, poll = int(sys.argv[1]), sys.argv[2] == "poll"
root = tempfile.mkdtemp(prefix="bench-latency-")
os.makedirs(os.path.join(root, "run"))
path = os.path.join(root, "run", "events.out.tfevents.1700000000.bench.1.0")
f = open(path, "ab", buffering=0)
f.write(frame(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString()))
store = Store(root)
lat = []
with Ingestor(store, poll=poll) as ing:
    ing.wait_until_loaded(30)
    for i in range(n):
        e = event_pb2.Event(wall_time=time.time(), step=i)
        e.summary.value.add(tag="loss", simple_value=float(i))
        t0 = time.perf_counter()
        f.write(frame(e.SerializeToString()))
        os.fsync(f.fileno())
        while True:
            s = store.scalars("run", "loss")
            if s is not None and len(s) == i + 1:
                break
            time.sleep(0.0005)
        lat.append(time.perf_counter() - t0)
        time.sleep(0.02)
lat.sort()
print(json.dumps({"p50": lat[len(lat) // 2], "p95": lat[int(len(lat) * 0.95)]}))
"""


def _latency(n: int, poll: bool) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _LATENCY, str(n), "poll" if poll else "watch"], capture_output=True,
                          text=True, env=_env(), timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"latency probe failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sample(values: list[float]) -> Sample:
    return Sample(tuple(values))


def run(quick: bool = False) -> list[Measurement]:
    """Measure every tool on every workload; see the module docstring."""
    scale = 20 if quick else 1
    reps = 1 if quick else 3
    rows: list[Measurement] = []
    tmp = tempfile.mkdtemp(prefix="bench-loader-")
    names = {"python_loader": "TensorBoard Python loader (keep all)", "tbparse": "tbparse",
             "rust_keep_all": "TensorBoard Rust data server (keep all)",
             "rust_default": "TensorBoard Rust data server (default sampling)"}
    try:
        workloads: list[tuple[str, str, dict[tuple[str, str], int]]] = []
        for nruns, steps in ((1, 100_000 // scale), (100 // scale, 1_000)):
            logdir = os.path.join(tmp, f"w{nruns}")
            generate(logdir, nruns, steps)
            runs = ["."] if nruns == 1 else [f"run{r:03d}" for r in range(nruns)]
            label = (f"1 run ({_TAGS} tags x {steps:,} steps), best case" if nruns == 1
                     else f"{nruns} runs x {_TAGS} tags x {steps:,} steps, best case")
            workloads.append((label, logdir, {(r, f"metric/{k}"): steps for r in runs for k in range(_TAGS)}))
        logdir = os.path.join(tmp, "realistic")
        series = generate_realistic(logdir, 150_000 // scale)
        workloads.append(("realistic (torch SummaryWriter: scalars at several rates, add_scalars, histograms, "
                          "images, text)", logdir, series))
        for label, logdir, series in workloads:
            events = sum(series.values())
            tools = ["vizboard", "python_loader", "tbparse", "rust_keep_all"] + ([] if quick else ["rust_default"])
            res: dict[str, list[dict[str, float]]] = {}
            failed: set[str] = set()
            for k in range(reps):  # interleaved: A B C A B C ...
                for tool in tools:
                    if tool in failed or (k and tool in _SLOW):
                        continue
                    try:
                        if tool.startswith("rust"):
                            r = _rust(logdir, series, tool == "rust_keep_all")
                        else:
                            r = _worker(tool, logdir)
                    except (RuntimeError, TimeoutError, OSError, subprocess.TimeoutExpired) as exc:
                        if tool == "vizboard":
                            raise
                        print(f"{tool}: not measured ({exc})", file=sys.stderr)
                        failed.add(tool)
                        res.pop(tool, None)
                        continue
                    res.setdefault(tool, []).append(r)

            def col(key: str, tools: list[str], factor: float = 1.0,
                    res: dict[str, list[dict[str, float]]] = res) -> dict[str, Sample]:
                return {names[t]: _sample([r[key] * factor for r in res[t]]) for t in tools if t in res}

            others = [t for t in names if t in res]
            keep_all = [t for t in others if t != "rust_default"]
            ours_s = _sample([r["seconds"] for r in res["vizboard"]])
            py = res.get("python_loader")
            rust = res.get("rust_keep_all")
            met = None
            if py and rust:
                py_med = Sample(tuple(r["seconds"] for r in py)).median
                rust_med = Sample(tuple(r["seconds"] for r in rust)).median
                met = py_med >= 10 * ours_s.median and rust_med > ours_s.median
            note = (f"n = {reps} each, interleaved, except the Python loader and tbparse: n = 1 (one load takes them "
                    "25-150 s, 30-190x vizboard's time, so more runs cannot move a ratio across a target and would "
                    "cost the run 20 min); Rust timed from process launch (includes TensorBoard's start-up)")
            rows.append(Measurement("loader", f"cold load of {events:,} scalar events, {label}", "s", ours_s,
                                    col("seconds", others), target=">= 10x faster than the Python loader, "
                                    "faster than the Rust data server", met=met, note=note))
            ours_cpu = _sample([r["cpu"] for r in res["vizboard"]])
            cpu_met = None
            if py and rust:
                cpu_met = (Sample(tuple(r["cpu"] for r in py)).median >= 10 * ours_cpu.median
                           and Sample(tuple(r["cpu"] for r in rust)).median > ours_cpu.median)
            rows.append(Measurement("loader", f"CPU time of the cold load, {label}", "s", ours_cpu, col("cpu", others),
                                    target=">= 10x less than the Python loader, less than the Rust data server",
                                    met=cpu_met, note="user+system CPU of the loading process tree (robust to a "
                                    "busy machine; the Rust figure includes TensorBoard's start-up)"))
            pts = _sample([r["points"] for r in res["vizboard"]])
            rows.append(Measurement("loader", f"scalar points kept, {label}", "points", pts, col("points", keep_all),
                                    better="higher", target="every point", met=pts.median == events,
                                    note="keep-all configurations only (TensorBoard keeps 1,000 per series by "
                                         "default; that is a setting, not a capability)"))
            rows.append(Measurement("loader", f"peak RSS, {label}", "MiB",
                                    _sample([r["peak_rss"] / 2**20 for r in res["vizboard"]]),
                                    col("peak_rss", others, 1 / 2**20)))
            per_point = _sample([r["rss_growth"] / max(1, r["points"]) for r in res["vizboard"]])
            rows.append(Measurement("loader", f"RSS growth per stored point after load, {label}", "bytes", per_point,
                                    target="<= 32 bytes per point (at 1M points)",
                                    met=per_point.median <= 32 if events >= 1_000_000 and "best case" in label
                                    else None,
                                    note="(RSS after load - RSS before) / points, in the loading process; "
                                         "fixed overhead dominates small workloads; the realistic workload "
                                         "also holds histograms and blob references"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for poll in (False, True):
        n = (5 if poll else 30) if quick else (40 if poll else 200)
        probes = [_latency(n, poll) for _ in range(1 if quick else 3)]
        mode = "polling observer (--poll)" if poll else "watchdog"
        p95 = _sample([x["p95"] for x in probes])
        rows.append(Measurement("loader", f"append+fsync -> point visible in the Store, p95 ({mode})", "s", p95,
                                target="<= 0.25 s" if not poll else None,
                                met=p95.median <= 0.25 if not poll else None,
                                note=f"p50 {statistics.median(x['p50'] for x in probes):.3g} s; provider level, "
                                     "no HTTP (the API adds its own time)"))
    return rows


def _fmt(sample: Sample) -> str:
    lo, hi = sample.spread
    return f"{sample.median:.4g} [{lo:.4g}..{hi:.4g}]"


if __name__ == "__main__":
    for m in run(quick="--quick" in sys.argv):
        others = "; ".join(f"{k}: {_fmt(v)}" for k, v in m.theirs.items())
        verdict = "" if m.met is None else ("  MET" if m.met else "  MISSED")
        print(f"{m.figure}: vizboard {_fmt(m.ours)} {m.unit}; {others}"
              f"{(' | target ' + m.target) if m.target else ''}{verdict}")
