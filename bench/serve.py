"""Serving benchmarks: live latency (flush -> API, flush -> drawn in Chromium) vs TensorBoard, and
the server time and payload of one scalar chart of 10 runs x 1M points.

``python -m bench.serve [--quick]``. Live latency: a logger SummaryWriter in this process adds
one point and ``flush()``es; the clock runs until the point is in ``/api/scalars`` (polled every
5 ms) or drawn in the Scalars tab of a headless Chromium page (the Plotly graph's data polled
every 10 ms). TensorBoard (``tensorboard --logdir X``, at its default reload interval and at
``--reload_interval 1``) is polled on ``/data/plugin/scalars/scalars``. Points are spaced by a
random 0.2-0.5 s so they do not lock to any polling period. vizboard and both TensorBoard
settings run at once, each on its own logdir, and the API points alternate between them
(A B C A B C ...), so a change in the machine's load hits every server alike.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import Measurement, Sample, summarize

__all__ = ["run", "live_api_interleaved", "chart_server_time"]

REPO = Path(__file__).resolve().parents[1]
RUN, TAG = "live", "live/x"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# ----------------------------------------------------------------------------------- helpers

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str) -> object | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def _wait(pred: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def _seed_logdir(logdir: Path) -> None:
    from logger import SummaryWriter

    w = SummaryWriter(str(logdir / RUN))
    for i in range(100):
        w.add_scalar(TAG, float(np.sin(i / 10)), i)
    w.close()


def _measure_points(n: int, first_step: int, visible: Callable[[int], bool], logdir: Path,
                    timeout: float = 40.0) -> list[float]:
    """Write ``n`` points (one flush each); seconds from flush() returning to ``visible(step)``."""
    from logger import SummaryWriter

    rng = random.Random(0)
    out: list[float] = []
    w = SummaryWriter(str(logdir / RUN))
    try:
        for k in range(n):
            step = first_step + k
            time.sleep(rng.uniform(0.2, 0.5))
            w.add_scalar(TAG, float(step), step)
            w.flush()
            t0 = time.perf_counter()
            deadline = t0 + timeout
            while not visible(step):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"step {step} not visible after {timeout} s")
                time.sleep(0.005)
            out.append(time.perf_counter() - t0)
    finally:
        w.close()
    return out


# ------------------------------------------------------------------------------ live latency

def _start_vizboard(logdir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "vizboard", "serve", str(logdir), "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    if not _wait(lambda: (_get_json(base + "/api/status") or {}).get("loading") is False, 90):
        _stop(proc)
        raise RuntimeError("vizboard serve did not finish its first load within 90 s")
    return proc, base


def _page_latency(n: int, first_step: int, base: str, logdir: Path, idle: dict[str, float]) -> list[float]:
    from playwright.sync_api import sync_playwright

    js = ("s => Array.from(document.querySelectorAll('.js-plotly-plot')).some(g => (g._fullData || [])"
          ".some(d => d.x && d.x.length && d.x[d.x.length - 1] >= s))")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/")
            page.wait_for_function(js, arg=0, timeout=90_000, polling=100)

            def drawn(step: int) -> bool:
                return bool(page.evaluate(js, step))

            latencies = _measure_points(n, first_step, drawn, logdir)
            idle.update(_idle_cost(page))
            return latencies
        finally:
            browser.close()


def _idle_cost(page, seconds: float = 10.0) -> dict[str, float]:
    """Requests per second an idle page makes: the version poll vs Dash callbacks (server work)."""
    seen: list[tuple[str, int]] = []

    def on_response(resp) -> None:
        try:
            size = len(resp.body())
        except Exception:
            size = 0
        seen.append((resp.url, size))

    page.wait_for_timeout(1500)  # let the last update settle
    page.on("response", on_response)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("response", on_response)
    version = [b for u, b in seen if "/api/version" in u]
    callbacks = [b for u, b in seen if "_dash-update-component" in u]
    return {"version_per_s": len(version) / seconds, "callbacks_per_s": len(callbacks) / seconds,
            "bytes_per_s": sum(b for _, b in seen) / seconds}


def _start_tensorboard(logdir: Path, reload_interval: float | None) -> tuple[subprocess.Popen, Callable[[int], bool]]:
    """Launch TensorBoard on ``logdir``; (process, "is step visible in its scalars route")."""
    exe = shutil.which("tensorboard")
    if exe is None:
        raise RuntimeError("tensorboard is not installed")
    port = _free_port()
    cmd = [exe, "--logdir", str(logdir), "--port", str(port), "--host", "127.0.0.1"]
    if reload_interval is not None:
        cmd += ["--reload_interval", str(reload_interval)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?run={RUN}&tag={urllib.request.quote(TAG, safe='')}"
    if not _wait(lambda: isinstance(_get_json(url), list), 120, 0.2):
        _stop(proc)
        raise RuntimeError("tensorboard did not serve the run within 120 s")

    def visible(step: int) -> bool:
        out = _get_json(url)
        return isinstance(out, list) and bool(out) and max(p[1] for p in out) >= step

    return proc, visible


def live_api_interleaved(n: int, targets: dict[str, tuple[Path, Callable[[int], bool]]],
                         timeout: float = 60.0) -> dict[str, list[float]]:
    """API latencies (s) per target, one point each in turn (A B C A B C ...) so load drift hits all alike.

    ``targets`` maps a label to (run directory to write into, "is step visible"). Each point: a
    random 0.2-0.5 s pause, ``add_scalar`` + ``flush()`` with logger's writer, then the clock runs
    until the target's API shows the step (polled every 5 ms).
    """
    from logger import SummaryWriter

    rng = random.Random(0)
    writers = {label: SummaryWriter(str(d / RUN)) for label, (d, _) in targets.items()}
    out: dict[str, list[float]] = {label: [] for label in targets}
    try:
        for k in range(n):
            step = 10_000 + k
            for label, (_, visible) in targets.items():
                time.sleep(rng.uniform(0.2, 0.5))
                writers[label].add_scalar(TAG, float(step), step)
                writers[label].flush()
                t0 = time.perf_counter()
                while not visible(step):
                    if time.perf_counter() - t0 > timeout:
                        raise TimeoutError(f"{label}: step {step} not visible after {timeout} s")
                    time.sleep(0.005)
                out[label].append(time.perf_counter() - t0)
    finally:
        for w in writers.values():
            w.close()
    return out


# -------------------------------------------------------------------------- chart server time

class _ArrayProvider:
    """A provider over ready arrays (the chart benchmark measures serving, not ingest)."""

    def __init__(self, runs: int, points: int) -> None:
        from vizboard.data.models import ScalarSeries

        rng = np.random.default_rng(0)
        self.series = {}
        step = np.arange(points, dtype=np.int64)
        wall = 1.7e9 + step * 0.01
        for r in range(runs):
            v = np.cumsum(rng.normal(size=points)) + rng.normal(size=points)
            v[rng.integers(points)] = 1e6  # one spike that must survive downsampling
            for a in (step, wall, v):
                a.flags.writeable = False
            self.series[f"run{r:02d}"] = ScalarSeries(f"run{r:02d}", "loss", step, wall, v, 1)

    logdir = "/bench"

    def append_point(self) -> None:
        """Every run gets one more point and a new version, as when every run of a live sweep logs."""
        from vizboard.data.models import ScalarSeries

        for name, s in list(self.series.items()):
            arrays = [np.append(s.step, s.step[-1] + 1), np.append(s.wall_time, s.wall_time[-1] + 0.01),
                      np.append(s.value, s.value[-1])]
            for a in arrays:
                a.flags.writeable = False
            self.series[name] = ScalarSeries(name, "loss", *arrays, s.version + 1)

    def version(self) -> int:
        return 1

    def runs(self):
        from vizboard.data.models import RunInfo

        return [RunInfo(n, 1, 0.0, 1, 0) for n in sorted(self.series)]

    def tags(self, kind=None, runs=None):
        from vizboard.data.models import Kind, TagInfo

        return [TagInfo(n, "loss", Kind.SCALARS, "scalars", len(s), 1) for n, s in sorted(self.series.items())
                if runs is None or n in runs]

    def scalars(self, run, tag):
        return self.series.get(run) if tag == "loss" else None

    def chart_layouts(self):
        return []


def chart_server_time(runs: int, points: int, repeats: int) -> dict[str, Sample | float]:
    """Server seconds for one chart of ``runs`` x ``points``: the API (all runs), the card figure
    callback cold (smoothing computed) and warm (smoothing cached: live update / zoom); bytes."""
    from flask import Flask
    from plotly.io.json import to_json_plotly

    from vizboard.api import register_api
    from vizboard.components.scalar_index import ScalarIndex
    from vizboard.dashboards.scalars import MAX_POINTS, card_figure, new_smoothing_cache
    from vizboard.figures import scalars as fs

    provider = _ArrayProvider(runs, points)
    server = Flask("bench")
    register_api(server, provider)
    client = server.test_client()
    names = sorted(provider.series)
    api_bytes = 0

    def api_once() -> float:
        nonlocal api_bytes
        t = time.perf_counter()
        total = 0
        for n in names:
            resp = client.get(f"/api/scalars?run={n}&tag=loss&max_points={MAX_POINTS}")
            body = json.loads(resp.data)
            assert max(v for v in body["value"] if isinstance(v, float)) == 1e6  # the spike survived
            total += len(resp.data)
        api_bytes = total
        return time.perf_counter() - t

    spec = ScalarIndex(provider).sections(names, "")[0].cards[0]
    opts = fs.ChartOptions(max_points=MAX_POINTS)
    fs.warm_up()
    fig_bytes = 0
    points_per_trace = 0

    def figure_once(cache) -> float:
        nonlocal fig_bytes, points_per_trace
        t = time.perf_counter()
        fig = card_figure(provider, spec, opts, None, cache)
        body = to_json_plotly(fig)  # what Dash sends
        dt = time.perf_counter() - t
        fig_bytes = len(body)
        points_per_trace = max(len(tr.x) for tr in fig.data)
        return dt

    api = summarize([api_once() for _ in range(repeats)])
    cold = summarize([figure_once(new_smoothing_cache()) for _ in range(repeats)])
    warm_cache = new_smoothing_cache()
    figure_once(warm_cache)
    warm = summarize([figure_once(warm_cache) for _ in range(repeats)])
    zoom_cache = warm_cache

    def zoom_once() -> float:
        t = time.perf_counter()
        lo = random.uniform(0, points * 0.9)
        to_json_plotly(card_figure(provider, spec, opts, [lo, lo + points * 0.05], zoom_cache))
        return time.perf_counter() - t

    zoom = summarize([zoom_once() for _ in range(repeats)])

    def live_once() -> float:
        provider.append_point()  # every run changed: its smoothing must be recomputed, not cached
        return figure_once(warm_cache)

    live = summarize([live_once() for _ in range(repeats)])
    return {"api": api, "cold": cold, "warm": warm, "zoom": zoom, "live": live, "api_bytes": float(api_bytes),
            "figure_bytes": float(fig_bytes), "points_per_trace": float(points_per_trace)}


def page_series_time(runs: int, points: int, repeats: int) -> dict[str, Sample | float]:
    """Server seconds of one chart's data on the browser-drawn Scalars page (``POST /api/page/series``
    for ``runs`` x ``points``, as the page asks for it): first view (fresh server caches: smoothing
    computed), live update of all runs (every run got a point: smoothing recomputed), the same
    request again (cached) and a zoom to 5% of x; bytes (raw and gzip) and points per trace."""
    from flask import Flask

    from vizboard.page_api import register_page_api

    provider = _ArrayProvider(runs, points)
    items = [[n, "loss"] for n in sorted(provider.series)]

    def new_client(prov: _ArrayProvider) -> tuple[object, int]:
        server = Flask("bench")
        data = register_page_api(server, prov)  # type: ignore[arg-type]
        return server.test_client(), data.points_per_trace(runs)

    client, per_trace = new_client(provider)
    sizes: dict[str, float] = {}

    def once(c: object, x_range: list[float] | None = None, key: str = "") -> float:
        body = {"items": items, "smooth": "ema", "w": 0.6, "max_points": per_trace, "x_range": x_range}
        t = time.perf_counter()
        resp = c.post("/api/page/series", json=body, headers={"Accept-Encoding": "gzip"})  # type: ignore[attr-defined]
        dt = time.perf_counter() - t
        if resp.status_code != 200:
            raise RuntimeError(f"/api/page/series answered {resp.status_code}: {resp.data[:200]!r}")
        if key:
            raw = gzip.decompress(resp.data) if resp.headers.get("Content-Encoding") == "gzip" else resp.data
            payload = json.loads(raw)
            sizes.update({"api_bytes": float(len(raw)), "gzip_bytes": float(len(resp.data)),
                          "points_per_trace": float(max(s["k"] for s in payload["series"]))})
        return dt

    cold = summarize([once(new_client(provider)[0], key="x") for _ in range(repeats)])
    once(client)
    warm = summarize([once(client) for _ in range(repeats)])

    def live_once() -> float:
        provider.append_point()  # every run changed: its smoothing must be recomputed, not cached
        return once(client)

    live = summarize([live_once() for _ in range(repeats)])
    rng = random.Random(0)

    def zoom_once() -> float:
        lo = rng.uniform(0, points * 0.9)
        return once(client, [lo, lo + points * 0.05])

    zoom = summarize([zoom_once() for _ in range(repeats)])
    return {"cold": cold, "live": live, "warm": warm, "zoom": zoom, **sizes}


# ------------------------------------------------------------------------------------- run

def _live(n: int, tmp: Path, quick: bool, idle: dict[str, float]
          ) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """(our API latencies, our drawn latencies, TensorBoard's API latencies per setting).

    All servers run at once, each on its own logdir; API points alternate between them. Then,
    TensorBoard stopped, Chromium measures our page on the same vizboard server.
    """
    ours_dir = tmp / "ours"
    _seed_logdir(ours_dir)
    proc, base = _start_vizboard(ours_dir)
    procs: list[subprocess.Popen] = []
    try:
        url = f"{base}/api/scalars?run={RUN}&tag={TAG}&x_min=0"

        def in_api(step: int) -> bool:
            out = _get_json(url)
            return isinstance(out, dict) and bool(out["step"]) and out["step"][-1] >= step

        targets: dict[str, tuple[Path, Callable[[int], bool]]] = {"vizboard": (ours_dir, in_api)}
        for label, interval in (("TensorBoard --reload_interval 1", 1.0), ("TensorBoard default", None)):
            if quick and interval is None:
                continue
            d = tmp / ("tb-" + label.split()[-1].replace("-", ""))
            _seed_logdir(d)
            try:
                tb_proc, visible = _start_tensorboard(d, interval)
            except Exception as exc:  # a competitor problem is reported, not fatal
                print(f"bench.serve: {label}: not measured: {exc}", file=sys.stderr)
                continue
            procs.append(tb_proc)
            targets[label] = (d, visible)
        lat = live_api_interleaved(n, targets)
        for p in procs:
            _stop(p)
        procs.clear()
        drawn = _page_latency(n, 20_000, base, ours_dir, idle)
    finally:
        for p in [*procs, proc]:
            _stop(p)
    api = lat.pop("vizboard")
    return api, drawn, lat


def run(quick: bool = False) -> list[Measurement]:
    """All serve measurements (``quick``: 5 live points, TensorBoard only at --reload_interval 1,
    a 10 x 200k chart)."""
    n = 5 if quick else 30
    out: list[Measurement] = []
    tmp = Path(tempfile.mkdtemp(prefix="vb-bench-serve-"))
    try:
        idle: dict[str, float] = {}
        api, drawn, tb = _live(n, tmp, quick, idle)
        for q, idx in (("p50", 0), ("p95", 1)):
            ours_api = _percentiles(api)[idx]
            theirs = {k: Sample((_percentiles(v)[idx],)) for k, v in tb.items()}
            out.append(Measurement(
                group="serve: live latency", figure=f"flush -> point in the API, {q} over {n} points", unit="s",
                ours=Sample((ours_api,)), theirs=theirs, better="lower",
                target="p95 <= 0.25 s" if q == "p95" else None, met=(ours_api <= 0.25) if q == "p95" else None))
            ours_drawn = _percentiles(drawn)[idx]
            out.append(Measurement(
                group="serve: live latency", figure=f"flush -> point drawn in Chromium, {q} over {n} points",
                unit="s", ours=Sample((ours_drawn,)), better="lower",
                target="p95 <= 1 s" if q == "p95" else None, met=(ours_drawn <= 1.0) if q == "p95" else None,
                note="TensorBoard's page polls every 30 s, and only with auto-reload on"))
        out.append(Measurement(
            group="serve: idle page", figure="Dash callback requests per second (server work) while idle",
            unit="req/s", ours=Sample((idle.get("callbacks_per_s", float("nan")),)), better="lower",
            note=(f"plus {idle.get('version_per_s', float('nan')):.1f} /api/version polls per second; "
                  f"{idle.get('bytes_per_s', float('nan')):.0f} response bytes per second in all")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    runs, points = (10, 200_000) if quick else (10, 1_000_000)
    out += _chart_rows(runs, points, 3 if quick else 5)
    return out


def _chart_rows(runs: int, points: int, repeats: int) -> list[Measurement]:
    """The scalar-chart rows: the browser-drawn page's series route when it exists, else the Dash
    card callback (older pages); the JSON API's time for the same chart in both cases."""
    import importlib.util

    size = f"{runs} runs x {points:,} points"
    group = "serve: scalar chart"
    out: list[Measurement] = []
    page = importlib.util.find_spec("vizboard.page_api") is not None
    try:
        res = page_series_time(runs, points, repeats) if page else chart_server_time(runs, points, repeats)
    except ImportError as exc:  # the page's server-side path moved: say so, keep the rest
        return [Measurement(group=group, figure="chart data for the page", unit="s", ours=Sample(()),
                            note=f"not measured: {exc}")]
    what = "POST /api/page/series (the page's chart data)" if page else "chart figure callback"
    rows: list[tuple[str, str, str | None]] = [
        ("cold", f"{what}, first view: smoothing computed ({size})", "<= 0.3 s"),
        ("live", f"{what}, live update of all runs: every run got a point, smoothing recomputed ({size})",
         "<= 0.3 s"),
        ("warm", f"{what}, same data asked again (answered from the cache; no new data) ({size})", None),
        ("zoom", f"{what}, zoom to 5% of x ({size})", None),
    ]
    if not page:
        rows.insert(0, ("api", f"/api/scalars for every run of one chart ({size})", "<= 0.3 s"))
    for key, figure, target in rows:
        s = res[key]
        assert isinstance(s, Sample)
        out.append(Measurement(group=group, figure=figure, unit="s", ours=s, better="lower",
                               target=target, met=(s.median <= 0.3) if target else None))
    if page:
        out.append(Measurement(group=group, figure=f"payload: packed series of one chart ({size})", unit="bytes",
                               ours=Sample((res["api_bytes"],)), better="lower",
                               note=f"{res['gzip_bytes']:.0f} bytes gzip-compressed as sent"))
    else:
        out.append(Measurement(group=group, figure=f"payload: API JSON, all runs ({size})",
                               unit="bytes", ours=Sample((res["api_bytes"],)), better="lower"))
        out.append(Measurement(group=group, figure=f"payload: figure JSON sent to the page ({size})",
                               unit="bytes", ours=Sample((res["figure_bytes"],)), better="lower"))
    ppt = float(res["points_per_trace"])  # type: ignore[arg-type]
    out.append(Measurement(group=group, figure="points per trace drawn", unit="points",
                           ours=Sample((ppt,)), better="lower", target="<= 4000", met=ppt <= 4000))
    return out


def _main() -> None:
    quick = "--quick" in sys.argv
    for m in run(quick):
        theirs = "  ".join(f"{k}: {v.median:.3g}" for k, v in m.theirs.items())
        spread = f"[{m.ours.spread[0]:.3g}..{m.ours.spread[1]:.3g}]" if len(m.ours.values) > 1 else ""
        met = "" if m.met is None else ("  met" if m.met else "  NOT met")
        print(f"{m.group:22} {m.figure:75} {m.ours.median:10.4g} {m.unit:5} {spread:18} {theirs}{met}")


if __name__ == "__main__":
    _main()
