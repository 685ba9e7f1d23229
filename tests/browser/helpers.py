"""Shared helpers of the per-tab browser tests: the same data from both writers, TF 2.x string-tensor
event files, opening a tab and waiting for it, and the CSS selector of a (tab, run, tag) card.

Imported as ``helpers`` (pytest puts this folder on ``sys.path``); fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["WRITERS", "card_sel", "dash_errors", "open_tab", "wait_dash_idle", "write_tf2_strings", "write_with_both"]

WRITERS = ("ours", "torch")
"""Run names written by :func:`write_with_both`: logger's SummaryWriter, then torch's."""


def write_with_both(root: Path, write: Callable[[Any], None]) -> None:
    """Call ``write(w)`` with logger's SummaryWriter on ``root/"ours"`` and torch's on ``root/"torch"``
    (in that order), closing each writer afterwards."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter as OurWriter

    for name, cls in zip(WRITERS, (OurWriter, TorchWriter)):
        w = cls(str(root / name))
        write(w)
        w.close()


def write_tf2_strings(run_dir: Path, tag: str, plugin: str,
                      values: Iterable[tuple[int, Sequence[bytes], Sequence[int]]], file_suffix: str) -> None:
    """One event file as TF 2.x summaries write it: per ``(step, strings, shape)`` of ``values``, a
    DT_STRING tensor of that shape tagged ``tag`` for ``plugin``. The file name ends in ``file_suffix``."""
    from logger._pb import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from logger.records import frame

    run_dir.mkdir(parents=True, exist_ok=True)
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))
    out = [frame(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())]
    for step, strings, shape in values:
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, string_val=list(strings),
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=n)
                                                                for n in shape]),
        )
        value = summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor)
        ev = event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value]))
        out.append(frame(ev.SerializeToString()))
    name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{file_suffix}"
    (run_dir / name).write_bytes(b"".join(out))


def open_tab(page: Any, base: str, tab: str, ready: str | None = None) -> None:
    """Load ``base`` with ``tab`` active; with ``ready``, wait until the first element it selects is shown."""
    page.goto(f"{base}/?tab={tab}")
    if ready is not None:
        page.locator(ready).first.wait_for()


def card_sel(tab: str, run: str | None, tag: str) -> str:
    """CSS selector of the ``tab`` card of (``run``, ``tag``); any run's card when ``run`` is None."""
    if run is None:
        return f'.{tab}-card[data-tag="{tag}"]'
    return f'.{tab}-card[data-run="{run}"][data-tag="{tag}"]'


def wait_dash_idle(page: Any, timeout_ms: float = 30_000) -> None:
    """Wait until the live check has put its first answer into the stores and the Dash renderer
    has no callback requested, queued or running (e.g. the page's initial callbacks), so a test
    can then attribute later requests to its own actions."""
    page.wait_for_function(
        "() => { const lc = document.getElementById('shell-live-interval');"
        " if (!lc || lc.dataset.seenVersion === undefined) return false;"
        " const st = (window.dash_stores || [])[0] || window.store; if (!st) return false;"
        " const s = st.getState(), c = s.callbacks;"
        " return !s.isLoading && ['requested', 'prioritized', 'blocked', 'executing', 'watched']"
        "   .every(k => !c[k] || c[k].length === 0); }",
        timeout=timeout_ms,
    )


def dash_errors(page: Any) -> list[str]:
    """The messages of every error the Dash renderer recorded (callback validation against the
    layout, failed callbacks), front and back end; what the dev-tools error popup would show."""
    return page.evaluate(
        "() => { const st = (window.dash_stores || [])[0] || window.store; const e = st.getState().error || {};"
        " return [...(e.frontEnd || []), ...(e.backEnd || [])].map(x => (x.error && x.error.message) || String(x)); }"
    )
