"""`vizboard` command line: help, version, clear errors (exit code 2) for a missing logdir and a busy port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "vizboard", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_help_lists_the_subcommands():
    out = _run("--help")
    assert out.returncode == 0
    assert "serve" in out.stdout and "export" in out.stdout
    serve = _run("serve", "--help")
    for flag in ("--host", "--port", "--poll", "--reload-interval", "--token", "LOGDIR"):
        assert flag in serve.stdout


def test_version():
    from vizboard import __version__

    out = _run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"vizboard {__version__}"


def test_missing_logdir_is_a_one_line_error_with_exit_code_2(tmp_path):
    missing = tmp_path / "no-such-dir"
    out = _run("serve", str(missing), "--port", "0")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "LOGDIR" in lines[0] and str(missing) in lines[0] and "does not exist" in lines[0]


def test_logdir_that_is_a_file_is_rejected(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    out = _run("serve", str(f), "--port", "0")
    assert out.returncode == 2 and "not a directory" in out.stderr


def test_port_in_use_is_a_one_line_error_with_exit_code_2(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        out = _run("serve", str(tmp_path), "--port", str(port))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert f"--port {port}" in lines[0] and "in use" in lines[0] and "pass a free port" in lines[0]


def test_start_binds_and_starts_ingesting_before_importing_dash(tmp_path):
    """The port check fails before the web stack is imported, and the first load starts before it is built."""
    # 1. A busy port: ServeError, and neither Dash nor an ingest thread was started.
    busy = (
        "import socket, sys, threading\n"
        "from vizboard.config import ServeConfig\n"
        "from vizboard.server import ServeError, VizboardServer\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "try:\n"
        f"    VizboardServer(ServeConfig(logdir={str(tmp_path)!r}, host='127.0.0.1', port=s.getsockname()[1])).start()\n"
        "except ServeError as e:\n"
        "    print('error', 'in use' in str(e), 'dash' in sys.modules, threading.active_count())\n"
    )
    # 2. A free port: the ingest thread is alive when the app is being built.
    order = (
        "import sys\n"
        "from vizboard.config import ServeConfig\n"
        "from vizboard.server import VizboardServer\n"
        "import vizboard.app as app\n"
        "seen = []\n"
        "real = app.create_app\n"
        "def spy(config, provider):\n"
        "    t = srv._ingestor._thread\n"
        "    seen.append(t is not None and t.is_alive())\n"
        "    return real(config, provider)\n"
        "app.create_app = spy\n"
        f"srv = VizboardServer(ServeConfig(logdir={str(tmp_path)!r}, host='127.0.0.1', port=0))\n"
        "srv.start().stop()\n"
        "print('order', seen)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", busy], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["error", "True", "False", "1"], out.stdout + out.stderr
    out = subprocess.run([sys.executable, "-c", order], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "order [True]", out.stdout + out.stderr


@pytest.mark.parametrize("args,needle", [
    (("serve", ".", "--port", "99999"), "--port"),
    (("serve", ".", "--reload-interval", "-1"), "--reload-interval"),
    (("serve",), "LOGDIR"),
])
def test_bad_flags_exit_2_naming_the_flag(args, needle):
    out = _run(*args)
    assert out.returncode == 2 and needle in out.stderr


def test_export_is_wired(tmp_path):
    from logger import SummaryWriter

    w = SummaryWriter(str(tmp_path / "run"))
    w.add_scalar("loss", 0.5, 3)
    w.close()
    out = _run("export", str(tmp_path), "--format", "csv", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "run,tag,step,wall_time,value"
    assert out.stdout.splitlines()[1].replace('"', "").startswith("run,loss,3,")


def test_demo_is_wired_when_present():
    import importlib.util

    if importlib.util.find_spec("vizboard.demo") is None:
        pytest.skip("vizboard.demo has not landed")
    out = _run("demo", "--help")
    assert out.returncode == 0 and "--logdir" in out.stdout
    assert "demo" in _run("--help").stdout
