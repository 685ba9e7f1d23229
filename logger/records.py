"""TFRecord framing of event files: length, masked CRC-32C, payload, masked CRC-32C.

This module is the single implementation of the framing and of the masked CRC-32C
(event-format.md §1). The writer frames payloads with :func:`frame` / :func:`frame_into`
(header bytes cached per length); vizboard's reader checks many CRCs at once with
:func:`masked_crc_rows` and :func:`length_crcs`, and decodes a byte buffer with
:func:`scan`, the plain reference path, which separates complete records, a torn tail
(to retry later) and damage (to skip, count and report, then resynchronise).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

import google_crc32c

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "HEADER_SIZE",
    "FOOTER_SIZE",
    "MAX_RECORD_BYTES",
    "masked_crc32c",
    "mask_crc",
    "frame",
    "frame_into",
    "frame_all",
    "length_header",
    "length_crcs",
    "masked_crc_rows",
    "Record",
    "Damage",
    "DamageKind",
    "ScanResult",
    "scan",
    "find_headers",
    "resync",
    "settle",
    "header_length",
    "crc_ok_streaming",
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


def mask_crc(crc: int) -> int:
    """Apply the LevelDB mask to a plain CRC-32C (rotate right 15, add 0xA282EAD8)."""
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """Return the masked CRC-32C of ``data`` as stored in event files (LevelDB mask)."""
    crc: int = google_crc32c.value(bytes(data) if isinstance(data, memoryview) else data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


@lru_cache(maxsize=4096)
def length_header(length: int) -> bytes:
    """The 12 header bytes of a record with a ``length``-byte payload (cached per length)."""
    head = _U64.pack(length)
    return head + _U32.pack(masked_crc32c(head))


def frame(payload: bytes) -> bytes:
    """Return one complete record (header, payload, footer) for ``payload``."""
    return b"".join((length_header(len(payload)), payload, _U32.pack(masked_crc32c(payload))))


def frame_into(out: bytearray, payload: bytes, headers: dict[int, bytes]) -> None:
    """Append the record for ``payload`` to ``out``; ``headers`` caches header bytes per length.

    The writer thread's hot path: one dict lookup and one CRC per record.
    """
    n = len(payload)
    head = headers.get(n)
    if head is None:
        head = headers[n] = length_header(n)
    crc = google_crc32c.value(payload)
    out += head
    out += payload
    out += _U32.pack((((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF)


def frame_all(out: bytearray, payloads: list[bytes], headers: dict[int, bytes]) -> None:
    """:func:`frame_into` for each of ``payloads`` in order (one call for a whole batch)."""
    value = google_crc32c.value
    pack = _U32.pack
    get = headers.get
    for payload in payloads:
        n = len(payload)
        head = get(n)
        if head is None:
            head = headers[n] = length_header(n)
        crc = value(payload)
        out += head
        out += payload
        out += pack((((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF)


def length_crcs(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    """Masked CRC of the 8-byte little-endian length field, for each of ``lengths`` (one CRC per distinct value)."""
    import numpy as np

    uniq, inv = np.unique(lengths, return_inverse=True)
    crcs = np.fromiter((_length_crc(int(u)) for u in uniq), dtype=np.uint32, count=uniq.size)
    return crcs[inv.ravel()]


@lru_cache(maxsize=4096)
def _length_crc(length: int) -> int:
    return masked_crc32c(_U64.pack(length))


@lru_cache(maxsize=256)
def _position_tables(length: int) -> tuple[npt.NDArray[np.uint32], int]:
    """Per-position CRC-32C contribution tables (length x 256, flattened) and the constant term.

    CRC-32C of a fixed-length message is an affine function of its bytes: the XOR of one
    table entry per byte position, XORed with the CRC of as many zero bytes.
    """
    import numpy as np

    poly = 0x82F63B78
    base = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        base = np.where(base & 1, (base >> 1) ^ poly, base >> 1).astype(np.uint32)
    tables = np.empty((length, 256), dtype=np.uint32)
    cur = base.copy()
    for j in range(length - 1, -1, -1):
        tables[j] = cur
        cur = base[cur & 0xFF] ^ (cur >> 8)
    return tables.reshape(-1), google_crc32c.value(bytes(length))


def masked_crc_rows(mat: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """Masked CRC-32C of each row of a uint8 matrix (all rows the same length), vectorised."""
    import numpy as np

    length = mat.shape[1]
    tables, const = _position_tables(length)
    idx = mat.astype(np.int32)
    idx += (np.arange(length, dtype=np.int32) * 256)[None, :]
    crc = (np.bitwise_xor.reduce(tables[idx], axis=1) ^ np.uint32(const)).astype(np.uint64)
    rot = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    out: npt.NDArray[np.uint32] = ((rot + _MASK_DELTA) & 0xFFFFFFFF).astype(np.uint32)
    return out


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
    """The header's CRC does not match; the reader searched forward for the next valid record."""
    PAYLOAD_CRC = "payload_crc"
    """The header was valid but the record was not (payload CRC mismatch, or cut short by later
    data); the reader searched for the next valid record from the byte after the header's start."""
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


