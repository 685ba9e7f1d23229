"""The first pass's discovery and small-file reads, done by a forked child while the server starts up.

A ``vizboard serve`` process spends its first second on two things that share one interpreter
lock: importing Dash and building the app (~0.6 s of CPU), and the first load of the logdir
(10,000 runs: ~1.2 s). :class:`FirstReader` moves the part of the load that needs no Store to a
forked child process, so it runs on another core: discovery (one ``scandir`` per directory)
and the reading and framing of every small event file (:func:`~vizboard.data.reader.poll_many`,
in the batches and name order the ingest loop itself would use). The child sends back the run
listing and the framed batches (bytes plus record offsets: a few numpy arrays per 1,024 files);
the ingest thread applies them to the Store, and reads everything else itself as usual.

What the child hands back is exactly what the ingest loop's own first round would have found:
only batches of whole, intact records (``poll_many``'s rule), and per run only a prefix of its
files in name order (a run stops at its first file that is empty, large, or in a batch that was
not intact: the parent reads that file and the ones after it with the full damage rules). So a
file's reading state after the hand-back is just its offset. The child streams: first the
listing, then each batch as soon as it is framed, so the ingest thread applies one batch while
the child reads the next. If the child fails in any way (no ``fork``, an exception, killed, a
message that does not unpickle, 60 s of silence), the ingest thread keeps what arrived whole and
reads the rest itself.

Only for local logdirs, and only where the owner asks (``Ingestor(fork_first_read=True)``,
which ``vizboard serve`` sets): forking a process that holds a remote file system's sessions or
a notebook kernel's state is not worth the risk. The fork happens before the ingest thread
starts; the child runs only this module's code and leaves with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import threading
import time
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vizboard.data.apply import Decoded, decode_batch
from vizboard.data.discovery import discover
from vizboard.data.fs import FileSystem
from vizboard.data.reader import Chunk, FileTail, poll_many

__all__ = ["FirstReader", "Listing", "ReadBatch", "read_first"]

_READ_SIZE = 1 << 20
_LEN = struct.Struct("<Q")


def _read_exactly(fd: int, n: int, timeout_s: float) -> bytes | None:
    """``n`` bytes from ``fd``; None at the end of the stream, on a read error, or if no byte arrives for
    ``timeout_s`` seconds."""
    parts: list[bytes] = []
    poller = select.poll()  # not select.select: a server with many open files may have fds >= 1024
    poller.register(fd, select.POLLIN)
    while n > 0:
        try:
            ready = poller.poll(max(0, int(timeout_s * 1000)))
            got = os.read(fd, min(n, _READ_SIZE)) if ready else b""
        except OSError:
            return None
        if not got:
            return None
        parts.append(got)
        n -= len(got)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """Small files read whole and framed together: ``data`` holds them back to back; record ``i`` starts at
    ``data[starts[i]]`` with ``lengths[i]`` payload bytes; ``files`` = (path, its size read (bytes), its
    first record row), in ``data`` order (each file starts where the previous one ends), one file per run."""

    data: bytes
    starts: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    files: tuple[tuple[str, int, int], ...]
    decoded: Decoded
    """:func:`~vizboard.data.apply.decode_batch` of the records (the Store-free part of applying them)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """The child's discovery, one entry per event file in :func:`~vizboard.data.discovery.discover`'s order
    (runs by name, each run's files by path): parallel lists of run names, paths, sizes (bytes) and
    idents (flat lists pickle ~15x faster than 10,000 :class:`FileEntry` objects); the file system's
    ``linked_dirs`` count; ``discovery_s``: seconds the discovery took."""

    runs: list[str]
    paths: list[str]
    sizes: list[int]
    idents: list[int]
    linked_dirs: int
    discovery_s: float


def read_first(fs: FileSystem, *, small_bytes: int, batch_bytes: int, batch_files: int,
               max_bytes: int) -> Iterator[Listing | ReadBatch]:
    """Discover ``fs``'s runs and read the small-file prefix of each run (module docstring): yields the
    :class:`Listing` first, then each :class:`ReadBatch` as soon as it is framed, in the order to apply them.

    ``small_bytes``: a file larger than this is left to the caller; ``batch_bytes`` /
    ``batch_files``: the most bytes / files framed together; ``max_bytes``: stop reading once the
    batches hold this many bytes (the rest is left to the caller).
    """
    t0 = time.monotonic()
    runs = discover(fs)
    took = time.monotonic() - t0
    flat = [e for entries in runs.values() for e in entries]
    yield Listing([e.run for e in flat], [e.path for e in flat], [e.size for e in flat], [e.ident for e in flat],
                  int(getattr(fs, "linked_dirs", 0)), took)
    total = 0
    nxt = {run: 0 for run in runs}  # index of each run's next file to read
    while nxt and total < max_bytes:
        round_: list[FileTail] = []
        for run, k in list(nxt.items()):
            files = runs[run]
            while k < len(files) and files[k].size == 0:
                k += 1  # an empty file has nothing to read yet: its run goes on with the next one
            if k >= len(files) or files[k].size > small_bytes:
                del nxt[run]  # done, or a file the caller reads in chunks (and the run's later files)
                continue
            nxt[run] = k + 1
            e = files[k]
            tail = FileTail(e.path, run, e.ident)
            tail.size = e.size
            round_.append(tail)
        i = 0
        while i < len(round_) and total < max_bytes:
            j, size = i, 0
            while j < len(round_) and j - i < batch_files and (j == i or size + round_[j].size <= batch_bytes):
                size += round_[j].size
                j += 1
            framed: list[tuple[list[FileTail], tuple[Chunk, list[tuple[FileTail, Chunk, int]]]]] = []
            left: list[FileTail] = []
            _frame_split(fs, round_[i:j], framed, left)
            i = j
            for t in left:  # alone, damaged, torn or unreadable: the caller reads it with the full damage rules
                nxt.pop(t.run, None)
            for _, (whole, parts) in framed:  # each file was read whole from offset 0: its offset is its size
                yield ReadBatch(whole.data, whole.starts, whole.lengths,
                                tuple((t.path, t.offset, first) for t, _, first in parts), decode_batch(whole))
                total += len(whole.data)
        for t in round_[i:]:
            nxt.pop(t.run, None)  # not read: the byte budget ran out


