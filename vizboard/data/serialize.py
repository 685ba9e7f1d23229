"""JSON- and CSV-safe forms of scalar values for downloads and the API (non-finite floats spelled once)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["json_float", "series_to_records", "series_to_csv"]


def json_float(v: float) -> float | str:
    """``v`` as a JSON-safe value: finite floats unchanged, else TensorBoard's strings
    ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    v = float(v)
    if math.isfinite(v):
        return v
    if math.isnan(v):
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def series_to_records(
    step: np.ndarray,
    wall_time: np.ndarray,
    value: np.ndarray,
    *,
    smoothed: np.ndarray | None = None,
    run: str | None = None,
    tag: str | None = None,
) -> list[dict[str, Any]]:
    """One chart series as JSON-safe records for a download.

    Each record has ``step`` (int), ``wall_time`` (seconds) and ``value``, plus
    ``smoothed`` if given and ``run``/``tag`` if given (first). Non-finite floats become
    TensorBoard's strings (see :func:`json_float`), so ``json.dumps`` output is valid JSON.
    """
    steps = np.asarray(step, dtype=np.int64).tolist()
    walls = np.asarray(wall_time, dtype=np.float64).tolist()
    vals = np.asarray(value, dtype=np.float64).tolist()
    if not len(steps) == len(walls) == len(vals):
        raise ValueError("step, wall_time and value must have one length")
    sm = None if smoothed is None else np.asarray(smoothed, dtype=np.float64).tolist()
    if sm is not None and len(sm) != len(vals):
        raise ValueError("smoothed must have the length of value")
    head: dict[str, Any] = {}
    if run is not None:
        head["run"] = run
    if tag is not None:
        head["tag"] = tag
    out = []
    for i, (s, t, v) in enumerate(zip(steps, walls, vals)):
        rec = dict(head, step=s, wall_time=json_float(t), value=json_float(v))
        if sm is not None:
            rec["smoothed"] = json_float(sm[i])
        out.append(rec)
    return out


def series_to_csv(
    step: np.ndarray,
    wall_time: np.ndarray,
    value: np.ndarray,
    *,
    smoothed: np.ndarray | None = None,
    run: str | None = None,
    tag: str | None = None,
) -> str:
    """One chart series as CSV text for a download (columns as :func:`series_to_records`).

    Floats in shortest round-trip form; non-finite values as ``nan``, ``inf``, ``-inf``
    (as ``vizboard export``); run and tag quoted when they need it (RFC 4180).
    """
    import csv
    import io

    steps = np.asarray(step, dtype=np.int64).tolist()
    cols: list[list[Any]] = [steps, np.asarray(wall_time, dtype=np.float64).tolist(),
                             np.asarray(value, dtype=np.float64).tolist()]
    names = ["step", "wall_time", "value"]
    if smoothed is not None:
        cols.append(np.asarray(smoothed, dtype=np.float64).tolist())
        names.append("smoothed")
    if any(len(c) != len(steps) for c in cols):
        raise ValueError("step, wall_time, value and smoothed must have one length")
    head: list[str] = [v for v in (run, tag) if v is not None]
    header = [k for k, v in (("run", run), ("tag", tag)) if v is not None] + names
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(head + [repr(v) if isinstance(v, float) else v for v in row] for row in zip(*cols))
    return buf.getvalue()
