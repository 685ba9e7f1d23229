"""Per-file tailing of event files from saved byte offsets, with batch framing checks.

A :class:`FileTail` remembers how far one event file has been settled (``offset``:
every byte before it is a complete record or reported damage). :meth:`FileTail.poll`
reads at most ``max_bytes`` new bytes and frames them into a :class:`Chunk`.

Framing is ``logger.records.scan``'s, with a fast path: a tight loop walks the
length fields, and the header CRCs are then checked for all records at once
(one CRC per distinct length). At the first header that fails, the rest of the
buffer is handed to ``logger.records.scan``, which resynchronises and reports the
damage. Payload CRCs are checked in batches by :func:`payload_crc_ok` (records of
equal length are checked together with per-position CRC tables, since CRC-32C of a
fixed-length message is an affine function of its bytes). A torn last record is
not consumed, so it is retried on the next poll.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import google_crc32c
import numpy as np

from logger.records import FOOTER_SIZE, HEADER_SIZE, MAX_RECORD_BYTES, Damage, masked_crc32c, scan
from vizboard.data.fs import FileSystem

__all__ = ["Chunk", "FileTail", "frame_chunk", "payload_crc_ok", "length_groups", "masked_crc_rows"]

_U64 = struct.Struct("<Q")
_GROUP_ROWS = 1 << 14
_MAX_VECTOR_LEN = 512


@dataclass(slots=True)
class Chunk:
    """Records framed from ``data`` (file bytes starting at file offset ``base``).

    Record ``i`` has its header at ``data[starts[i]]`` and ``lengths[i]`` payload
    bytes; ``verified[i]`` is True when its payload CRC was already checked.
    """

    path: str
    data: bytes
    base: int
    starts: np.ndarray
    lengths: np.ndarray
    verified: np.ndarray
    damage: list[Damage] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def payload(self, i: int) -> bytes:
        s = int(self.starts[i]) + HEADER_SIZE
        return self.data[s : s + int(self.lengths[i])]

    def offset(self, i: int) -> int:
        """File offset (bytes) of record ``i``'s header."""
        return self.base + int(self.starts[i])

    def record_length(self, i: int) -> int:
        """Framed size (bytes) of record ``i``."""
        return HEADER_SIZE + int(self.lengths[i]) + FOOTER_SIZE


@lru_cache(maxsize=4096)
def _length_crc(length: int) -> int:
    return masked_crc32c(_U64.pack(length))


def _windows(arr: np.ndarray, width: int) -> np.ndarray:
    """Zero-copy view of every ``width``-byte window of ``arr`` (row i = arr[i:i+width])."""
    if arr.shape[0] < width:
        return np.zeros((0, width), dtype=np.uint8)
    return np.lib.stride_tricks.as_strided(arr, shape=(arr.shape[0] - width + 1, width), strides=(1, 1),
                                           writeable=False)


