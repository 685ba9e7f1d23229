"""``vizboard demo``: train the demo sweep in the background and serve its logdir live, in one command.

The training runs as a child process (``python -m vizboard._demo.train``, or ``demo.train``
in a source checkout) in its own process group, one grandchild per learning rate. The
dashboard is the same :class:`~vizboard.server.VizboardServer` as ``vizboard serve``. Ctrl+C
(or SIGTERM) stops both: the training group gets SIGTERM (each run closes its writer), is
waited for and, after a grace period, killed; then the server stops and the command exits 0.
A temporary logdir is kept and its path printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

__all__ = ["add_demo_arguments", "run_demo", "demo_module", "TORCH_HINT", "STOP_GRACE", "MAX_RUNS"]

TORCH_HINT = 'pip install "vizboard[torch]"'
"""What to install when torch is missing (named in the error)."""

STOP_GRACE = 15.0
"""Seconds the training processes get to close their writers after SIGTERM before they are killed."""

MAX_RUNS = 8
"""Most learning rates the demo's sweep knows (``demo/train.py``'s list)."""

_FALLBACK_PORT = 0


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} must be >= 1")
    return v


def _runs(text: str) -> int:
    v = _positive(text)
    if v > MAX_RUNS:
        raise argparse.ArgumentTypeError(f"{v}: the demo sweeps at most {MAX_RUNS} learning rates")
    return v


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``vizboard demo`` (training flags are passed on to the demo's train.py)."""
    from vizboard.config import DEFAULT_HOST, DEFAULT_PORT, parse_port

    parser.add_argument("--logdir", default=None,
                        help="where the runs go (default: a new temporary directory, kept afterwards)")
    parser.add_argument("--epochs", type=_positive, default=None, help="epochs per run (default 6; --quick: 2)")
    parser.add_argument("--runs", type=_runs, default=None,
                        help=f"learning rates in the sweep, one process each (default 3, at most {MAX_RUNS})")
    parser.add_argument("--steps-per-epoch", type=_positive, default=None,
                        help="optimizer steps per epoch (default 40; --quick: 8)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to train (default auto: cuda when available)")
    parser.add_argument("--quick", action="store_true", help="a tiny sweep that finishes in seconds")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=parse_port, default=None,
                        help=f"port to listen on (default {DEFAULT_PORT}, or a free one if it is taken)")


