"""The cold load pauses Python's cyclic collector only while it runs, and restores its previous state."""

from __future__ import annotations

import gc

from logger._pb import event_pb2
from logger.records import frame
from vizboard.data import Store
from vizboard.data import ingest as ingest_mod
from vizboard.data.ingest import Ingestor


def _logdir(root) -> None:
    for i in range(5):
        d = root / f"run{i}"
        d.mkdir()
        ev = event_pb2.Event(wall_time=1.7e9, step=1)
        ev.summary.value.add(tag="loss", simple_value=0.5)
        (d / "events.out.tfevents.1.h").write_bytes(frame(ev.SerializeToString()))


def test_collector_paused_during_discovery_and_batches_then_restored(tmp_path, monkeypatch) -> None:
    _logdir(tmp_path)
    seen: list[bool] = []
    real = ingest_mod.poll_many

    def spy(fs, tails):
        seen.append(gc.isenabled())
        return real(fs, tails)

    monkeypatch.setattr(ingest_mod, "poll_many", spy)
    assert gc.isenabled()
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    assert seen == [False] and gc.isenabled()  # paused while reading, back on after
    assert len(store.runs()) == 5
    gc.disable()
    try:
        Ingestor(Store(str(tmp_path)), watch=False).run_once()
        assert not gc.isenabled()  # a process that disabled it keeps it disabled
    finally:
        gc.enable()


def test_collector_restored_when_a_batch_raises(tmp_path, monkeypatch) -> None:
    _logdir(tmp_path)

    def boom(fs, tails):
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest_mod, "poll_many", boom)
    try:
        Ingestor(Store(str(tmp_path)), watch=False).run_once()
    except RuntimeError:
        pass
    assert gc.isenabled()
