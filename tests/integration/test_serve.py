"""`vizboard serve` as a subprocess on real event files written by logger: API, live updates, token, stop."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, http_get, wait_json

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


class Server:
    def __init__(self, logdir: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vizboard", "serve", str(logdir), "--port", str(self.port), *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stdout.read()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("server did not start")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture()
def logdir(tmp_path: Path) -> Path:
    from logger import SummaryWriter

    for run, offset in (("alpha", 0.0), ("beta", 10.0)):
        w = SummaryWriter(str(tmp_path / run))
        for i in range(500):
            w.add_scalar("loss/train", offset + 1.0 / (i + 1), i)
        w.add_scalar("loss/train", float("nan"), 500)
        w.add_scalar("loss/train", float("inf"), 501)
        w.add_scalar("acc", 0.5, 0)
        w.close()
    return tmp_path


def test_api_serves_what_the_writer_wrote(logdir):
    srv = Server(logdir)
    try:
        v = wait_json(srv.base + "/api/status", lambda s: not s["loading"])
        assert v["num_runs"] == 2
        runs = wait_json(srv.base + "/api/runs", lambda r: len(r) == 2)
        assert [r["name"] for r in runs] == ["alpha", "beta"]
        out = wait_json(srv.base + "/api/scalars?run=beta&tag=loss/train&max_points=4000", lambda o: True)
        assert out["step"] == list(range(502))
        assert out["value"][:3] == pytest.approx([11.0, 10.5, 10.0 + 1 / 3])
        assert out["value"][-2:] == ["NaN", "Infinity"]
        small = wait_json(srv.base + "/api/scalars?run=beta&tag=loss/train&max_points=40", lambda o: True)
        assert len(small["step"]) <= 40
        finite = [x for x in small["value"] if isinstance(x, float)]
        assert max(finite) == 11.0 and min(finite) == pytest.approx(10.0 + 1 / 500)
        assert "NaN" in small["value"] and "Infinity" in small["value"]
        tags = wait_json(srv.base + "/api/tags?kind=scalars", lambda t: True)
        assert {(t["run"], t["tag"]) for t in tags} == {(r, t) for r in ("alpha", "beta") for t in ("acc", "loss/train")}
        for path in ("/api/scalars?run=../../etc&tag=passwd", "/api/scalars?run=alpha&tag=../../../etc/passwd",
                     "/api/blob?run=..&tag=x&step=0", "/api/nothing"):
            status, body, _ = http_get(srv.base + path)
            assert status == 404 and "error" in json.loads(body)
        status, body, _ = http_get(srv.base + "/")
        assert status == 200 and b"_dash-renderer" in body
    finally:
        assert srv.stop() == 0


def test_a_flushed_point_appears_in_the_api_while_serving(logdir):
    from logger import SummaryWriter

    srv = Server(logdir)
    try:
        wait_json(srv.base + "/api/status", lambda s: not s["loading"])
        w = SummaryWriter(str(logdir / "alpha"))
        try:
            for step in (1000, 1001):
                w.add_scalar("loss/train", 42.0 + step, step)
                w.flush()
                out = wait_json(srv.base + "/api/scalars?run=alpha&tag=loss/train",
                                 lambda o, s=step: o["step"][-1] == s, timeout=30)
                assert out["value"][-1] == 42.0 + step
            # a new run appears live too
            w2 = SummaryWriter(str(logdir / "gamma"))
            w2.add_scalar("acc", 1.0, 0)
            w2.close()
            wait_json(srv.base + "/api/runs", lambda r: "gamma" in [x["name"] for x in r], timeout=30)
        finally:
            w.close()
    finally:
        srv.stop()


def test_token_guards_pages_callbacks_and_api(logdir):
    token = "tok-123"
    srv = Server(logdir, "--token", token)
    try:
        for path in ("/", "/api/version", "/api/runs", "/_dash-layout", "/assets/vizboard.css"):
            assert http_get(srv.base + path)[0] == 401, path
        req = urllib.request.Request(srv.base + "/_dash-update-component", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 401
        assert http_get(srv.base + f"/api/version?token={token}")[0] == 200
        assert http_get(srv.base + "/api/runs", {"Authorization": f"Bearer {token}"})[0] == 200
        # the page: ?token= gives the cookie, which then opens everything
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(srv.base + f"/?token={token}", timeout=10) as r:
            assert r.status == 200 and "vizboard_token=" in r.headers["Set-Cookie"]
        with opener.open(srv.base + "/api/version", timeout=10) as r:
            assert r.status == 200
    finally:
        srv.stop()


def test_prints_the_url_and_stops_cleanly_on_sigterm(logdir):
    srv = Server(logdir)
    wait_json(srv.base + "/api/version", lambda v: True)
    assert srv.stop() == 0
    out = srv.proc.stdout.read()
    assert f"http://127.0.0.1:{srv.port}/" in out


def _hold_ingest_passes(monkeypatch):
    """Make every ingest pass wait until the returned ``release`` is set; ``entered`` is set when one
    has started. The load is held open, so a test observes the server mid-load without racing it."""
    import threading

    from vizboard.data.ingest import Ingestor

    entered, release = threading.Event(), threading.Event()
    original = Ingestor._pass

    def held_pass(self, *, full, dirty):
        entered.set()
        assert release.wait(60), "the test never released the load"
        return original(self, full=full, dirty=dirty)

    monkeypatch.setattr(Ingestor, "_pass", held_pass)
    return entered, release


def test_serving_starts_before_a_large_load_finishes(tmp_path, monkeypatch):
    """The server answers while the first load is still running (held open here, so no race)."""

    from logger import SummaryWriter
    from vizboard.config import ServeConfig
    from vizboard.server import VizboardServer

    w = SummaryWriter(str(tmp_path / "big"))
    for i in range(30_000):
        w.add_scalar("x", math.sin(i), i)
    w.close()
    entered, release = _hold_ingest_passes(monkeypatch)
    srv = VizboardServer(ServeConfig(logdir=str(tmp_path), host="127.0.0.1", port=0)).start_background()
    try:
        base = f"http://127.0.0.1:{srv.port}"
        assert entered.wait(60)
        status, body, _ = http_get(base + "/api/status")
        first = json.loads(body)
        assert status == 200 and first["loading"] is True and first["progress"] < 1.0
        assert http_get(base + "/")[0] == 200  # the page too, before any data
        release.set()
        done = wait_json(base + "/api/status", lambda s: not s["loading"], timeout=60)
        assert done["progress"] == 1.0 and done["bytes_read"] == done["bytes_total"] > 0
        out = wait_json(base + "/api/scalars?run=big&tag=x&max_points=10", lambda o: True)
        assert out["num_points"] == 30_000
    finally:
        release.set()
        srv.stop()


def test_heap_tuned_for_serving_only_after_the_first_load(tmp_path, monkeypatch):
    """``tune_heap``: arenas limited before the load starts; the eager mmap/trim thresholds (which slow
    a load down) only once its pass is done, before it is reported done. The load is held open, so
    the order is observed, not raced."""
    import threading

    from logger import SummaryWriter
    from vizboard.config import ServeConfig
    from vizboard.data import heap
    from vizboard.server import VizboardServer

    w = SummaryWriter(str(tmp_path / "run"))
    for i in range(100):
        w.add_scalar("x", float(i), i)
    w.close()
    calls: list[tuple[str, bool]] = []
    eager = threading.Event()
    entered, release = _hold_ingest_passes(monkeypatch)
    monkeypatch.setattr(heap, "limit_malloc_arenas", lambda: calls.append(("arenas", entered.is_set())) or True)
    monkeypatch.setattr(heap, "return_freed_memory_eagerly",
                        lambda: (calls.append(("eager", srv._ingestor.wait_until_loaded(0))), eager.set()) and True)
    # ("eager", False): called once the pass is done but before the load is reported done, so no
    # request after the load sees an untuned heap
    srv = VizboardServer(ServeConfig(logdir=str(tmp_path), host="127.0.0.1", port=0), tune_heap=True).start_background()
    try:
        assert entered.wait(60)
        assert calls == [("arenas", False)]  # before the ingest thread's first pass; nothing eager yet
        release.set()
        assert eager.wait(60), "the heap was never tuned after the load"
        assert srv._ingestor.wait_until_loaded(60)
        assert calls == [("arenas", False), ("eager", False)]
    finally:
        release.set()
        srv.stop()


def test_heap_left_alone_without_tune_heap(tmp_path, monkeypatch):
    """A server in a user's process (a notebook, tests) never touches the process's allocator."""
    from vizboard.config import ServeConfig
    from vizboard.data import heap
    from vizboard.server import VizboardServer

    calls: list[str] = []
    monkeypatch.setattr(heap, "limit_malloc_arenas", lambda: calls.append("arenas") or True)
    monkeypatch.setattr(heap, "return_freed_memory_eagerly", lambda: calls.append("eager") or True)
    (tmp_path / "run").mkdir()
    srv = VizboardServer(ServeConfig(logdir=str(tmp_path), host="127.0.0.1", port=0)).start_background()
    try:
        assert srv._ingestor.wait_until_loaded(60)
        srv._warm.join(60)  # the thread that would tune it has finished its work
        assert not srv._warm.is_alive() and calls == []
    finally:
        srv.stop()
