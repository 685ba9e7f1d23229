"""Server harness shared by the server benchmarks: launch vizboard or TensorBoard on a logdir,
poll until a condition holds, measure the process tree's memory, stop by PID.

``VIZBOARD`` and ``TENSORBOARD`` say how to launch each server and where it answers; both use
the same request mix (run list, every run's scalar tags, one scalar series) so a comparison of
request costs compares like with like.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Measurement

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "OURS", "TB", "Flavor", "VIZBOARD", "TENSORBOARD", "PartialResults", "Server",
    "count_points", "count_runs", "last_step", "free_port", "http_get", "get_json", "ours_landed", "running",
    "tensorboard_missing", "tree_processes", "tree_rss", "wait_until",
]

_REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
"""Debian's Chromium and the flags every browser benchmark launches it with (no GPU, no network)."""
OURS, TB = "vizboard", "TensorBoard"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """(HTTP status, body) of a GET; status 0 when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError):
        return 0, b""


def get_json(url: str) -> object | None:
    status, body = http_get(url)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def tree_processes(pid: int) -> list:
    """psutil processes of ``pid`` and all its descendants ([] once it has exited)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (TensorBoard's data server is a child)."""
    import psutil

    total = 0
    for p in tree_processes(pid):
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
        """Launch; ``started_at`` is the perf_counter just before the process was created.

        vizboard's sources are byte-compiled first (outside the timed launch), as ``pip install``
        does for every installed package, TensorBoard included: with PYTHONDONTWRITEBYTECODE set
        (as on the bench machine) a run from the source tree would otherwise compile ~100 modules
        (~0.25 s) on every launch, a cost no installed copy pays.
        """
        compile_sources()
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


def compile_sources() -> None:
    """Write the bytecode of ``vizboard/`` and ``logger/`` (a no-op when it is up to date)."""
    import compileall

    for pkg in ("vizboard", "logger"):
        compileall.compile_dir(str(_REPO / pkg), quiet=1)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(pred: Callable[[], bool], server: Server, deadline: float, what: str) -> float:
    """Poll ``pred`` every 50 ms until true; return seconds since the server was launched."""
    while time.perf_counter() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}) before {what}: {server.log_tail()}")
        if pred():
            return time.perf_counter() - server.started_at
        time.sleep(0.05)
    raise TimeoutError(f"{server.name}: {what} not reached in time; log tail: {server.log_tail()}")


def count_runs(payload: object) -> int:
    """Number of runs in a run-listing JSON (a list, or a dict holding the list under ``runs``)."""
    if isinstance(payload, dict):
        inner = payload.get("runs", payload)
        return len(inner) if isinstance(inner, (list, dict)) else 0
    return len(payload) if isinstance(payload, list) else 0


def last_step(payload: object) -> float:
    """Largest step in a scalar-series answer (TensorBoard's [wall, step, value] triples or our
    ``step`` column); -1 when there is none."""
    if isinstance(payload, list) and payload and all(isinstance(p, list) and len(p) >= 2 for p in payload):
        return float(max(p[1] for p in payload))
    if isinstance(payload, dict) and isinstance(payload.get("step"), list) and payload["step"]:
        return float(payload["step"][-1])
    return -1.0


def count_points(payload: object) -> int:
    """Number of points a scalar-series JSON says the series holds: TensorBoard's list of triples,
    or our ``num_points`` (the full series; the columns are downsampled), else our columns."""
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict):
        if isinstance(payload.get("num_points"), int):
            return int(payload["num_points"])
        for key in ("step", "steps", "points", "data", "values"):
            if isinstance(payload.get(key), list):
                return len(payload[key])
        for value in payload.values():
            n = count_points(value) if isinstance(value, (list, dict)) else 0
            if n:
                return n
    return 0


@dataclass(frozen=True)
class Flavor:
    """How to launch one server and where it answers (page, run list, one scalar series)."""

    name: str
    page_paths: tuple[str, ...]
    runs_path: str
    command: Callable[[Path, int], list[str]]
    scalars_path: Callable[[str, str], str]
    burst_paths: Callable[[str, str], tuple[str, ...]]
    kept_points: int | None = None
    """Most points per scalar series the server keeps at its defaults (TensorBoard: 1,000)."""

    def complete(self, payload: object, steps: int) -> bool:
        """Whether a scalar-series answer holds a series of ``steps`` points (0..steps-1) as loaded as
        this server keeps it: all points, or its default sample with the last step."""
        need = steps if self.kept_points is None else min(steps, self.kept_points)
        return count_points(payload) >= need and last_step(payload) >= steps - 1


def _q(**params: str) -> str:
    return urllib.parse.urlencode(params)


