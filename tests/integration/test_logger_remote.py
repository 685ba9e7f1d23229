"""SummaryWriter with an fsspec URL as log_dir: objects in memory:// and in a real S3 API server (moto on loopback)."""

from __future__ import annotations

import socket
import sys

import pytest

import logger.storage
from logger import SummaryWriter
from logger._pb import event_pb2
from logger.records import scan
from vizboard.data import load


def events(data: bytes) -> list[event_pb2.Event]:
    return [event_pb2.Event.FromString(r.payload) for r in scan(data, final=True).records]


def scalars(evs: list[event_pb2.Event]) -> list[tuple[int, str, float]]:
    return [(e.step, v.tag, v.simple_value) for e in evs for v in e.summary.value if v.HasField("simple_value")]


def test_memory_url_writes_objects_and_nothing_locally(tmp_path, monkeypatch):
    import fsspec

    monkeypatch.chdir(tmp_path)
    fs = fsspec.filesystem("memory")
    w = SummaryWriter("memory://bucket/exp1", flush_secs=60)
    w.add_scalar("loss", 1.5, 3)
    w.flush()
    files = [p for p in fs.find("/bucket/exp1") if "tfevents" in p]
    assert len(files) == 1
    assert scalars(events(fs.cat_file(files[0]))) == [(3, "loss", 1.5)]
    w.add_text("note", "hi", 4)
    w.close()
    evs = events(fs.cat_file(files[0]))
    assert evs[0].file_version == "brain.Event:2"
    assert any(v.tag == "note/text_summary" for e in evs for v in e.summary.value)
    assert list(tmp_path.iterdir()) == []  # no local folder named like the URL
    fs.rm("/bucket", recursive=True)


def test_rolled_objects_each_start_with_the_version_record(monkeypatch):
    import fsspec

    monkeypatch.setattr(logger.storage, "_ROLL_BYTES", 200)
    monkeypatch.setattr(logger.storage.RemoteSink.__init__, "__defaults__", (None, 200))
    fs = fsspec.filesystem("memory")
    with SummaryWriter("memory://roll/run", flush_secs=60) as w:
        for i in range(30):
            w.add_scalar("x", float(i), i)
            if i % 5 == 4:
                w.flush()
    files = sorted(p for p in fs.find("/roll/run") if "tfevents" in p)
    assert len(files) > 2
    got = []
    for f in files:
        evs = events(fs.cat_file(f))
        assert evs[0].file_version == "brain.Event:2"
        got += scalars(evs)
    assert sorted(got) == [(i, "x", float(i)) for i in range(30)]
    fs.rm("/roll", recursive=True)


def test_missing_filesystem_package_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # as if not installed
    with pytest.raises(ImportError, match="gcsfs"):
        SummaryWriter("gs://bucket/exp")
    with pytest.raises(ValueError, match="nosuchproto"):
        SummaryWriter("nosuchproto://bucket/exp")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def s3(monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    import boto3

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="logs")
    try:
        yield {"client_kwargs": {"endpoint_url": url}, "key": "testing", "secret": "testing"}
    finally:
        server.stop()


def test_s3_log_dir_is_read_back_by_vizboard(s3, tmp_path, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    w = SummaryWriter("s3://logs/exp1/run1", storage_options=s3)
    for i in range(5):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.add_histogram("w", np.arange(10.0), 4)
    w.flush()
    live = load("s3://logs/exp1", storage_options=s3)  # visible after flush, before close
    assert live.scalars("run1", "loss").step.tolist() == [0, 1, 2, 3, 4]
    w.add_scalar("loss", 0.1, 5)
    w.add_hparams({"lr": 0.1}, {"hp/acc": 0.5}, run_name="hp")
    w.close()
    assert w.file_writer is None
    store = load("s3://logs/exp1", storage_options=s3)
    assert [r.name for r in store.runs()] == ["run1", "run1/hp"]
    loss = store.scalars("run1", "loss")
    assert loss.step.tolist() == list(range(6))
    assert loss.value.tolist() == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2, 0.1])
    assert store.problems() == []
    assert list(tmp_path.iterdir()) == []


def test_s3_log_dir_is_live_in_vizboard_while_training(s3):
    """What `vizboard serve s3://...` shows: the ingest thread sees each flushed upload of the growing object."""
    import time

    from vizboard.data import Ingestor, Store

    live = Store("s3://logs/live", storage_options=s3)
    w = SummaryWriter("s3://logs/live/run", storage_options=s3, flush_secs=0.5)
    try:
        with Ingestor(live, reload_interval=0.2) as ing:
            for step in range(3):
                w.add_scalar("loss", float(step), step)
                w.flush()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    s = live.scalars("run", "loss") if ing is not None else None
                    if s is not None and len(s) == step + 1:
                        break
                    time.sleep(0.05)
                assert live.scalars("run", "loss").step.tolist() == list(range(step + 1))
    finally:
        w.close()
    assert live.problems() == []
