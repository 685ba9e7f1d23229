"""The scale figure: 1,000 runs x 20 tags served by vizboard and by TensorBoard, side by side.

Measured per server (fresh process each repetition, same logdir, same session):
time from launch until the first page answers and the run list holds every run; until the
data of sampled runs is complete; resident memory (process tree) after load and its growth
over a burst of requests; and, in headless Chromium, the time from typing a run regex into
the run filter until the visible run list shows the change. Run alone: ``python -m bench.scale``.

Over 500 lines for a reason: the server harness (launch, readiness polling, process-tree RSS,
stop by PID) and the browser driver are private to this figure and kept beside it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Measurement, Sample

__all__ = ["ScaleConfig", "QUICK", "FULL", "generate_logdir", "Server", "run"]

_REPO = Path(__file__).resolve().parent.parent
_CHROMIUM = "/usr/bin/chromium"
_CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
_OURS, _TB = "vizboard", "TensorBoard"


@dataclass(frozen=True)
class ScaleConfig:
    """Size of the logdir and of the measurement: ``steps`` points per tag, ``requests`` in the burst."""

    runs: int
    tags: int
    steps: int
    repeats: int
    requests: int
    regex_trials: int
    start_timeout_s: float
    browser_timeout_s: float


QUICK = ScaleConfig(runs=200, tags=20, steps=10, repeats=1, requests=20, regex_trials=2, start_timeout_s=60,
                    browser_timeout_s=20)
FULL = ScaleConfig(runs=1000, tags=20, steps=100, repeats=3, requests=100, regex_trials=5, start_timeout_s=600,
                   browser_timeout_s=60)


def run_name(i: int) -> str:
    """Run ``i``'s name: ten sweep groups of 100 (``sweep3/run0342``), so a regex can pick a slice."""
    return f"sweep{i // 100}/run{i:04d}"


def tag_names(n: int) -> list[str]:
    """``n`` realistic tag names (train/val losses and metrics, then per-layer gradient norms)."""
    base = ["train/loss", "train/acc", "val/loss", "val/acc", "lr"]
    return (base + [f"grad_norm/layer{k:02d}" for k in range(max(0, n - len(base)))])[:n]


def generate_logdir(root: Path, runs: int, tags: int, steps: int) -> list[str]:
    """Write ``runs`` runs of ``tags`` x ``steps`` scalar events (torch's ``add_scalar`` encoding).

    One event file per run, one Event per (step, tag) with ``simple_value``, framed with
    ``logger.records.frame``. Returns the run names.
    """
    from logger._pb import event_pb2
    from logger.records import frame

    names = tag_names(tags)
    rng = random.Random(0)
    wall0 = time.time() - 3600
    ev = event_pb2.Event()
    out_runs = []
    for i in range(runs):
        name = run_name(i)
        run_dir = root / name
        run_dir.mkdir(parents=True, exist_ok=True)
        chunks = [frame(event_pb2.Event(wall_time=wall0, file_version="brain.Event:2").SerializeToString())]
        scale = rng.uniform(0.5, 2.0)
        for step in range(steps):
            for j, tag in enumerate(names):
                ev.Clear()
                ev.wall_time = wall0 + step
                ev.step = step
                value = ev.summary.value.add()
                value.tag = tag
                value.simple_value = scale * (1.0 + j) / (1.0 + step) + rng.random() * 0.01
                chunks.append(frame(ev.SerializeToString()))
        (run_dir / f"events.out.tfevents.{int(wall0):010d}.bench.{os.getpid()}.{i}").write_bytes(b"".join(chunks))
        out_runs.append(name)
    return out_runs


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """(HTTP status, body) of a GET; status 0 when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError):
        return 0, b""


def _json(url: str) -> object | None:
    status, body = _get(url)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (TensorBoard's data server is a child)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


@dataclass
class Server:
    """A server subprocess bound to 127.0.0.1; stopped by PID (its descendants too) in ``stop``."""

    name: str
    cmd: list[str]
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    _log: object = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Launch; ``started_at`` is the perf_counter just before the process was created."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH", "")]))
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=_REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the server and every descendant by PID; SIGKILL what is left after 10 s."""
        import psutil

        if self.proc is None:
            return
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            kids = []
        procs = [p for p in kids]
        if self.proc.poll() is None:
            self.proc.terminate()
        for p in procs:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        _, alive = psutil.wait_procs(procs, timeout=10)
        for p in alive:
            p.kill()
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]


