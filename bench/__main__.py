"""``python -m bench``: run every side-by-side benchmark, each in its own process, and write the report.

Usage: ``python -m bench [--quick] [--only writer,loader,serve,scale,ui [--update]] [--out docs/benchmarks.md]``.

Each module runs in a child process (fresh interpreter: import times and memory are not
polluted by the other modules; a hang is stopped at ``--timeout``; a crash costs one module).
A module that cannot run is recorded as "not measured: <reason>" and the run continues.
Exit status: 0, or 1 when OUR code crashed (a module or vizboard raised); a module that has not
landed yet or a competitor that is not installed is reported, not a failure.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from bench import machine as machine_mod
from bench.common import Measurement
from bench.report import NotMeasured, preamble, previous_sections, render

__all__ = ["MODULES", "ModuleOutcome", "main", "run_module"]

MODULES: tuple[str, ...] = ("writer", "loader", "serve", "scale", "hostile", "groups", "ui")
"""Benchmark modules in run order; each is ``bench.<name>`` exposing ``run(quick) -> list[Measurement]``."""

COMPETITOR_PACKAGES = frozenset(
    {"torch", "tensorboard", "tensorboard_data_server", "tensorboardX", "tbparse", "tensorflow", "playwright"}
)
"""Top-level imports whose absence means "competitor (or browser driver) missing", not our crash."""

_REPO = Path(__file__).resolve().parent.parent
_DEFAULT_OUT = _REPO / "docs" / "benchmarks.md"
_QUICK_TIMEOUT_S = 240.0
_FULL_TIMEOUT_S = 2400.0
_FULL_TIMEOUT_OVERRIDES = {"ui": 3600.0}  # bench.ui keeps to its per-logdir budgets (about 35 min)
_QUICK_TIMEOUT_OVERRIDES = {"ui": 720.0}  # bench.ui stops starting trials after its own budget
_STOP_GRACE_S = 20.0


@dataclass
class ModuleOutcome:
    """What one module's child process produced: ``status`` is ok, missing (not our fault) or crash."""

    name: str
    status: str
    measurements: list[Measurement] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0


def _classify(name: str, exc: BaseException) -> tuple[str, str]:
    """(status, one-line reason) for an exception raised while importing or running ``bench.<name>``."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        missing = exc.name
        if missing == f"bench.{name}":
            return "missing", f"bench/{name}.py has not landed yet"
        top = missing.split(".")[0]
        if top in COMPETITOR_PACKAGES:
            return "missing", f"`{missing}` is not installed"
        if top in ("vizboard", "logger", "bench"):
            return "missing", f"`{missing}` (our code) has not landed yet"
    if isinstance(exc, FileNotFoundError) and exc.filename and Path(str(exc.filename)).name in (
        "tensorboard",
        "chromium",
    ):
        return "missing", f"`{exc.filename}` is not installed"
    return "crash", f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _child(name: str, quick: bool, result_path: str) -> int:
    """Body of the child process: import and run one module, pickle the outcome to ``result_path``.

    The outcome is pickled as a plain dict (plus ``bench.common`` records) so the parent can
    read it whether it runs as ``__main__`` or as an imported module.
    """

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    start = time.perf_counter()
    status, reason, measurements = "ok", "", []
    try:
        module = importlib.import_module(f"bench.{name}")
        measurements = list(module.run(quick=quick))
        bad = [m for m in measurements if not isinstance(m, Measurement)]
        if bad:
            raise TypeError(f"bench.{name}.run returned {type(bad[0]).__name__}, expected Measurement")
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run goes on
        status, reason = _classify(name, exc)
        # A module may hand back what it measured before failing (exc.measurements).
        partial = getattr(exc, "measurements", None)
        measurements = [m for m in partial if isinstance(m, Measurement)] if isinstance(partial, list) else []
        if status == "crash":
            traceback.print_exc()
    result = {"status": status, "reason": reason, "measurements": measurements,
              "seconds": time.perf_counter() - start}
    with open(result_path, "wb") as fh:
        pickle.dump(result, fh)
    return 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Ask the child to stop (SIGINT: its try/finally blocks stop its servers), then kill its group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group the child leads: leftovers it started
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_module(name: str, quick: bool, timeout_s: float) -> ModuleOutcome:
    """Run ``bench.<name>`` in a fresh interpreter (own process group) and collect its outcome."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vizboard-bench-") as tmp:
        result = Path(tmp) / "result.pickle"
        cmd = [sys.executable, "-m", "bench", "--_child", name, "--_result", str(result)]
        if quick:
            cmd.append("--quick")
        proc = subprocess.Popen(cmd, cwd=_REPO, start_new_session=True)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return ModuleOutcome(name, "crash", reason=f"timed out after {timeout_s:.0f} s",
                                 seconds=time.perf_counter() - start)
        except BaseException:
            _stop(proc)
            raise
        finally:
            if proc.poll() is None:
                _stop(proc)
        if not result.exists():
            return ModuleOutcome(name, "crash", reason=f"child process died (exit status {proc.returncode})",
                                 seconds=time.perf_counter() - start)
        with open(result, "rb") as fh:
            data = pickle.load(fh)
    return ModuleOutcome(name, data["status"], data["measurements"], data["reason"], data["seconds"])