def demo_module() -> tuple[str, str] | None:
    """(module to run with ``python -m``, directory to put on PYTHONPATH) of the demo's train.py, or None.

    Installed: ``vizboard._demo.train``; in a source checkout: ``demo.train`` next to ``vizboard/``.
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the directory holding vizboard/
    if _importable("vizboard._demo.train"):
        return "vizboard._demo.train", here
    try:
        spec = importlib.util.find_spec("demo.train")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        return "demo.train", os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
    if os.path.exists(os.path.join(here, "demo", "train.py")):
        return "demo.train", here
    return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _missing_requirement() -> str | None:
    if not _importable("torch"):
        return (f"the demo trains a PyTorch model, but torch is not installed: {TORCH_HINT} "
                f"(for the CPU-only build, first: pip install torch --index-url https://download.pytorch.org/whl/cpu)")
    for mod in ("dash", "plotly", "watchdog", "psutil"):
        if not _importable(mod):
            return f"the dashboard needs {mod}, which is not installed: pip install \"vizboard[server,torch]\""
    return None


def _training_command(args: argparse.Namespace, module: str, logdir: str) -> list[str]:
    cmd = [sys.executable, "-m", module, "--logdir", logdir, "--device", args.device, "--served"]
    for flag, value in (("--epochs", args.epochs), ("--runs", args.runs), ("--steps-per-epoch", args.steps_per_epoch)):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd + (["--quick"] if args.quick else [])


def _start_server(args: argparse.Namespace, logdir: str):  # noqa: ANN202 - VizboardServer (imported lazily)
    """A started server on --port (default 6006, or a free port when 6006 is taken)."""
    from vizboard.config import DEFAULT_PORT, ServeConfig
    from vizboard.server import ServeError, VizboardServer

    port = DEFAULT_PORT if args.port is None else args.port
    try:
        return VizboardServer(ServeConfig(logdir=logdir, host=args.host, port=port)).start()
    except ServeError:
        if args.port is not None:
            raise
        return VizboardServer(ServeConfig(logdir=logdir, host=args.host, port=_FALLBACK_PORT)).start()


def _stop_training(proc: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """SIGTERM the training process group, wait up to ``grace`` s for it, then SIGKILL whatever is left."""
    pgid = proc.pid  # the group leader: started with start_new_session=True
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # grandchildren still closing their files?
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _watch(proc: subprocess.Popen, url: str, stopping: threading.Event) -> None:
    code = proc.wait()
    if stopping.is_set():
        return
    if code == 0:
        print(f"vizboard demo: training finished; still serving {url}  (Ctrl+C to stop)", flush=True)
    elif code > 0:
        print(f"vizboard demo: training exited with code {code}; still serving what was logged", file=sys.stderr,
              flush=True)


def run_demo(args: argparse.Namespace) -> int:
    """Start the training sweep and serve its logdir until Ctrl+C/SIGTERM; returns the exit code (0, or 2 for
    a problem the user can fix: torch missing, port taken, logdir not writable)."""
    problem = _missing_requirement()
    found = demo_module()
    if problem is None and found is None:
        problem = "the demo's training script (vizboard._demo) is missing from this installation; reinstall vizboard"
    if problem is not None:
        print(f"vizboard demo: error: {problem}", file=sys.stderr)
        return 2
    assert found is not None
    module, root = found
    temporary = args.logdir is None
    try:
        logdir = tempfile.mkdtemp(prefix="vizboard-demo-") if temporary else os.path.abspath(args.logdir)
        os.makedirs(logdir, exist_ok=True)
    except OSError as exc:
        print(f"vizboard demo: error: --logdir {args.logdir}: cannot create it ({exc.strerror}); pass a writable "
              f"directory", file=sys.stderr)
        return 2

    from vizboard.server import ServeError

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, _terminate)
    # Ctrl+C raises KeyboardInterrupt even when this process was started with SIGINT ignored
    # (e.g. from a non-interactive shell's background job).
    old_int_main = signal.signal(signal.SIGINT, signal.default_int_handler)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    proc: subprocess.Popen | None = None
    server = None
    watcher: threading.Thread | None = None
    stopping = threading.Event()
    code = 0
    try:
        # Training starts first: torch loads in the children while the dashboard starts here.
        print(f"vizboard demo: training into {logdir}", flush=True)
        proc = subprocess.Popen(_training_command(args, module, logdir), env=env, start_new_session=True)
        try:
            server = _start_server(args, logdir)
        except (ServeError, ValueError) as exc:
            print(f"vizboard demo: error: {exc}", file=sys.stderr, flush=True)
            code = 2
        else:
            watcher = threading.Thread(target=_watch, args=(proc, server.url, stopping), name="vizboard-demo-watch",
                                       daemon=True)
            watcher.start()
            print(f"vizboard demo: open {server.url}  (curves appear within seconds; Ctrl+C to stop)", flush=True)
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        # A second Ctrl+C must not cut the clean-up short (that would leave training processes behind).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if proc is not None:
                if proc.poll() is None and code == 0:
                    print("\nvizboard demo: stopping the training runs...", flush=True)
                _stop_training(proc)
            if watcher is not None:
                watcher.join(5)
            if server is not None:
                server.stop()
        finally:
            signal.signal(signal.SIGINT, old_int_main)
            signal.signal(signal.SIGTERM, old_term)
    if code:
        return code
    print(f"vizboard demo: stopped. The logs are kept in {logdir}  (vizboard serve {logdir} to look again)",
          flush=True)
    return 0
