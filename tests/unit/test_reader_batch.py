"""Batched reads of many small files (``reader.poll_many``): the per-size layout walk of equal-size files
gives exactly what one framing of the concatenation gives, and ``LocalFS.read_many`` equals ``read``."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from logger.records import frame
from vizboard.data import reader
from vizboard.data.fs import LocalFS
from vizboard.data.reader import FileTail, poll_many

# payload sizes chosen so that different layouts give files of the same size
_LAYOUTS = [[10, 20], [20, 10], [15, 15], [30], [5, 5, 5, 5, 10], [14, 16]]


def _file(layout: list[int], salt: int) -> bytes:
    return b"".join(frame(bytes([(salt + i) % 256]) * n) for i, n in enumerate(layout))


_files = st.lists(
    st.tuples(st.sampled_from(range(len(_LAYOUTS))), st.integers(0, 255),
              st.sampled_from(["ok", "ok", "ok", "flip", "zeros", "torn", "short_header"]),
              st.integers(0, 10_000)),
    min_size=2, max_size=12)


def _write(root: str, spec: list[tuple[int, int, str, int]]) -> list[FileTail]:
    tails = []
    for k, (layout, salt, fault, where) in enumerate(spec):
        data = bytearray(_file(_LAYOUTS[layout], salt))
        if fault == "flip":
            data[where % len(data)] ^= 0x5A
        elif fault == "zeros":
            data = bytearray(len(data))
        elif fault == "torn":
            data = data[: -1 - where % 8]
        elif fault == "short_header":
            data = data[: 1 + where % 15]
        path = os.path.join(root, f"f{k:02d}.tfevents")
        with open(path, "wb") as f:
            f.write(bytes(data))
        t = FileTail(path, f"r{k}")
        t.size = len(data)
        tails.append(t)
    return tails


def _outcome(got: tuple | None, tails: list[FileTail]) -> object:
    if got is None:
        return None
    whole, parts = got
    return (whole.starts.tolist(), whole.lengths.tolist(),
            [(t.path, c.base, c.starts.tolist(), c.lengths.tolist(), first) for t, c, first in parts],
            [t.offset for t in tails])


@settings(max_examples=150, deadline=None)
@given(_files)
def test_layout_walk_equals_one_framing_of_the_concatenation(tmp_path_factory, spec) -> None:
    root = str(tmp_path_factory.mktemp("batch"))
    fs = LocalFS(root)
    fast = _outcome(poll_many(fs, tails := _write(root, spec)), tails)
    real = reader._walk_files
    try:
        reader._walk_files = lambda data, arr, bounds: None  # the reference: frame the concatenation
        ref = _outcome(poll_many(fs, tails2 := _write(root, spec)), tails2)
    finally:
        reader._walk_files = real
    assert fast == ref
    if all(f[2] == "ok" for f in spec):
        assert fast is not None  # whole intact files are always accepted


def test_layout_walk_really_runs_for_equal_size_files_of_different_layouts(tmp_path) -> None:
    tails = _write(str(tmp_path), [(0, 1, "ok", 0), (1, 2, "ok", 0), (2, 3, "ok", 0), (0, 4, "ok", 0)])
    data = b"".join(open(t.path, "rb").read() for t in tails)
    bounds = np.cumsum([0] + [t.size for t in tails])
    starts = reader._walk_files(data, np.frombuffer(data, np.uint8), bounds)
    assert starts is not None
    ref, end = reader._walk(data, np.frombuffer(data, np.uint8), 0)
    assert end == len(data) and starts.tolist() == ref.tolist()


def test_read_many_equals_read(tmp_path) -> None:
    fs = LocalFS(str(tmp_path))
    (tmp_path / "a").write_bytes(bytes(range(256)) * 3)
    (tmp_path / "b").write_bytes(b"")
    reads = [(str(tmp_path / "a"), 5, 100), (str(tmp_path / "a"), 700, 500), (str(tmp_path / "b"), 0, 10),
             (str(tmp_path / "a"), 0, 0)]
    assert fs.read_many(reads) == [fs.read(*r) for r in reads]
