"""`vizboard demo` end to end: trains and serves at once; SIGINT stops training and server (no orphans), exit 0."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

pytest.importorskip("torch")
psutil = pytest.importorskip("psutil")

REPO = Path(__file__).resolve().parents[2]
RUNS = {"lr_0.01_seed0", "lr_0.003_seed0"}  # each process trains seed 1 after seed 0's 500 epochs


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"vizboard demo exited early ({proc.returncode}) while waiting for {what}"
        try:
            value = predicate()
        except OSError as exc:  # not listening yet
            last = exc
        else:
            if value:
                return value
            last = value
        time.sleep(0.2)
    raise TimeoutError(f"{what} within {timeout} s (last: {last!r})")


def _start(port: int, *extra: str) -> tuple[subprocess.Popen, Path]:
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"vizboard-demo-test-{os.getpid()}-{port}.log"
    log = open(out, "w")  # noqa: SIM115 - closed by the caller's finally through the process
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "vizboard", "demo", "--port", str(port), *extra], cwd=REPO,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc, out


def test_demo_trains_serves_and_stops_cleanly_on_sigint() -> None:
    port = free_port()
    # Many epochs of the quick configuration: training is still running when we interrupt it.
    proc, log = _start(port, "--quick", "--runs", "2", "--epochs", "500")
    try:
        base = f"http://127.0.0.1:{port}"
        runs = _wait(lambda: {r["name"] for r in _get_json(f"{base}/api/runs")} >= RUNS, 180,
                     "both training runs listed by /api/runs", proc)
        assert runs
        # The training curves grow while we watch.
        url = f"{base}/api/scalars?run=lr_0.01_seed0&tag=train/loss"
        first = _wait(lambda: len(_get_json(url)["step"]) if _get_json(url).get("step") else 0, 120,
                      "train/loss points", proc)
        _wait(lambda: len(_get_json(url)["step"]) > first, 120, "more train/loss points", proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        tree = [(p.pid, p.ppid(), p.info["cmdline"]) for p in psutil.process_iter(["cmdline"])
                if "demo" in " ".join(p.info["cmdline"] or [])]
        assert len(children) == 3, (proc.pid, tree, log.read_text())  # the sweep and one process per run

        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, [p.pid for p in alive]
        text = log.read_text()
        m = re.search(r"logs are kept in (\S+)", text)
        assert m, text
        logdir = Path(m.group(1))
        try:
            assert {p.name for p in logdir.iterdir()} == RUNS  # a temporary logdir is kept
        finally:
            shutil.rmtree(logdir, ignore_errors=True)  # ... and this test cleans it up
        assert f"http://127.0.0.1:{port}/" in text
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base}/api/version", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


def test_demo_without_torch_names_the_extra(tmp_path: Path) -> None:
    # sitecustomize marks torch as not importable (find_spec -> None, import -> ImportError).
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shadow), str(REPO)]))
    out = subprocess.run([sys.executable, "-m", "vizboard", "demo", "--port", "0"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert 'pip install "vizboard[torch]"' in out.stderr
    assert "Traceback" not in out.stderr


def test_busy_port_is_a_one_line_error_and_leaves_no_training_behind(tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=str(REPO))
        out = subprocess.run([sys.executable, "-m", "vizboard", "demo", "--quick", "--port", str(port),
                              "--logdir", str(logdir)], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"--port {port}" in out.stderr and "Traceback" not in out.stderr
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(logdir) in " ".join(p.info["cmdline"] or [])]
    assert not leftovers, [p.info["cmdline"] for p in leftovers]
