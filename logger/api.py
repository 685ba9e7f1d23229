"""The short API: ``logger.init(...)``, ``logger.log({...}, step=...)``, ``logger.finish()``.

State lives in one :class:`_Active` holder per process, created lazily by :func:`init`
and referenced only from ``_HOLDER`` (a one-element list: the single place module state
is kept). ``log`` calls the same :class:`~logger.writer.SummaryWriter` as the class API.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from logger.writer import SummaryWriter

__all__ = ["init", "log", "finish", "get_writer"]


class _Active:
    """The process's open writer, its step counter and the stored init options."""

    def __init__(self, writer: SummaryWriter, system_metrics: bool) -> None:
        self.writer = writer
        self.last_step = -1
        self.system_metrics = system_metrics  # the writer samples them (logger/system_metrics.py)
        self.lock = threading.Lock()


_HOLDER: list[_Active | None] = [None]


def _default_run_name() -> str:
    import socket
    from datetime import datetime

    return datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()


def init(logdir: str | os.PathLike[str] | None = None, run: str | None = None, *, system_metrics: bool | float = False,
         **hparams: Any) -> SummaryWriter:
    """Open the process's writer at ``<logdir>/<run>`` (defaults: ``runs`` / a timestamped name, as torch).

    Keyword ``hparams`` are recorded like ``add_hparams(hparams, {})`` (every scalar tag
    logged becomes a metric of this run). A previous ``init`` is finished first.
    ``system_metrics``: as :class:`SummaryWriter`'s (True = every 10 s, a number = seconds).
    Returns the :class:`SummaryWriter`, usable directly.
    """
    finish()
    path = os.path.join(str(logdir) if logdir else "runs", run or _default_run_name())
    writer = SummaryWriter(path, system_metrics=system_metrics)
    if hparams:
        writer.add_hparams(hparams, {})
    _HOLDER[0] = _Active(writer, bool(system_metrics))
    return writer


def get_writer() -> SummaryWriter:
    """The writer opened by :func:`init`; RuntimeError if there is none."""
    active = _HOLDER[0]
    if active is None:
        raise RuntimeError("no active run: call logger.init() first")
    return active.writer


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """Log a dict of scalars at ``step`` (default: previous step + 1, starting at 0)."""
    active = _HOLDER[0]
    if active is None:
        raise RuntimeError("logger.log() called before logger.init(): call logger.init() first")
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict of tag -> number, got {type(data).__name__}")
    from logger._convert import scalar

    values = [(tag, v if type(v) is float else scalar(v, f"scalar_value for {tag!r}")) for tag, v in data.items()]
    with active.lock:
        if step is None:
            step = active.last_step + 1
        elif type(step) is not int:
            from logger._convert import check_step

            step = check_step(step)
        active.last_step = step
    add = active.writer.add_scalar
    for tag, value in values:
        add(tag, value, step)


def finish() -> None:
    """Close the writer opened by :func:`init` (no-op when none is open)."""
    active, _HOLDER[0] = _HOLDER[0], None
    if active is not None:
        active.writer.close()
