"""One event file and its writer thread: bounded queue, encoding off the training thread, flush policy, exit hook.

The training thread only appends small tuples to a deque (:meth:`EventFileWriter.put`).
A daemon writer thread wakes at least every ``flush_secs`` (or early when the queue is
half full or on :meth:`flush`), turns the queued items into Event payloads (scalars by
:mod:`logger.scalar_event`), frames them (:func:`logger.records.frame_into`, header
bytes cached per length) and appends them
to the file with ``os.write`` on an ``O_APPEND`` descriptor, many records per call.
There is no user-space buffer: once ``os.write`` returned, the bytes are in the kernel
and survive a SIGKILL of the process (``fsync`` only on ``flush(sync=True)``). For an
fsspec URL as logdir the bytes go to a :class:`logger.storage.RemoteSink` instead
(objects re-uploaded on each flush; see :mod:`logger.storage` for what survives a crash).

Queue items are tuples ``(encode, a, b, step, wall_time)``: ``encode(a, b, step,
wall_time)`` runs on the writer thread and returns one payload (bytes) or a list of
them. :data:`SCALAR` is a sentinel for the hand-encoded scalar fast path
(``a`` = tag str, ``b`` = value; queued by :meth:`EventFileWriter.put_scalar`).
A failure on the writer thread is stored and raised
by the next call on the training thread; the writer keeps unwritten bytes and retries.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from logger.records import frame_all, frame_into
from logger.scalar_event import FILE_VERSION_KEY, SOURCE_METADATA_KEY, encode_event_header, encode_scalar_run, varint
from logger.storage import Sink, open_sink

__all__ = [
    "SCALAR",
    "EventFileWriter",
    "WriterThreadError",
    "event_file_name",
]

_FILE_COUNTER = itertools.count()  # process-wide, like tensorboard's EventFileWriter
_VERSION = b"brain.Event:2"
_WRITER_NAME = b"vizboard.logger"
_DEFAULT_MAX_BYTES = 256 << 20


class _Scalar:
    """Sentinel marking a queued scalar (encoded by the fast path)."""


SCALAR: Any = _Scalar()


class WriterThreadError(RuntimeError):
    """The writer thread failed (e.g. the disk is full); raised on the training thread."""


def event_file_name(suffix: str = "") -> str:
    """``events.out.tfevents.<10-digit time>.<host>.<pid>.<counter><suffix>`` as torch names them."""
    import socket

    return f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_FILE_COUNTER)}{suffix}"


class _Marker:
    """A flush/close request: the writer sets ``done`` after writing everything before it."""

    __slots__ = ("done", "sync", "close")

    def __init__(self, sync: bool = False, close: bool = False) -> None:
        self.done = threading.Event()
        self.sync = sync
        self.close = close


class _Core:
    """State shared by the owner and the writer thread (never references the owner)."""

    def __init__(self, path: str, max_queue: int, flush_secs: float, sink: Sink) -> None:
        self.path = path
        self.queue: deque[tuple[Any, ...]] = deque()
        self.max_items = max(1, int(max_queue))
        self.wake_at = max(1, self.max_items // 2)
        self.flush_secs = float(flush_secs)
        self.wake = threading.Event()
        self.space = threading.Condition(threading.Lock())
        self.error: BaseException | None = None
        self.closed = False
        self.fatal = False  # the writer thread died; nothing more can be written
        self.bytes_in = 0  # approximate bytes held by queued arrays (producer side)
        self.bytes_out = 0
        self.max_bytes = _DEFAULT_MAX_BYTES
        self.pending = bytearray()  # framed bytes not yet written (kept across write errors)
        self.header_cache: dict[int, bytes] = {}
        self.tag_prefixes: dict[str, bytes] = {}  # scalar tag -> encoded Event field 5 minus the value
        self.sink = sink  # local file or remote object (logger.storage)
        self.thread = threading.Thread(target=self.run, name=f"logger-writer:{os.path.basename(path)}", daemon=True)

    # ---- writer thread ------------------------------------------------------------
    def run(self) -> None:
        try:
            while True:
                self.wake.wait(self.flush_secs)
                self.wake.clear()
                if self.drain():
                    return
        except BaseException as exc:  # noqa: BLE001 - never die silently: every later call raises it
            self.error = exc
            self.fatal = True
            with self.space:
                self.space.notify_all()

    def drain(self) -> bool:
        """Encode and write everything queued; return True when a close marker was seen."""
        q = self.queue
        pending = self.pending
        cache = self.header_cache
        tags = self.tag_prefixes
        markers: list[_Marker] = []
        freed = 0
        while q:
            batch = []
            try:
                while q:
                    batch.append(q.popleft())
                    if len(batch) >= 4096:
                        break
            finally:
                if batch:
                    with self.space:
                        self.space.notify_all()
            i, nb = 0, len(batch)
            while i < nb:
                item = batch[i]
                enc = item[0]
                if enc is SCALAR:  # Event bytes: logger.scalar_event; framing: logger.records
                    scalars, i, err = encode_scalar_run(batch, i, SCALAR, tags, _as_float)
                    frame_all(pending, scalars, cache)
                    if err is not None:
                        self.error = err
                    continue
                i += 1
                try:
                    if type(enc) is _Marker:
                        markers.append(enc)
                        continue
                    payloads: Any = enc(item[1], item[2], item[3], item[4])
                    freed += _nbytes(item[1]) + _nbytes(item[2])
                except BaseException as exc:  # noqa: BLE001 - reported to the training thread
                    self.error = exc
                    continue
                for payload in (payloads,) if type(payloads) is bytes else payloads:
                    frame_into(pending, payload, cache)
            if len(pending) > (1 << 20):
                self.write_pending(False)
        self.bytes_out += freed
        sync = any(m.sync for m in markers)
        self.write_pending(sync)
        for m in markers:
            m.done.set()
        if any(m.close for m in markers):
            try:
                self.sink.close()
            except Exception as exc:  # noqa: BLE001 - remote stores raise their own types
                self.error = exc
            return True
        return False

    def write_pending(self, sync: bool) -> None:
        pending = self.pending
        try:
            view = memoryview(pending)
            written = 0
            try:
                while written < len(view):
                    written += self.sink.write(view[written:])
            finally:
                view.release()
                del pending[:written]
            self.sink.flush(sync)
        except Exception as exc:  # noqa: BLE001 - OSError locally; remote stores raise their own types
            self.error = exc


def _as_float(value: Any) -> float:
    """Writer-thread conversion of deferred scalars (e.g. a cloned CUDA 0-d tensor)."""
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


def _nbytes(x: Any) -> int:
    """Bytes held by an array/tensor, or by the arrays in a tuple (for the queue's memory bound)."""
    if type(x) is tuple:
        return sum(_nbytes(e) for e in x)
    n = getattr(x, "nbytes", None)
    return n if type(n) is int else 0


class EventFileWriter:
    """Appends Event records to a new event file in ``logdir`` from a background thread.

    ``max_queue``: items that may wait for the writer thread before ``put`` blocks
    (the writer is woken at half of it); ``flush_secs``: the writer writes what is
    queued at least this often (seconds). Closed on :meth:`close`, on garbage
    collection, and at interpreter exit (``weakref.finalize``).
    """

    def __init__(self, logdir: str, max_queue: int = 1024, flush_secs: float = 1.0, filename_suffix: str = "",
                 storage_options: dict[str, Any] | None = None) -> None:
        if not isinstance(flush_secs, (int, float)) or not flush_secs > 0:
            raise ValueError(f"flush_secs must be a positive number of seconds, got {flush_secs!r}")
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be a positive int, got {max_queue!r}")
        self._logdir = logdir
        sink, path = open_sink(logdir, event_file_name(filename_suffix), lambda: event_file_name(filename_suffix),
                               storage_options)
        core = self._core = _Core(path, max_queue, flush_secs, sink)
        first = encode_event_header(time.time(), 0) + bytes([FILE_VERSION_KEY]) + varint(len(_VERSION)) + _VERSION
        src = b"\x0a" + varint(len(_WRITER_NAME)) + _WRITER_NAME  # SourceMetadata.writer (field 1)
        core.queue.append((_raw, first + bytes([SOURCE_METADATA_KEY]) + varint(len(src)) + src, None, 0, 0.0))
        core.thread.start()
        self._finalizer = weakref.finalize(self, _shutdown, core)

    @property
    def path(self) -> str:
        """Path of the event file being written."""
        return self._core.path

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (nothing more can be queued)."""
        return self._core.closed

    def get_logdir(self) -> str:
        """Directory holding the event file."""
        return self._logdir

    def scalar_tags(self) -> list[str]:
        """Tags of the plain scalars written so far by this file's writer thread (a snapshot)."""
        return list(self._core.tag_prefixes)

    def check(self) -> None:
        """Raise the writer thread's stored error, if any (then forget it)."""
        core = self._core
        err = core.error
        if err is not None:
            if not core.fatal:
                core.error = None
            raise WriterThreadError(f"logger's writer thread failed on {core.path}: {err!r}") from err
        if core.closed:
            raise RuntimeError(f"this writer is closed ({core.path}); create a new SummaryWriter")

    def put(self, item: tuple[Any, ...], nbytes: int = 0) -> None:
        """Queue one item; blocks while the queue is full (never drops).

        ``nbytes``: memory held by the item's arrays (must equal what the writer frees:
        ``_nbytes(item[1]) + _nbytes(item[2])``), bounding queued memory to 256 MiB.
        """
        core = self._core
        if core.error is not None or core.closed:
            self.check()
        q = core.queue
        q.append(item)
        if nbytes:
            core.bytes_in += nbytes
        n = len(q)
        if n >= core.wake_at:
            self._backpressure(n)

    def put_scalar(self, tag: str, value: Any, step: int, wall_time: float) -> None:
        """Queue one plain scalar (``simple_value``), encoded on the writer thread.

        The training thread's fast path: ``tag`` a str, ``value`` a float (or anything with
        ``.item()``, read on the writer thread), ``step`` an int, ``wall_time`` in seconds;
        the caller has validated them. Blocks only while the queue is full.
        """
        core = self._core
        if core.error is not None or core.closed:
            self.check()
        q = core.queue
        q.append((SCALAR, tag, value, step, wall_time))
        if len(q) >= core.wake_at:
            self._backpressure(len(q))

    def put_raw(self, payload: bytes) -> None:
        """Queue an already serialized Event payload."""
        self.put((_raw, payload, None, 0, 0.0))

    def _backpressure(self, n: int) -> None:
        core = self._core
        core.wake.set()
        if n < core.max_items and core.bytes_in - core.bytes_out < core.max_bytes:
            return
        with core.space:
            while ((len(core.queue) >= core.max_items or core.bytes_in - core.bytes_out >= core.max_bytes)
                   and core.thread.is_alive()):
                core.wake.set()
                core.space.wait(0.05)

    def flush(self, sync: bool = False) -> None:
        """Write everything queued so far to the OS before returning; ``sync=True`` also fsyncs."""
        core = self._core
        if core.closed:
            return
        marker = _Marker(sync=sync)
        core.queue.append((marker, None, None, 0, 0.0))
        core.wake.set()
        _wait(core, marker)
        self.check()

    def close(self) -> None:
        """Write everything queued, close the file and stop the thread (idempotent)."""
        self._finalizer()
        err = self._core.error
        if err is not None:
            self._core.error = None
            raise WriterThreadError(f"logger's writer thread failed on {self._core.path}: {err!r}") from err


def _raw(payload: bytes, _b: Any, _step: int, _wall: float) -> bytes:
    return payload


def _wait(core: _Core, marker: _Marker) -> None:
    while not marker.done.wait(0.1):
        if not core.thread.is_alive():
            if core.thread is threading.current_thread():
                core.drain()
            return


def _shutdown(core: _Core) -> None:
    """Flush and close ``core``; used by close(), garbage collection and interpreter exit."""
    if core.closed:
        return
    core.closed = True
    marker = _Marker(close=True)
    core.queue.append((marker, None, None, 0, 0.0))
    core.wake.set()
    if threading.current_thread() is core.thread:
        return  # the loop sees the marker when it gets back to it
    _wait(core, marker)
    core.thread.join(timeout=10)


Encoder = Callable[[Any, Any, int, float], "bytes | list[bytes]"]