@contextmanager
def _running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _wait(pred: Callable[[], bool], server: Server, deadline: float, what: str) -> float:
    """Poll ``pred`` every 50 ms until true; return seconds since the server was launched."""
    while time.perf_counter() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}) before {what}: {server.log_tail()}")
        if pred():
            return time.perf_counter() - server.started_at
        time.sleep(0.05)
    raise TimeoutError(f"{server.name}: {what} not reached in time; log tail: {server.log_tail()}")


def _count_runs(payload: object) -> int:
    """Number of runs in a run-listing JSON (a list, or a dict holding the list under ``runs``)."""
    if isinstance(payload, dict):
        inner = payload.get("runs", payload)
        return len(inner) if isinstance(inner, (list, dict)) else 0
    return len(payload) if isinstance(payload, list) else 0


def _count_points(payload: object) -> int:
    """Number of points in a scalar-series JSON (TensorBoard's list of triples, or our columns)."""
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict):
        for key in ("step", "steps", "points", "data", "values"):
            if isinstance(payload.get(key), list):
                return len(payload[key])
        for value in payload.values():
            n = _count_points(value) if isinstance(value, (list, dict)) else 0
            if n:
                return n
    return 0


@dataclass(frozen=True)
class _Flavor:
    """How to launch one server and where it answers (page, run list, one scalar series)."""

    name: str
    page_paths: tuple[str, ...]
    runs_path: str
    command: Callable[[Path, int], list[str]]
    scalars_path: Callable[[str, str], str]
    burst_paths: Callable[[str, str], tuple[str, ...]]


def _q(**params: str) -> str:
    return urllib.parse.urlencode(params)


def _tensorboard_cmd(logdir: Path, port: int) -> list[str]:
    exe = shutil.which("tensorboard")
    head = [exe] if exe else [sys.executable, "-m", "tensorboard.main"]
    return [*head, "--logdir", str(logdir), "--port", str(port), "--host", "127.0.0.1"]


VIZBOARD = _Flavor(
    name=_OURS,
    page_paths=("/", "/_dash-layout"),
    runs_path="/api/runs",
    command=lambda logdir, port: [sys.executable, "-m", "vizboard", "serve", str(logdir),
                                  "--host", "127.0.0.1", "--port", str(port)],
    scalars_path=lambda run, tag: f"/api/scalars?{_q(run=run, tag=tag)}",
    burst_paths=lambda run, tag: ("/api/runs", f"/api/tags?{_q(run=run)}", f"/api/scalars?{_q(run=run, tag=tag)}"),
)
TENSORBOARD = _Flavor(
    name=_TB,
    page_paths=("/",),
    runs_path="/data/runs",
    command=_tensorboard_cmd,
    scalars_path=lambda run, tag: f"/data/plugin/scalars/scalars?{_q(run=run, tag=tag)}",
    burst_paths=lambda run, tag: ("/data/runs", "/data/plugin/scalars/tags",
                                  f"/data/plugin/scalars/scalars?{_q(run=run, tag=tag)}"),
)


