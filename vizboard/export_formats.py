"""The export's output side: one streaming writer per format (CSV, JSON Lines, Parquet through Arrow)
and the output target (stdout, a stream, or a temporary file renamed into place when complete).

Used by :func:`vizboard.export.export_scalars`; the formats are described in that module.
"""

from __future__ import annotations

import io
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from vizboard.data.models import ScalarSeries
from vizboard.data.serialize import arrow_table, csv_bytes, csv_header, jsonl_text

__all__ = ["FORMATS", "WRITERS", "format_for", "output"]

FORMATS = ("csv", "parquet", "json")
"""Accepted export formats (``json`` writes JSON Lines)."""

_SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json",
                   ".jsonl": "json", ".ndjson": "json"}
_ROW_GROUP_ROWS = 1 << 20
_TEXT_BATCH_ROWS = 1 << 16


class _Batched:
    """Collects series as Arrow tables and hands them on in batches of about ``rows`` rows."""

    def __init__(self, flush: Callable[[Any], None], rows: int) -> None:
        self._flush, self._limit = flush, rows
        self._pending: list[Any] = []
        self._rows = 0

    def write(self, s: ScalarSeries) -> None:
        self._pending.append(arrow_table(s))
        self._rows += len(s)
        if self._rows >= self._limit:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            import pyarrow as pa

            table = pa.concat_tables(self._pending)
            self._pending, self._rows = [], 0
            self._flush(table)


class _CsvWriter:
    """CSV through Arrow's C++ writer (shortest round-trip floats, nan/inf, quoted strings)."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.batches = _Batched(self._write, _TEXT_BATCH_ROWS)
        sink.write(csv_header())

    def write(self, s: ScalarSeries) -> None:
        self.batches.write(s)

    def _write(self, table: Any) -> None:
        self.sink.write(csv_bytes(table))

    def close(self) -> None:
        self.batches.flush()


class _JsonLinesWriter:
    """One JSON object per line; floats formatted by Arrow (shortest round-trip), non-finite
    as TensorBoard's strings."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink

    def write(self, s: ScalarSeries) -> None:
        for lo in range(0, len(s), _TEXT_BATCH_ROWS):
            self.sink.write(jsonl_text(s, lo, lo + _TEXT_BATCH_ROWS).encode())

    def close(self) -> None:
        pass


class _ParquetWriter:
    def __init__(self, sink: _Sink) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema(
            [("run", pa.string()), ("tag", pa.string()), ("step", pa.int64()),
             ("wall_time", pa.float64()), ("value", pa.float64())]
        )
        self.writer = pq.ParquetWriter(sink.f, schema)
        self.batches = _Batched(lambda t: self.writer.write_table(t, row_group_size=_ROW_GROUP_ROWS),
                                _ROW_GROUP_ROWS)

    def write(self, s: ScalarSeries) -> None:
        self.batches.write(s)

    def close(self) -> None:
        self.batches.flush()
        self.writer.close()


class _Sink:
    """Bytes to a binary stream, or decoded (UTF-8) to a text stream."""

    def __init__(self, f: IO[Any]) -> None:
        self.f = f
        self.text = isinstance(f, io.TextIOBase)

    def write(self, data: bytes) -> None:
        self.f.write(data.decode("utf-8") if self.text else data)


def format_for(out: str | os.PathLike[str] | IO[Any], fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
        return fmt
    if isinstance(out, (str, os.PathLike)) and os.fspath(out) != "-":
        return _SUFFIX_FORMATS.get(os.path.splitext(os.fspath(out))[1].lower(), "csv")
    return "csv"


@contextmanager
def output(out: str | os.PathLike[str] | IO[Any], binary: bool) -> Iterator[_Sink]:
    """Where to write ``out``: stdout for "-", the object itself if it is a stream (text or
    binary), else a temporary file beside the path, renamed onto it only when writing
    succeeded. ``binary`` marks formats that must not go to a terminal or a text stream."""
    if not isinstance(out, (str, os.PathLike)):
        if binary and isinstance(out, io.TextIOBase):
            raise ValueError("Parquet needs a binary stream (open the file with 'wb')")
        yield _Sink(out)
        return
    path = os.fspath(out)
    if path == "-":
        if binary and sys.stdout.isatty():
            raise ValueError("refusing to write binary Parquet to a terminal: pass -o FILE")
        sys.stdout.flush()
        yield _Sink(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    target = os.path.abspath(path)
    parent = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"output {path!r} is a directory: pass a file name")
    if not os.path.isdir(parent):
        if os.path.exists(parent):
            raise NotADirectoryError(f"cannot write output {path!r}: {parent!r} is not a directory")
        raise FileNotFoundError(f"cannot write output {path!r}: directory {parent!r} does not exist")
    fd, tmp = _create_temp(parent, os.path.basename(target), path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield _Sink(f)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _create_temp(parent: str, base: str, shown: str) -> tuple[int, str]:
    """A new hidden file beside the target, with the permissions a plain open would give."""
    for _ in range(100):
        tmp = os.path.join(parent, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as e:
            raise PermissionError(f"cannot write output {shown!r}: {e.strerror or e}") from None
    raise FileExistsError(f"cannot create a temporary file beside {shown!r}")


WRITERS: dict[str, Any] = {"csv": _CsvWriter, "json": _JsonLinesWriter, "parquet": _ParquetWriter}
"""Format -> writer class: ``writer(stream)``, then ``write(series)`` per series and ``close()``."""
