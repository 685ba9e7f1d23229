"""A bounded LRU cache of blob bytes (images, audio, graphs) read back from event files.

The store indexes blobs by :class:`BlobRef` (file, offset, length of the framed
record); :meth:`BlobCache.get` re-reads that record, checks both CRCs, decodes the
Event and extracts the item. At most ``budget`` bytes of items are kept; the least
recently used are evicted first. Thread-safe (Dash workers call it concurrently).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from logger.records import scan
from vizboard.data.decode import DecodeError, extract_blob, parse_event
from vizboard.data.fs import FileSystem
from vizboard.data.models import BlobRef, Kind

__all__ = ["BlobCache"]


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
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit, None
        try:
            raw = self._fs.read(ref.file, ref.offset, ref.length)
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
