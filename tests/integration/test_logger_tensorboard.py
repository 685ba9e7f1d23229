"""TensorBoard as the oracle: files written by logger, read by TensorBoard's loaders, match torch's writer."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tensorboard")

from PIL import Image  # noqa: E402
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402
from tensorboard.backend.event_processing import plugin_event_accumulator as pea  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

from logger import SummaryWriter  # noqa: E402
from tests.conftest import free_port  # noqa: E402

GUIDANCE = {k: 0 for k in (ea.SCALARS, ea.HISTOGRAMS, ea.IMAGES, ea.AUDIO, ea.TENSORS, ea.COMPRESSED_HISTOGRAMS, ea.GRAPH)}
RNG = np.random.default_rng(7)
DATA = {
    "hist": RNG.standard_normal(10000),
    "hist_t": torch.randn(50, 20),
    "img_chw": RNG.random((3, 16, 24)).astype(np.float32),
    "img_hwc": (RNG.random((10, 12, 3)) * 255).astype(np.uint8),
    "img_hw": torch.rand(9, 7),
    "imgs": torch.rand(10, 3, 6, 5),
    "snd": np.sin(np.arange(8000) / 5.0).astype(np.float32) * 0.8,
    "labels": RNG.integers(0, 2, 200),
    "preds": RNG.random(200),
}


def _log_all(w) -> None:
    for i in range(5):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.add_scalar("nan", float("nan"), 0)
    w.add_histogram("hist", DATA["hist"], 1)
    w.add_histogram("hist_t", DATA["hist_t"], 2)
    w.add_image("img_chw", DATA["img_chw"], 1)
    w.add_image("img_hwc", DATA["img_hwc"], 1, dataformats="HWC")
    w.add_image("img_hw", DATA["img_hw"], 1, dataformats="HW")
    w.add_images("imgs", DATA["imgs"], 1)
    w.add_text("note", "**bold** text", 3)
    w.add_audio("snd", DATA["snd"], 1, sample_rate=8000)
    w.add_pr_curve("pr", DATA["labels"], DATA["preds"], 1)
    w.add_custom_scalars_multilinechart(["loss"], category="c", title="t")


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[ea.EventAccumulator, ea.EventAccumulator, str]:
    root = tmp_path_factory.mktemp("tb")
    ours, theirs = str(root / "ours"), str(root / "torch")
    with SummaryWriter(ours) as w:
        _log_all(w)
    tw = TorchWriter(theirs)
    _log_all(tw)
    tw.close()
    accs = []
    for d in (ours, theirs):
        acc = ea.EventAccumulator(d, size_guidance=GUIDANCE)
        acc.Reload()
        accs.append(acc)
    return accs[0], accs[1], str(root)


def test_same_tags(both) -> None:
    ours, theirs, _ = both
    for kind in ("scalars", "histograms", "images", "audio", "tensors"):
        assert sorted(ours.Tags()[kind]) == sorted(theirs.Tags()[kind]), kind


def test_scalars(both) -> None:
    ours, theirs, _ = both
    assert [(s.step, s.value) for s in ours.Scalars("loss")] == [(s.step, s.value) for s in theirs.Scalars("loss")]
    assert np.isnan(ours.Scalars("nan")[0].value)


def test_histograms_identical_buckets(both) -> None:
    ours, theirs, _ = both
    for tag in ("hist", "hist_t"):
        a, b = ours.Histograms(tag)[0], theirs.Histograms(tag)[0]
        assert a.step == b.step
        assert a.histogram_value == b.histogram_value


def test_images_pixels(both) -> None:
    ours, theirs, _ = both
    for tag in ("img_chw", "img_hwc", "img_hw", "imgs"):
        a, b = ours.Images(tag)[0], theirs.Images(tag)[0]
        assert (a.width, a.height) == (b.width, b.height)
        pa = np.asarray(Image.open(io.BytesIO(a.encoded_image_string)))
        pb = np.asarray(Image.open(io.BytesIO(b.encoded_image_string)))
        assert np.array_equal(pa, pb)
    grid = ours.Images("imgs")[0]
    assert (grid.width, grid.height) == (5 * 8, 6 * 2)  # 10 images, 8 per row


def test_audio_text_pr_custom_scalars(both) -> None:
    ours, theirs, _ = both
    assert ours.Audio("snd")[0].encoded_audio_string == theirs.Audio("snd")[0].encoded_audio_string
    for tag in ("note/text_summary", "pr", "custom_scalars__config__"):
        a, b = ours.Tensors(tag)[0], theirs.Tensors(tag)[0]
        assert a.tensor_proto == b.tensor_proto
        assert ours.SummaryMetadata(tag) == theirs.SummaryMetadata(tag)


def test_plugin_event_accumulator_sees_add_scalars_as_scalars(tmp_path) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        for i in range(3):
            w.add_scalars("loss", {"train": 1.0 + i, "val": 2.0 + i}, i)
    acc = pea.EventAccumulator(str(tmp_path), size_guidance={pea.TENSORS: 0})
    acc.Reload()
    meta = acc.PluginTagToContent("scalars")
    assert set(meta) == {"loss/train", "loss/val"}
    from tensorboard.util import tensor_util

    assert [tensor_util.make_ndarray(e.tensor_proto).item() for e in acc.Tensors("loss/val")] == [2.0, 3.0, 4.0]
    assert not [d for d in os.listdir(tmp_path) if os.path.isdir(os.path.join(tmp_path, d))]  # no sub-runs


def test_hparams_plugin_reads_the_session(tmp_path) -> None:
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider as dp
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, list_session_groups, plugin_data_pb2

    for i, (lr, flag) in enumerate([(0.1, True), (0.01, False)]):
        with SummaryWriter(str(tmp_path / f"r{i}")) as w:
            w.add_hparams({"lr": lr, "flag": flag, "opt": "adam", "skip": None}, {"acc": 0.0})
            for s in range(1, 4):
                w.add_scalar("acc", 0.1 * s + i, s)
    with pytest.raises(ZeroDivisionError):
        with SummaryWriter(str(tmp_path / "r_failed")) as w:
            w.add_hparams({"lr": 1.0, "flag": True, "opt": "sgd"}, {"acc": 0.0})
            raise ZeroDivisionError
    acc = ea.EventAccumulator(str(tmp_path / "r0"), size_guidance=GUIDANCE)
    acc.Reload()
    for tag, field in (("_hparams_/experiment", "experiment"), ("_hparams_/session_start_info", "session_start_info"),
                       ("_hparams_/session_end_info", "session_end_info")):
        data = plugin_data_pb2.HParamsPluginData.FromString(acc.SummaryMetadata(tag).plugin_data.content)
        assert data.WhichOneof("data") == field and data.version == 0

    m = pem.EventMultiplexer()
    m.AddRunsFromDirectory(str(tmp_path))
    m.Reload()
    ctx = base_plugin.TBContext(logdir=str(tmp_path), multiplexer=m, data_provider=dp.MultiplexerDataProvider(m, str(tmp_path)))
    statuses = [api_pb2.STATUS_SUCCESS, api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING]
    req = api_pb2.ListSessionGroupsRequest(start_index=0, slice_size=10, allowed_statuses=statuses)
    resp = list_session_groups.Handler(context.RequestContext(), backend_context.Context(ctx), "", req).run()
    groups = {g.name: g for g in resp.session_groups}
    assert set(groups) == {"r0", "r1", "r_failed"}
    assert groups["r0"].hparams["flag"].bool_value is True and groups["r1"].hparams["flag"].bool_value is False
    assert groups["r0"].hparams["lr"].number_value == 0.1 and groups["r0"].hparams["opt"].string_value == "adam"
    assert "skip" not in groups["r0"].hparams
    assert groups["r1"].metric_values[0].value == pytest.approx(1.3)  # the last acc logged
    assert groups["r0"].sessions[0].status == api_pb2.STATUS_SUCCESS and groups["r0"].sessions[0].end_time_secs > 0
    assert groups["r_failed"].sessions[0].status == api_pb2.STATUS_FAILURE


def test_hparams_with_run_name_uses_subdir(tmp_path) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({"lr": 0.1}, {"m": 1.0}, run_name="hp")
    acc = ea.EventAccumulator(str(tmp_path / "hp"), size_guidance=GUIDANCE)
    acc.Reload()
    assert acc.SummaryMetadata("_hparams_/session_end_info").plugin_data.plugin_name == "hparams"
    assert [s.value for s in acc.Scalars("m")] == [1.0]


def test_graph_and_module_tree(tmp_path) -> None:
    import json

    from tensorboard.compat.proto import graph_pb2

    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(model, torch.randn(2, 4))
    acc = ea.EventAccumulator(str(tmp_path), size_guidance=GUIDANCE)
    acc.Reload()
    gd = acc.Graph()
    assert isinstance(gd, graph_pb2.GraphDef)
    assert "aten::linear" in {n.op for n in gd.node} and "step1" in acc.Tags()["run_metadata"]
    tensor = acc.Tensors("__vizboard_module_graph__")[0]
    assert tensor.step == 0 and not tensor.tensor_proto.HasField("tensor_shape")
    assert acc.SummaryMetadata("__vizboard_module_graph__").plugin_data.plugin_name == "vizboard_module_graph"
    tree = json.loads(tensor.tensor_proto.string_val[0].decode("utf-8"))
    assert [c["path"] for c in tree["root"]["children"]] == ["0", "1"]
    # same GraphDef as torch's writer
    tdir = str(tmp_path / "torch")
    tw = TorchWriter(tdir)
    tw.add_graph(model, torch.randn(2, 4))
    tw.close()
    tacc = ea.EventAccumulator(tdir, size_guidance=GUIDANCE)
    tacc.Reload()
    assert [(n.name, n.op) for n in tacc.Graph().node] == [(n.name, n.op) for n in gd.node]


def test_embedding_files_match_torch(tmp_path) -> None:
    mat = torch.randn(6, 4)
    meta = [f"p{i}" for i in range(6)]
    imgs = torch.rand(6, 3, 4, 4)
    for name, cls in (("ours", SummaryWriter), ("torch", TorchWriter)):
        w = cls(str(tmp_path / name))
        w.add_embedding(mat, metadata=meta, label_img=imgs, global_step=3, tag="emb/x")
        w.close()
    rel = os.path.join("00003", "emb%2fx")
    for fname in ("tensors.tsv", "metadata.tsv", "sprite.png"):
        a = (tmp_path / "ours" / rel / fname).read_bytes()
        b = (tmp_path / "torch" / rel / fname).read_bytes()
        assert a == b, fname
    ours, theirs = (tmp_path / d / "projector_config.pbtxt" for d in ("ours", "torch"))
    assert ours.read_text() == theirs.read_text()


@pytest.mark.slow
def test_tensorboard_server_default_rust_loader_serves_our_files(tmp_path) -> None:
    """The loader users get by default (``--load_fast=true``, the Rust data server) shows every kind we write."""
    import json
    import subprocess
    import sys
    import time
    import urllib.parse
    import urllib.request

    pytest.importorskip("tensorboard_data_server")
    with SummaryWriter(str(tmp_path / "run")) as w:
        w.add_hparams({"lr": 0.1, "flag": True}, {"acc": 0.5})
        for i in range(3):
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.add_scalars("pair", {"a": float(i), "b": -float(i)}, i)
        w.add_histogram("hist", DATA["hist"], 1)
        w.add_image("img", DATA["img_chw"], 1)
        w.add_text("note", "hi", 1)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path), "--load_fast=true",
                             "--port", str(port), "--host", "127.0.0.1", "--reload_interval", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def get(path: str, data: bytes | None = None):
        with urllib.request.urlopen(base + path, data=data, timeout=30) as resp:
            return json.loads(resp.read())

    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, "tensorboard exited"
            try:
                tags = get("/data/plugin/scalars/tags").get("run", {})
                if {"loss", "pair/a", "pair/b", "acc"} <= set(tags) and get("/data/plugin/histograms/tags").get("run"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "tensorboard did not serve the run in time"
            time.sleep(0.2)
        q = urllib.parse.urlencode({"run": "run", "tag": "pair/b"})
        assert [p[1:] for p in get(f"/data/plugin/scalars/scalars?{q}")] == [[0, 0.0], [1, -1.0], [2, -2.0]]
        assert "hist" in get("/data/plugin/histograms/tags")["run"]
        assert "img" in get("/data/plugin/images/tags")["run"]
        assert "note/text_summary" in get("/data/plugin/text/tags")["run"]
        q = urllib.parse.urlencode({"request": json.dumps({"experimentName": ""})})
        exp = get(f"/data/plugin/hparams/experiment?{q}")
        assert {h["name"] for h in exp["hparamInfos"]} == {"lr", "flag"}
        assert [m["name"]["tag"] for m in exp["metricInfos"]] == ["acc"]
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
