"""Run discovery: which directories under the logdir are runs, and their event files.

A run is every directory that directly holds a file whose basename contains
``tfevents`` (event-format §5.2), named by its path relative to the logdir with
``/`` separators (``.`` for the logdir itself). Symlinked directories are followed
once (real paths are tracked, so links cannot loop). Discovery runs on every full
rescan, so runs that appear later are picked up and runs whose files are all gone
are dropped.
"""

from __future__ import annotations

from vizboard.data.fs import FileEntry, FileSystem

__all__ = ["discover"]


def discover(fs: FileSystem) -> dict[str, list[FileEntry]]:
    """Map run name -> its event files sorted by path (name order), with current sizes."""
    runs: dict[str, list[FileEntry]] = {}
    for entry in fs.list_event_files():
        runs.setdefault(entry.run, []).append(entry)
    for files in runs.values():
        files.sort(key=lambda f: f.path)
    return dict(sorted(runs.items()))
