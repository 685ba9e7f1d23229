"""Damaged, torn, replaced and disappearing event files never crash ingestion or lose other data."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from logger._pb import event_pb2
from logger.records import frame
from vizboard.data import Ingestor, Store

FILE = "events.out.tfevents.1700000000.host.1.0"


def payload(step: int, tag: str = "loss", value: float | None = None, wall: float | None = None) -> bytes:
    e = event_pb2.Event(wall_time=1.7e9 + step if wall is None else wall, step=step)
    e.summary.value.add(tag=tag, simple_value=step * 0.5 if value is None else value)
    return e.SerializeToString()


def header() -> bytes:
    return frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())


def write(path, data: bytes, mode: str = "wb") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def steps(store, run="run", tag="loss"):
    s = store.scalars(run, tag)
    return [] if s is None else s.step.tolist()


def kinds(store):
    return sorted(p.kind for p in store.problems())


def test_torn_tail_is_completed_later(tmp_path):
    path = tmp_path / "run" / FILE
    recs = [frame(payload(i)) for i in range(4)]
    data = header() + b"".join(recs)
    cut = len(data) - len(recs[-1]) // 2
    write(path, data[:cut])
    store = Store(str(tmp_path))
    ing = Ingestor(store, watch=False)
    ing.run_once()
    assert steps(store) == [0, 1, 2] and store.problems() == []
    write(path, data[cut:], "ab")
    ing.run_once()
    assert steps(store) == [0, 1, 2, 3] and store.problems() == []


def test_flipped_payload_byte_skips_only_that_record(tmp_path):
    recs = [frame(payload(i)) for i in range(40)]
    data = bytearray(header() + b"".join(recs))
    off = len(header()) + sum(len(r) for r in recs[:20]) + 12 + 5  # inside record 20's payload
    data[off] ^= 0x40
    write(tmp_path / "run" / FILE, bytes(data))
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    assert steps(store) == [i for i in range(40) if i != 20]
    assert kinds(store) == ["payload_crc"]
    assert store.runs()[0].num_problems == 1


def test_flipped_length_byte_resyncs(tmp_path):
    recs = [frame(payload(i)) for i in range(40)]
    data = bytearray(header() + b"".join(recs))
    off = len(header()) + sum(len(r) for r in recs[:10]) + 2  # record 10's length field
    data[off] ^= 0x01
    write(tmp_path / "run" / FILE, bytes(data))
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    assert steps(store) == [i for i in range(40) if i != 10]
    assert kinds(store) == ["length_crc"]


def test_unparsable_payload_and_bad_value_are_reported(tmp_path):
    bad_tensor = event_pb2.Event(step=3, wall_time=1.0)
    v = bad_tensor.summary.value.add(tag="loss")
    v.metadata.plugin_data.plugin_name = "scalars"
    v.tensor.dtype = 1
    v.tensor.tensor_shape.dim.add(size=3)
    v.tensor.float_val.extend([1.0, 2.0])  # 2 values for 3 elements
    data = header() + frame(payload(1)) + frame(b"\xff\xff\xff garbage") + frame(bad_tensor.SerializeToString())
    data += frame(payload(5))
    write(tmp_path / "run" / FILE, data)
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    assert steps(store) == [1, 5]
    assert kinds(store) == ["bad_value", "unparsable"]


def test_garbage_and_empty_files_do_not_hide_good_ones(tmp_path):
    rng = np.random.default_rng(0)
    write(tmp_path / "run" / "events.out.tfevents.0.garbage", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    write(tmp_path / "run" / "events.out.tfevents.1.empty", b"")
    write(tmp_path / "run" / FILE, header() + b"".join(frame(payload(i)) for i in range(5)))
    write(tmp_path / "empty_run" / FILE, b"")
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    assert steps(store) == [0, 1, 2, 3, 4]
    assert {r.name for r in store.runs()} == {"run", "empty_run"}
    assert store.problems() and set(kinds(store)) == {"length_crc"}
    assert all(p.file.endswith("garbage") for p in store.problems())


def test_nan_and_inf_wall_times_are_kept(tmp_path):
    data = header() + frame(payload(0, wall=float("nan"))) + frame(payload(1, wall=float("inf")))
    data += frame(payload(2, value=float("nan")))
    write(tmp_path / "run" / FILE, data)
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    s = store.scalars("run", "loss")
    assert s.step.tolist() == [0, 1, 2] and np.isnan(s.wall_time[0]) and np.isinf(s.wall_time[1])
    assert np.isnan(s.value[2])


def test_shrunk_file_is_reported_and_reread(tmp_path):
    path = tmp_path / "run" / FILE
    write(path, header() + b"".join(frame(payload(i)) for i in range(10)))
    store = Store(str(tmp_path))
    ing = Ingestor(store, watch=False)
    ing.run_once()
    write(path, header() + b"".join(frame(payload(i, value=100.0 + i)) for i in range(3)))  # replaced
    ing.run_once()
    assert "unreadable" in kinds(store)
    s = store.scalars("run", "loss")
    assert s.step.tolist() == [0, 1, 2] and s.value.tolist() == [100.0, 101.0, 102.0]


def wait_for(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.mark.timeout(60)
def test_file_deleted_while_tailed(tmp_path):
    keep = tmp_path / "run" / FILE
    gone = tmp_path / "run" / "events.out.tfevents.1700000001.host.1.0"
    solo = tmp_path / "solo" / FILE
    write(keep, header() + frame(payload(0)))
    write(gone, header() + frame(payload(1, tag="other")))
    write(solo, header() + frame(payload(0)))
    store = Store(str(tmp_path))
    with Ingestor(store, reload_interval=0.2) as ing:
        assert ing.wait_until_loaded(20)
        assert steps(store, tag="other") == [1] and steps(store, "solo") == [0]
        os.remove(gone)
        os.remove(solo)
        write(keep, frame(payload(1)), "ab")
        assert wait_for(lambda: steps(store) == [0, 1] and "solo" not in {r.name for r in store.runs()})
        assert wait_for(lambda: store.runs()[0].num_files == 1)
        assert steps(store, tag="other") == [1]  # data already read is kept


def test_blob_gone_from_disk_reads_empty_and_is_reported(tmp_path):
    e = event_pb2.Event(wall_time=1.0, step=1)
    v = e.summary.value.add(tag="img")
    v.image.encoded_image_string = b"\x89PNG\r\n\x1a\n fake"
    v.image.width, v.image.height = 2, 3
    path = tmp_path / "run" / FILE
    write(path, header() + frame(e.SerializeToString()))
    store = Store(str(tmp_path))
    ing = Ingestor(store, watch=False)
    ing.run_once()
    [ref] = store.blobs("run", "img")
    assert store.read_blob(ref) == b"\x89PNG\r\n\x1a\n fake"
    path.write_bytes(header())  # replaced by a shorter file: the record is gone
    store._blobs = type(store._blobs)(store.fs)  # empty cache
    assert store.read_blob(ref) == b""
    ing.run_once()
    assert "unreadable" in kinds(store)


def test_replaced_file_same_size_is_reread(tmp_path):
    path = tmp_path / "run" / FILE
    write(path, header() + b"".join(frame(payload(i)) for i in range(5)))
    store = Store(str(tmp_path))
    ing = Ingestor(store, watch=False)
    ing.run_once()
    tmp = tmp_path / "run" / "new.tmp"
    write(tmp, header() + b"".join(frame(payload(i, value=7.0)) for i in range(5)))  # same size, new content
    os.replace(tmp, path)  # like rsync without --inplace
    ing.run_once()
    assert store.scalars("run", "loss").value.tolist() == [7.0] * 5
    assert "unreadable" in kinds(store)
