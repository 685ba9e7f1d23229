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

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


class Server:
    def __init__(self, logdir: Path, *args: str) -> None:
        self.port = _free_port()
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


def _wait_json(url: str, pred, timeout: float = 30.0, headers: dict | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        status, body, _ = _get(url, headers)
        if status == 200:
            last = json.loads(body)
            if pred(last):
                return last
        time.sleep(0.05)
    raise AssertionError(f"condition not met on {url} within {timeout} s; last: {str(last)[:300]}")


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
        v = _wait_json(srv.base + "/api/status", lambda s: not s["loading"])
        assert v["num_runs"] == 2
        runs = _wait_json(srv.base + "/api/runs", lambda r: len(r) == 2)
        assert [r["name"] for r in runs] == ["alpha", "beta"]
        out = _wait_json(srv.base + "/api/scalars?run=beta&tag=loss/train&max_points=4000", lambda o: True)
        assert out["step"] == list(range(502))
        assert out["value"][:3] == pytest.approx([11.0, 10.5, 10.0 + 1 / 3])
        assert out["value"][-2:] == ["NaN", "Infinity"]
        small = _wait_json(srv.base + "/api/scalars?run=beta&tag=loss/train&max_points=40", lambda o: True)
        assert len(small["step"]) <= 40
        finite = [x for x in small["value"] if isinstance(x, float)]
        assert max(finite) == 11.0 and min(finite) == pytest.approx(10.0 + 1 / 500)
        assert "NaN" in small["value"] and "Infinity" in small["value"]
        tags = _wait_json(srv.base + "/api/tags?kind=scalars", lambda t: True)
        assert {(t["run"], t["tag"]) for t in tags} == {(r, t) for r in ("alpha", "beta") for t in ("acc", "loss/train")}
        for path in ("/api/scalars?run=../../etc&tag=passwd", "/api/scalars?run=alpha&tag=../../../etc/passwd",
                     "/api/blob?run=..&tag=x&step=0", "/api/nothing"):
            status, body, _ = _get(srv.base + path)
            assert status == 404 and "error" in json.loads(body)
        status, body, _ = _get(srv.base + "/")
        assert status == 200 and b"_dash-renderer" in body or b"dash" in body
    finally:
        assert srv.stop() == 0


def test_a_flushed_point_appears_in_the_api_while_serving(logdir):
    from logger import SummaryWriter

    srv = Server(logdir)
    try:
        _wait_json(srv.base + "/api/status", lambda s: not s["loading"])
        w = SummaryWriter(str(logdir / "alpha"))
        try:
            for step in (1000, 1001):
                w.add_scalar("loss/train", 42.0 + step, step)
                w.flush()
                out = _wait_json(srv.base + "/api/scalars?run=alpha&tag=loss/train",
                                 lambda o, s=step: o["step"][-1] == s, timeout=30)
                assert out["value"][-1] == 42.0 + step
            # a new run appears live too
            w2 = SummaryWriter(str(logdir / "gamma"))
            w2.add_scalar("acc", 1.0, 0)
            w2.close()
            _wait_json(srv.base + "/api/runs", lambda r: "gamma" in [x["name"] for x in r], timeout=30)
        finally:
            w.close()
    finally:
        srv.stop()


def test_token_guards_pages_callbacks_and_api(logdir):
    token = "tok-123"
    srv = Server(logdir, "--token", token)
    try:
        for path in ("/", "/api/version", "/api/runs", "/_dash-layout", "/assets/vizboard.css"):
            assert _get(srv.base + path)[0] == 401, path
        req = urllib.request.Request(srv.base + "/_dash-update-component", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 401
        assert _get(srv.base + f"/api/version?token={token}")[0] == 200
        assert _get(srv.base + "/api/runs", {"Authorization": f"Bearer {token}"})[0] == 200
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
    _wait_json(srv.base + "/api/version", lambda v: True)
    assert srv.stop() == 0
    out = srv.proc.stdout.read()
    assert f"http://127.0.0.1:{srv.port}/" in out


def test_serving_starts_before_a_large_load_finishes(tmp_path):
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "big"))
    for i in range(300_000):
        w.add_scalar("x", math.sin(i), i)
    w.close()
    srv = Server(tmp_path)
    try:
        first = json.loads(_get(srv.base + "/api/status")[1])
        assert set(first) >= {"loading", "bytes_read", "bytes_total", "progress"}
        done = _wait_json(srv.base + "/api/status", lambda s: not s["loading"], timeout=60)
        assert done["progress"] == 1.0 and done["bytes_read"] == done["bytes_total"] > 0
    finally:
        srv.stop()
