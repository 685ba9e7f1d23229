"""File-system access for the data layer: local paths (os) or remote URLs (fsspec).

The ingest code only needs five operations: list event files with their sizes,
stat one file, read a byte range, glob side files, and tell whether a path is
inside the logdir. :class:`LocalFS` implements them with ``os`` (following
symlinked directories without looping); :class:`RemoteFS` with an fsspec
filesystem (``s3://``, ``gs://``, ``memory://``, ...), using ranged reads.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vizboard.data.safe_paths import is_within

__all__ = [
    "FileEntry", "FileSystem", "LocalFS", "RemoteFS", "ReadAllError",
    "open_fs", "is_remote", "is_event_file", "read_all",
]


def is_event_file(basename: str) -> bool:
    """True if ``basename`` names an event file (contains ``tfevents``, event-format §5.1)."""
    return "tfevents" in basename


def is_remote(logdir: str) -> bool:
    """True for fsspec URLs (``scheme://...``) other than ``file://``."""
    return "://" in logdir and not logdir.startswith("file://")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """An event file found by :meth:`FileSystem.list_event_files`: ``run`` name, path, size (bytes).

    ``ident`` identifies the file's storage (local: device and inode) so a file replaced
    under the same name is noticed; 0 where unknown (remote objects).
    """

    run: str
    path: str
    size: int
    ident: int = 0


class FileSystem(Protocol):
    """What the reader and discovery need from a file system."""

    root: str
    remote: bool

    def list_event_files(self) -> list[FileEntry]:
        """Every event file under the root, with its run name and current size (bytes)."""
        ...

    def size(self, path: str) -> int | None:
        """Current size of ``path`` in bytes, or None if it no longer exists."""
        ...

    def read(self, path: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes of ``path`` starting at byte ``start`` (fewer at end of file)."""
        ...

    def read_many(self, reads: Sequence[tuple[str, int, int]]) -> list[bytes]:
        """:meth:`read` of each (path, start, length) in ``reads``, in order (raises OSError as read does)."""
        ...

    def glob(self, run: str, pattern: str) -> list[str]:
        """Files under run directory ``run`` whose relative path matches ``pattern``."""
        ...

    def run_dir(self, run: str) -> str:
        """The directory (path or URL) of run ``run``."""
        ...

    def inside(self, path: str) -> bool:
        """True if ``path`` resolves (symlinks, ``..``) to a location inside the root."""
        ...


def _run_name(rel_dir: str) -> str:
    rel = rel_dir.replace(os.sep, "/").strip("/")
    return rel if rel and rel != "." else "."


class LocalFS:
    """A local directory tree; symlinked directories are followed once (real paths tracked)."""

    remote = False

    def __init__(self, root: str) -> None:
        if root.startswith("file://"):
            root = root[len("file://") :]
        self.root = os.path.abspath(os.path.expanduser(root))
        self.linked_dirs = 0
        """Symlinked directories the last :meth:`list_event_files` followed (file watchers do not see inside them)."""

    def list_event_files(self) -> list[FileEntry]:
        """Every event file under the root (see :class:`FileSystem`).

        Runs on every full rescan, so it costs one ``scandir`` per directory and one ``stat`` per
        event file and per symlinked directory, nothing else: a directory is visited once by its
        (device, inode), taken from the directory entry (the parent's device and ``d_ino``, free on
        POSIX) for plain subdirectories and from ``stat`` for symlinked ones, so links cannot loop.
        (A symlink to a mount point inside the tree may visit that subtree twice: ``d_ino`` of a
        mount point is the covered directory's.) Run names are built while walking.
        """
        out: list[FileEntry] = []
        linked = 0
        try:
            st = os.stat(self.root)
        except OSError:
            self.linked_dirs = 0
            return out
        seen: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
        stack: list[tuple[str, str, int]] = [(self.root, ".", st.st_dev)]
        pop, push, add = stack.pop, stack.append, out.append
        while stack:
            d, run, dev = pop()
            try:
                it = os.scandir(d)
            except OSError:
                continue
            with it:
                for e in it:
                    name = e.name
                    try:
                        if e.is_dir():
                            if e.is_symlink():
                                linked += 1
                                fst = e.stat()
                                sub_dev, ident = fst.st_dev, (fst.st_dev, fst.st_ino)
                            else:
                                sub_dev, ident = dev, (dev, e.inode())
                            if ident in seen:
                                continue
                            seen.add(ident)
                            push((e.path, name if run == "." else f"{run}/{name}", sub_dev))
                        elif "tfevents" in name and e.is_file():
                            fst = e.stat()
                            add(FileEntry(run, e.path, fst.st_size, (fst.st_dev << 64) | fst.st_ino))
                    except OSError:
                        continue
        self.linked_dirs = linked
        out.sort(key=lambda f: (f.run, f.path))
        return out

    def size(self, path: str) -> int | None:
        try:
            return os.stat(path).st_size
        except OSError:
            return None

    def read(self, path: str, start: int, length: int) -> bytes:
        with open(path, "rb") as f:
            f.seek(start)
            return f.read(length)

    def read_many(self, reads: Sequence[tuple[str, int, int]]) -> list[bytes]:
        """:meth:`read` of each (path, start, length), with bare ``os.open``/``os.pread`` (no file object:
        10,000 small event files cost 10,000 open+pread+close syscall triples and little Python)."""
        out = []
        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
        for path, start, length in reads:
            fd = os.open(path, flags)
            try:
                data = os.pread(fd, length, start) if length > 0 else b""
                while 0 < len(data) < length:  # a short read before the end of file: go on
                    more = os.pread(fd, length - len(data), start + len(data))
                    if not more:
                        break
                    data += more
            finally:
                os.close(fd)
            out.append(data)
        return out

    def run_dir(self, run: str) -> str:
        return self.root if run == "." else os.path.join(self.root, *run.split("/"))

    def inside(self, path: str) -> bool:
        """True if ``path``'s real path (symlinks and ``..`` resolved) lies under the root's real path."""
        return is_within(self.root, path)

    def glob(self, run: str, pattern: str) -> list[str]:
        """Files under run ``run`` matching ``pattern`` (see :class:`FileSystem`); symlinked directories are
        not entered. One ``os.scandir`` per directory and no extra ``stat`` (a 10,000-run logdir is walked
        by the trace index while the first load runs)."""
        base = self.run_dir(run)
        if not self.inside(base) or not os.path.isdir(base):
            return []
        out = []
        stack: list[tuple[str, str]] = [(base, "")]
        while stack:
            d, rel_dir = stack.pop()
            try:
                with os.scandir(d) as it:
                    entries = list(it)
            except OSError:
                continue
            for e in entries:
                rel = f"{rel_dir}{e.name}"
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append((e.path, rel + "/"))
                        continue
                except OSError:
                    continue
                if fnmatch.fnmatchcase(rel, pattern) and self.inside(e.path):
                    try:
                        if e.is_file(follow_symlinks=True):
                            out.append(e.path)
                    except OSError:
                        continue
        return sorted(out)


class RemoteFS:
    """An fsspec URL (``s3://bucket/prefix``...). Listing via ``find``, reads via ranged ``cat_file``."""

    remote = True

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        import fsspec  # lazy: only remote logdirs need it

        self.fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.protocol = url.split("://", 1)[0]
        self.base = path.rstrip("/")
        self.root = url.rstrip("/")

    def _url(self, path: str) -> str:
        return f"{self.protocol}://{path.lstrip('/')}" if self.protocol != "memory" else f"memory://{path}"

    def _path(self, url: str) -> str:
        return url.split("://", 1)[1] if "://" in url else url

    def list_event_files(self) -> list[FileEntry]:
        self.fs.invalidate_cache()
        try:
            found = self.fs.find(self.base, withdirs=False, detail=True)
        except (FileNotFoundError, OSError):
            return []
        base = self._path(self.base).strip("/")
        out = []
        for path, info in found.items():
            p = path.strip("/")
            name = posixpath.basename(p)
            if not is_event_file(name) or info.get("type") == "directory":
                continue
            rel = posixpath.relpath(posixpath.dirname(p), base) if base else posixpath.dirname(p)
            out.append(FileEntry(_run_name(rel), self._url(path), int(info.get("size") or 0)))
        out.sort(key=lambda f: (f.run, f.path))
        return out

    def size(self, path: str) -> int | None:
        try:
            self.fs.invalidate_cache(self._path(path))
            return int(self.fs.info(self._path(path))["size"])
        except (FileNotFoundError, OSError, KeyError):
            return None

    def read(self, path: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        return bytes(self.fs.cat_file(self._path(path), start=start, end=start + length))

    def read_many(self, reads: Sequence[tuple[str, int, int]]) -> list[bytes]:
        """:meth:`read` of each (path, start, length), one ranged read each."""
        return [self.read(path, start, length) for path, start, length in reads]

    def run_dir(self, run: str) -> str:
        return self.root if run == "." else f"{self.root}/{run}"

    def inside(self, path: str) -> bool:
        """True if ``path`` (``..`` removed) lies under the root URL."""
        return is_within(self.root, path)

    def glob(self, run: str, pattern: str) -> list[str]:
        base = self._path(self.run_dir(run)).strip("/")
        if ".." in run.split("/"):
            return []
        try:
            found = self.fs.find(base, withdirs=False)
        except (FileNotFoundError, OSError):
            return []
        out = []
        for path in found:
            rel = posixpath.relpath(path.strip("/"), base)
            if not rel.startswith("..") and fnmatch.fnmatchcase(rel, pattern) and self.inside(self._url(path)):
                out.append(self._url(path))
        return sorted(out)


def open_fs(logdir: str, storage_options: dict[str, Any] | None = None) -> LocalFS | RemoteFS:
    """The file system for ``logdir``: :class:`RemoteFS` for URLs, else :class:`LocalFS`."""
    if not logdir:
        raise ValueError("logdir is empty: pass a directory path or an fsspec URL such as s3://bucket/prefix")
    return RemoteFS(logdir, storage_options) if is_remote(logdir) else LocalFS(logdir)


class ReadAllError(Exception):
    """A whole-file read refused or failed; the message names the file and why (missing, too big, I/O)."""


def read_all(fs: FileSystem, path: str, limit: int, what: str) -> bytes:
    """All bytes of ``path`` (already resolved/contained by the caller), at most ``limit`` bytes.

    ``what`` names the file in messages (e.g. ``"projector config"``). Raises
    :class:`ReadAllError` if the file does not exist, is larger than ``limit`` bytes (it is
    then not read at all), or the read fails.
    """
    size = fs.size(path)
    if size is None:
        raise ReadAllError(f"{what} {path} does not exist")
    if size > limit:
        raise ReadAllError(f"{what} {path} is {size} bytes, more than the {limit} read")
    try:
        return fs.read(path, 0, size)
    except OSError as exc:
        raise ReadAllError(f"cannot read {what} {path}: {exc}") from exc
