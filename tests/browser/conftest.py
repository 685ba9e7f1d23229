"""Shared browser-test fixtures: one headless Chromium, a fresh page per test, and `serve`.

``serve(logdir, *extra_args, token=None)`` starts ``python -m vizboard serve LOGDIR --port P`` in a
subprocess on a free loopback port, waits (with a deadline) until ``/api/version``
answers, and returns the base URL (``http://127.0.0.1:P``); every server it started
is stopped at teardown (``serve_module``: at the end of the module, to share one server).
Mark browser tests ``@pytest.mark.browser``. ``patient_expect`` (opt-in) gives Playwright's
``expect`` 20 s. Helpers shared by the tab tests (not fixtures) are in ``helpers.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

__all__ = ["free_port", "wait_http"]

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0
"""Seconds to wait for a server's first answer (the machine is small and shared)."""


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers (any HTTP status), the process dies, or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode} before answering:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except urllib.error.HTTPError:
            return  # it answered (e.g. 401 with --token)
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s (last error: {last})")


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium (Playwright sync API) shared by the whole session."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def patient_expect() -> Iterator[None]:
    """Give each Playwright ``expect`` 20 s (its default is 5 s: the machine is shared), then restore 5 s.

    Opt in per module: ``pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]``.
    """
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture()
def page(browser) -> Iterator[object]:
    """A fresh page in its own context (no shared cookies), 1280x900, closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    # the load event waits for every bundle (plotly.js included): give navigation more room on a busy machine
    context.set_default_navigation_timeout(60_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


class _Servers:
    """Starts ``vizboard serve`` subprocesses and stops them all at ``close()``."""

    def __init__(self, tmp_path_factory) -> None:
        self._tmp = tmp_path_factory
        self.procs: list[subprocess.Popen] = []
        self.handles: list = []
        self.logs: dict[str, Path] = {}

    def start(self, logdir: str | os.PathLike, *extra_args: str, token: str | None = None) -> str:
        port = free_port()
        cmd = [sys.executable, "-m", "vizboard", "serve", str(logdir), "--port", str(port), *extra_args]
        if token:
            cmd += ["--token", token]
        log_path = self._tmp.mktemp("serve") / "server.log"
        log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
        self.handles.append(log)
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_server_env(), stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        probe = f"{base}/api/version" + (f"?token={token}" if token else "")
        try:
            wait_http(probe, SERVER_START_TIMEOUT, proc)
        except Exception as exc:
            raise RuntimeError(f"{exc}\n--- server log ---\n{log_path.read_text()}") from exc
        self.logs[base] = log_path
        return base

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for h in self.handles:
            h.close()


@pytest.fixture()
def serve(tmp_path_factory) -> Iterator[Callable[..., str]]:
    """Factory: ``serve(logdir, *extra_args, token=None) -> base_url`` of a running vizboard.

    ``extra_args`` go to ``vizboard serve`` (e.g. ``"--reload-interval", "0.2"``). With
    ``token``, ``--token`` is passed and readiness is probed with it. The server's
    combined stdout/stderr is kept in a log file whose path is ``serve.logs[base_url]``.
    Servers are stopped when the test ends.
    """
    servers = _Servers(tmp_path_factory)
    try:
        yield _with_logs(servers.start, servers)
    finally:
        servers.close()


@pytest.fixture(scope="module")
def serve_module(tmp_path_factory) -> Iterator[Callable[..., str]]:
    """Like ``serve`` but the servers live until the end of the test module (share one per logdir)."""
    servers = _Servers(tmp_path_factory)
    try:
        yield _with_logs(servers.start, servers)
    finally:
        servers.close()


def _with_logs(start: Callable[..., str], servers: _Servers) -> Callable[..., str]:
    def call(logdir: str | os.PathLike, *extra_args: str, token: str | None = None) -> str:
        return start(logdir, *extra_args, token=token)

    call.logs = servers.logs  # type: ignore[attr-defined]
    return call
