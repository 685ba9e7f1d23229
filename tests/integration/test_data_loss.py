"""Issue 16 data-loss defects: damaged or torn records never hide intact ones, restarts do not depend on chunking."""

from __future__ import annotations

import os
import struct

import pytest

from logger._pb import event_pb2
from logger.records import frame, masked_crc32c
from vizboard.data import Ingestor, Store

FILE = "events.out.tfevents.1700000000.host.1.0"
FILE2 = "events.out.tfevents.1700000100.host.1.0"


def payload(step: int, tag: str = "loss", value: float | None = None) -> bytes:
    e = event_pb2.Event(wall_time=1.7e9 + step, step=step)
    e.summary.value.add(tag=tag, simple_value=step * 0.5 if value is None else value)
    return e.SerializeToString()


def big_payload(step: int, size: int) -> bytes:
    e = event_pb2.Event(wall_time=1.7e9 + step, step=step)
    e.summary.value.add(tag="blob").tensor.string_val.append(b"x" * size)
    return e.SerializeToString()


def header() -> bytes:
    return frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())


def write(path: str | os.PathLike[str], data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def load(tmp_path: os.PathLike[str], **kw: int) -> Store:
    store = Store(str(tmp_path))
    Ingestor(store, watch=False, **kw).run_once()
    return store


def steps(store: Store, run: str = "run", tag: str = "loss") -> list[int]:
    s = store.scalars(run, tag)
    return [] if s is None else s.step.tolist()


def test_record_missing_bytes_does_not_swallow_records_inside_its_length(tmp_path):
    # An intact header claims a 50 KB record; 6 KB of it are missing, so 100 intact records
    # written after it lie inside the span its length claims.
    big = frame(big_payload(1000, 50_000))
    torn = big[: len(big) - 6_000 - 4]
    inside = b"".join(frame(payload(i)) for i in range(100))
    rest = b"".join(frame(payload(i)) for i in range(100, 100 + 2000))  # the span ends among these
    write(tmp_path / "run" / FILE, header() + torn + inside + rest)
    store = load(tmp_path)
    assert steps(store) == list(range(2100))
    assert [p.kind for p in store.problems()] == ["payload_crc"]
    assert store.problems()[0].offset == len(header())


def test_torn_record_mid_file_is_damage_and_later_records_are_read(tmp_path):
    # 50 records, then a record cut at 20 KB of 50 KB, then 149 complete records (its claimed
    # length runs past the end of the file, so it looks like a tail still being written).
    first = b"".join(frame(payload(i)) for i in range(50))
    big = frame(big_payload(50, 50_000))
    after = b"".join(frame(payload(i)) for i in range(51, 200))
    write(tmp_path / "run" / FILE, header() + first + big[:20_000] + after)
    store = load(tmp_path)
    assert steps(store) == [i for i in range(200) if i != 50]
    assert [p.kind for p in store.problems()] == ["payload_crc"]
    assert store.status().num_problems == 1


def test_torn_tail_at_end_of_file_is_still_waited_for(tmp_path):
    first = b"".join(frame(payload(i)) for i in range(50))
    big = frame(big_payload(50, 50_000))
    path = tmp_path / "run" / FILE
    write(path, header() + first + big[:20_000])
    store = Store(str(tmp_path))
    ing = Ingestor(store, watch=False)
    ing.run_once()
    assert steps(store) == list(range(50)) and store.problems() == []
    with open(path, "ab") as f:
        f.write(big[20_000:] + frame(payload(51)))
    ing.run_once()
    assert steps(store) == list(range(50)) + [51] and store.problems() == []
    assert store.series_meta("run", "blob") is not None


def test_huge_claimed_record_in_a_big_file_is_checked_not_read_whole(tmp_path):
    # A header claiming 40 MiB (valid header CRC), file bytes enough to cover it, but the
    # payload is junk: damage, and the records after the header's first byte are found.
    claim = struct.pack("<Q", 40 << 20)
    bogus = claim + struct.pack("<I", masked_crc32c(claim))
    good = b"".join(frame(payload(i)) for i in range(100))
    junk = bytes(41 << 20)
    write(tmp_path / "run" / FILE, header() + bogus + good + junk + frame(payload(100)))
    store = load(tmp_path, chunk_bytes=1 << 20)
    assert steps(store) == list(range(101))
    assert store.problems() and store.problems()[0].offset == len(header())


@pytest.mark.parametrize("chunk_bytes", [1024, 4096, 1 << 20])
def test_restart_rule_does_not_depend_on_read_chunking(tmp_path, chunk_bytes):
    # The older file is many chunks long; the newer (restart) file re-logs 250..260.
    old = header() + b"".join(frame(payload(i)) for i in range(500))
    new = header() + b"".join(frame(payload(i, value=-1.0)) for i in range(250, 261))
    write(tmp_path / "run" / FILE, old)
    write(tmp_path / "run" / FILE2, new)
    store = load(tmp_path, chunk_bytes=chunk_bytes)
    s = store.scalars("run", "loss")
    assert s is not None
    assert s.step.tolist() == list(range(261))
    assert s.value[250:].tolist() == [-1.0] * 11 and s.value[:250].tolist() == [i * 0.5 for i in range(250)]


def test_unreadable_file_is_reported_once_and_its_run_kept(tmp_path, monkeypatch):
    write(tmp_path / "good" / FILE, header() + frame(payload(1)))
    bad = tmp_path / "bad" / FILE
    write(bad, header() + frame(payload(1)))
    store = Store(str(tmp_path))
    real_read = store.fs.read

    def read(path: str, start: int, length: int) -> bytes:
        if path.endswith(os.path.join("bad", FILE)):
            raise PermissionError(13, "Permission denied", path)
        return real_read(path, start, length)

    def read_many(reads):
        return [read(*r) for r in reads]

    monkeypatch.setattr(store.fs, "read", read)
    monkeypatch.setattr(store.fs, "read_many", read_many)
    ing = Ingestor(store, watch=False)
    for _ in range(4):  # four rescans (every 5 s in a server)
        ing.run_once()
    assert [r.name for r in store.runs()] == ["bad", "good"]
    assert [p.kind for p in store.problems()] == ["unreadable"]
    assert store.status().num_problems == 1
    assert store.runs()[0].num_problems == 1 and store.runs()[0].num_files == 1
    monkeypatch.undo()
    with open(bad, "ab") as f:  # it changes (e.g. permissions fixed and appended): read again
        f.write(frame(payload(2)))
    ing.run_once()
    assert steps(store, "bad") == [1, 2]
