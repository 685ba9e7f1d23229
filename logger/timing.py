"""Step timing: ``with writer.timer("data"): ...`` logs each phase's wall time as ``time/<name>``.

How the step is chosen (in this order):

1. an explicit ``step=`` argument: ``writer.timer("forward", step=global_step)``;
2. otherwise the timer's current step, which starts at 0 and is advanced by
   ``writer.timer.step()`` (call it once at the end of every training step) or set with
   ``writer.timer.step(n)``.

The step is read when the block is entered. On exit, the block's duration in seconds
(``time.perf_counter``) is logged as scalar ``time/<name>`` at that step with walltime =
``time.time()`` of the exit. With ``batch_size=B``, ``time/samples_per_sec`` = B / duration
is logged too (give it on the phase that spans the whole step, e.g. ``timer("step", batch_size=B)``;
every phase given a batch size logs one throughput point). A block that raises logs nothing.
Only a perf_counter read and an ``add_scalar`` (a queue put) happen on the training thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = ["StepTimer", "PhaseTimer", "THROUGHPUT_TAG"]

THROUGHPUT_TAG = "time/samples_per_sec"

Emit = Callable[[str, float, int, float], None]
"""``emit(tag, value, step, walltime)``: how a measurement reaches the writer (e.g. add_scalar)."""


def _check_step(step: object, arg: str) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"{arg} must be a non-negative int (a training step), got {step!r}")
    return step


class PhaseTimer:
    """One timed block; returned by :meth:`StepTimer.__call__`. After exit, ``duration`` holds seconds."""

    __slots__ = ("_owner", "name", "tag", "batch_size", "step", "_start", "duration")

    def __init__(self, owner: StepTimer, name: str, batch_size: float | None, step: int | None) -> None:
        self._owner = owner
        self.name = name
        self.tag = f"time/{name}"
        self.batch_size = batch_size
        self.step = step
        self._start = 0.0
        self.duration: float | None = None

    def __enter__(self) -> PhaseTimer:
        if self.step is None:
            self.step = self._owner.current_step
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        end = time.perf_counter()
        if exc_type is not None:
            return
        self.duration = end - self._start
        walltime = time.time()
        step = int(self.step) if self.step is not None else self._owner.current_step
        self._owner._emit(self.tag, self.duration, step, walltime)
        if self.batch_size is not None:
            rate = self.batch_size / self.duration if self.duration > 0 else math.inf
            self._owner._emit(THROUGHPUT_TAG, rate, step, walltime)


class StepTimer:
    """``writer.timer``: call it to time a phase, call :meth:`step` to move to the next step.

    ``emit(tag, value, step, walltime)`` receives every measurement (the writer's add_scalar).
    """

    def __init__(self, emit: Emit, start_step: int = 0) -> None:
        self._emit = emit
        self.current_step = _check_step(start_step, "start_step")
        """The step used by blocks entered without ``step=``."""

    def __call__(self, name: str, batch_size: float | None = None, *, step: int | None = None) -> PhaseTimer:
        """A context manager timing one phase ``name`` (logged as ``time/<name>``, seconds).

        ``batch_size`` (samples, > 0) also logs ``time/samples_per_sec``; ``step`` overrides
        the current step for this block.
        """
        if not isinstance(name, str) or not name.strip("/ "):
            raise ValueError(f"name must be a non-empty phase name such as 'data' or 'forward', got {name!r}")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, float))
            or not math.isfinite(batch_size) or batch_size <= 0
        ):
            raise ValueError(f"batch_size must be a positive number of samples or None, got {batch_size!r}")
        if step is not None:
            _check_step(step, "step")
        return PhaseTimer(self, name.strip("/"), batch_size, step)

    @classmethod
    def for_writer(cls, writer: Any) -> StepTimer:
        """``writer.timer``: logs through ``writer.add_scalar`` via a weak reference (no cycle
        keeps a dropped writer alive)."""
        from logger.system_metrics import writer_emit

        return cls(writer_emit(writer))

    def step(self, step: int | None = None) -> int:
        """Advance the current step by one (or set it to ``step``); returns the new current step."""
        self.current_step = self.current_step + 1 if step is None else _check_step(step, "step")
        return self.current_step
