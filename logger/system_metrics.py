"""System metrics (CPU, memory, GPU) sampled on a background thread and logged as ``system/*`` scalars.

:class:`SystemMetricsSampler` owns one daemon thread: ``start()`` starts it, ``stop()``
signals it, takes one last sample and joins it. Every ``interval`` seconds it reads

====================================  ==========================================================
tag                                   value
====================================  ==========================================================
``system/cpu_percent``                system-wide CPU use, percent of all cores (0-100)
``system/process_cpu_percent``        this process's CPU use, percent of one core (may exceed 100)
``system/process_rss_mb``             this process's resident memory, MiB (2**20 bytes)
``system/memory_used_mb``             system memory in use, MiB
``system/memory_percent``             system memory in use, percent
``system/gpu{i}_util``                GPU ``i`` utilisation, percent (when known)
``system/gpu{i}_mem_mb``              GPU ``i`` memory in use, MiB
====================================  ==========================================================

and calls ``emit(tag, value, step, walltime)`` for each, with ``walltime`` = the sample's
``time.time()`` and ``step`` = the sample counter (0, 1, 2, ... per sampler), so the
series line up with training curves on wall time, never on step. Nothing runs on the
training thread except start()/stop().

GPU: ``pynvml`` when importable (utilisation and memory of every device); otherwise, if
``torch`` is *already imported* and CUDA is available, ``torch.cuda.memory_allocated``
(and ``torch.cuda.utilization`` when it works). torch is never imported for this.
``psutil`` is imported lazily; without it, constructing a sampler raises ImportError
saying ``pip install psutil``.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_INTERVAL", "SystemMetricsSampler", "resolve_interval", "sample_system", "writer_emit",
           "sampler_for_writer"]

DEFAULT_INTERVAL = 10.0
"""Seconds between samples when ``system_metrics=True``."""

_MB = float(1 << 20)

Emit = Callable[[str, float, int, float], None]
"""``emit(tag, value, step, walltime)``: how a sample reaches the writer (e.g. add_scalar)."""


def resolve_interval(system_metrics: bool | float | None) -> float | None:
    """The sampling interval (seconds) for a ``system_metrics`` argument, or None when off.

    False/None -> None; True -> :data:`DEFAULT_INTERVAL`; a positive finite number -> itself.
    """
    if system_metrics is None or system_metrics is False:
        return None
    if system_metrics is True:
        return DEFAULT_INTERVAL
    if isinstance(system_metrics, (int, float)) and math.isfinite(system_metrics) and system_metrics > 0:
        return float(system_metrics)
    raise ValueError(
        f"system_metrics must be False, True (every {DEFAULT_INTERVAL:g} s) or a positive number of "
        f"seconds between samples, got {system_metrics!r}"
    )


def _import_psutil() -> Any:
    try:
        import psutil
    except ImportError as exc:
        raise ImportError(
            "system_metrics needs the psutil package to read CPU and memory use: "
            "pip install \"vizboard[system]\" (or pip install psutil)"
        ) from exc
    return psutil


class _Gpu:
    """Reads GPU utilisation/memory through pynvml, or through an already-imported torch."""

    def __init__(self) -> None:
        self.nvml: Any = None
        self.handles: list[Any] = []
        try:
            import pynvml  # optional; not a dependency

            pynvml.nvmlInit()
            self.nvml = pynvml
            self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception:  # noqa: BLE001 - no pynvml, no driver, no device: fall back
            self.nvml = None
            self.handles = []

    def close(self) -> None:
        if self.nvml is not None:
            try:
                self.nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass
            self.nvml = None

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.nvml is not None:
            for i, h in enumerate(self.handles):
                try:
                    out[f"system/gpu{i}_util"] = float(self.nvml.nvmlDeviceGetUtilizationRates(h).gpu)
                    out[f"system/gpu{i}_mem_mb"] = float(self.nvml.nvmlDeviceGetMemoryInfo(h).used) / _MB
                except Exception:  # noqa: BLE001 - a device that stops answering is skipped
                    continue
            return out
        torch = sys.modules.get("torch")  # never import torch just for this
        cuda = getattr(torch, "cuda", None) if torch is not None else None
        try:
            if cuda is None or not cuda.is_available():
                return out
            for i in range(cuda.device_count()):
                out[f"system/gpu{i}_mem_mb"] = float(cuda.memory_allocated(i)) / _MB
                try:
                    out[f"system/gpu{i}_util"] = float(cuda.utilization(i))
                except Exception:  # noqa: BLE001 - needs pynvml inside torch too
                    pass
        except Exception:  # noqa: BLE001
            return out
        return out


def sample_system(process: Any, psutil: Any, gpu: _Gpu | None = None) -> dict[str, float]:
    """One sample of every metric as ``{tag: value}`` (see the module docstring for units).

    ``process`` is a ``psutil.Process``; CPU percentages are since the previous call on the
    same objects (psutil's convention), so the first call after creating them reads 0.
    """
    vm = psutil.virtual_memory()
    out = {
        "system/cpu_percent": float(psutil.cpu_percent(interval=None)),
        "system/process_cpu_percent": float(process.cpu_percent(interval=None)),
        "system/process_rss_mb": float(process.memory_info().rss) / _MB,
        "system/memory_used_mb": float(vm.total - vm.available) / _MB,
        "system/memory_percent": float(vm.percent),
    }
    if gpu is not None:
        out.update(gpu.read())
    return out


class SystemMetricsSampler:
    """Samples system metrics every ``interval`` seconds on its own thread and emits scalars.

    ``emit(tag, value, step, walltime)`` is called on the sampler thread (the writer's
    ``add_scalar`` is thread-safe); ``step`` counts samples from 0. ``start()`` and
    ``stop()`` are called by the owner (the SummaryWriter); ``stop()`` writes a final
    sample, then joins the thread. Errors while emitting stop the sampler quietly (the
    writer was closed) rather than crash training.
    """

    def __init__(self, emit: Emit, interval: float = DEFAULT_INTERVAL, *, gpu: bool = True) -> None:
        resolved = resolve_interval(interval)
        if resolved is None:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        self.interval = resolved
        self._emit = emit
        self._psutil = _import_psutil()
        self._process = self._psutil.Process(os.getpid())
        self._want_gpu = gpu
        self._gpu: _Gpu | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.samples = 0
        """Samples emitted so far (also the next sample's step)."""
        self.error: BaseException | None = None
        """The exception that ended the thread early (e.g. the writer was closed), else None."""

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the sampling thread (first sample after one interval). Idempotent."""
        if self._thread is not None:
            return
        self._psutil.cpu_percent(interval=None)  # prime the since-last-call counters
        self._process.cpu_percent(interval=None)
        self._thread = threading.Thread(target=self._run, name="vizboard-system-metrics", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Take a final sample, stop the thread and join it (``timeout`` seconds at most). Idempotent."""
        thread = self._thread
        if thread is None or self._stop.is_set():
            return
        self._stop.set()
        thread.join(timeout)

    def sample_now(self) -> dict[str, float]:
        """Take and emit one sample on the calling thread; returns it (tests, final sample)."""
        with self._lock:
            if self._want_gpu and self._gpu is None:
                self._gpu = _Gpu()
            values = sample_system(self._process, self._psutil, self._gpu)
            walltime = time.time()
            step = self.samples
            self.samples += 1
            for tag, value in values.items():
                self._emit(tag, value, step, walltime)
            return values

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.sample_now()
            self.sample_now()  # the last interval, so short runs still get a point
        except Exception as exc:  # noqa: BLE001 - writer closed underneath us: stop sampling
            self.error = exc
        finally:
            if self._gpu is not None:
                self._gpu.close()


def writer_emit(writer: Any) -> Emit:
    """An ``emit`` that calls ``writer.add_scalar`` through a weak reference.

    The sampler thread must not keep a writer alive that its user dropped (the writer's
    own finalizer closes it); once the writer is gone, emitting raises ReferenceError,
    which ends the sampler thread.
    """
    ref = weakref.ref(writer)

    def emit(tag: str, value: float, step: int, walltime: float) -> None:
        w = ref()
        if w is None:
            raise ReferenceError("the SummaryWriter was garbage-collected")
        w.add_scalar(tag, value, step, walltime)

    return emit


def sampler_for_writer(writer: Any, system_metrics: bool | float | None) -> SystemMetricsSampler | None:
    """The (not yet started) sampler for ``SummaryWriter(..., system_metrics=...)``, or None when off.

    Validates ``system_metrics`` and imports psutil *before* the writer creates its file, so
    a bad argument leaves nothing behind. The sampler is stopped when the writer is closed
    (the writer calls ``stop()``) or garbage-collected (a ``weakref.finalize`` on the writer).
    """
    interval = resolve_interval(system_metrics)
    if interval is None:
        return None
    sampler = SystemMetricsSampler(writer_emit(writer), interval)
    weakref.finalize(writer, sampler.stop)
    return sampler
