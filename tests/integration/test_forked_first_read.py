"""The first pass read by a forked child (``Ingestor(fork_first_read=True)``, what ``vizboard serve`` uses)
gives exactly the Store an in-process read gives, also when the child fails part-way, and never leaves a
child process behind."""

from __future__ import annotations

import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.integration.test_batched_ingest import _header, _scalar, _snapshot, _text, _write_logdir
from vizboard.data import Store
from vizboard.data import first_read as first_read_mod
from vizboard.data.apply import ChunkApplier
from vizboard.data.ingest import Ingestor

LOAD_TIMEOUT = 60.0


class Applied(NamedTuple):
    how: str  # "whole" (a ReadBatch: bytes and decoded rows) or "grouped" (a GroupedBatch)
    runs: list[str]


def _niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])  # field 19, counted after the command name


def _reference(root: str) -> dict[str, object]:
    store = Store(root)
    Ingestor(store, watch=False).run_once()
    return _snapshot(store)


def _forked(root: str, **kwargs: object) -> tuple[dict[str, object], Ingestor]:
    store = Store(root)
    ing = Ingestor(store, watch=False, fork_first_read=True, **kwargs)  # type: ignore[arg-type]
    ing.start()
    try:
        assert ing.wait_until_loaded(LOAD_TIMEOUT)
        return _snapshot(store), ing
    finally:
        ing.stop()


@pytest.fixture(params=[1, 2], ids=["one child", "two children"])
def workers(request, monkeypatch) -> int:
    """How many children the forked first read uses (each reads its own share of the runs)."""
    from vizboard.data import ingest as ingest_mod

    monkeypatch.setattr(ingest_mod, "first_read_workers", lambda: request.param)
    return request.param


@pytest.fixture()
def children(monkeypatch) -> list[int]:
    """The pids of the children forked by FirstReader.start."""
    pids: list[int] = []
    real = first_read_mod.FirstReader.start

    def spy(self) -> bool:
        ok = real(self)
        if ok:
            pids.extend(self.pids)
        return ok

    monkeypatch.setattr(first_read_mod.FirstReader, "start", spy)
    return pids