_FIND_BLOCK = 1 << 18


@lru_cache(maxsize=1)
def _header_tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], int]:
    """CRC-32C contributions of length bytes 0-1 and 2-3 (64 Ki entries each) when bytes 4-7 are zero."""
    import numpy as np

    tables, const = _position_tables(8)
    t = tables.reshape(8, 256)
    pair = np.arange(1 << 16, dtype=np.uint32)
    lo, hi = pair & 0xFF, pair >> 8
    return t[0][lo] ^ t[1][hi], t[2][lo] ^ t[3][hi], const


def find_headers(data: bytes | bytearray | memoryview, start: int, stop: int) -> npt.NDArray[np.int64]:
    """Offsets ``p`` in ``[start, stop)`` where a valid record header starts, vectorised.

    Valid = the 12 bytes at ``p`` are present, the length's masked CRC matches and the
    length is at most :data:`MAX_RECORD_BYTES`. Works in blocks of 256 KiB (a few MB of
    temporaries), so a long run of junk is searched at numpy speed in bounded memory.
    """
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    stop = min(stop, arr.shape[0] - HEADER_SIZE + 1)
    t01, t23, const = _header_tables()
    found: list[npt.NDArray[np.int64]] = []
    for s in range(start, stop, _FIND_BLOCK):
        e = min(stop, s + _FIND_BLOCK)
        if not arr[s : e + HEADER_SIZE - 1].any():
            continue  # zero-filled (e.g. a preallocated or sparse file): never a header
        for parity in (0, 1):  # header starts at even / odd offsets from s: 16-bit views, no copies
            first = s + parity
            cnt = (e - first + 1) // 2
            if cnt <= 0:
                continue
            w = arr[first : first + 2 * cnt + 10].view("<u2")  # w[i] = bytes first+2i, first+2i+1
            # length < 2**32, and not 12 zero bytes (whose CRC can never match: zero-filled junk)
            cand = np.flatnonzero(((w[2 : cnt + 2] | w[3 : cnt + 3]) == 0)
                                  & ((w[:cnt] | w[1 : cnt + 1] | w[4 : cnt + 4] | w[5 : cnt + 5]) != 0))
            if cand.size == 0:
                continue
            lo, hi = w[cand], w[cand + 1]
            crc = t01[lo] ^ t23[hi] ^ np.uint32(const)
            masked = ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)
            stored = w[cand + 4].astype(np.uint32) | (w[cand + 5].astype(np.uint32) << 16)
            hit = cand[masked == stored]
            if hit.size:
                length = w[hit].astype(np.uint32) | (w[hit + 1].astype(np.uint32) << 16)
                found.append((first + 2 * hit[length <= MAX_RECORD_BYTES]).astype(np.int64))
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(found))


_OK, _TORN, _BAD = 0, 1, 2


def _check(buf: memoryview, pos: int) -> tuple[int, int]:
    """Classify the bytes at ``pos``: (_OK, end) a whole valid record; (_TORN, 0) a valid header
    whose record runs past the buffer; (_BAD, 0) a bad header or a payload CRC mismatch."""
    n = len(buf)
    if n - pos < HEADER_SIZE:
        return _TORN, 0
    (stored,) = _U32.unpack_from(buf, pos + 8)
    if masked_crc32c(buf[pos : pos + 8]) != stored:
        return _BAD, 0
    (length,) = _U64.unpack_from(buf, pos)
    if length > MAX_RECORD_BYTES:
        return _BAD, 0
    end = pos + HEADER_SIZE + length + FOOTER_SIZE
    if end > n:
        return _TORN, 0
    (stored,) = _U32.unpack_from(buf, end - FOOTER_SIZE)
    if masked_crc32c(buf[pos + HEADER_SIZE : end - FOOTER_SIZE]) != stored:
        return _BAD, 0
    return _OK, end


def resync(data: bytes | bytearray | memoryview, start: int) -> tuple[int | None, int | None]:
    """Search from ``start`` for the next whole valid record: (its offset, first torn candidate before it).

    Candidate headers come from :func:`find_headers`; each is verified in full (payload
    CRC included), so the bytes inside a damaged record's claimed length are searched
    too. Returns ``(None, t)`` when no whole record follows: ``t`` is the first valid
    header whose record runs past the buffer (a tail still being written), or None.
    """
    buf = memoryview(data)
    n = len(buf)
    torn: int | None = None
    pos = start
    while pos <= n - HEADER_SIZE:
        stop = min(n - HEADER_SIZE + 1, pos + 4 * _FIND_BLOCK)
        for c in find_headers(buf, pos, stop).tolist():
            status, _ = _check(buf, c)
            if status == _OK:
                return c, torn
            if status == _TORN and torn is None:
                torn = c
        pos = stop
    return None, torn


