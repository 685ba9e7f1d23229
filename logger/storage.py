"""Where event files go: local files (append) or fsspec URLs (s3://, gs://, memory://, ...) as re-uploaded objects.

The writer thread talks to a :class:`Sink` (``write``, ``flush``, ``close``); it never
knows which storage it writes to. :func:`open_sink` picks :class:`LocalSink` (an
``O_APPEND`` file descriptor) for paths and :class:`RemoteSink` for URLs.

Object stores cannot append, so :class:`RemoteSink` keeps the current object's bytes in
memory and uploads the whole object on every flush of the writer thread (at most every
``flush_secs``, default 1 s, and on ``flush()``/``close()``). Once an object holds
``roll_bytes`` (default 8 MiB) it is final and later records go to a new object with a
later name (each starting with the ``file_version`` record), so one upload never exceeds
about ``roll_bytes`` plus one flush of data. **After a crash** every object uploaded by
the last successful flush survives intact (whole records only); what was logged since
that flush is lost, as with a local file's unflushed buffer. Upload errors are reported
on the training thread like disk errors (the bytes stay buffered and are retried).
"""

from __future__ import annotations

import os
import posixpath
import struct
from typing import Any, Protocol

__all__ = ["Sink", "LocalSink", "RemoteSink", "is_remote", "join", "makedirs", "open_sink", "remote_fs", "write_file"]

_ROLL_BYTES = 8 << 20
_LEN = struct.Struct("<Q")


def is_remote(path: str) -> bool:
    """True for fsspec URLs (``scheme://...``) other than ``file://``."""
    return "://" in path and not path.startswith("file://")


def local_path(path: str) -> str:
    """``path`` without a ``file://`` prefix."""
    return path[len("file://"):] if path.startswith("file://") else path


def join(base: str, *parts: str) -> str:
    """Join path components: ``/`` for URLs, the OS separator for local paths."""
    return posixpath.join(base, *parts) if is_remote(base) else os.path.join(local_path(base), *parts)


def remote_fs(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """``(fsspec filesystem, path)`` for ``url``; ImportError naming the package to install if one is missing."""
    protocol = url.split("://", 1)[0]
    try:
        import fsspec
    except ImportError:
        raise ImportError(f"log_dir {url!r} is a URL: writing to {protocol}:// needs fsspec "
                          f"(pip install fsspec, plus the package for {protocol}://, e.g. s3fs for s3://)") from None
    try:
        fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        return fs, str(path)
    except ImportError as exc:
        from fsspec.registry import known_implementations

        hint = known_implementations.get(protocol, {}).get("err") or str(exc)
        raise ImportError(f"log_dir {url!r}: the filesystem package for {protocol}:// is not installed. {hint}") from exc
    except ValueError as exc:
        raise ValueError(f"log_dir {url!r}: fsspec knows no filesystem for {protocol}:// ({exc})") from exc


def makedirs(path: str, storage_options: dict[str, Any] | None = None) -> None:
    """Create the directory ``path`` (local or URL) if missing."""
    if is_remote(path):
        fs, p = remote_fs(path, storage_options)
        fs.makedirs(p, exist_ok=True)
    else:
        os.makedirs(local_path(path), exist_ok=True)


def write_file(path: str, data: bytes, storage_options: dict[str, Any] | None = None) -> None:
    """Write the whole file ``path`` (local or URL), replacing it."""
    if is_remote(path):
        fs, p = remote_fs(path, storage_options)
        fs.pipe_file(p, data)
    else:
        with open(local_path(path), "wb") as f:
            f.write(data)


class Sink(Protocol):
    """Byte destination of one event file (used by the writer thread only)."""

    def write(self, data: memoryview) -> int:
        """Write (a prefix of) ``data``; return the number of bytes taken."""
        ...

    def flush(self, sync: bool) -> None:
        """Make what was written visible to readers; ``sync``: durable against power loss."""
        ...

    def close(self) -> None:
        """Flush and release the destination."""
        ...


class LocalSink:
    """An ``O_APPEND`` file descriptor: writes reach the OS at once; ``flush(sync=True)`` fsyncs."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)

    def write(self, data: memoryview) -> int:
        return os.write(self.fd, data)

    def flush(self, sync: bool) -> None:
        if sync:
            os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


class RemoteSink:
    """The event file as objects in an fsspec store, re-uploaded whole on each flush (see the module docstring).

    ``name`` gives the first object's name in ``url`` (a directory); ``next_name()``
    gives each later one (names must sort later: the writer's file-name scheme).
    """

    def __init__(self, url: str, name: str, next_name: Any, storage_options: dict[str, Any] | None = None,
                 roll_bytes: int = _ROLL_BYTES) -> None:
        self.fs, self.dir = remote_fs(url, storage_options)
        self.protocol = url.split("://", 1)[0]
        self.next_name = next_name
        self.roll_bytes = roll_bytes
        self.buf = bytearray()
        self.header = b""  # the first record (file_version), repeated at the start of each rolled object
        self.dirty = False
        self.key = posixpath.join(self.dir, name)
        self.fs.pipe_file(self.key, b"")  # fail now (credentials, bucket) rather than on the writer thread

    @property
    def path(self) -> str:
        """URL of the object being written."""
        return f"{self.protocol}://{self.key.lstrip('/')}"

    def write(self, data: memoryview) -> int:
        if not self.header and not self.buf and len(data) >= 12:
            n = _LEN.unpack_from(data, 0)[0]
            self.header = bytes(data[: 12 + n + 4])
        self.buf += data
        self.dirty = True
        return len(data)

    def flush(self, sync: bool) -> None:
        if not self.dirty:
            return
        self.fs.pipe_file(self.key, bytes(self.buf))
        self.dirty = False
        if len(self.buf) >= self.roll_bytes:
            self.key = posixpath.join(self.dir, self.next_name())
            self.buf = bytearray(self.header)
            self.dirty = bool(self.header)

    def close(self) -> None:
        self.flush(True)


def open_sink(logdir: str, name: str, next_name: Any, storage_options: dict[str, Any] | None = None) -> tuple[Sink, str]:
    """Open the event file ``name`` in ``logdir`` (created if missing); return ``(sink, path or URL)``."""
    makedirs(logdir, storage_options)
    if is_remote(logdir):
        sink = RemoteSink(logdir, name, next_name, storage_options)
        return sink, sink.path
    path = os.path.join(local_path(logdir), name)
    return LocalSink(path), path