def _gather(arr: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """Copy ``width`` bytes at each offset into an (n, width) uint8 matrix."""
    return _windows(arr, width)[offsets]


_PLAIN_BATCH = 64
_MAX_PERIOD = 32
_SPEC_RECORDS = 1 << 16


def _walk(data: bytes, arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Record start offsets reachable by following length fields from 0, and where the walk stopped.

    A plain loop reads length fields one by one; whenever the last record sizes repeat
    with a period P <= 32 (a training loop logging the same tags every step), the next
    records are predicted by repeating that cycle and checked all at once against the
    length fields at the predicted offsets; the matching prefix is exactly what the
    plain loop would have found.
    """
    n = len(data)
    unpack = _U64.unpack_from
    limit = n - HEADER_SIZE
    parts: list[np.ndarray] = []
    cur: list[int] = []
    sizes: list[int] = []
    pos = 0
    windows8 = None
    while True:
        k = 0
        stopped = False
        while k < _PLAIN_BATCH:
            if pos > limit:
                stopped = True
                break
            length = unpack(data, pos)[0]
            size = length + (HEADER_SIZE + FOOTER_SIZE)
            if length > MAX_RECORD_BYTES or pos + size > n:
                stopped = True
                break
            cur.append(pos)
            sizes.append(size)
            pos += size
            k += 1
        if stopped:
            break
        if len(sizes) > 4 * _MAX_PERIOD:
            del sizes[: -2 * _MAX_PERIOD]
        period = next((p for p in range(1, min(_MAX_PERIOD, len(sizes) // 2) + 1)
                       if sizes[-p:] == sizes[-2 * p : -p]), 0)
        if not period:
            continue
        cyc = np.asarray(sizes[-period:], dtype=np.int64)
        total = int(cyc.sum())
        cycles = min((n - pos) // total, max(1, _SPEC_RECORDS // period))
        if cycles < 1:
            continue
        within = np.concatenate(([0], np.cumsum(cyc)[:-1]))
        offs = (pos + np.arange(cycles, dtype=np.int64)[:, None] * total + within[None, :]).ravel()
        if windows8 is None:
            windows8 = _windows(arr, 8)
        found = windows8[offs].copy().view("<u8").ravel()
        bad = np.flatnonzero(found != np.tile(cyc - (HEADER_SIZE + FOOTER_SIZE), cycles).astype(np.uint64))
        good = int(bad[0]) if bad.size else offs.size
        if good:
            if cur:
                parts.append(np.asarray(cur, dtype=np.int64))
                cur = []
            parts.append(offs[:good])
            pos = int(offs[good]) if good < offs.size else pos + cycles * total
    if cur:
        parts.append(np.asarray(cur, dtype=np.int64))
    starts = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return starts, pos


def frame_chunk(path: str, data: bytes, base: int, *, final: bool = False) -> tuple[Chunk, int]:
    """Frame ``data``; return the chunk and how many bytes are settled (the rest is a torn tail)."""
    n = len(data)
    arr = np.frombuffer(data, dtype=np.uint8)
    st, pos = _walk(data, arr)
    if st.size:
        head = _gather(arr, st, HEADER_SIZE)
        lens = head[:, :8].copy().view("<u8").ravel().astype(np.int64)
        stored = head[:, 8:].copy().view("<u4").ravel()
        uniq, inv = np.unique(lens, return_inverse=True)
        expect = np.fromiter((_length_crc(int(u)) for u in uniq), dtype=np.uint32, count=uniq.size)[inv.ravel()]
        bad = np.flatnonzero(expect != stored)
        if bad.size:
            pos = int(st[bad[0]])
            st, lens = st[: bad[0]], lens[: bad[0]]
    else:
        lens = np.zeros(0, dtype=np.int64)
    verified = np.zeros(st.size, dtype=bool)
    damage: list[Damage] = []
    consumed = pos
    if pos < n and (final or n - pos >= HEADER_SIZE):
        res = scan(memoryview(data)[pos:], base + pos, final=final)
        damage = res.damage
        consumed = pos + res.consumed
        if res.records:
            extra = np.asarray([r.offset - base for r in res.records], dtype=np.int64)
            elen = np.asarray([len(r.payload) for r in res.records], dtype=np.int64)
            st = np.concatenate((st, extra))
            lens = np.concatenate((lens, elen))
            verified = np.concatenate((verified, np.ones(extra.size, dtype=bool)))
    return Chunk(path, data, base, st, lens, verified, damage), consumed


@lru_cache(maxsize=256)
def _position_tables(length: int) -> tuple[np.ndarray, int]:
    """Per-position CRC-32C contribution tables (length x 256, flattened) and the constant term."""
    poly = 0x82F63B78
    base = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        base = np.where(base & 1, (base >> 1) ^ poly, base >> 1).astype(np.uint32)
    tables = np.empty((length, 256), dtype=np.uint32)
    cur = base.copy()
    for j in range(length - 1, -1, -1):
        tables[j] = cur
        cur = base[cur & 0xFF] ^ (cur >> 8)
    const = google_crc32c.value(bytes(length))  # CRC of zeros = init/final-xor contribution
    return tables.reshape(-1), const


def masked_crc_rows(mat: np.ndarray) -> np.ndarray:
    """Masked CRC-32C of each row of a uint8 matrix (all rows the same length)."""
    n, length = mat.shape
    tables, const = _position_tables(length)
    idx = mat.astype(np.int32)
    idx += (np.arange(length, dtype=np.int32) * 256)[None, :]
    crc = np.bitwise_xor.reduce(tables[idx], axis=1) ^ np.uint32(const)
    crc = crc.astype(np.uint64)
    rot = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    return ((rot + 0xA282EAD8) & 0xFFFFFFFF).astype(np.uint32)


def length_groups(chunk: Chunk, rows: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield (row indices, payload matrix) for ``rows`` grouped by payload length.

    Small groups and long payloads yield ``None`` instead of a matrix (decode them
    one by one). Groups are cut at 65,536 rows to bound memory.
    """
    if rows.size == 0:
        return
    lens = chunk.lengths[rows]
    order = np.argsort(lens, kind="stable")
    sorted_lens = lens[order]
    cuts = np.flatnonzero(np.diff(sorted_lens)) + 1
    arr = np.frombuffer(chunk.data, dtype=np.uint8)
    for grp in np.split(order, cuts):
        length = int(lens[grp[0]])
        g = rows[grp]
        if length == 0 or length > _MAX_VECTOR_LEN or g.size < 16:
            yield g, None
            continue
        windows = _windows(arr, length)
        for lo in range(0, g.size, _GROUP_ROWS):
            part = g[lo : lo + _GROUP_ROWS]
            yield part, windows[chunk.starts[part] + HEADER_SIZE]


def payload_crc_ok(chunk: Chunk, rows: np.ndarray, mat: np.ndarray | None) -> np.ndarray:
    """Bool mask over ``rows``: payload CRC matches (or was already verified)."""
    arr = np.frombuffer(chunk.data, dtype=np.uint8)
    ends = chunk.starts[rows] + HEADER_SIZE + chunk.lengths[rows]
    stored = _gather(arr, ends, 4).view("<u4").ravel()
    if mat is not None:
        ok = masked_crc_rows(mat) == stored
    else:
        ok = np.fromiter(
            (masked_crc32c(chunk.payload(int(r))) for r in rows), dtype=np.uint32, count=rows.size
        ) == stored
    return ok | chunk.verified[rows]


class FileTail:
    """Reading state of one event file: ``offset`` = bytes settled so far."""

    __slots__ = ("path", "run", "offset", "size", "gone", "ident")

    def __init__(self, path: str, run: str, ident: int = 0) -> None:
        self.path = path
        self.run = run
        self.offset = 0
        self.size = 0
        self.gone = False
        self.ident = ident

    def pending(self) -> int:
        """Bytes known to exist beyond ``offset`` (from the last stat)."""
        return max(0, self.size - self.offset)

    def poll(self, fs: FileSystem, max_bytes: int, size: int | None = None) -> Chunk | None:
        """Read and frame up to ``max_bytes`` new bytes; None if there is nothing new.

        ``size`` is the file size if the caller already knows it (saves a stat).
        Raises OSError if the file cannot be read; the caller reports it.
        """
        if size is None:
            size = fs.size(self.path)
        if size is None:
            self.gone = True
            return None
        self.size = size
        if size <= self.offset:
            return None
        want = min(max_bytes, size - self.offset)
        data = fs.read(self.path, self.offset, want)
        if len(data) >= HEADER_SIZE and len(data) < size - self.offset:
            # One record larger than max_bytes: read the whole record.
            need = _U64.unpack_from(data, 0)[0] + HEADER_SIZE + FOOTER_SIZE
            if len(data) < need <= size - self.offset and need <= MAX_RECORD_BYTES:
                data = fs.read(self.path, self.offset, need)
        chunk, consumed = frame_chunk(self.path, data, self.offset)
        self.offset += consumed
        return chunk


@dataclass(slots=True)
class FastScalars:
    """Scalars recognised by :func:`fast_scalars`: ``rows`` index the input matrix rows.

    ``meta_rows[t]`` is the first row of tag ``t`` that carries a metadata field (parse it
    to learn the series' plugin); ``tensor_tags`` are tags seen in tensor form (which are
    scalars only if their metadata says so).
    """

    rows: np.ndarray
    tags: list[str]
    tag_index: np.ndarray
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray
    meta_rows: dict[int, int] = field(default_factory=dict)
    tensor_tags: set[int] = field(default_factory=set)


# Summary.Value bytes after the tag: (prefix, value dtype, value offset, end offset, tensor form)
_VALUE_FORMS = (
    (b"\x15", "<f4", 1, 5, False),  # simple_value
    (b"\x42\x06\x08\x01\x2a\x04", "<f4", 6, 10, True),  # DT_FLOAT float_val, no shape (torch new_style)
    (b"\x42\x08\x08\x01\x12\x00\x2a\x04", "<f4", 8, 12, True),  # DT_FLOAT rank 0 (TF2, TB scalar_pb)
    (b"\x42\x0c\x08\x02\x32\x08", "<f8", 6, 14, True),  # DT_DOUBLE double_val (torch double_precision)
    (b"\x42\x0e\x08\x02\x12\x00\x32\x08", "<f8", 8, 16, True),  # DT_DOUBLE rank 0
)


_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


def _group_rows(tagmat: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Group identical rows of a byte matrix: (group index per row, one representative row per group)."""
    n, width = tagmat.shape
    words = -(-width // 8)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :width] = tagmat
    w = padded.view("<u8")
    h = w[:, 0].copy()
    for j in range(1, words):
        h = (h * _HASH_MULT) ^ w[:, j]
    inv = np.full(n, -1, dtype=np.int64)
    reps: list[int] = []
    todo = np.arange(n)
    while todo.size and len(reps) < 16:  # few distinct tags: linear passes beat sorting
        r = int(todo[0])
        hit = todo[h[todo] == h[r]]
        inv[hit] = len(reps)
        reps.append(r)
        todo = todo[inv[todo] < 0]
    if todo.size:
        uh, first, sub = np.unique(h[todo], return_index=True, return_inverse=True)
        inv[todo] = len(reps) + sub.ravel()
        reps.extend(int(todo[f]) for f in first)
    rep_arr = np.asarray(reps, dtype=np.int64)
    if not np.array_equal(tagmat, tagmat[rep_arr[inv]]):  # hash collision: exact but slow path
        uniq, first, inv2 = np.unique(np.ascontiguousarray(tagmat).view(f"V{width}").ravel(),
                                      return_index=True, return_inverse=True)
        return inv2.ravel().astype(np.int64), [int(f) for f in first]
    return inv, reps


def _take(mat: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indices, rows) selected by ``mask``, without copying when every row is selected."""
    if mask.all():
        return np.arange(mask.shape[0]), mat
    idx = np.flatnonzero(mask)
    return idx, mat[idx]


def fast_scalars(mat: np.ndarray) -> FastScalars:
    """Vectorised decode of the dominant event shapes: one scalar value per event.

    Layout (event-format §2-3; proto3 writes fields in number order): ``09 wall_time(8)``
    ``[10 step-varint]`` ``2a len 0a len 0a taglen tag`` then one of ``_VALUE_FORMS``
    (simple_value, or a rank-0 DT_FLOAT/DT_DOUBLE tensor), optionally followed by one
    metadata field ``4a len ...`` that runs to the end. Rows that do not match exactly
    are left out (the caller decodes them with protobuf).
    """
    n, length = mat.shape
    empty = FastScalars(np.zeros(0, np.int64), [], np.zeros(0, np.int64), np.zeros(0, np.int64),
                        np.zeros(0), np.zeros(0))
    if n == 0 or length < 9 + 2 + 2 + 3 + 5:
        return empty
    ok = mat[:, 0] == 0x09
    has_step = mat[:, 9] == 0x10
    vlen = np.zeros(n, dtype=np.int64)
    step = np.zeros(n, dtype=np.uint64)
    done = ~has_step
    for k in range(10):  # the step varint: 1..10 bytes
        col = 10 + k
        if col >= length or done.all():
            break
        b = mat[:, col].astype(np.uint64)
        live = ~done
        step |= np.where(live, (b & 0x7F) << np.uint64(7 * k), np.uint64(0))
        ends = live & (b < 0x80)
        vlen[ends] = k + 1
        done |= ends
    ok &= done
    p = np.where(has_step, 10 + vlen, 9)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # rows, tag idx, value, has_meta
    tags: list[str] = []
    tag_ids: dict[bytes, int] = {}
    tensor_tags: set[int] = set()
    for pv in np.unique(p[ok]).tolist():
        if pv + 8 > length:
            continue
        mask = ok & (p == pv)
        good = mask & ((mat[:, pv] == 0x2A) & (mat[:, pv + 1] == length - pv - 2) & (mat[:, pv + 2] == 0x0A)
                       & (mat[:, pv + 3] == length - pv - 4) & (mat[:, pv + 4] == 0x0A) & (mat[:, pv + 5] < 0x80))
        sel, m = _take(mat, good)
        tlens = m[:, pv + 5]
        for tlen in np.unique(tlens).tolist():
            q = pv + 6 + tlen
            if tlen < 1 or q >= length:
                continue
            tsel, tm = _take(m, tlens == tlen)
            kind_byte = tm[:, q]
            any_tensor = bool((kind_byte == 0x42).any())
            for prefix, dtype, voff, vend, is_tensor in _VALUE_FORMS:
                end = q + vend
                if end > length or (is_tensor and not any_tensor):
                    continue
                hit = kind_byte == prefix[0]
                for j in range(1, len(prefix)):
                    hit &= tm[:, q + j] == prefix[j]
                if end < length:
                    if end + 2 > length or length - end - 2 >= 0x80:
                        continue
                    hit &= (tm[:, end] == 0x4A) & (tm[:, end + 1] == length - end - 2)
                if not hit.any():
                    continue
                hsel, hm = _take(tm, hit)
                rows_here = sel[tsel[hsel]]
                inv, reps = _group_rows(hm[:, pv + 6 : q])
                remap = np.empty(len(reps), dtype=np.int64)
                for u, rep in enumerate(reps):
                    raw_b = hm[rep, pv + 6 : q].tobytes()
                    if raw_b not in tag_ids:
                        try:
                            tags.append(raw_b.decode("utf-8"))
                        except UnicodeDecodeError:
                            remap[u] = -1
                            continue
                        tag_ids[raw_b] = len(tags) - 1
                    remap[u] = tag_ids[raw_b]
                idx = remap[inv]
                keep = idx >= 0
                vals = np.ascontiguousarray(hm[keep, q + voff : q + vend]).view(dtype).ravel().astype(np.float64)
                parts.append((rows_here[keep], idx[keep], vals, np.full(int(keep.sum()), end < length)))
                if is_tensor:
                    tensor_tags.update(np.unique(idx[keep]).tolist())
    if not parts:
        return empty
    rows = np.concatenate([x[0] for x in parts])
    tag_index = np.concatenate([x[1] for x in parts])
    value = np.concatenate([x[2] for x in parts])
    has_meta = np.concatenate([x[3] for x in parts])
    if len(parts) > 1:
        order = np.argsort(rows, kind="stable")
        rows, tag_index, value, has_meta = rows[order], tag_index[order], value[order], has_meta[order]
    meta_rows: dict[int, int] = {}
    if has_meta.any():
        u, first = np.unique(tag_index[has_meta], return_index=True)
        meta_rows = dict(zip(u.tolist(), rows[has_meta][first].tolist()))
    wall = np.ascontiguousarray(mat[rows, 1:9]).view("<f8").ravel().copy()
    return FastScalars(rows, tags, tag_index, step[rows].view(np.int64), wall, value, meta_rows, tensor_tags)
