"""Vectorised decoding of scalar Events: an accelerator of the plain protobuf path, never a replacement.

The reference path decodes every record with protobuf (``decode.parse_event`` ->
``decode.decode_value``). Most records of a training log are one scalar each, with the
byte layout :mod:`logger.scalar_event` defines; :func:`fast_scalars` recognises exactly
those among payloads of equal length (a uint8 matrix, one row per record, from
:func:`length_groups`) and decodes them with numpy. Rows it does not recognise are left
to the protobuf path. A property test checks both paths agree on random Events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from logger.records import HEADER_SIZE
from logger.scalar_event import (
    METADATA_KEY,
    MIN_SCALAR_EVENT,
    STEP_KEY,
    SUMMARY_KEY,
    TAG_KEY,
    VALUE_FORMS,
    VALUE_KEY,
    WALL_TIME_KEY,
)
from vizboard.data.reader import Chunk, windows

__all__ = ["FastScalars", "fast_scalars", "header_rows", "length_groups"]

_GROUP_ROWS = 1 << 14
_MAX_VECTOR_LEN = 512
_TENSOR_KEY = VALUE_FORMS[1].prefix[0]  # Summary.Value.tensor (field 8, length-delimited)


def length_groups(chunk: Chunk, rows: npt.NDArray[np.int64]
                  ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8] | None]]:
    """Yield (row indices, payload matrix) for ``rows`` grouped by payload length.

    Small groups and long payloads yield ``None`` instead of a matrix (decode them
    one by one). Groups are cut at 16,384 rows to bound memory.
    """
    if rows.size == 0:
        return
    lens = chunk.lengths[rows]
    order = np.argsort(lens, kind="stable")
    cuts = np.flatnonzero(np.diff(lens[order])) + 1
    arr = np.frombuffer(chunk.data, dtype=np.uint8)
    for grp in np.split(order, cuts):
        length = int(lens[grp[0]])
        g = rows[grp]
        if length == 0 or length > _MAX_VECTOR_LEN or g.size < 16:
            yield g, None
            continue
        win = windows(arr, length)
        for lo in range(0, g.size, _GROUP_ROWS):
            part = g[lo : lo + _GROUP_ROWS]
            yield part, win[chunk.starts[part] + HEADER_SIZE]


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
    has_meta: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """Per recognised row: True if it carries a metadata field."""


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
    ``[10 step-varint]`` ``2a len 0a len 0a taglen tag`` then one of :data:`logger.scalar_event.VALUE_FORMS`
    (simple_value, or a rank-0 DT_FLOAT/DT_DOUBLE tensor), optionally followed by one
    metadata field ``4a len ...`` that runs to the end. Rows that do not match exactly
    are left out (the caller decodes them with protobuf).
    """
    n, length = mat.shape
    empty = FastScalars(np.zeros(0, np.int64), [], np.zeros(0, np.int64), np.zeros(0, np.int64),
                        np.zeros(0), np.zeros(0))
    if n == 0 or length < MIN_SCALAR_EVENT:
        return empty
    ok = mat[:, 0] == WALL_TIME_KEY
    has_step = mat[:, 9] == STEP_KEY
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
        good = mask & ((mat[:, pv] == SUMMARY_KEY) & (mat[:, pv + 1] == length - pv - 2) & (mat[:, pv + 2] == VALUE_KEY)
                       & (mat[:, pv + 3] == length - pv - 4) & (mat[:, pv + 4] == TAG_KEY) & (mat[:, pv + 5] < 0x80))
        sel, m = _take(mat, good)
        tlens = m[:, pv + 5]
        for tlen in np.unique(tlens).tolist():
            q = pv + 6 + tlen
            if tlen < 1 or q >= length:
                continue
            tsel, tm = _take(m, tlens == tlen)
            kind_byte = tm[:, q]
            any_tensor = bool((kind_byte == _TENSOR_KEY).any())
            for prefix, dtype, voff, vend, is_tensor in VALUE_FORMS:
                end = q + vend
                if end > length or (is_tensor and not any_tensor):
                    continue
                hit = kind_byte == prefix[0]
                for j in range(1, len(prefix)):
                    hit &= tm[:, q + j] == prefix[j]
                if end < length:
                    if end + 2 > length or length - end - 2 >= 0x80:
                        continue
                    hit &= (tm[:, end] == METADATA_KEY) & (tm[:, end + 1] == length - end - 2)
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
        uniq_tags, first_at = np.unique(tag_index[has_meta], return_index=True)
        meta_rows = dict(zip(uniq_tags.tolist(), rows[has_meta][first_at].tolist()))
    wall = np.ascontiguousarray(mat[rows, 1:9]).view("<f8").ravel().copy()
    return FastScalars(rows, tags, tag_index, step[rows].view(np.int64), wall, value, meta_rows, tensor_tags,
                       has_meta)


_FILE_VERSION_KEY = 0x1A  # Event.file_version (field 3, length-delimited)


def header_rows(mat: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Rows of ``mat`` (payloads of one length) that are exactly an Event holding a wall time and an
    ASCII ``file_version`` (the header record every writer starts a file with), which store nothing:
    a 10,000-run logdir has 10,000 of them, not worth a protobuf parse each."""
    n, width = mat.shape
    if width < 11 or width - 11 > 127:
        return np.zeros(n, dtype=bool)
    out: npt.NDArray[np.bool_] = ((mat[:, 0] == WALL_TIME_KEY) & (mat[:, 9] == _FILE_VERSION_KEY)
                                  & (mat[:, 10] == width - 11) & (mat[:, 11:] < 0x80).all(axis=1))
    return out
