"""Fault injection: random damage to real event files never hides an intact record, never invents a value.

Files are written by our logger, torch's SummaryWriter and tensorboardX. Hypothesis applies
random mutations (bit flips, truncation, inserted / deleted / zeroed / duplicated ranges, torn
writes mid-file) while tracking, by construction, which original records are still intact
(their bytes unchanged and contiguous). The file is then read the way the server reads it
(``FileTail.poll`` in small chunks, then ``ChunkApplier``), and:

- every intact record is read (its payload appears among the records read),
- every record read is an original record (no damaged record yields a value),
- damage is reported whenever something was damaged, and every byte of the file is
  accounted for (a record, reported damage, or a torn tail at the very end),
- decoded scalars equal the values the writer logged.

CI runs a bounded number of examples; ``pytest -m fuzz_long`` runs many more.
"""

from __future__ import annotations

import functools
import glob
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logger.records import scan
from vizboard.data.apply import ChunkApplier
from vizboard.data.reader import FileTail
from vizboard.data.store import Store

WRITERS = ("logger", "torch", "tensorboardX")


def _write_file(writer: str, directory: str) -> bytes:
    """An event file with scalars (value = step * 0.25 + tag index), a histogram and a text."""
    import numpy as np

    if writer == "logger":
        from logger import SummaryWriter
    elif writer == "torch":
        from torch.utils.tensorboard import SummaryWriter  # type: ignore[no-redef]
    else:
        from tensorboardX import SummaryWriter  # type: ignore[no-redef]
    w = SummaryWriter(directory)
    for step in range(120):
        for k, tag in enumerate(("loss", "acc", "lr/group0")):
            w.add_scalar(tag, step * 0.25 + k, step)
        if step % 40 == 0:
            w.add_histogram("weights", np.linspace(-1, 1, 50) * (step + 1), step)
            w.add_text("note", f"step {step}", step)
    w.close()
    (path,) = glob.glob(os.path.join(directory, "**", "*tfevents*"), recursive=True)
    with open(path, "rb") as f:
        return f.read()


@functools.cache
def _original(writer: str) -> bytes:
    """The file ``writer`` wrote (once per test session; kept out of Hypothesis' failure reports)."""
    with tempfile.TemporaryDirectory() as d:
        return _write_file(writer, d)


@dataclass
class Piece:
    """A run of the mutated file: original bytes ``[start, end)``, or new bytes (``start`` = -1)."""

    start: int
    end: int
    new: bytes = b""

    def size(self) -> int:
        return len(self.new) if self.start < 0 else self.end - self.start


def _cut(pieces: list[Piece], at: int) -> int:
    """Split the pieces so that a piece boundary falls at mutated-file offset ``at``; return its index."""
    pos = 0
    for i, p in enumerate(pieces):
        if pos == at:
            return i
        if pos < at < pos + p.size():
            k = at - pos
            if p.start < 0:
                a, b = Piece(-1, -1, p.new[:k]), Piece(-1, -1, p.new[k:])
            else:
                a, b = Piece(p.start, p.start + k), Piece(p.start + k, p.end)
            pieces[i : i + 1] = [a, b]
            return i + 1
        pos += p.size()
    return len(pieces)


def _render(pieces: list[Piece], orig: bytes) -> bytes:
    return b"".join(p.new if p.start < 0 else orig[p.start : p.end] for p in pieces)


Mutation = tuple[str, float, float, int]
mutations = st.lists(
    st.tuples(st.sampled_from(["flip", "truncate", "insert", "delete", "zero", "duplicate", "torn"]),
              st.floats(0, 1), st.floats(0, 1), st.integers(0, 2**31)),
    min_size=1, max_size=4)


