"""`vizboard serve s3://...`: a remote logdir is passed to the data layer, polled, and served live."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

from logger._pb import event_pb2  # noqa: E402
from logger.records import frame  # noqa: E402
from tests.conftest import free_port, wait_json  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
         "AWS_DEFAULT_REGION": "us-east-1"}


def _records(steps) -> bytes:
    out = [frame(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())]
    for i in steps:
        e = event_pb2.Event(wall_time=1.7e9 + i, step=i)
        e.summary.value.add(tag="loss", simple_value=i * 2.0)
        out.append(frame(e.SerializeToString()))
    return b"".join(out)


def test_serve_s3_logdir_live(monkeypatch):
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    proc = None
    try:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket="logs")
        client.put_object(Bucket="logs", Key="exp/run1/events.out.tfevents.1.h", Body=_records(range(5)))
        web = free_port()
        env = dict(os.environ, **CREDS, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(REPO))
        proc = subprocess.Popen([sys.executable, "-m", "vizboard", "serve", "s3://logs/exp", "--port", str(web),
                                 "--reload-interval", "0.5"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{web}"
        out = wait_json(f"{base}/api/scalars?run=run1&tag=loss", lambda o: isinstance(o, dict) and "step" in o, timeout=60)
        assert out["value"] == [0.0, 2.0, 4.0, 6.0, 8.0]
        # a rewritten object with more points is picked up by polling
        client.put_object(Bucket="logs", Key="exp/run1/events.out.tfevents.1.h", Body=_records(range(8)))
        wait_json(f"{base}/api/scalars?run=run1&tag=loss", lambda o: o["step"][-1] == 7, timeout=60)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        server.stop()
