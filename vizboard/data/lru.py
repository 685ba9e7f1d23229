"""A thread-safe LRU bounded in bytes (not entries), for caches keyed by user selections."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["ByteLRU", "approx_nbytes"]

V = TypeVar("V")

_ENTRY_OVERHEAD = 200  # bytes: the OrderedDict node, the key tuple and the size record


def approx_nbytes(obj: Any, _depth: int = 0) -> int:
    """A cheap estimate of the memory held by ``obj`` in bytes (arrays, strings, containers, dataclasses).

    Containers are sized from their first 64 items, scaled to their length, so estimating a
    20,000-item list costs the same as a 64-item one.
    """
    if obj is None or isinstance(obj, (bool, int, float)):
        return 32
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes) + 112
    if isinstance(obj, (str, bytes)):
        return sys.getsizeof(obj)
    if _depth > 4:
        return 64
    if isinstance(obj, dict):
        items = list(obj.items())
        head = items[:64]
        each = sum(approx_nbytes(k, _depth + 1) + approx_nbytes(v, _depth + 1) for k, v in head)
        return sys.getsizeof(obj) + (each * len(items) // max(len(head), 1))
    if isinstance(obj, (list, tuple, set, frozenset)):
        seq: list[Any] | tuple[Any, ...] = list(obj) if not isinstance(obj, (list, tuple)) else obj
        first = seq[:64]
        total = sum(approx_nbytes(v, _depth + 1) for v in first)
        return sys.getsizeof(obj) + (total * len(seq) // max(len(first), 1))
    slots = getattr(type(obj), "__slots__", None)
    if slots:
        return 56 + sum(approx_nbytes(getattr(obj, s, None), _depth + 1) for s in slots)
    fields = getattr(obj, "__dict__", None)
    if fields is not None:
        return 56 + approx_nbytes(fields, _depth + 1)
    return sys.getsizeof(obj)


class ByteLRU(Generic[V]):
    """Least-recently-used cache holding at most ``max_bytes`` bytes (estimated by ``sizeof``).

    ``sizeof(key, value)`` defaults to :func:`approx_nbytes` of both; every entry also counts a
    fixed overhead, so even zero-sized values cannot make it grow without bound. A value larger
    than the budget is not stored.
    """

    def __init__(self, max_bytes: int, sizeof: Callable[[Hashable, V], int] | None = None) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = max_bytes
        self._sizeof = sizeof or (lambda k, v: approx_nbytes(k) + approx_nbytes(v))
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Estimated bytes held."""
        return self._used

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """``(True, value)`` on a hit (and mark it recently used), else ``(False, None)``."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return False, None
            self._items.move_to_end(key)
            return True, hit[0]

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entries over the budget."""
        size = int(self._sizeof(key, value)) + _ENTRY_OVERHEAD
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self._used += size
            while self._used > self.max_bytes and self._items:
                _, (_, gone) = self._items.popitem(last=False)
                self._used -= gone

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._items.clear()
            self._used = 0