def _tensorboard_cmd(logdir: Path, port: int) -> list[str]:
    exe = shutil.which("tensorboard")
    head = [exe] if exe else [sys.executable, "-m", "tensorboard.main"]
    return [*head, "--logdir", str(logdir), "--port", str(port), "--host", "127.0.0.1"]


VIZBOARD = Flavor(
    name=OURS,
    page_paths=("/", "/_dash-layout"),
    runs_path="/api/runs",
    command=lambda logdir, port: [sys.executable, "-m", "vizboard", "serve", str(logdir),
                                  "--host", "127.0.0.1", "--port", str(port)],
    scalars_path=lambda run, tag: f"/api/scalars?{_q(run=run, tag=tag)}",
    burst_paths=lambda run, tag: ("/api/runs", "/api/tags?kind=scalars", f"/api/scalars?{_q(run=run, tag=tag)}"),
)
TENSORBOARD = Flavor(
    name=TB,
    page_paths=("/",),
    runs_path="/data/runs",
    command=_tensorboard_cmd,
    scalars_path=lambda run, tag: f"/data/plugin/scalars/scalars?{_q(run=run, tag=tag)}",
    burst_paths=lambda run, tag: ("/data/runs", "/data/plugin/scalars/tags",
                                  f"/data/plugin/scalars/scalars?{_q(run=run, tag=tag)}"),
    kept_points=1000,
)


class PartialResults(RuntimeError):
    """Our code failed part-way: the message says why, ``measurements`` keeps what was measured."""

    def __init__(self, message: str, measurements: list[Measurement]) -> None:
        super().__init__(message)
        self.measurements = measurements


def ours_landed() -> str | None:
    """Why ``python -m vizboard serve`` cannot run yet (None when it can)."""
    for mod in ("vizboard.__main__", "vizboard.cli", "vizboard.app"):
        try:
            if importlib.util.find_spec(mod) is None:
                return f"{mod} has not landed yet"
        except ImportError:
            return f"{mod} has not landed yet"
    return None


def tensorboard_missing() -> str | None:
    """Why TensorBoard cannot be launched (None when it can)."""
    if shutil.which("tensorboard") is None and importlib.util.find_spec("tensorboard") is None:
        return "tensorboard is not installed"
    return None


def probe_runs(runs: list[str], k: int = 8) -> list[str]:
    """Up to ``k`` runs spread evenly over ``runs``, always the first and the last."""
    if len(runs) <= k:
        return list(runs)
    step = (len(runs) - 1) / (k - 1)
    return list(dict.fromkeys(runs[round(i * step)] for i in range(k)))


def launch_until_served(flavor: Flavor, logdir: Path, runs: list[str], tag: str, steps: int, timeout_s: float,
                        workdir: Path, after: Callable[[Server], dict[str, object]] | None = None
                        ) -> dict[str, object]:
    """Launch ``flavor`` on ``logdir``; seconds from launch until the page and full run list answer
    (``first_page``) and until every run serves all ``steps`` points of ``tag`` (``all_data``).

    ``all_data`` is timed on evenly spread probe runs (polled every 50 ms); once they are complete
    every run is checked; a run still short keeps the clock running until it is complete too,
    so the figure is "every run's data served". ``after(server)`` runs on the loaded server and
    its dict is merged into the result.
    """
    port = free_port()
    server = Server(flavor.name, flavor.command(logdir, port), port, workdir / f"{flavor.name}-{port}.log")
    with running(server):
        deadline = server.started_at + timeout_s
        base = server.base
        for path in flavor.page_paths:
            wait_until(lambda p=path: http_get(base + p)[0] == 200, server, deadline, f"GET {path} -> 200")
        first_page = wait_until(lambda: count_runs(get_json(base + flavor.runs_path)) >= len(runs), server,
                                deadline, f"{flavor.runs_path} lists {len(runs)} runs")

        def complete(run: str) -> bool:
            return flavor.complete(get_json(base + flavor.scalars_path(run, tag)), steps)

        probes = probe_runs(runs)
        all_data = wait_until(lambda: all(complete(r) for r in probes), server, deadline,
                              f"{steps} points of {tag} in runs {probes}")
        short = [r for r in runs if not complete(r)]
        if short:  # the probes finished before some other run: time until those are complete too
            def rest_complete() -> bool:
                short[:] = [r for r in short if not complete(r)]
                return not short

            all_data = wait_until(rest_complete, server, deadline, f"every run serves {steps} points of {tag}")
        result: dict[str, object] = {"first_page": first_page, "all_data": all_data}
        if after is not None:
            result.update(after(server))
    return result