def _mutate(orig: bytes, muts: list[Mutation], records: list[tuple[int, int]]) -> list[Piece]:
    pieces = [Piece(0, len(orig))]
    for kind, u, v, seed in muts:
        size = sum(p.size() for p in pieces)
        if size == 0:
            break
        at = int(u * (size - 1))
        span = 1 + int(v * min(4096, size - at - 1))
        if kind == "flip":
            i = _cut(pieces, at)
            j = _cut(pieces, at + 1)
            old = _render(pieces[i:j], orig)
            pieces[i:j] = [Piece(-1, -1, bytes([old[0] ^ (1 << (seed % 8))]))]
        elif kind == "truncate":
            i = _cut(pieces, at)
            del pieces[i:]
        elif kind == "insert":
            rnd = seed.to_bytes(4, "little") * (span // 4 + 1)
            i = _cut(pieces, at)
            pieces.insert(i, Piece(-1, -1, rnd[:span]))
        elif kind in ("delete", "zero"):
            i = _cut(pieces, at)
            j = _cut(pieces, at + span)
            pieces[i:j] = [] if kind == "delete" else [Piece(-1, -1, bytes(span))]
        elif kind == "duplicate":
            i = _cut(pieces, at)
            j = _cut(pieces, at + span)
            copy = [Piece(p.start, p.end, p.new) for p in pieces[i:j]]
            pieces[j:j] = copy
        else:  # torn write mid-file: an original record cut short, the file going on after it
            rec = records[seed % len(records)]
            start, end = _find(pieces, rec)
            if start is None:
                continue
            keep = 1 + int(u * (end - start - 2))
            i = _cut(pieces, start + keep)
            j = _cut(pieces, end)
            del pieces[i:j]
    return pieces


def _find(pieces: list[Piece], rec: tuple[int, int]) -> tuple[int | None, int]:
    """Mutated-file offsets of original record ``rec`` if it is still intact (one piece covers it)."""
    pos = 0
    for p in pieces:
        if p.start >= 0 and p.start <= rec[0] and rec[1] <= p.end:
            s = pos + rec[0] - p.start
            return s, s + rec[1] - rec[0]
        pos += p.size()
    return None, 0


class _Bytes:
    """A FileSystem over one in-memory file (the reader reads it in small chunks)."""

    remote = False

    def __init__(self, data: bytes) -> None:
        self.data = data

    def size(self, path: str) -> int | None:
        return len(self.data)

    def read(self, path: str, start: int, length: int) -> bytes:
        return self.data[start : start + length]


def _read_all(data: bytes, chunk_bytes: int) -> tuple[list[tuple[int, bytes]], list[tuple[int, int]], int, Store]:
    tail = FileTail("events.out.tfevents.1.fuzz", "run")
    fs = _Bytes(data)
    store = Store(tempfile.gettempdir())
    applier = ChunkApplier(store)
    records: list[tuple[int, bytes]] = []
    damage: list[tuple[int, int]] = []
    for _ in range(100_000):
        before = tail.progress()
        chunk = tail.poll(fs, chunk_bytes)  # type: ignore[arg-type]
        if chunk is not None:
            records += [(chunk.offset(i), chunk.payload(i)) for i in range(len(chunk))]
            damage += [(d.offset, d.length) for d in chunk.damage]
            applier.apply("run", chunk)
        if tail.progress() == before:
            break
    return records, damage, tail.offset, store


def _check(orig: bytes, muts: list[Mutation], chunk_bytes: int) -> None:
    framed = scan(orig, final=True)
    assert not framed.damage
    records = [(r.offset, r.offset + r.length) for r in framed.records]
    payloads = {orig[a + 12 : b - 4] for a, b in records}
    pieces = _mutate(orig, muts, records)
    data = _render(pieces, orig)
    got, damage, settled, store = _read_all(data, chunk_bytes)
    got_at = dict(got)
    for rec in records:
        start, _ = _find(pieces, rec)
        if start is not None:
            assert got_at.get(start) == orig[rec[0] + 12 : rec[1] - 4], f"intact record at {start} not read"
    for off, payload in got:
        assert payload in payloads, f"record at {off} is not one the writer wrote"
    # Every byte is a record, reported damage, or the torn tail at the very end.
    covered = sorted([(o, o + len(p) + 16) for o, p in got] + [(o, o + n) for o, n in damage])
    pos = 0
    for a, b in covered:
        assert a == pos, f"bytes {pos}..{a} neither read nor reported"
        pos = b
    assert pos == settled
    assert scan(data[settled:]).damage == [] and not scan(data[settled:]).records  # a torn tail only
    intact = sum(_find(pieces, r)[0] is not None for r in records)
    if intact < len(records) and data != orig[: len(data)]:
        assert damage or settled < len(data), "records were damaged but nothing was reported"
    for info in store.tags():
        s = store.scalars(info.run, info.tag)
        if s is not None and info.tag in ("loss", "acc", "lr/group0"):
            k = ("loss", "acc", "lr/group0").index(info.tag)
            assert all(abs(v - (st_ * 0.25 + k)) < 1e-6 for st_, v in zip(s.step.tolist(), s.value.tolist()))


def _property(max_examples: int) -> Callable[..., None]:
    @settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(writer=st.sampled_from(WRITERS), muts=mutations, chunk_bytes=st.sampled_from([1024, 4096, 1 << 20]))
    def check(writer: str, muts: list[Mutation], chunk_bytes: int) -> None:
        _check(_original(writer), muts, chunk_bytes)

    return check


test_random_damage_never_hides_intact_records = _property(60)
test_random_damage_long = pytest.mark.timeout(7200)(pytest.mark.fuzz_long(_property(3000)))


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_reads_back_whole(writer: str) -> None:
    _check(_original(writer), [], 4096)