def _frame_split(fs: FileSystem, batch: list[FileTail],
                 framed: list[tuple[list[FileTail], tuple[Chunk, list[tuple[FileTail, Chunk, int]]]]],
                 left: list[FileTail]) -> None:
    """Frame ``batch`` with :func:`poll_many`; a batch that is not all whole intact records is split in
    halves (as the ingest loop splits it) down to 4 files, whose files go to ``left``."""
    got = None
    if len(batch) > 1:
        try:
            got = poll_many(fs, batch)
        except OSError:
            got = None
    if got is not None:
        framed.append((batch, got))
    elif len(batch) > 4:
        half = len(batch) // 2
        _frame_split(fs, batch[:half], framed, left)
        _frame_split(fs, batch[half:], framed, left)
    else:
        left.extend(batch)


class FirstReader:
    """Owns one forked child running :func:`read_first` (start it, take what it sends, reap it).

    :meth:`start` forks (call it before starting threads of your own); :meth:`items` yields what
    the child sends as it arrives and reaps it at the end; :meth:`close` kills and reaps the
    child if it is still running.
    """

    def __init__(self, fs: FileSystem, *, small_bytes: int, batch_bytes: int, batch_files: int,
                 max_bytes: int = 512 << 20, timeout_s: float = 60.0) -> None:
        """``timeout_s``: seconds :meth:`items` waits for the child's next byte before it gives up on the
        child (kills it; the caller reads the rest), so a child stuck on a hung file system, or on a lock
        another thread held at the fork, cannot hold the first load forever. See :func:`read_first` for
        the others."""
        self._timeout_s = timeout_s
        self._fs = fs
        self._kwargs = {"small_bytes": small_bytes, "batch_bytes": batch_bytes, "batch_files": batch_files,
                        "max_bytes": max_bytes}
        self._pid = 0
        self._fd = -1
        self._lock = threading.Lock()
        self._reading = False

    def start(self) -> bool:
        """Fork the child; False (nothing started) where ``fork`` is not available or fails."""
        if not hasattr(os, "fork") or self._pid:
            return False
        r, w = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns when a process with threads (numpy's BLAS pool) forks; the child
                # touches nothing those threads own and leaves with os._exit.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return False
        if pid == 0:  # the child
            self._child(r, w)
        os.close(w)
        self._pid, self._fd = pid, r
        return True

    def _child(self, r: int, w: int) -> None:
        code = 1
        try:
            os.close(r)
            gc.disable()  # a short-lived process: collecting its garbage is wasted work
            for item in read_first(self._fs, **self._kwargs):
                payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(_LEN.pack(len(payload)) + payload)
                while view:
                    view = view[os.write(w, view):]
            code = 0
        except BaseException:  # noqa: BLE001 - the parent reads what was not sent itself
            code = 1
        finally:
            os._exit(code)

    def items(self) -> Generator[Listing | ReadBatch, None, None]:
        """What the child sends, as it arrives (blocking): its :class:`Listing`, then its batches. Ends early,
        without an error, where the child failed or went quiet for ``timeout_s`` (nothing, or only part of it,
        arrives); kills the child if it still runs, and reaps it."""
        with self._lock:
            if self._fd < 0:
                return
            fd, self._reading = self._fd, True
        try:
            while True:
                head = _read_exactly(fd, _LEN.size, self._timeout_s)
                if head is None:
                    break
                body = _read_exactly(fd, _LEN.unpack(head)[0], self._timeout_s)
                if body is None:
                    break
                try:
                    item = pickle.loads(body)
                except Exception:  # noqa: BLE001 - a garbled message: the parent reads the rest itself
                    break
                if not isinstance(item, (Listing, ReadBatch)):
                    break
                yield item
        finally:
            with self._lock:
                self._reading = False
                os.close(fd)
                self._fd = -1
            self.close()

    def _reap(self) -> None:
        """Wait for the child to exit (if it has not been reaped yet)."""
        with self._lock:
            pid, self._pid = self._pid, 0
        if pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def close(self) -> None:
        """Kill the child if it still runs and reap it (what it has not sent is dropped); any thread, idempotent."""
        with self._lock:
            pid = self._pid
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self._fd >= 0 and not self._reading:
                os.close(self._fd)
                self._fd = -1
        if not self._reading:
            self._reap()