def _reaped(pids: list[int]) -> bool:
    """True if every pid of ``pids`` is no longer a child of this process (exited and reaped)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


def _write_more_shapes(root: str) -> None:
    """Runs whose files stop the child part-way: a big file, an empty first file, a restart in a second file."""
    big = os.path.join(root, "big")
    os.makedirs(big)
    with open(os.path.join(big, "events.out.tfevents.1.h.1.0"), "wb") as f:
        f.write(_header() + b"".join(_scalar(s, "loss", s * 0.5) for s in range(12_000)))  # > 256 KiB
    with open(os.path.join(big, "events.out.tfevents.2.h.1.0"), "wb") as f:
        f.write(_header() + b"".join(_scalar(s, "loss", -s) for s in range(100, 110)))
    for name, first in (("empty_first", b""), ("two_files", _header() + b"".join(_scalar(s, "loss", s) for s in range(50)))):
        d = os.path.join(root, name)
        os.makedirs(d)
        with open(os.path.join(d, "events.out.tfevents.1.h.1.0"), "wb") as f:
            f.write(first)
        with open(os.path.join(d, "events.out.tfevents.2.h.1.0"), "wb") as f:
            f.write(_header() + b"".join(_scalar(s, "loss", 100 + s) for s in range(20, 30)))


@pytest.fixture()
def batches_applied(monkeypatch) -> list[int]:
    """How each batch framed by a child was sent, and its runs (one file each), as the parent applies them."""
    seen: list[Applied] = []
    real, real_groups = ChunkApplier.apply_batch, ChunkApplier.apply_groups

    def spy(self, whole, parts, decoded=None):
        if decoded is not None:  # sent whole
            seen.append(Applied("whole", [p[0] for p in parts]))
        return real(self, whole, parts, decoded)

    def spy_groups(self, runs, groups):  # sent grouped
        seen.append(Applied("grouped", list(runs)))
        return real_groups(self, runs, groups)

    monkeypatch.setattr(ChunkApplier, "apply_batch", spy)
    monkeypatch.setattr(ChunkApplier, "apply_groups", spy_groups)
    return seen


def _shares(root: str, workers: int) -> list[str]:
    """The runs (one per file) of every batch the ``workers`` children frame, read in this process."""
    from vizboard.data.fs import open_fs
    from vizboard.data.ingest import _BATCH_FILES, _SMALL_FILE_BYTES

    fs = open_fs(root)
    run_of: dict[str, str] = {}
    runs: list[str] = []
    for part in range(workers):
        for item in first_read_mod.read_first(fs, small_bytes=_SMALL_FILE_BYTES, batch_bytes=4 << 20,
                                              batch_files=_BATCH_FILES, max_bytes=1 << 30, part=part, parts=workers):
            if isinstance(item, first_read_mod.Listing):
                run_of = dict(zip(item.paths, item.runs))
            else:
                runs += [run_of[path] for path, _, _ in item.files]
    return sorted(runs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_forked_first_read_gives_the_store_of_an_in_process_read(tmp_path, workers, batches_applied, children,
                                                                   seed: int) -> None:
    _write_logdir(str(tmp_path), seed)
    _write_more_shapes(str(tmp_path))
    want = _reference(str(tmp_path))
    got, _ = _forked(str(tmp_path))
    read = sorted(run for batch in batches_applied for run in batch.runs)
    assert len(read) >= 8  # the children really read runs (bad files, and their batches, are left to the parent)
    assert all(len({first_read_mod.part_of(r, workers) for r in b.runs}) == 1 for b in batches_applied)
    assert read == _shares(str(tmp_path), workers)  # each child read its own share, all of it, once
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k
    assert len(children) == workers and _reaped(children)


def _write_two_rounds(root: str) -> None:
    """Runs of two files each, so a child's second round meets what its first round sent: plain scalars
    (sent grouped), scalars whose metadata is only in the first file, text before or after scalars, and
    a tensor series whose metadata comes only in the second file."""
    def write(run: str, name: str, recs: list[bytes]) -> None:
        os.makedirs(os.path.join(root, run), exist_ok=True)
        with open(os.path.join(root, run, name), "wb") as f:
            f.write(_header() + b"".join(recs))

    for i in range(150):  # small files: batches of ~45 of them hold whole length groups (>= 16 rows)
        write(f"plain{i:03d}", "events.out.tfevents.1.h", [_scalar(s, "loss", i + s) for s in range(3)])
        write(f"plain{i:03d}", "events.out.tfevents.2.h", [_scalar(s, "loss", -s) for s in range(3, 5)])
    first = {"meta_then_bare": [_scalar(s, "acc", s * 0.1, tensor=True, meta=s == 0) for s in range(20)],
             "bare_then_meta": [_scalar(s, "acc", s * 0.2, tensor=True) for s in range(20)],
             "text_then_scalars": [_text(s, "notes") for s in range(5)],
             "scalars_then_text": [_scalar(s, "loss", s) for s in range(20)]}
    second = {"meta_then_bare": [_scalar(s, "acc", s * 0.3, tensor=True) for s in range(20, 30)],
              "bare_then_meta": [_scalar(s, "acc", s * 0.4, tensor=True, meta=True) for s in range(20, 30)],
              "text_then_scalars": [_scalar(s, "notes", s) for s in range(5, 9)] + [_scalar(9, "loss", 1.0)],
              "scalars_then_text": [_text(s, "loss") for s in range(20, 23)]}
    for run, recs in first.items():
        write(run, "events.out.tfevents.1.h", recs)
        write(run, "events.out.tfevents.2.h", second[run])


def test_batches_of_plain_scalars_go_grouped_and_the_rest_whole_to_the_same_store(tmp_path, workers, batches_applied,
                                                                                    children) -> None:
    _write_two_rounds(str(tmp_path))
    want = _reference(str(tmp_path))
    got, _ = _forked(str(tmp_path), chunk_bytes=8192)  # a few files per batch: some grouped, some whole
    hows = {b.how for b in batches_applied}
    assert hows == {"grouped", "whole"}
    whole = {r for b in batches_applied if b.how == "whole" for r in b.runs}
    assert {"text_then_scalars", "bare_then_meta"} <= whole  # rows for the protobuf path
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k
    assert len(children) == workers and _reaped(children)


def _failing_read_first(after: int) -> object:
    """A ``read_first`` whose child sends its first ``after`` items, then fails."""
    real = first_read_mod.read_first

    def read_first(fs, **kwargs) -> Iterator[object]:
        for i, item in enumerate(real(fs, **kwargs)):
            if i == after:
                raise RuntimeError("the child fails here")
            yield item
        raise RuntimeError("the child fails at the end")

    return read_first


@pytest.mark.parametrize("after", [0, 1, 2])
def test_a_child_that_fails_part_way_leaves_the_rest_to_the_parent(tmp_path, monkeypatch, workers, batches_applied,
                                                                     children, after: int) -> None:
    """Nothing sent (0), the listing only (1), the listing and one batch (2): the Store is the same. With two
    children the second (which sends no listing) fails after as many batches; without the first child's
    listing nothing is applied."""
    for i in range(40):
        d = tmp_path / f"run{i:02d}"
        d.mkdir()
        (d / "events.out.tfevents.1.h").write_bytes(_header() + b"".join(_scalar(s, "loss", i + s) for s in range(20)))
    _write_more_shapes(str(tmp_path))
    want = _reference(str(tmp_path))
    monkeypatch.setattr(first_read_mod, "read_first", _failing_read_first(after))
    got, _ = _forked(str(tmp_path))
    if workers == 1:
        assert len(batches_applied) == max(0, after - 1)
    else:
        assert (len(batches_applied) > 0) == (after > 0)
    assert got == want
    assert len(children) == workers and _reaped(children)


def test_stop_during_a_first_read_ends_and_reaps_the_child(tmp_path, monkeypatch, workers, children) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "events.out.tfevents.1.h").write_bytes(_header() + _scalar(0, "loss", 1.0))
    started_r, started_w = os.pipe()

    def stuck_read_first(fs, **kwargs) -> Iterator[object]:
        os.write(started_w, b"x")  # this child is running
        threading.Event().wait()  # ... and never answers
        yield from ()

    monkeypatch.setattr(first_read_mod, "read_first", stuck_read_first)
    ing = Ingestor(Store(str(tmp_path)), watch=False, fork_first_read=True)
    ing.start()
    try:
        for _ in range(workers):  # every child is running (its read_first started, after its nice)
            assert os.read(started_r, 1) == b"x"
        assert not ing.wait_until_loaded(0)
        reader = ing._first_reader
        assert reader is not None and len(reader.pids) == workers
        if sys.platform.startswith("linux"):
            # the children run below the parent's priority (it builds the app meanwhile) ...
            assert all(_niceness(pid) == min(19, _niceness(os.getpid()) + 10) for pid in reader.pids)
            # ... and write through pipes wider than the 64 KiB default
            with open("/proc/sys/fs/pipe-max-size", encoding="ascii") as f:
                widest = int(f.read())
            assert all(fcntl.fcntl(c.fd, fcntl.F_GETPIPE_SZ) == widest for c in reader._children)
    finally:
        ing.stop(timeout=LOAD_TIMEOUT)
        os.close(started_r)
        os.close(started_w)
    assert ing._thread is None and len(children) == workers and _reaped(children)


def test_a_restarted_ingestor_after_the_first_load_does_not_fork_again(tmp_path, workers, children) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "events.out.tfevents.1.h").write_bytes(_header() + _scalar(0, "loss", 1.0))
    store = Store(str(tmp_path))
    ing = Ingestor(store, watch=False, fork_first_read=True)
    ing.start()
    assert ing.wait_until_loaded(LOAD_TIMEOUT)
    ing.stop()
    ing.start()
    try:
        assert ing._first_reader is None
    finally:
        ing.stop()
    assert len(children) == workers and _reaped(children)


def test_a_child_that_goes_quiet_is_given_up_and_the_parent_loads_alone(tmp_path, monkeypatch, workers, children) -> None:
    """A child stuck before its first answer (a hung file system, a lock held at the fork) does not hold
    the load: after the silence limit the ingest thread kills it and reads everything itself."""
    from vizboard.data import ingest as ingest_mod

    for i in range(12):
        (tmp_path / f"run{i:02d}").mkdir()
        (tmp_path / f"run{i:02d}" / "events.out.tfevents.1.h").write_bytes(
            _header() + b"".join(_scalar(s, "loss", i * s) for s in range(5)))
    want = _reference(str(tmp_path))

    def stuck_read_first(fs, **kwargs) -> Iterator[object]:
        threading.Event().wait()
        yield from ()

    monkeypatch.setattr(first_read_mod, "read_first", stuck_read_first)
    monkeypatch.setattr(ingest_mod, "_FIRST_READ_TIMEOUT_S", 0.3)
    got, _ = _forked(str(tmp_path))
    assert got == want
    assert len(children) == workers and _reaped(children)