def settle(data: bytes | bytearray | memoryview, pos: int, base_offset: int = 0, *, final: bool = False,
           known_bad: bool = False) -> tuple[Record | None, Damage | None, int, bool]:
    """Settle the bytes at ``pos``, one step of :func:`scan`: ``(record, damage, next_pos, stop)``.

    ``stop`` means nothing more can be settled before more bytes arrive (``next_pos`` is
    then the torn tail's start, or the buffer's end with ``final``). ``known_bad`` treats
    the record at ``pos`` as damaged (the caller checked a record too big to hold).
    """
    buf = memoryview(data)
    n = len(buf)
    if pos >= n:
        return None, None, n, True
    status, end = (_BAD, 0) if known_bad else _check(buf, pos)
    if status == _OK:
        return Record(base_offset + pos, bytes(buf[pos + HEADER_SIZE : end - FOOTER_SIZE])), None, end, False
    if status == _TORN and n - pos < HEADER_SIZE:
        if final:
            return None, Damage(base_offset + pos, n - pos, DamageKind.LENGTH_CRC), n, True
        return None, None, pos, True
    nxt, torn = resync(buf, pos + 1)
    kind = DamageKind.PAYLOAD_CRC if known_bad else _kind(buf, pos)
    if nxt is not None:
        return None, Damage(base_offset + pos, nxt - pos, kind), nxt, False
    if final:
        return None, Damage(base_offset + pos, n - pos, kind), n, True
    if status == _TORN:
        return None, None, pos, True  # a tail still being written, with nothing whole after it
    stop = torn if torn is not None else max(pos + 1, n - HEADER_SIZE + 1)
    return None, Damage(base_offset + pos, stop - pos, kind), stop, True


def scan(data: bytes | bytearray | memoryview, base_offset: int = 0, *, final: bool = False) -> ScanResult:
    """Split ``data`` (file bytes starting at file offset ``base_offset``) into records.

    The plain reference implementation of the framing rules (the reader's vectorised
    framing must agree with it):

    - A whole record with both CRCs valid is read; reading continues after it.
    - Anything else at a record start (bad header CRC, absurd length, payload CRC
      mismatch, or a record cut short by later data) is damage: the bytes from there
      up to the next whole valid record are reported, and the search for that record
      starts at the byte after the bad header's first byte, so intact records inside
      a damaged record's claimed length are found.
    - A valid header whose record runs past the end of ``data`` with no whole record
      after it is a torn tail: ``consumed`` stops before it, to be retried later.
    - Trailing bytes that hold no valid header are damage, except the last 11 (a header
      could still be arriving). With ``final=True`` (the file will not grow) every
      leftover byte is damage.
    """
    buf = memoryview(data)
    pos = 0
    records: list[Record] = []
    damage: list[Damage] = []
    while True:
        rec, dmg, pos, stop = settle(buf, pos, base_offset, final=final)
        if rec is not None:
            records.append(rec)
        if dmg is not None:
            damage.append(dmg)
        if stop:
            return ScanResult(records, damage, pos)


def _kind(buf: memoryview, pos: int) -> DamageKind:
    """LENGTH_CRC if the header at ``pos`` is invalid (or absent), else PAYLOAD_CRC."""
    if len(buf) - pos < HEADER_SIZE:
        return DamageKind.LENGTH_CRC
    (stored,) = _U32.unpack_from(buf, pos + 8)
    (length,) = _U64.unpack_from(buf, pos)
    ok = masked_crc32c(buf[pos : pos + 8]) == stored and length <= MAX_RECORD_BYTES
    return DamageKind.PAYLOAD_CRC if ok else DamageKind.LENGTH_CRC


def header_length(data: bytes | bytearray | memoryview, pos: int = 0) -> int | None:
    """The payload length of the valid header at ``pos`` (None if absent, invalid or absurd)."""
    buf = memoryview(data)
    if len(buf) - pos < HEADER_SIZE:
        return None
    (stored,) = _U32.unpack_from(buf, pos + 8)
    (length,) = _U64.unpack_from(buf, pos)
    if masked_crc32c(buf[pos : pos + 8]) != stored or length > MAX_RECORD_BYTES:
        return None
    return int(length)


def crc_ok_streaming(read: Callable[[int, int], bytes], offset: int, length: int, piece: int) -> bool:
    """Check the payload CRC of the record at file ``offset`` (``length`` payload bytes) in bounded memory.

    ``read(offset, size)`` returns file bytes; the payload is read ``piece`` bytes at a time,
    so a record claiming a huge length is verified without holding it.
    """
    crc = 0
    pos = offset + HEADER_SIZE
    end = pos + length
    while pos < end:
        part = read(pos, min(piece, end - pos))
        if not part:
            return False
        crc = google_crc32c.extend(crc, part)
        pos += len(part)
    footer = read(end, FOOTER_SIZE)
    return len(footer) == FOOTER_SIZE and _U32.unpack(footer)[0] == mask_crc(crc)
