"""The first pass's discovery and small-file reads, done by forked children while the server starts up.

A ``vizboard serve`` process spends its first second on two things that share one interpreter
lock: importing Dash and building the app (~0.6 s of CPU), and the first load of the logdir
(10,000 runs: ~1.2 s). :class:`FirstReader` moves the part of the load that needs no Store to
forked child processes, so it runs on other cores: discovery (one ``scandir`` per directory)
and the reading and framing of every small event file (:func:`~vizboard.data.reader.poll_many`,
in the batches and name order the ingest loop itself would use). Each child reads its own share
of the runs (:func:`part_of`, a hash of the run name; one child per core, at most four); the
first also sends the run listing. A batch whose records are all plain scalars goes back as
what the Store takes (:class:`GroupedBatch`: per (run, tag) its steps, wall times and values,
grouped and ordered by :func:`~vizboard.data.apply.plan_batch` on the child's core); any other
goes back framed (:class:`ReadBatch`: bytes, record offsets, the decoded rows) for the parent's
protobuf path. The ingest thread applies them to the Store, and reads everything else itself
as usual.

The parent is the one that must not wait: its one interpreter lock carries the Dash import,
the app build and the applying of every batch, so the children run at a lower priority
(``nice`` 10: they take the cores the parent leaves) and write through pipes widened to 1 MiB,
so the ingest thread takes the lock back a few times per batch instead of ~140 times.

What the child hands back is exactly what the ingest loop's own first round would have found:
only batches of whole, intact records (``poll_many``'s rule), and per run only a prefix of its
files in name order (a run stops at its first file that is empty, large, or in a batch that was
not intact: the parent reads that file and the ones after it with the full damage rules). So a
file's reading state after the hand-back is just its offset. The child streams: first the
listing, then each batch as soon as it is framed, so the ingest thread applies one batch while
the child reads the next. If a child fails in any way (no ``fork``, an exception, killed, a
message that does not unpickle, 60 s of silence), the ingest thread keeps what arrived whole and
reads the rest of that child's share itself (all of it, where the first child sent no listing).

Only for local logdirs, and only where the owner asks (``Ingestor(fork_first_read=True)``,
which ``vizboard serve`` sets): forking a process that holds a remote file system's sessions or
a notebook kernel's state is not worth the risk. The fork happens before the ingest thread
starts; a child runs only this module's code and leaves with ``os._exit``.
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
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

import numpy as np
import numpy.typing as npt

from vizboard.data.apply import Decoded, ScalarGroups, decode_batch, plan_batch, stores_nothing
from vizboard.data.decode import SeriesMeta
from vizboard.data.discovery import discover
from vizboard.data.fs import FileSystem
from vizboard.data.reader import Chunk, FileTail, poll_many

__all__ = ["FirstReader", "GroupedBatch", "Listing", "ReadBatch", "part_of", "read_first"]

_READ_SIZE = 1 << 20
_NICE = 10
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
class GroupedBatch:
    """Small files read whole whose records are all plain scalars, sent as what the parent stores
    (:class:`~vizboard.data.apply.ScalarGroups`, None if the files hold only headers): about a fifth
    of a :class:`ReadBatch`'s bytes, and the grouping is done on the child's core. ``files`` as in
    :class:`ReadBatch` (a file's first record row only orders them)."""

    files: tuple[tuple[str, int, int], ...]
    groups: ScalarGroups | None


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


def part_of(run: str, parts: int) -> int:
    """Which of ``parts`` children reads ``run``: a hash of its name, so two children that discover at
    slightly different moments (a run created in between) still never both read one run."""
    return zlib.crc32(run.encode("utf-8", "surrogatepass")) % parts if parts > 1 else 0


def read_first(fs: FileSystem, *, small_bytes: int, batch_bytes: int, batch_files: int,
               max_bytes: int, part: int = 0, parts: int = 1) -> Iterator[Listing | ReadBatch | GroupedBatch]:
    """Discover ``fs``'s runs and read the small-file prefix of each run (module docstring): yields the
    :class:`Listing` first (part 0 only), then each :class:`ReadBatch` as soon as it is framed, in the
    order to apply them.

    ``small_bytes``: a file larger than this is left to the caller; ``batch_bytes`` /
    ``batch_files``: the most bytes / files framed together; ``max_bytes``: stop reading once the
    batches hold this many bytes (the rest is left to the caller). ``part`` of ``parts``: read only
    the runs :func:`part_of` gives to this part (the others discover too, but read other runs).
    """
    t0 = time.monotonic()
    runs = discover(fs)
    took = time.monotonic() - t0
    if part == 0:
        flat = [e for entries in runs.values() for e in entries]
        yield Listing([e.run for e in flat], [e.path for e in flat], [e.size for e in flat],
                      [e.ident for e in flat], int(getattr(fs, "linked_dirs", 0)), took)
    total = 0
    nxt = {run: 0 for run in runs if part_of(run, parts) == part}  # index of each run's next file to read
    # What the parent's Store will know of this child's runs when it applies the next batch: a batch with
    # no row for the protobuf path goes grouped (GroupedBatch), and then its series' metadata is all
    # there is (every value a scalar). A run in a batch sent whole ("raw") may get more from the
    # parent's protobuf path, so its later batches go whole too.
    metas: dict[tuple[str, str], SeriesMeta] = {}
    raw: set[str] = set()

    def _lookup(run: str, tag: str) -> SeriesMeta | None:
        return metas.get((run, tag))

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
            for _, (whole, pieces) in framed:  # each file was read whole from offset 0: its offset is its size
                sent = tuple((t.path, t.offset, first) for t, _, first in pieces)
                total += len(whole.data)
                decoded = decode_batch(whole)
                runs_in = [t.run for t, _, _ in pieces]
                if not raw.intersection(runs_in):
                    plan = plan_batch(whole, [(t.run, c, first) for t, c, first in pieces], decoded, _lookup)
                    if not plan.slow or stores_nothing(whole, np.concatenate(plan.slow)):  # e.g. small batches' headers
                        groups = plan.grouped(_lookup)
                        for run, tag, meta in groups.targets if groups is not None else ():
                            metas.setdefault((run, tag), meta)
                        yield GroupedBatch(sent, groups)
                        continue
                raw.update(runs_in)
                yield ReadBatch(whole.data, whole.starts, whole.lengths, sent, decoded)
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


def _widen_pipe(fd: int) -> None:
    """Grow the pipe's buffer to the most an unprivileged process may ask (Linux: 1 MiB, not 64 KiB).

    The parent's ingest thread reads the pipe while its main thread imports Dash and builds the
    app: each ``os.read`` gives the interpreter lock back and must wait up to the switch
    interval (5 ms) to take it again, so the child's ~9 MB per batch through a 64 KiB buffer
    would cost ~140 such waits."""
    setsz = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsz is None:
        return
    try:
        with open("/proc/sys/fs/pipe-max-size", encoding="ascii") as f:
            size = int(f.read())
    except (OSError, ValueError):
        size = 1 << 20
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, setsz, size)


