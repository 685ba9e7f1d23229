"""Pure: a ``RunsTable`` -> DataTable columns and rows (and CSV), for the Runs tab.

Column ids: ``run``, ``runs`` (member count), ``status``, ``start`` (``YYYY-MM-DD HH:MM:SS``
UTC, sorts as text), ``duration`` (``H:MM:SS`` zero-padded so it also sorts as text,
with the seconds in ``duration_s``), ``last_step``, ``hparam:<name>`` and
``metric:<tag>:<stat>`` with stat ``last``, ``min`` or ``max``. Every row has an ``id``:
the run name, or ``group:<name>`` for a group row, and ``members`` (the runs it selects).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Sequence
from typing import Any

from vizboard.data.runs_table import RunRow, RunsTable

__all__ = ["STATS", "HP_PREFIX", "METRIC_PREFIX", "GROUP_PREFIX", "columns", "records", "to_csv",
           "format_duration", "format_start"]

STATS = ("last", "min", "max")
HP_PREFIX = "hparam:"
METRIC_PREFIX = "metric:"
GROUP_PREFIX = "group:"


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (hours zero-padded to two digits), ``""`` for NaN; e.g. 3725 -> ``01:02:05``."""
    if not math.isfinite(seconds) or seconds < 0:
        return ""
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_start(epoch_seconds: float) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, ``""`` for NaN or 0."""
    if not math.isfinite(epoch_seconds) or epoch_seconds <= 0:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_seconds))


def columns(table: RunsTable, stats: Sequence[str] = STATS, *, grouped: bool = False) -> list[dict[str, Any]]:
    """DataTable column definitions (two-level headers: ``[section, name]``)."""
    bad = [s for s in stats if s not in STATS]
    if bad:
        raise ValueError(f"stats must be among {', '.join(STATS)} (got {bad})")
    num = {"type": "numeric"}
    cols: list[dict[str, Any]] = [
        {"id": "run", "name": ["", "group" if grouped else "run"]},
    ]
    if grouped:
        cols.append({"id": "runs", "name": ["", "runs"], **num})
    cols.append({"id": "status", "name": ["", "status"]})
    # the chosen metrics first (what a comparison reads), then the configuration, then timing
    for tag in table.metric_tags:
        cols += [{"id": f"{METRIC_PREFIX}{tag}:{s}", "name": [tag, s], **num} for s in stats]
    cols += [{"id": f"{HP_PREFIX}{h}", "name": ["hparams", h]} for h in table.hparam_names]
    cols += [
        {"id": "last_step", "name": ["", "last step"], **num},
        {"id": "start", "name": ["", "start (UTC)"]},
        {"id": "duration", "name": ["", "duration"]},
    ]
    return cols


def _num(v: float) -> float | None:
    return float(f"{v:.6g}") if math.isfinite(v) else None


def _hp(v: Any) -> Any:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return _num(v)
    return v


def _row(r: RunRow, grouped: bool, stats: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"{GROUP_PREFIX}{r.name}" if grouped else r.name,
        "run": r.name,
        "members": list(r.members),
        "status": r.status,
        "start": format_start(r.start_time),
        "duration": format_duration(r.duration),
        "duration_s": _num(r.duration),
        "last_step": r.last_step if r.last_step >= 0 else None,
    }
    if grouped:
        row["runs"] = len(r.members)
    for k, v in r.hparams.items():
        row[f"{HP_PREFIX}{k}"] = _hp(v)
    for tag, m in r.metrics.items():
        for s in stats:
            row[f"{METRIC_PREFIX}{tag}:{s}"] = _num(getattr(m, s))
    return row


def records(table: RunsTable, stats: Sequence[str] = STATS, *, grouped: bool = False) -> list[dict[str, Any]]:
    """One DataTable row dict per table row (non-finite numbers become empty cells)."""
    return [_row(r, grouped, stats) for r in table.rows]


def to_csv(rows: Sequence[dict[str, Any]], cols: Sequence[dict[str, Any]]) -> str:
    """CSV text of ``rows`` with one column per entry of ``cols`` (header: the names joined by ``/``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["/".join(p for p in (c["name"] if isinstance(c["name"], list) else [c["name"]]) if p)
                for c in cols])
    for row in rows:
        w.writerow(["" if row.get(c["id"]) is None else row.get(c["id"]) for c in cols])
    return buf.getvalue()
