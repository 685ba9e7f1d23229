"""Containment of served files: one check that a path, after resolving symlinks and ``..``, lies in the logdir.

Every place that opens a file to return its bytes (profiler traces, blobs and graphs read
back from event files, projector files) calls :func:`resolve_within` first. Local paths
are compared by their *real* paths (``os.path.realpath`` of both the logdir and the file),
so a symlink under the logdir pointing at ``~/.ssh/id_rsa`` is refused even though its own
name lies inside. Remote (fsspec) paths have no symlinks; they are normalised (``..`` and
``.`` segments removed) and must stay under the logdir's URL prefix.
"""

from __future__ import annotations

import os
import posixpath

__all__ = ["OutsideLogdirError", "resolve_within", "is_within"]


class OutsideLogdirError(PermissionError):
    """A path resolves to a location outside the logdir; it is never opened."""


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _strip_file_scheme(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def _resolve_remote(root: str, path: str) -> str:
    scheme, _, rest = root.partition("://")
    pscheme, sep, prest = path.partition("://")
    if not sep:
        prest = posixpath.join(rest, path)  # relative to the logdir
    elif pscheme != scheme:
        raise OutsideLogdirError(f"{path} is outside the logdir {root} (different scheme)")
    base = posixpath.normpath("/" + rest.strip("/"))
    target = posixpath.normpath("/" + prest.lstrip("/"))
    if target != base and not target.startswith(base.rstrip("/") + "/"):
        raise OutsideLogdirError(f"{path} is outside the logdir {root}")
    return f"{scheme}://{target.lstrip('/')}" if scheme != "memory" else f"memory://{target}"


def resolve_within(root: str, path: str) -> str:
    """The resolved form of ``path`` if it lies inside the logdir ``root``; else raise.

    ``root`` is the logdir (local path, ``file://`` URL or fsspec URL); ``path`` is absolute,
    a URL, or relative to ``root``. Local paths are resolved with ``os.path.realpath`` (all
    symlinks followed, ``..`` removed) and the real path is returned, so callers open
    exactly what was checked. Raises :class:`OutsideLogdirError` (a ``PermissionError``)
    when the resolved path is not ``root`` itself or below it.
    """
    if not root:
        raise ValueError("root is empty: pass the logdir (a directory path or an fsspec URL)")
    if _is_url(root) or _is_url(path):
        if not _is_url(root):
            raise OutsideLogdirError(f"{path} is outside the local logdir {root}")
        return _resolve_remote(root, path)
    base = os.path.realpath(os.path.expanduser(_strip_file_scheme(root)))
    local = _strip_file_scheme(path)
    full = local if os.path.isabs(local) else os.path.join(base, local)
    real = os.path.realpath(full)
    if real != base and os.path.commonpath([base, real]) != base:
        raise OutsideLogdirError(f"{path} resolves to {real}, outside the logdir {base}")
    return real


def is_within(root: str, path: str) -> bool:
    """True if :func:`resolve_within` accepts ``path`` (never raises for outside paths)."""
    try:
        resolve_within(root, path)
    except OutsideLogdirError:
        return False
    return True
