"""Issue 16: no route or callback returns bytes of a file that resolves outside the logdir (symlinks, ``..``)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from dash.exceptions import PreventUpdate

from logger import SummaryWriter
from vizboard.app import create_app
from vizboard.config import ServeConfig
from vizboard.data import load
from vizboard.data.served import served
from vizboard.data.traces import TraceFile, TraceParseError

TRACE = {"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1, "ts": 1.0, "dur": 2.0}]}


def _write_media(run_dir: Path) -> None:
    with SummaryWriter(str(run_dir)) as w:
        w.add_scalar("loss", 1.0, 0)
        w.add_image("img", np.full((3, 4, 4), 200, np.uint8), 0)


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A logdir with an honest run and a run whose event file is a symlink to a file outside."""
    outside = tmp_path / "outside"
    _write_media(outside / "victim")
    logdir = tmp_path / "logdir"
    _write_media(logdir / "honest")
    (logdir / "evil").mkdir(parents=True)
    (victim,) = (outside / "victim").iterdir()
    (logdir / "evil" / victim.name).symlink_to(victim)
    prof = logdir / "honest" / "plugins" / "profile"
    prof.mkdir(parents=True)
    (prof / "w.1.pt.trace.json").write_text(json.dumps(TRACE))
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2")
    (prof / "evil.2.pt.trace.json").symlink_to(secret)
    return logdir, outside


def test_blob_route_refuses_an_event_file_that_resolves_outside(hostile) -> None:
    logdir, _ = hostile
    provider = served(load(str(logdir)))
    client = create_app(ServeConfig(logdir=str(logdir)), provider).server.test_client()
    ok = client.get("/api/images?run=honest&tag=img").get_json()["images"][0]["url"]
    r = client.get(ok)
    assert r.status_code == 200 and r.data.startswith(b"\x89PNG")
    listing = client.get("/api/images?run=evil&tag=img")
    if listing.status_code == 200:  # the reader may index the linked file; its bytes are never served
        for item in listing.get_json()["images"]:
            r = client.get(item["url"])
            assert r.status_code == 404 and b"outside" in r.data
    refs = [ref for ref in provider.blobs("evil", "img")]
    assert all(provider.read_blob(ref) == b"" for ref in refs)


def test_profile_download_and_provider_refuse_a_symlinked_trace(hostile) -> None:
    logdir, _ = hostile
    provider = served(load(str(logdir)))
    names = [os.path.basename(t.path) for t in provider.traces()]
    assert names == ["w.1.pt.trace.json"]
    forged = TraceFile("honest", str(logdir / "honest/plugins/profile/evil.2.pt.trace.json"), "evil", 2, 13, 0.0)
    with pytest.raises(TraceParseError):
        provider.read_trace(forged)
    app = create_app(ServeConfig(logdir=str(logdir)), provider)
    (spec,) = [s for k, s in app.callback_map.items() if k == "profile-download.data"]
    download = spec["callback"].__wrapped__
    with pytest.raises(PreventUpdate):
        download(1, forged.path)
    got = download(1, provider.traces()[0].path)
    assert json.loads(base64.b64decode(got["content"])) == TRACE


def test_a_trace_replaced_by_a_link_after_listing_is_refused(hostile) -> None:
    logdir, _ = hostile
    provider = served(load(str(logdir)))
    (t,) = provider.traces()
    os.remove(t.path)
    os.symlink(str(logdir.parent / "secret.txt"), t.path)
    with pytest.raises(TraceParseError, match="outside"):
        provider.read_trace(t)


def test_graph_route_refuses_a_graph_outside(tmp_path: Path) -> None:
    import torch
    outside = tmp_path / "outside" / "victim"
    with SummaryWriter(str(outside)) as w:
        w.add_graph(torch.nn.Linear(2, 2), torch.zeros(1, 2))
    logdir = tmp_path / "logdir"
    shutil.copytree(outside, logdir / "honest")
    (logdir / "evil").mkdir()
    for f in outside.iterdir():
        (logdir / "evil" / f.name).symlink_to(f)
    provider = served(load(str(logdir)))
    client = create_app(ServeConfig(logdir=str(logdir)), provider).server.test_client()
    honest = client.get("/api/graph?run=honest").get_json()
    assert honest["graph_def"]["num_nodes"] > 0 and "error" not in honest["graph_def"]
    r = client.get("/api/graph?run=evil")
    assert r.status_code == 200
    assert r.get_json()["graph_def"]["error"].endswith("outside the logdir")  # nothing read from the outside file
    (ref,) = [g.graph_def for g in [provider.graph("evil")] if g is not None and g.graph_def is not None]
    assert provider.read_blob(ref) == b""
