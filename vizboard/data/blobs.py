"""A bounded LRU cache of blob bytes (images, audio, graphs) read back from event files.

The store indexes blobs by :class:`BlobRef` (file, offset, length of the framed
record); :meth:`BlobCache.get` re-reads that record, checks both CRCs, decodes the
Event and extracts the item. The record's file must resolve (symlinks followed) inside
the logdir (:func:`vizboard.data.safe_paths.resolve_within`), else nothing is read.
At most ``budget`` bytes of items are kept; the least
recently used are evicted first. Thread-safe (Dash workers call it concurrently).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from logger._pb import event_pb2
from logger.records import scan
from vizboard.data.decode import RUN_GRAPH_TAG, DecodeError, make_ndarray, parse_event
from vizboard.data.fs import FileSystem
from vizboard.data.models import BlobRef, Kind
from vizboard.data.safe_paths import OutsideLogdirError, resolve_within

__all__ = ["BlobCache", "extract_blob"]


class BlobCache:
    """LRU of blob bytes keyed by (file, offset, tag, index); ``budget`` in bytes."""

    def __init__(self, fs: FileSystem, budget: int = 64 << 20) -> None:
        if budget < 0:
            raise ValueError(f"blob cache budget must be >= 0 bytes, got {budget}")
        self._fs = fs
        self._budget = budget
        self._used = 0
        self._items: OrderedDict[tuple[str, int, str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes currently cached."""
        return self._used

    def get(self, ref: BlobRef, kind: Kind) -> tuple[bytes, str | None]:
        """Return (bytes, None), or (b"", reason) if the record cannot be read back."""
        key = (ref.file, ref.offset, ref.tag, ref.index)
        try:  # checked on hits too: a file may have been swapped for a link since
            path = resolve_within(self._fs.root, ref.file)
        except OutsideLogdirError as exc:
            return b"", f"refused: {exc}"
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit, None
        try:
            raw = self._fs.read(path, ref.offset, ref.length)
        except OSError as exc:
            return b"", f"cannot read blob record: {exc}"
        res = scan(raw, ref.offset, final=True)
        if len(res.records) != 1 or res.records[0].offset != ref.offset:
            return b"", "blob record changed or is damaged on disk"
        try:
            data = bytes(extract_blob(parse_event(res.records[0].payload), ref.tag, ref.index, kind))
        except (DecodeError, IndexError) as exc:
            return b"", f"cannot decode blob: {exc}"
        if len(data) <= self._budget:
            with self._lock:
                if key not in self._items:
                    self._items[key] = data
                    self._used += len(data)
                while self._used > self._budget and self._items:
                    _, old = self._items.popitem(last=False)
                    self._used -= len(old)
        return data, None


def extract_blob(event: event_pb2.Event, tag: str, index: int, kind: Kind) -> bytes:
    """The encoded bytes of item ``index`` of ``tag`` (a series of ``kind``) in ``event``."""
    which = event.WhichOneof("what")
    if which == "graph_def" and tag == RUN_GRAPH_TAG:
        return bytes(event.graph_def)
    if which == "meta_graph_def" and tag == RUN_GRAPH_TAG:
        return _raw_field(event.meta_graph_def, 2)  # MetaGraphDef.graph_def
    if which == "tagged_run_metadata" and event.tagged_run_metadata.tag == tag:
        return bytes(event.tagged_run_metadata.run_metadata)
    for v in event.summary.value:
        if (v.tag or v.node_name) != tag:
            continue
        form = v.WhichOneof("value")
        if form == "image":
            return bytes(v.image.encoded_image_string)
        if form == "audio":
            return bytes(v.audio.encoded_audio_string)
        if form == "tensor":
            arr = make_ndarray(v.tensor)
            if arr.dtype != object:
                raise DecodeError("blob tensor is not DT_STRING")
            if kind is Kind.IMAGES:
                return bytes(arr.reshape(-1)[2 + index])
            if arr.ndim == 2:
                return bytes(arr[index, 0])
            return bytes(arr.reshape(-1)[index])
    raise DecodeError(f"tag {tag!r} not found in the record")


def _raw_field(buf: bytes, number: int) -> bytes:
    """The last length-delimited field ``number`` of a serialized message (b"" if absent)."""
    pos, n, found = 0, len(buf), b""
    while pos < n:
        key, pos = _varint(buf, pos)
        wt, fn = key & 7, key >> 3
        if wt == 0:
            _, pos = _varint(buf, pos)
        elif wt == 1:
            pos += 8
        elif wt == 5:
            pos += 4
        elif wt == 2:
            ln, pos = _varint(buf, pos)
            if fn == number:
                found = buf[pos : pos + ln]
            pos += ln
        else:
            raise DecodeError(f"unsupported wire type {wt}")
    return found


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
