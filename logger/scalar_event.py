"""The byte layout of scalar Events: the writer's hand encoder and the reader's pattern constants.

A scalar Event as protobuf serialises it (fields in number order, event-format §2-3)::

    09 <wall_time f64>  [10 <step varint>]  2a <len> 0a <len> 0a <taglen> <tag>  <value form>  [4a <len> <metadata>]

where ``<value form>`` is one of :data:`VALUE_FORMS` (a ``simple_value`` or a rank-0
DT_FLOAT/DT_DOUBLE tensor, as torch, tensorboardX and TensorFlow write them). The
writer (:mod:`logger.event_file`) builds these bytes without protobuf; vizboard's
vectorised reader (``vizboard.data.fast_scalars``) recognises them with the same
constants. Both are checked against protobuf by tests.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

__all__ = [
    "WALL_TIME_KEY",
    "STEP_KEY",
    "FILE_VERSION_KEY",
    "SUMMARY_KEY",
    "SOURCE_METADATA_KEY",
    "VALUE_KEY",
    "TAG_KEY",
    "SIMPLE_VALUE_KEY",
    "METADATA_KEY",
    "MIN_SCALAR_EVENT",
    "ValueForm",
    "VALUE_FORMS",
    "varint",
    "f32_bytes",
    "encode_event_header",
    "encode_scalar_event",
    "scalar_tail",
    "scalar_payload",
    "encode_scalar_run",
]

# Protobuf keys (field number << 3 | wire type) of the fields a scalar Event uses.
WALL_TIME_KEY: Final = 0x09
"""Event.wall_time (field 1, fixed64 double)."""
STEP_KEY: Final = 0x10
"""Event.step (field 2, varint int64; omitted when 0)."""
FILE_VERSION_KEY: Final = 0x1A
"""Event.file_version (field 3, length-delimited string)."""
SUMMARY_KEY: Final = 0x2A
"""Event.summary (field 5, length-delimited)."""
SOURCE_METADATA_KEY: Final = 0x52
"""Event.source_metadata (field 10, length-delimited)."""
VALUE_KEY: Final = 0x0A
"""Summary.value (field 1, length-delimited)."""
TAG_KEY: Final = 0x0A
"""Summary.Value.tag (field 1, length-delimited string)."""
SIMPLE_VALUE_KEY: Final = 0x15
"""Summary.Value.simple_value (field 2, fixed32 float)."""
METADATA_KEY: Final = 0x4A
"""Summary.Value.metadata (field 9, length-delimited)."""
MIN_SCALAR_EVENT: Final = 9 + 2 + 2 + 3 + 5
"""Shortest scalar Event in bytes (wall time, summary and value headers, 1-byte tag, simple_value)."""


class ValueForm(NamedTuple):
    """One way a scalar's value is laid out after its tag (bytes relative to the value field's key)."""

    prefix: bytes
    """Fixed bytes from the value field's key up to the number."""
    dtype: str
    """numpy dtype of the number ("<f4" or "<f8")."""
    start: int
    """Offset of the number's first byte."""
    end: int
    """Offset just past the number (= end of the value form)."""
    tensor: bool
    """True for a TensorProto form (a scalar only if the series metadata says so)."""


VALUE_FORMS: Final = (
    ValueForm(bytes([SIMPLE_VALUE_KEY]), "<f4", 1, 5, False),  # simple_value
    ValueForm(b"\x42\x06\x08\x01\x2a\x04", "<f4", 6, 10, True),  # DT_FLOAT float_val, no shape (torch new_style)
    ValueForm(b"\x42\x08\x08\x01\x12\x00\x2a\x04", "<f4", 8, 12, True),  # DT_FLOAT rank 0 (TF2, TB scalar_pb)
    ValueForm(b"\x42\x0c\x08\x02\x32\x08", "<f8", 6, 14, True),  # DT_DOUBLE double_val (torch double_precision)
    ValueForm(b"\x42\x0e\x08\x02\x12\x00\x32\x08", "<f8", 8, 16, True),  # DT_DOUBLE rank 0
)
"""The value forms the vectorised reader recognises; anything else goes through protobuf."""

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_KEYED_F64 = struct.Struct("<Bd")
_SMALL = tuple(bytes([i]) for i in range(0x80))
_STEP_SMALL = tuple(bytes([STEP_KEY, i]) for i in range(0x80))