class _OthersMeter:
    """CPU used by processes outside this run while it ran (cores, averaged): is the machine quiet?"""

    def __init__(self) -> None:
        self._start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        import psutil

        t = psutil.cpu_times()
        busy = sum(getattr(t, k, 0.0) for k in ("user", "nice", "system", "irq", "softirq", "steal"))
        t_self = os.times()
        ours = t_self.user + t_self.system + t_self.children_user + t_self.children_system
        return time.monotonic(), busy, ours

    def others_cores(self) -> float | None:
        """Average number of cores busy with other people's work since construction."""
        try:
            now, busy, ours = self._sample()
        except Exception:
            return None
        wall = now - self._start[0]
        if wall < 20:
            return None  # too short to tell

        return max(0.0, ((busy - self._start[1]) - (ours - self._start[2])) / wall)


def _header_note(others: float | None, cores: int, outcomes: list[ModuleOutcome], quick: bool) -> str:
    notes: list[str] = []
    if others is not None and others > 0.25:
        notes.append(
            f"**Not a quiet run:** other processes kept on average {others:.2f} of {cores} cores busy "
            "while this ran, so absolute times are inflated; ratios are fairer (both sides ran under the "
            "same load) but noisier. This is the best run available at the date below."
        )
    elif others is not None and not quick:
        notes.append(f"Quiet run: other processes used on average {others:.2f} of {cores} cores meanwhile.")
    return "\n".join(notes)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized smoke run (< 3 minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(MODULES)}")
    parser.add_argument("--out", type=Path, help="Markdown file to write (default: docs/benchmarks.md; "
                        "with --quick a temporary file)")
    parser.add_argument("--timeout", type=float, help="seconds allowed per module (default 240 quick, 2400 full; "
                        "ui: 720 quick, 3600 full)")
    parser.add_argument("--update", action="store_true",
                        help="with --only: keep the other modules' sections of the existing --out file "
                             "(marked with their date) instead of dropping them")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    parser.add_argument("--_result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"--only: unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    args.names = names
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the selected modules, write the Markdown report, return the exit status."""
    args = _parse(argv)
    if args._child:
        return _child(args._child, args.quick, args._result)
    def timeout_for(name: str) -> float:
        if args.timeout:
            return float(args.timeout)
        if args.quick:
            return _QUICK_TIMEOUT_OVERRIDES.get(name, _QUICK_TIMEOUT_S)
        return _FULL_TIMEOUT_OVERRIDES.get(name, _FULL_TIMEOUT_S)

    if args.out is not None:
        out = args.out
    elif args.quick:
        out = Path(tempfile.mkstemp(prefix="vizboard-bench-quick-", suffix=".md")[1])
    else:
        out = _DEFAULT_OUT
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop children on SIGTERM as on Ctrl-C
    facts = machine_mod.collect()
    meter = _OthersMeter()
    start = time.perf_counter()
    outcomes: list[ModuleOutcome] = []
    for name in args.names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            outcome = run_module(name, args.quick, timeout_for(name))
        except KeyboardInterrupt:
            print(f"[bench] interrupted during {name}; its servers were stopped; no report written",
                  file=sys.stderr)
            return 130
        outcomes.append(outcome)
        what = f"{len(outcome.measurements)} figures" if outcome.status == "ok" else outcome.reason
        print(f"[bench] {name}: {outcome.status} ({what}) in {outcome.seconds:.0f} s", file=sys.stderr, flush=True)
    duration = time.perf_counter() - start
    measurements = [m for o in outcomes for m in o.measurements]
    gaps = [NotMeasured(o.name, o.reason if o.status == "missing" else f"our code failed: {o.reason}")
            for o in outcomes if o.status != "ok"]
    gaps += [NotMeasured(f"{m.group} / {m.figure}", (m.note or "no samples").split("not measured: ", 1)[-1])
             for m in measurements if not m.ours.values]
    kept = ""
    if args.update and out.exists():
        kept = previous_sections(out.read_text(encoding="utf-8"), [m for m in MODULES if m not in args.names])
    minutes = max(1, math.ceil(duration / 60))
    text = render(
        measurements,
        machine=facts,
        not_measured=gaps,
        preamble=preamble(minutes if set(args.names) == set(MODULES) and not args.quick else None),
        header_note=_header_note(meter.others_cores(), facts.logical_cores, outcomes, args.quick),
        duration_s=duration,
        quick=args.quick,
        load_after=machine_mod.load_average(),
        kept=kept,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"[bench] wrote {out}", file=sys.stderr)
    crashed = [o for o in outcomes if o.status == "crash"]
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
