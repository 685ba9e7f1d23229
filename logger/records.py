"""TFRecord framing of event files: length, masked CRC-32C, payload, masked CRC-32C.

This module is the single implementation of the framing (event-format.md §1). The
writer frames payloads with :func:`frame`; vizboard's reader decodes a byte buffer
with :func:`scan`, which separates complete records, a torn tail (to retry later)
and damage (to skip, count and report, then resynchronise).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

import google_crc32c

__all__ = [
    "HEADER_SIZE",
    "FOOTER_SIZE",
    "MAX_RECORD_BYTES",
    "masked_crc32c",
    "unmask_crc32c",
    "frame",
    "Record",
    "Damage",
    "DamageKind",
    "ScanResult",
    "scan",
]

HEADER_SIZE = 12
"""Bytes before the payload: 8-byte little-endian length + 4-byte masked CRC of it."""
FOOTER_SIZE = 4
"""Bytes after the payload: its masked CRC-32C."""
MAX_RECORD_BYTES = 1 << 31
"""A length field larger than this (2 GiB) is treated as damage even if its CRC matches."""

_MASK_DELTA = 0xA282EAD8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """Return the masked CRC-32C of ``data`` as stored in event files (LevelDB mask)."""
    crc = google_crc32c.value(bytes(data) if isinstance(data, memoryview) else data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask_crc32c(masked: int) -> int:
    """Invert :func:`masked_crc32c`'s mask, giving the plain CRC-32C."""
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    """Return one complete record (header, payload, footer) for ``payload``."""
    header = _U64.pack(len(payload))
    return b"".join(
        (header, _U32.pack(masked_crc32c(header)), payload, _U32.pack(masked_crc32c(payload)))
    )


@dataclass(frozen=True, slots=True)
class Record:
    """A complete, CRC-checked record: ``offset`` is where its header starts in the file (bytes)."""

    offset: int
    payload: bytes

    @property
    def length(self) -> int:
        """Total framed size of the record in bytes (header + payload + footer)."""
        return HEADER_SIZE + len(self.payload) + FOOTER_SIZE


class DamageKind(str, Enum):
    """Why bytes of an event file could not be read as a record."""

    LENGTH_CRC = "length_crc"
    """The header's CRC does not match; the reader scanned forward for the next valid header."""
    PAYLOAD_CRC = "payload_crc"
    """The length was valid but the payload's CRC was not; the record was skipped."""
    UNPARSABLE = "unparsable"
    """CRCs matched but the payload is not an Event (reported by the decoder, not by :func:`scan`)."""


@dataclass(frozen=True, slots=True)
class Damage:
    """A damaged region: ``offset`` and ``length`` in bytes within the file."""

    offset: int
    length: int
    kind: DamageKind


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What :func:`scan` found in a buffer.

    ``consumed`` is how many bytes of the buffer are settled (records and damage);
    bytes after it are a torn tail to be retried once more bytes arrive.
    """

    records: list[Record]
    damage: list[Damage]
    consumed: int


def _header_ok(buf: memoryview, pos: int) -> int | None:
    """Return the payload length if a valid header starts at ``pos``, else None."""
    header = buf[pos : pos + 8]
    (stored,) = _U32.unpack_from(buf, pos + 8)
    if masked_crc32c(header) != stored:
        return None
    (length,) = _U64.unpack_from(buf, pos)
    return length if length <= MAX_RECORD_BYTES else None


def scan(data: bytes | bytearray | memoryview, base_offset: int = 0, *, final: bool = False) -> ScanResult:
    """Split ``data`` (file bytes starting at file offset ``base_offset``) into records.

    - A record whose bytes are not all present yet is a torn tail: scanning stops
      before it and ``consumed`` excludes it, so the caller retries it later.
    - A header with a bad CRC is damage: the scan moves forward byte by byte to the
      next offset holding a valid header (or to where a header could still be torn).
    - A payload with a bad CRC is damage of exactly that record; the scan continues
      after it, since its length was trustworthy.
    - With ``final=True`` (the file will not grow, e.g. it was replaced or deleted),
      leftover bytes that cannot form a record are reported as damage too.
    """
    buf = memoryview(data)
    n = len(buf)
    pos = 0
    records: list[Record] = []
    damage: list[Damage] = []
    bad_start: int | None = None  # start of a run of bytes with no valid header

    def close_bad(end: int) -> None:
        nonlocal bad_start
        if bad_start is not None:
            damage.append(Damage(base_offset + bad_start, end - bad_start, DamageKind.LENGTH_CRC))
            bad_start = None

    while pos + HEADER_SIZE <= n:
        length = _header_ok(buf, pos)
        if length is None:
            if bad_start is None:
                bad_start = pos
            pos += 1
            continue
        close_bad(pos)
        end = pos + HEADER_SIZE + length + FOOTER_SIZE
        if end > n:
            break  # torn tail: wait for the writer to finish this record
        payload = bytes(buf[pos + HEADER_SIZE : pos + HEADER_SIZE + length])
        (stored,) = _U32.unpack_from(buf, pos + HEADER_SIZE + length)
        if masked_crc32c(payload) == stored:
            records.append(Record(base_offset + pos, payload))
        else:
            damage.append(Damage(base_offset + pos, end - pos, DamageKind.PAYLOAD_CRC))
        pos = end

    # Every offset in [bad_start, pos) was tested and holds no valid header: that is
    # settled damage. Fewer than HEADER_SIZE bytes after it may still start a header.
    close_bad(pos)
    if final and pos < n:
        damage.append(Damage(base_offset + pos, n - pos, DamageKind.LENGTH_CRC))
        pos = n
    return ScanResult(records, damage, pos)