def varint(n: int) -> bytes:
    """Protobuf varint of ``n`` (negative int64 values take 10 bytes, as protobuf writes them)."""
    if 0 <= n < 0x80:
        return _SMALL[n]
    if 0 < n < 0x4000:
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def f32_bytes(value: float) -> bytes:
    """``value`` as a little-endian float32 (finite values beyond float32 become +-inf, as protobuf does)."""
    try:
        return _F32.pack(value)
    except OverflowError:
        return _F32.pack(math.copysign(math.inf, value))


def encode_event_header(wall_time: float, step: int) -> bytes:
    """Encode Event fields 1 (wall_time) and 2 (step, omitted at 0) as protobuf bytes."""
    head = bytes([WALL_TIME_KEY]) + _F64.pack(wall_time)
    return head + bytes([STEP_KEY]) + varint(step) if step else head


def scalar_tail(tag: bytes) -> bytes:
    """Event field 5 for a ``simple_value`` of ``tag``, up to (excluding) the value's 4 bytes.

    Its length does not depend on the value, so the writer caches it per tag.
    """
    val_len = 1 + len(varint(len(tag))) + len(tag) + 5
    summ = bytes([VALUE_KEY]) + varint(val_len) + bytes([TAG_KEY]) + varint(len(tag)) + tag + bytes([SIMPLE_VALUE_KEY])
    return bytes([SUMMARY_KEY]) + varint(len(summ) + 4) + summ


def scalar_payload(tail: bytes, value: float, step: int, wall_time: float) -> bytes:
    """The whole scalar Event for a cached :func:`scalar_tail` (the writer thread's hot path).

    ``value`` must be a Python float/int (``struct.error`` otherwise); ``wall_time`` in seconds.
    """
    try:
        v4 = _F32.pack(value)
    except OverflowError:  # finite but beyond float32
        v4 = f32_bytes(value)
    head = _KEYED_F64.pack(WALL_TIME_KEY, wall_time)
    if not step:
        return head + tail + v4
    return head + (_STEP_SMALL[step] if 0 < step < 0x80 else bytes([STEP_KEY]) + varint(step)) + tail + v4


def encode_scalar_event(tag: bytes, value: float, step: int, wall_time: float, metadata: bytes = b"") -> bytes:
    """Hand-encode ``Event{wall_time, step, summary{value{tag, simple_value, metadata}}}``.

    Byte-identical to protobuf's serialization (fields in number order); ``metadata``
    is an already serialized SummaryMetadata (empty = none).
    """
    val = bytes([TAG_KEY]) + varint(len(tag)) + tag + bytes([SIMPLE_VALUE_KEY]) + f32_bytes(value)
    if metadata:
        val += bytes([METADATA_KEY]) + varint(len(metadata)) + metadata
    summ = bytes([VALUE_KEY]) + varint(len(val)) + val
    return encode_event_header(wall_time, step) + bytes([SUMMARY_KEY]) + varint(len(summ)) + summ


def encode_scalar_run(items: Sequence[tuple[Any, ...]], start: int, marker: object, tails: dict[str, bytes],
                      as_float: Callable[[Any], float]) -> tuple[list[bytes], int, BaseException | None]:
    """Encode the consecutive queue items ``(marker, tag, value, step, wall_time)`` from ``items[start]``.

    The writer thread's hot loop (no call per scalar): stops at the first item whose
    first element is not ``marker``. ``tails`` caches :func:`scalar_tail` per tag str;
    ``as_float`` converts a value ``struct`` cannot pack (a tensor read late). Returns
    the payloads, the index of the first item not consumed, and the last error met
    (the item that raised is skipped).
    """
    out: list[bytes] = []
    append = out.append
    pack_f32 = _F32.pack
    pack_head = _KEYED_F64.pack
    small = _STEP_SMALL
    error: BaseException | None = None
    n = len(items)
    k = start
    while k < n:
        item = items[k]
        if item[0] is not marker:
            break
        k += 1
        tail = tails.get(item[1])
        if tail is None:
            tail = tails[item[1]] = scalar_tail(item[1].encode("utf-8"))
        try:
            try:
                v4 = pack_f32(item[2])
            except struct.error:
                v4 = f32_bytes(as_float(item[2]))
            except OverflowError:
                v4 = f32_bytes(item[2])
        except Exception as exc:  # noqa: BLE001 - reported by the caller on the training thread
            error = exc
            continue
        step = item[3]
        if not step:
            append(pack_head(WALL_TIME_KEY, item[4]) + tail + v4)
        elif 0 < step < 0x80:
            append(pack_head(WALL_TIME_KEY, item[4]) + small[step] + tail + v4)
        else:
            append(pack_head(WALL_TIME_KEY, item[4]) + bytes([STEP_KEY]) + varint(step) + tail + v4)
    return out, k, error
