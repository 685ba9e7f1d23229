"""A small thread-safe LRU of parsed profiler traces, bounded in entries and in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from vizboard.data.profile import ProfileTrace
from vizboard.data.traces import TraceFile, TraceParseError

__all__ = ["TraceCache", "trace_nbytes"]


def trace_nbytes(trace: ProfileTrace) -> int:
    """Estimated memory held by a parsed trace, in bytes (its arrays plus its name tables)."""
    total = 0
    for part in (trace.operators, trace.steps, trace.events):
        for name in part.__slots__:
            v = getattr(part, name)
            if isinstance(v, np.ndarray):
                total += int(v.nbytes)
            elif isinstance(v, tuple):
                total += sum(len(x) + 56 for x in v if isinstance(x, str))
    return total + 1024


class TraceCache:
    """Parsed traces (or their parse errors), keyed by (path, mtime, size).

    At most ``max_entries`` traces and ``max_bytes`` bytes (estimated, see :func:`trace_nbytes`)
    are kept; the least recently used go first. A trace larger than ``max_bytes`` is returned
    but not kept. A file that changes gets a new key and is parsed again.
    """

    def __init__(self, max_entries: int = 4, max_bytes: int = 256 << 20) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0 bytes, got {max_bytes}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, float, int], tuple[ProfileTrace | TraceParseError, int]] = OrderedDict()
        self._used = 0
        self.parses = 0
        """How many times a loader ran (cache misses), for tests and diagnostics."""

    @property
    def used(self) -> int:
        """Estimated bytes held."""
        return self._used

    def get(self, trace: TraceFile, loader: Callable[[TraceFile], ProfileTrace]) -> ProfileTrace:
        """The parsed ``trace``, running ``loader`` on a miss; a cached failure is re-raised."""
        key = trace.key
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
        if entry is None:
            hit: ProfileTrace | TraceParseError
            try:
                hit = loader(trace)
            except TraceParseError as exc:
                hit = exc
            size = trace_nbytes(hit) if isinstance(hit, ProfileTrace) else 256 + len(str(hit))
            with self._lock:
                self.parses += 1
                if size <= self.max_bytes and key not in self._items:
                    self._items[key] = (hit, size)
                    self._used += size
                while self._items and (len(self._items) > self.max_entries or self._used > self.max_bytes):
                    _, (_, old) = self._items.popitem(last=False)
                    self._used -= old
        else:
            hit = entry[0]
        if isinstance(hit, TraceParseError):
            raise TraceParseError(str(hit))
        return hit

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