def _measure_once(flavor: _Flavor, logdir: Path, runs: list[str], cfg: ScaleConfig, workdir: Path,
                  regex: Callable[[Server, list[str]], list[float]] | None) -> dict[str, object]:
    """One fresh server: seconds to first page / all data, RSS after load and after a request burst."""
    port = _free_port()
    server = Server(flavor.name, flavor.command(logdir, port), port, workdir / f"{flavor.name}-{port}.log")
    tags = tag_names(cfg.tags)
    probes = sorted({runs[0], runs[len(runs) // 2], runs[-1]})
    with _running(server):
        deadline = server.started_at + cfg.start_timeout_s
        base = server.base
        for path in flavor.page_paths:
            _wait(lambda: _get(base + path)[0] == 200, server, deadline, f"GET {path} -> 200")
        first_page = _wait(lambda: _count_runs(_json(base + flavor.runs_path)) >= len(runs), server, deadline,
                           f"{flavor.runs_path} lists {len(runs)} runs")
        all_data = _wait(
            lambda: all(_count_points(_json(base + flavor.scalars_path(r, tags[-1]))) >= cfg.steps for r in probes),
            server, deadline, f"{cfg.steps} points of {tags[-1]} in runs {probes}")
        rss_load = _tree_rss(server.proc.pid)
        rng = random.Random(1)
        for _ in range(cfg.requests):
            for path in flavor.burst_paths(rng.choice(runs), rng.choice(tags)):
                _get(base + path, timeout=60)
        rss_burst = _tree_rss(server.proc.pid)
        result: dict[str, object] = {"first_page": first_page, "all_data": all_data, "rss": float(rss_load),
                                     "growth": float(rss_burst - rss_load)}
        if regex is not None:
            try:
                result["regex"] = regex(server, runs)
            except Exception as exc:  # noqa: BLE001 - the browser part is reported, not fatal
                result["regex_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    return result


@dataclass(frozen=True)
class _RegexUI:
    """Where a dashboard's run filter is (CSS) and what its run list shows (JS expressions).

    ``count_js`` is how many runs the list says it shows; ``names_js`` the run names present in
    the DOM (all of them, or the visible window of a virtualised list). The list counts as updated
    when the count is the expected one and every name in the DOM matches the filter.
    """

    path: str
    input_css: str
    count_js: str
    names_js: str

    def shows_js(self, pattern: str | None, expected: int) -> str:
        """JS expression: true once the list shows ``expected`` runs, all matching ``pattern``."""
        match = f"const re = new RegExp({json.dumps(pattern)}); " if pattern else "const re = /(?:)/; "
        return (
            "(() => { " + match + f"const n = {self.count_js}; const names = {self.names_js}; "
            f"return n === {expected} && names.length === Math.min(n, names.length) "
            f"&& (n === 0 || names.length > 0) && names.every(x => re.test(x)); }})()"
        )


_TB_UI = _RegexUI(
    path="/#timeseries",
    input_css='runs-selector input[placeholder="Filter runs (regex)"]',
    count_js="document.querySelectorAll('runs-selector tb-data-table-content-row').length",
    names_js="Array.from(document.querySelectorAll('runs-selector tb-data-table-content-row'))"
             ".map(e => e.textContent.trim())",
)
_OURS_UI = _RegexUI(  # vizboard.components.run_selector (ids in vizboard.components.shell_ids)
    path="/",
    input_css="#shell-run-filter",
    # The checklist may be virtualised (only visible rows in the DOM): the count is the "N of M"
    # text its callback renders with the list, and the DOM rows must all match the filter.
    count_js="parseInt((document.getElementById('shell-run-count') || {}).textContent || '-1', 10)",
    names_js="Array.from(document.querySelectorAll('#shell-run-checklist input[type=checkbox]')).map(e => e.value)",
)

_PATTERNS = (r"run00[0-4]\d", r"sweep1/run01[0-2]\d", r"run01[5-9]\d", r"run00\d[05]", r"^sweep[01]/")
"""Run filters tried in turn: each changes how many runs show (first 200 runs, so quick runs too)."""


class PartialResults(RuntimeError):
    """Our code failed part-way: the message says why, ``measurements`` keeps what was measured."""

    def __init__(self, message: str, measurements: list[Measurement]) -> None:
        super().__init__(message)
        self.measurements = measurements


def _regex_times(ui: _RegexUI, server: Server, runs: list[str], trials: int, timeout_s: float) -> list[float]:
    """Seconds from filling the run filter with a regex until the run list shows the matching count."""
    import re

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_CHROMIUM, headless=True, args=_CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(timeout_s * 1000)
            page.goto(server.base + ui.path)
            box = page.locator(ui.input_css).first
            box.wait_for()
            try:
                page.wait_for_function(ui.shows_js(None, len(runs)))
            except Exception as exc:
                raise TimeoutError(f"the run list never showed all {len(runs)} runs (count says "
                                   f"{page.evaluate(ui.count_js)}) within {timeout_s:.0f} s") from exc
            times = []
            for k in range(trials + 1):  # trial 0 warms the page up (first paint of every chart) and is dropped
                pattern = _PATTERNS[k % len(_PATTERNS)]
                expected = sum(1 for r in runs if re.search(pattern, r))
                start = time.perf_counter()
                box.fill(pattern)
                box.press("End")  # a key event too: TensorBoard filters on keyup, not on input
                try:
                    page.wait_for_function(ui.shows_js(pattern, expected), polling="raf")
                except Exception as exc:
                    names = page.evaluate(ui.names_js)
                    wrong = [n for n in names if not re.search(pattern, n)]
                    raise TimeoutError(
                        f"filter {pattern!r} (trial {k}): after {timeout_s:.0f} s the count says "
                        f"{page.evaluate(ui.count_js)} (expected {expected}) and {len(wrong)} of the "
                        f"{len(names)} listed runs do not match it (e.g. {wrong[:2]})") from exc
                times.append(time.perf_counter() - start)
            return times[1:]
        finally:
            browser.close()


def _ours_landed() -> str | None:
    """Why ``python -m vizboard serve`` cannot run yet (None when it can)."""
    import importlib.util

    for mod in ("vizboard.__main__", "vizboard.cli", "vizboard.app"):
        try:
            if importlib.util.find_spec(mod) is None:
                return f"{mod} has not landed yet"
        except ImportError:
            return f"{mod} has not landed yet"
    return None


def _measurements(results: dict[str, list[dict[str, object]]], errors: dict[str, str], cfg: ScaleConfig,
                  n_runs: int) -> list[Measurement]:
    """Turn the per-repetition results into report rows; ``errors`` maps a tool (or tool+regex) to why not."""

    def sample(tool: str, key: str) -> Sample:
        values: list[float] = []
        for rep in results.get(tool, []):
            value = rep.get(key)
            if isinstance(value, list):
                values.extend(value)
            elif isinstance(value, float):
                values.append(value)
        return Sample(tuple(values))

    def theirs(key: str) -> dict[str, Sample]:
        return {"TensorBoard (default: Rust data server)": sample(_TB, key)}

    def why(*keys: str) -> str:
        return "; ".join(f"{k}: not measured: {errors[k]}" for k in keys if k in errors)

    size = f"{n_runs:,} runs x {cfg.tags} tags x {cfg.steps} steps"
    full_scale = n_runs >= 1000 and cfg.tags >= 20
    first, rss, growth = sample(_OURS, "first_page"), sample(_OURS, "rss"), sample(_OURS, "growth")
    growth_ok = growth.median <= 0.10 * rss.median if rss.values and growth.values else None
    server_gaps = why(_OURS, _TB)
    regex_gaps = why(_OURS, _TB, f"{_OURS} regex", f"{_TB} regex")
    return [
        Measurement(
            "scale", f"time to first page with all runs listed ({size})", "s", first, theirs("first_page"),
            target="1,000 runs x 20 tags browsable", met=(bool(first.values) if full_scale else None),
            note=" ".join(filter(None, [
                "From launch until GET / (and the Dash layout) answer 200 and the run list (/api/runs; "
                "TensorBoard: /data/runs) holds every run.", server_gaps]))),
        Measurement(
            "scale", "time until sampled runs' data is complete", "s", sample(_OURS, "all_data"),
            theirs("all_data"),
            note=" ".join(filter(None, [
                "From launch until the first, middle and last run serve every step of the last tag.",
                server_gaps]))),
        Measurement("scale", "server memory after load (RSS of the process tree)", "bytes", rss, theirs("rss"),
                    note=server_gaps),
        Measurement(
            "scale", f"RSS growth over {cfg.requests} request rounds", "bytes", growth, theirs("growth"),
            target="memory grows with data, not with requests (growth <= 10% of load RSS)", met=growth_ok,
            note=" ".join(filter(None, [
                "Each round asks for the run list, a tag list and one random scalar series.", server_gaps]))),
        Measurement(
            "scale", "run regex change -> run list updated in Chromium", "s", sample(_OURS, "regex"),
            theirs("regex"),
            note=" ".join(filter(None, [
                "Playwright fills the run filter with a regex and waits, checking every animation frame, "
                "until the run list shows exactly the matching runs.", regex_gaps]))),
    ]


def run(quick: bool = False) -> list[Measurement]:
    """Generate the logdir, measure vizboard and TensorBoard on it (alternating), return the figures."""
    cfg = QUICK if quick else FULL
    errors: dict[str, str] = {}
    results: dict[str, list[dict[str, object]]] = {_OURS: [], _TB: []}
    not_landed = _ours_landed()
    if not_landed:
        errors[_OURS] = not_landed
    if shutil.which("tensorboard") is None and importlib_missing("tensorboard"):
        errors[_TB] = "tensorboard is not installed"
    ours_crash: str | None = None
    with tempfile.TemporaryDirectory(prefix="vizboard-bench-scale-") as tmp:
        work = Path(tmp)
        runs = generate_logdir(work / "logdir", cfg.runs, cfg.tags, cfg.steps)
        for rep in range(cfg.repeats):
            order = [(_OURS, VIZBOARD, _OURS_UI), (_TB, TENSORBOARD, _TB_UI)]
            if rep % 2:
                order.reverse()
            for tool, flavor, ui in order:
                if tool in errors:
                    continue
                regex = None
                if rep == 0 and os.path.exists(_CHROMIUM):  # one browser session per tool
                    def regex(server: Server, names: list[str], ui: _RegexUI = ui) -> list[float]:
                        return _regex_times(ui, server, names, cfg.regex_trials, cfg.browser_timeout_s)
                try:
                    result = _measure_once(flavor, work / "logdir", runs, cfg, work, regex)
                    results[tool].append(result)
                    if "regex_error" in result:
                        errors[f"{tool} regex"] = str(result["regex_error"])
                    elif regex is None and rep == 0:
                        errors.setdefault(f"{tool} regex", f"{_CHROMIUM} not found")
                except Exception as exc:  # noqa: BLE001 - recorded, the other tool still runs
                    errors[tool] = f"{type(exc).__name__}: {str(exc)[:400]}"
                    if tool == _OURS:
                        ours_crash = errors[tool]
    rows = _measurements(results, errors, cfg, len(runs))
    if ours_crash:
        raise PartialResults(f"vizboard failed in the scale benchmark: {ours_crash}", rows)
    return rows


def importlib_missing(name: str) -> bool:
    """True when the top-level package ``name`` cannot be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec(name) is None


if __name__ == "__main__":
    for m in run(quick="--quick" in sys.argv):
        theirs_text = ", ".join(f"{k}: {v.median:.4g}" for k, v in m.theirs.items())
        ours = f"{m.ours.median:.4g} {m.unit}" if m.ours.values else "not measured"
        print(f"{m.figure}: vizboard {ours}; {theirs_text} ({m.unit})")