@dataclass(slots=True)
class _Child:
    """One forked child: its pid (0 once reaped) and the read end of its pipe (-1 once closed)."""

    pid: int
    fd: int


class FirstReader:
    """Owns the forked children running :func:`read_first` (start them, take what they send, reap them).

    :meth:`start` forks ``workers`` children, each reading its own share of the runs
    (:func:`part_of`) on its own core, so the first load is not held by one child's reading and
    decoding once the parent has built its app (call it before starting threads of your own);
    :meth:`items` yields what they send as it arrives and reaps them at the end; :meth:`close`
    kills and reaps the children still running.
    """

    def __init__(self, fs: FileSystem, *, small_bytes: int, batch_bytes: int, batch_files: int,
                 max_bytes: int = 512 << 20, timeout_s: float = 60.0, workers: int = 1) -> None:
        """``timeout_s``: seconds :meth:`items` waits for the children's next byte before it gives up on
        them (kills them; the caller reads the rest), so a child stuck on a hung file system, or on a lock
        another thread held at the fork, cannot hold the first load forever. ``workers``: how many children
        share the runs (each stops after ``max_bytes / workers`` bytes). See :func:`read_first` for the
        others."""
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._timeout_s = timeout_s
        self._fs = fs
        self._workers = workers
        self._kwargs = {"small_bytes": small_bytes, "batch_bytes": batch_bytes, "batch_files": batch_files,
                        "max_bytes": max(1, max_bytes // workers)}
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self._reading = False

    @property
    def pids(self) -> list[int]:
        """The pids of the children not reaped yet."""
        with self._lock:
            return [c.pid for c in self._children if c.pid]

    def start(self) -> bool:
        """Fork the children; False (nothing started) where ``fork`` is not available or the first fork fails
        (a later fork that fails leaves its runs to the caller)."""
        if not hasattr(os, "fork") or self._children:
            return False
        for part in range(self._workers):
            r, w = os.pipe()
            _widen_pipe(w)
            try:
                with warnings.catch_warnings():
                    # Python 3.12+ warns when a process with threads (numpy's BLAS pool) forks; the child
                    # touches nothing those threads own and leaves with os._exit.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    pid = os.fork()
            except OSError:
                os.close(r)
                os.close(w)
                if part == 0:
                    return False
                break
            if pid == 0:  # the child
                self._child(part, r, w)
            os.close(w)
            self._children.append(_Child(pid, r))
        return True

    def _child(self, part: int, r: int, w: int) -> None:
        code = 1
        try:
            os.close(r)
            for c in self._children:  # the earlier children's pipes are not this child's business
                os.close(c.fd)
            gc.disable()  # a short-lived process: collecting its garbage is wasted work
            with contextlib.suppress(OSError, AttributeError):
                os.nice(_NICE)  # the parent builds the app meanwhile: it goes first, the children take what is left
            for item in read_first(self._fs, part=part, parts=self._workers, **self._kwargs):
                payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
                for view in (memoryview(_LEN.pack(len(payload))), memoryview(payload)):
                    while view:
                        view = view[os.write(w, view):]
            code = 0
        except BaseException:  # noqa: BLE001 - the parent reads what was not sent itself
            code = 1
        finally:
            os._exit(code)

    def _message(self, fd: int) -> Listing | ReadBatch | GroupedBatch | None:
        """The next whole message on ``fd``; None at its end, on silence, or on anything garbled."""
        head = _read_exactly(fd, _LEN.size, self._timeout_s)
        if head is None:
            return None
        body = _read_exactly(fd, _LEN.unpack(head)[0], self._timeout_s)
        if body is None:
            return None
        try:
            item = pickle.loads(body)
        except Exception:  # noqa: BLE001 - a garbled message: the parent reads the rest itself
            return None
        return item if isinstance(item, (Listing, ReadBatch, GroupedBatch)) else None

    def items(self) -> Generator[Listing | ReadBatch | GroupedBatch, None, None]:
        """What the children send, as it arrives (blocking): the first child's :class:`Listing`, then every
        child's batches in the order each child sends them. Ends early, without an error, where the first
        child sent no listing, or where all the children still sending went quiet for ``timeout_s``; a
        child that fails only ends its own share (nothing, or only part of it, arrives). Kills the children
        that still run, and reaps them."""
        with self._lock:
            fds = [c.fd for c in self._children if c.fd >= 0]
            if not fds or self._reading:
                return
            self._reading = True
        try:
            first = self._message(fds[0])
            if not isinstance(first, Listing):
                return
            yield first
            poller = select.poll()  # not select.select: a server with many open files may have fds >= 1024
            for fd in fds:
                poller.register(fd, select.POLLIN)
            live = set(fds)
            while live:
                ready = poller.poll(max(0, int(self._timeout_s * 1000)))
                if not ready:
                    return  # every child still sending went quiet
                for fd, _ in ready:
                    item = self._message(fd) if fd in live else None
                    if item is None or isinstance(item, Listing):
                        live.discard(fd)  # ended, failed or garbled: its share's rest is the caller's
                        poller.unregister(fd)
                        continue
                    yield item
        finally:
            with self._lock:
                self._reading = False
                for c in self._children:
                    if c.fd >= 0:
                        os.close(c.fd)
                        c.fd = -1
            self.close()

    def _reap(self) -> None:
        """Wait for the children to exit (those not reaped yet)."""
        with self._lock:
            pids = [c.pid for c in self._children if c.pid]
            for c in self._children:
                c.pid = 0
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def close(self) -> None:
        """Kill the children that still run and reap them (what they have not sent is dropped); any thread,
        idempotent."""
        with self._lock:
            for c in self._children:
                if c.pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(c.pid, signal.SIGKILL)
                if c.fd >= 0 and not self._reading:
                    os.close(c.fd)
                    c.fd = -1
            reading = self._reading
        if not reading:
            self._reap()
