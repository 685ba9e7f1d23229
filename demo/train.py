"""The vizboard demo: a small CNN learns procedurally drawn shapes; a learning-rate sweep logs everything vizboard shows.

Run it from a clone (``python demo/train.py``), installed (``python -m vizboard._demo.train``)
or through ``vizboard demo`` (which also serves the dashboard). The sweep starts one
process per learning rate, which trains its seeds one after the other (one torch start-up per
process, so the sweep stays quick on 2 cores), each seed writing its own run ``<logdir>/lr_<value>_seed<k>`` through
``logger.SummaryWriter``: scalars (loss/accuracy train vs val on one chart, learning
rate), weight and gradient histograms, prediction grids, a confusion matrix, text notes,
a tone per epoch, the model graph, hparams with final metrics, PR curves per class, a
torch.profiler trace, step timing and system metrics. Needs torch, numpy and Pillow;
nothing is downloaded.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

if __name__ == "__main__" and not __package__:
    # ``python demo/train.py``: import this file as part of its package, then run it there.
    _dir = os.path.dirname(os.path.abspath(__file__))
    _parts = [os.path.basename(_dir)]
    _root = os.path.dirname(_dir)
    while os.path.exists(os.path.join(_root, "__init__.py")):
        _parts.insert(0, os.path.basename(_root))
        _root = os.path.dirname(_root)
    sys.path.insert(0, _root)
    sys.exit(importlib.import_module(".".join(_parts) + ".train").main())

import signal  # noqa: E402 - after the script bootstrap above
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402

__all__ = ["DemoConfig", "build_parser", "config_from_args", "sweep_lrs", "sweep_members", "run_name", "sweep_command",
           "run_sweep", "train_run", "main", "TORCH_MISSING"]

TORCH_MISSING = ('the demo trains a PyTorch model, but torch is not installed: pip install "vizboard[torch]" '
                 '(or first the CPU wheel: pip install torch --index-url https://download.pytorch.org/whl/cpu)')
"""The error printed when torch cannot be imported."""

_MAX_SEEDS = 8
_LRS = (1e-2, 3e-3, 1e-3, 3e-2, 3e-4, 1e-1, 1e-4, 3e-5)


@dataclass(frozen=True)
class DemoConfig:
    """One demo sweep. Sizes are counts of images or steps; ``system_interval`` is seconds."""

    logdir: str
    epochs: int = 6
    runs: int = 3
    seeds: int = 2
    device: str = "auto"
    steps_per_epoch: int = 40
    batch_size: int = 32
    width: int = 8
    val_size: int = 512
    log_every: int = 5
    eval_every: int = 10
    hist_every: int = 20
    system_interval: float = 2.0
    seed: int = 0
    quick: bool = False

    @property
    def total_steps(self) -> int:
        """Optimizer steps per run."""
        return self.epochs * self.steps_per_epoch


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{v} must be >= 1")
    return v


def add_training_arguments(p: argparse.ArgumentParser) -> None:
    """The sweep's flags (shared with ``vizboard demo``)."""
    p.add_argument("--logdir", default=None,
                   help="where the runs go (default: runs/demo-<date-time>; vizboard demo: a temporary directory)")
    p.add_argument("--epochs", type=_positive, default=None, help="epochs per run (default 6; --quick: 2)")
    p.add_argument("--runs", type=_positive, default=None,
                   help="learning rates in the sweep, one process each (default 3: 0.01, 0.003, 0.001)")
    p.add_argument("--seeds", type=_positive, default=None,
                   help="seeds per learning rate, trained in turn (default 2: runs lr_<lr>_seed0, lr_<lr>_seed1)")
    p.add_argument("--steps-per-epoch", type=_positive, default=None,
                   help="optimizer steps per epoch, batches of 32 (default 40; --quick: 8)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to train (default auto: cuda when available)")
    p.add_argument("--quick", action="store_true",
                   help="a tiny configuration that finishes in seconds (CI, smoke tests)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python demo/train.py``."""
    prog = "python demo/train.py" if _package() == "demo" else f"python -m {_package()}.train"
    p = argparse.ArgumentParser(prog=prog,
                                description="Train a small CNN on generated shapes with a learning-rate sweep, "
                                            "logging through logger.SummaryWriter. Watch it with: vizboard serve LOGDIR")
    add_training_arguments(p)
    p.add_argument("--worker-lr", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--served", action="store_true", help=argparse.SUPPRESS)  # run by `vizboard demo`
    return p


def config_from_args(args: argparse.Namespace, default_logdir: str | None = None) -> DemoConfig:
    """The :class:`DemoConfig` for parsed flags (``--quick`` sets small defaults; explicit flags win)."""
    logdir = args.logdir or default_logdir or os.path.join("runs", "demo-" + time.strftime("%Y%m%d-%H%M%S"))
    cfg = DemoConfig(logdir=str(logdir), device=args.device, quick=bool(args.quick))
    if args.quick:
        cfg = replace(cfg, epochs=2, steps_per_epoch=8, batch_size=32, val_size=128, log_every=2, eval_every=4,
                      hist_every=4, system_interval=0.5)
    if args.epochs is not None:
        cfg = replace(cfg, epochs=args.epochs)
    if args.steps_per_epoch is not None:
        cfg = replace(cfg, steps_per_epoch=args.steps_per_epoch)
    if getattr(args, "seeds", None) is not None:
        if args.seeds > _MAX_SEEDS:
            raise ValueError(f"--seeds {args.seeds}: at most {_MAX_SEEDS} seeds per learning rate")
        cfg = replace(cfg, seeds=args.seeds)
    if args.runs is not None:
        if args.runs > len(_LRS):
            raise ValueError(f"--runs {args.runs}: at most {len(_LRS)} learning rates; pass a smaller --runs")
        cfg = replace(cfg, runs=args.runs)
    return cfg


def sweep_lrs(runs: int) -> list[float]:
    """The learning rates of a sweep of ``runs`` runs (0.01, 0.003, 0.001, then 0.03, 0.0003, ...)."""
    return list(_LRS[:runs])


def sweep_members(cfg: DemoConfig) -> list[tuple[float, int]]:
    """Every (learning rate, seed index) of the sweep, in training order within each learning rate's process."""
    return [(lr, k) for lr in sweep_lrs(cfg.runs) for k in range(cfg.seeds)]


def run_name(lr: float, seed: int = 0) -> str:
    """The run directory name for learning rate ``lr`` and seed index ``seed`` (e.g. ``lr_0.001_seed1``).

    The names group naturally by ``(.*)_seed\\d+`` (one group per learning rate).
    """
    return f"lr_{lr:g}_seed{seed}"


def _package() -> str:
    """This package's import name: ``demo`` in a clone, ``vizboard._demo`` when installed."""
    return __package__ or "demo"


def _child_env() -> dict[str, str]:
    """This process's environment with the demo package importable (its root first on PYTHONPATH)."""
    top = sys.modules[_package().split(".")[0]]  # demo, or vizboard when installed
    root = os.path.dirname(os.path.dirname(os.path.abspath(top.__file__ or "")))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def sweep_command(cfg: DemoConfig) -> list[str]:
    """The command line running the whole sweep of ``cfg`` (``python -m <package>.train ...``)."""
    cmd = [sys.executable, "-m", f"{_package()}.train", "--logdir", cfg.logdir, "--epochs", str(cfg.epochs),
           "--runs", str(cfg.runs), "--seeds", str(cfg.seeds), "--steps-per-epoch", str(cfg.steps_per_epoch),
           "--device", cfg.device]
    return cmd + (["--quick"] if cfg.quick else [])


def _worker_command(cfg: DemoConfig, lr: float) -> list[str]:
    return sweep_command(cfg) + ["--worker-lr", repr(lr)]


def _stop(procs: list[subprocess.Popen], timeout: float = 10.0) -> None:
    """Terminate the still running ``procs`` and wait for every one (killed after ``timeout`` s)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_sweep(cfg: DemoConfig, served: bool = False) -> int:
    """Train one process per learning rate in parallel and wait for them; returns 0 when all succeeded.

    SIGINT/SIGTERM stop the runs (each closes its writer, so everything logged so far stays
    readable) and return 130. ``served``: run by ``vizboard demo`` (no "vizboard serve" hint).
    """
    os.makedirs(cfg.logdir, exist_ok=True)
    lrs = sweep_lrs(cfg.runs)
    members = sweep_members(cfg)
    runs = f"{len(members)} run{'s' if len(members) > 1 else ''}"
    print(f"demo: training {runs} (lr {', '.join(f'{lr:g}' for lr in lrs)}; {cfg.seeds} seed"
          f"{'s' if cfg.seeds > 1 else ''} each) into {cfg.logdir}", flush=True)

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, _terminate)
    procs: list[subprocess.Popen] = []
    try:
        for lr in lrs:
            procs.append(subprocess.Popen(_worker_command(cfg, lr), env=_child_env()))
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        _stop(procs)
        if not served:
            print(f"demo: stopped; the logs so far are in {cfg.logdir}", flush=True)
        return 130
    finally:
        _stop(procs)
        signal.signal(signal.SIGTERM, old)
    failed = [f"{run_name(lr, 0)[:-1]}*" for lr, c in zip(lrs, codes) if c != 0]
    if failed:
        print(f"demo: runs failed: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    if not served:  # `vizboard demo` says what comes next itself
        print(f"demo: done. See it with: vizboard serve {cfg.logdir}", flush=True)
    return 0


def train_run(cfg: DemoConfig, lr: float, seed: int = 0) -> dict[str, float]:
    """Train one run at learning rate ``lr`` with seed index ``seed`` into ``<cfg.logdir>/<run_name(lr, seed)>``.

    The seed index offsets ``cfg.seed`` (model init, data draw and shuffling). Returns the final val metrics.
    """
    from .loop import train_one

    name = run_name(lr, seed)
    return train_one(replace(cfg, seed=cfg.seed + seed), lr, os.path.join(cfg.logdir, name), name)


def _worker(cfg: DemoConfig, lr: float) -> int:
    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        for seed in range(cfg.seeds):
            train_run(cfg, lr, seed)
    except KeyboardInterrupt:
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python demo/train.py [flags]``: run the sweep (or, internally, one worker); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C works even if SIGINT came in ignored
    try:
        cfg = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    if importlib.util.find_spec("torch") is None:
        print(f"demo: error: {TORCH_MISSING}", file=sys.stderr)
        return 2
    if args.worker_lr is not None:
        return _worker(cfg, args.worker_lr)
    return run_sweep(cfg, served=args.served)


if __name__ == "__main__":
    sys.exit(main())
