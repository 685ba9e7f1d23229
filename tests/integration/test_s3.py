"""Remote logdirs through fsspec: an S3-compatible server (moto) on loopback, listed and polled."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

from logger._pb import event_pb2  # noqa: E402
from logger.records import frame  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from vizboard.data import Ingestor, Store, load  # noqa: E402
from vizboard.data.traces import TraceFile, TraceIndex, TraceParseError, read_trace_bytes  # noqa: E402


def records(steps, tag="loss"):
    out = [frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())]
    for i in steps:
        e = event_pb2.Event(wall_time=1.7e9 + i, step=i)
        e.summary.value.add(tag=tag, simple_value=i * 2.0)
        out.append(frame(e.SerializeToString()))
    return b"".join(out)


@pytest.fixture
def s3(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    client.create_bucket(Bucket="logs")
    try:
        yield client, {"client_kwargs": {"endpoint_url": url}, "key": "testing", "secret": "testing"}
    finally:
        server.stop()


def test_s3_logdir_is_listed_read_and_polled(s3):
    client, opts = s3
    client.put_object(Bucket="logs", Key="exp/run1/events.out.tfevents.1.h", Body=records(range(5)))
    client.put_object(Bucket="logs", Key="exp/nested/run2/events.out.tfevents.1.h", Body=records(range(3), "acc"))
    client.put_object(Bucket="logs", Key="exp/run1/notes.txt", Body=b"not an event file")
    client.put_object(Bucket="logs", Key="exp/run1/plugins/profile/w.1.pt.trace.json", Body=b"{}")
    client.put_object(Bucket="logs", Key="expX/run1/plugins/profile/w.2.pt.trace.json", Body=b"{}")
    store = load("s3://logs/exp", storage_options=opts)
    assert [r.name for r in store.runs()] == ["nested/run2", "run1"]
    assert store.scalars("run1", "loss").value.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert store.scalars("nested/run2", "acc").step.tolist() == [0, 1, 2]
    traces = TraceIndex("s3://logs/exp", storage_options=opts)
    assert [(t.run, t.path) for t in traces.traces()] == [("run1", "s3://logs/exp/run1/plugins/profile/w.1.pt.trace.json")]
    assert traces.read(traces.traces()[0]) == b"{}"
    forged = TraceFile("run1", "s3://logs/exp/../expX/run1/plugins/profile/w.2.pt.trace.json", "w", 2, 2, 0.0)
    with pytest.raises(TraceParseError, match="outside"):
        read_trace_bytes("s3://logs/exp", forged, opts)

    live = Store("s3://logs/exp", storage_options=opts)
    with Ingestor(live, reload_interval=0.2) as ing:
        assert ing.wait_until_loaded(30)
        assert len(live.scalars("run1", "loss")) == 5
        # Objects are immutable: a writer syncing to S3 re-uploads the grown file.
        client.put_object(Bucket="logs", Key="exp/run1/events.out.tfevents.1.h", Body=records(range(8)))
        client.put_object(Bucket="logs", Key="exp/run3/events.out.tfevents.1.h", Body=records([1], "new"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            s = live.scalars("run1", "loss")
            if len(s) == 8 and live.scalars("run3", "new") is not None:
                break
            time.sleep(0.05)
        assert live.scalars("run1", "loss").step.tolist() == list(range(8))
        assert live.scalars("run3", "new").value.tolist() == [2.0]
        assert live.problems() == []
