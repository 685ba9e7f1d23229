"""The one serializer of scalar data: CSV, JSON Lines and JSON for export, card downloads and the HTTP API.

Rules, the same everywhere:

* CSV: header ``run,tag,step,wall_time,value``; floats in shortest round-trip form (``0.1``,
  ``1e-7``, ``100``), non-finite values as ``nan``, ``inf``, ``-inf`` (what pandas, numpy and
  ``float()`` read back); run and tag quoted when they need it (RFC 4180). Formatted by
  Arrow's C++ CSV writer, so a card download and ``vizboard export`` give the same bytes.
* JSON (API responses, JSON downloads, JSON Lines export): every float, values and wall
  times alike, finite as a number, non-finite as TensorBoard's strings ``"NaN"``,
  ``"Infinity"``, ``"-Infinity"`` (never the invalid bare ``NaN`` token).
"""

from __future__ import annotations

import enum
import io
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from vizboard.data.models import ScalarSeries

__all__ = [
    "COLUMNS",
    "CSV_NONFINITE",
    "JSON_NONFINITE",
    "json_float",
    "float_list",
    "json_safe",
    "dumps",
    "arrow_table",
    "csv_header",
    "csv_bytes",
    "series_csv",
    "jsonl_text",
    "series_records",
]

COLUMNS = ("run", "tag", "step", "wall_time", "value")
"""Columns of every tabular scalar export, in order."""

CSV_NONFINITE = {"nan": "nan", "inf": "inf", "-inf": "-inf"}
"""How NaN, +inf and -inf are spelled in CSV."""

JSON_NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
"""How NaN, +inf and -inf are spelled in JSON (as strings, TensorBoard's spelling)."""


def json_float(v: float) -> float | str:
    """``v`` as a JSON-safe value: finite floats unchanged, else ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    v = float(v)
    if math.isfinite(v):
        return v
    if math.isnan(v):
        return JSON_NONFINITE["nan"]
    return JSON_NONFINITE["inf"] if v > 0 else JSON_NONFINITE["-inf"]


def float_list(a: Any) -> list[float | str]:
    """An array of floats as a JSON-safe list (non-finite entries as strings, see :func:`json_float`)."""
    arr = np.asarray(a, dtype=np.float64)
    out: list[Any] = arr.tolist()
    for i in np.flatnonzero(~np.isfinite(arr)).tolist():
        out[i] = json_float(out[i])
    return out


def json_safe(obj: Any) -> Any:
    """``obj`` with every float (nested in dicts, lists, tuples, numpy values and arrays) made JSON-safe.

    Enum members become their ``value``; other objects are returned unchanged (``json.dumps``
    then reports them).
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else json_float(obj)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return float_list(obj) if obj.dtype.kind == "f" else json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    if isinstance(obj, enum.Enum):
        return json_safe(obj.value)
    return obj


def dumps(obj: Any) -> str:
    """Compact JSON text of ``obj`` under the JSON rule above (raises TypeError for unknown objects).

    The common case (no non-finite float) is encoded in one pass by the C encoder; only a
    payload holding NaN or ±inf is walked by :func:`json_safe` first.
    """
    try:
        return json.dumps(obj, allow_nan=False, separators=(",", ":"), default=_default)
    except ValueError:  # a non-finite float somewhere: spell it as a string
        return json.dumps(json_safe(obj), allow_nan=False, separators=(",", ":"), default=_default)


def _default(o: Any) -> Any:
    """numpy values/arrays and enums for ``json.dumps`` (made JSON-safe)."""
    if isinstance(o, (np.generic, np.ndarray, enum.Enum)):
        return json_safe(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def arrow_table(s: ScalarSeries) -> Any:
    """One series as an Arrow table with the export schema (:data:`COLUMNS`)."""
    import pyarrow as pa

    zeros = pa.array(np.zeros(len(s), dtype=np.int32))
    return pa.table(
        {
            "run": pa.array([s.run], pa.string()).take(zeros),
            "tag": pa.array([s.tag], pa.string()).take(zeros),
            "step": pa.array(np.asarray(s.step, dtype=np.int64)),
            "wall_time": pa.array(np.asarray(s.wall_time, dtype=np.float64)),
            "value": pa.array(np.asarray(s.value, dtype=np.float64)),
        }
    )


def csv_header() -> bytes:
    """The CSV header line."""
    return (",".join(COLUMNS) + "\n").encode()


def csv_bytes(table: Any) -> bytes:
    """CSV rows (no header) of an Arrow table with the export schema."""
    import pyarrow.csv as pcsv

    buf = io.BytesIO()
    pcsv.write_csv(table, buf, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def series_csv(series: Iterable[ScalarSeries]) -> str:
    """Full-resolution CSV text (header included) of ``series``, exactly as ``vizboard export`` writes it."""
    parts = [csv_header()]
    parts += [csv_bytes(arrow_table(s)) for s in series if len(s)]
    return b"".join(parts).decode()


def jsonl_text(s: ScalarSeries, start: int = 0, stop: int | None = None) -> str:
    """JSON Lines (one object per point, keys :data:`COLUMNS`) of points ``start:stop`` of ``s``.

    Numbers in Arrow's shortest round-trip form, non-finite values as JSON strings.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    sl = slice(start, stop)
    head = '{"run": ' + json.dumps(s.run) + ', "tag": ' + json.dumps(s.tag) + ', "step": '
    steps = np.asarray(s.step[sl], dtype=np.int64).tolist()
    cols = []
    for arr in (np.asarray(s.wall_time[sl], dtype=np.float64), np.asarray(s.value[sl], dtype=np.float64)):
        texts = pc.cast(pa.array(arr), pa.string()).to_pylist()
        for i in np.flatnonzero(~np.isfinite(arr)).tolist():
            texts[i] = '"' + JSON_NONFINITE[texts[i]] + '"'
        cols.append(texts)
    return "".join(f'{head}{a}, "wall_time": {b}, "value": {c}}}\n' for a, b, c in zip(steps, *cols))


def series_records(series: Sequence[ScalarSeries]) -> list[dict[str, Any]]:
    """Full-resolution rows ``{run, tag, step, wall_time, value}`` with JSON-safe floats (a JSON download)."""
    rows: list[dict[str, Any]] = []
    for s in series:
        walls, values = float_list(s.wall_time), float_list(s.value)
        rows += [{"run": s.run, "tag": s.tag, "step": step, "wall_time": w, "value": v}
                 for step, w, v in zip(np.asarray(s.step, dtype=np.int64).tolist(), walls, values)]
    return rows
