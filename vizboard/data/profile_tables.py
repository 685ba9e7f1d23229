"""The typed tables a parsed torch.profiler trace becomes (operators, step phases, timeline events).

Built by :func:`vizboard.data.profile.parse_trace` (which re-exports them); times in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vizboard.data.traces import TraceFile

__all__ = ["PHASES", "OperatorTable", "StepBreakdown", "TraceEvents", "ProfileTrace"]

PHASES: tuple[str, ...] = ("data", "forward", "backward", "optimizer", "other")
"""The parts of a step in :class:`StepBreakdown`, in drawing order."""


@dataclass(frozen=True, slots=True)
class OperatorTable:
    """Per operator name: ``calls``, ``self_cpu_us``/``total_cpu_us`` (microseconds, summed over
    calls; total = sum of the spans' durations) and ``self_device_us``/``total_device_us``
    (kernel time launched by the op itself / by it and its children). Sorted by total CPU time,
    largest first. ``has_device`` tells whether the trace held any device (GPU) activity."""

    name: tuple[str, ...]
    calls: np.ndarray
    self_cpu_us: np.ndarray
    total_cpu_us: np.ndarray
    self_device_us: np.ndarray
    total_device_us: np.ndarray
    has_device: bool

    def __len__(self) -> int:
        return len(self.name)


@dataclass(frozen=True, slots=True)
class StepBreakdown:
    """One entry per ``ProfilerStep#N`` span, sorted by start: ``step`` (N), ``start_us``
    (trace clock), ``duration_us``, and the time of each of :data:`PHASES` (microseconds,
    summing to the duration). Data = DataLoader spans; optimizer = ``Optimizer.*`` spans;
    backward = ``autograd::engine::evaluate_function`` spans; forward = the rest of the
    step's top-level ops; other = time no op covered. Overlaps go to the earlier phase of
    that list, so nothing is counted twice."""

    step: np.ndarray
    start_us: np.ndarray
    duration_us: np.ndarray
    data_us: np.ndarray
    forward_us: np.ndarray
    backward_us: np.ndarray
    optimizer_us: np.ndarray
    other_us: np.ndarray

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def phase(self, name: str) -> np.ndarray:
        """The column of phase ``name`` (one of :data:`PHASES`)."""
        if name not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {name!r}")
        col: np.ndarray = getattr(self, f"{name}_us")
        return col


@dataclass(frozen=True, slots=True)
class TraceEvents:
    """Complete (``ph == "X"``) CPU and device events, sorted by start, as columns.

    ``names``/``cats``/``threads`` are lookup tuples indexed by ``name_idx``/``cat_idx``/
    ``thread_idx``; ``ts_us``/``dur_us`` in microseconds; ``depth`` is the nesting level on
    its thread (0 = outermost)."""

    names: tuple[str, ...]
    cats: tuple[str, ...]
    threads: tuple[str, ...]
    name_idx: np.ndarray
    cat_idx: np.ndarray
    thread_idx: np.ndarray
    ts_us: np.ndarray
    dur_us: np.ndarray
    depth: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_us.shape[0])

    def window(self, start_us: float, end_us: float) -> np.ndarray:
        """Indices of the events that overlap [start_us, end_us)."""
        end = self.ts_us + self.dur_us
        return np.nonzero((self.ts_us < end_us) & (end > start_us))[0]


@dataclass(frozen=True, slots=True)
class ProfileTrace:
    """Everything the Profile tab shows for one trace file; ``warnings`` lists skipped input."""

    file: TraceFile
    operators: OperatorTable
    steps: StepBreakdown
    events: TraceEvents
    start_us: float
    end_us: float
    warnings: tuple[str, ...] = ()
