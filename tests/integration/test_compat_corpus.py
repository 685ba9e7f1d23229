"""Compatibility corpus: files written by torch, tensorboardX and tensorboard's own summary
helpers (and vizboard's logger) are read back exactly by vizboard.data.load.

Histograms, PR curves, text and images are also checked against TensorBoard's
EventAccumulator (the oracle) where the two must agree.
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tbx = pytest.importorskip("tensorboardX")

from PIL import Image  # noqa: E402

from vizboard.data import load  # noqa: E402
from vizboard.data.models import Kind  # noqa: E402

F32 = lambda x: float(np.float32(x))  # noqa: E731


def _event_writer(logdir: str):
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    return EventFileWriter(logdir)


def _tb_event(summary, step: int):
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=1700000000.0 + step, step=step, summary=summary)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    exp: dict = {}
    rng = np.random.default_rng(0)

    # ---------------- torch.utils.tensorboard, two files in one run + a nested run
    from torch.utils.tensorboard import SummaryWriter

    tdir = str(root / "torch")
    w = SummaryWriter(tdir)
    loss = [float(rng.normal()) for _ in range(30)]
    for i in range(20):
        w.add_scalar("loss", loss[i], i)
        w.add_scalar("new_style", loss[i], i, new_style=True)
        w.add_scalar("dbl", loss[i], i, new_style=True, double_precision=True)
    hist_data = {s: rng.normal(size=500) for s in range(3)}
    for s, d in hist_data.items():
        w.add_histogram("weights", d, s)
    img = rng.integers(0, 256, size=(3, 6, 10), dtype=np.uint8)
    w.add_image("img", img, 4)
    w.add_text("note", "hello **x**", 5)
    labels = rng.integers(0, 2, size=100)
    preds = rng.random(100)
    w.add_pr_curve("pr", labels, preds, 6, num_thresholds=11)
    w.add_audio("snd", torch.from_numpy(np.sin(np.arange(800) / 10).astype(np.float32)), 7, sample_rate=8000)
    w.add_custom_scalars({"Cat": {"both": ["Multiline", ["loss", r"new_.*"]],
                                  "band": ["Margin", ["loss", "new_style", "dbl"]]}})
    w.add_scalars("grp", {"a": 1.5, "b": 2.5}, 3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    w.add_graph(model, torch.zeros(2, 4))
    w.add_hparams({"lr": 0.1, "bs": 32, "opt": "adam", "flag": True}, {"hparam/acc": 0.75}, run_name="hp")
    w.close()
    w2 = SummaryWriter(tdir, filename_suffix=".second")
    for i in range(20, 30):
        w2.add_scalar("loss", loss[i], i)
    w2.close()
    wn = SummaryWriter(os.path.join(tdir, "nested"))
    wn.add_scalar("inner", 42.0, 1)
    wn.close()
    exp["torch"] = dict(loss=loss, hist=hist_data, img=img, labels=labels, preds=preds)

    # ---------------- tensorboardX
    xdir = str(root / "tbx")
    x = tbx.SummaryWriter(xdir)
    for i in range(10):
        x.add_scalar("acc", i / 10, i)
    x.add_histogram("h", hist_data[0], 1)
    x.add_text("t", "tbx text", 2)
    x.add_scalars("pair", {"p": 1.0, "q": 2.0}, 0)
    x.add_hparams({"lr": 0.5, "use_bn": False, "name": "net"}, {"m/acc": 0.25}, name="hpx")
    x.close()

    # ---------------- tensorboard's own pb helpers (TB 2.x tensor forms), no TF
    from tensorboard.compat.proto import summary_pb2 as tb_summary
    from tensorboard.compat.proto import tensor_pb2 as tb_tensor
    from tensorboard.plugins.audio import metadata as audio_md
    from tensorboard.plugins.histogram import summary_v2 as histogram_v2
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.plugins.image import metadata as image_md
    from tensorboard.plugins.pr_curve import metadata as pr_md
    from tensorboard.plugins.scalar import summary_v2 as scalar_v2
    from tensorboard.plugins.text import summary_v2 as text_v2
    from tensorboard.util import tensor_util

    def tensor_summary(tag, md, arr):
        value = tb_summary.Summary.Value(tag=tag, metadata=md, tensor=tensor_util.make_tensor_proto(arr))
        return tb_summary.Summary(value=[value])

    def png(a):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        return buf.getvalue()

    v2dir = str(root / "tb2")
    ew = _event_writer(v2dir)
    ew.add_event(_tb_event(scalar_v2.scalar_pb("s", np.float32(1.25)), 0))
    ew.add_event(_tb_event(scalar_v2.scalar_pb("s", np.float32(-2.5)), 1))
    hdata = rng.normal(size=200)
    ew.add_event(_tb_event(histogram_v2.histogram_pb("hist2", hdata, buckets=7), 2))
    imgs = rng.integers(0, 256, size=(2, 5, 4, 3), dtype=np.uint8)
    im_arr = np.array([b"4", b"5"] + [png(a) for a in imgs], dtype=object)  # [w, h, png...] like tf.summary.image
    ew.add_event(_tb_event(tensor_summary("im2", image_md.create_summary_metadata("im2", ""), im_arr), 3))
    wav = bytes(torch.utils.tensorboard.summary.audio("x", torch.zeros(100), 8000).value[0].audio.encoded_audio_string)
    au_arr = np.array([[wav, b"first"], [wav, b"second"]], dtype=object)
    au_md = audio_md.create_summary_metadata("au2", "", encoding=audio_md.Encoding.Value("WAV"))
    ew.add_event(_tb_event(tensor_summary("au2", au_md, au_arr), 3))
    ew.add_event(_tb_event(text_v2.text_pb("plain", "rank *zero*"), 4))
    ew.add_event(_tb_event(text_v2.text_pb("table", np.array([["a", "b"], ["c", "d"]])), 4))
    pr_data = rng.random((6, 9)).astype(np.float32)
    ew.add_event(_tb_event(tensor_summary("pr2", pr_md.create_summary_metadata("pr2", "", num_thresholds=9), pr_data), 5))
    ew.add_event(_tb_event(hp.hparams_config_pb(
        hparams=[hp.HParam("units", hp.Discrete([16, 32])), hp.HParam("drop", hp.RealInterval(0.0, 0.5))],
        metrics=[hp.Metric("acc2")]), 0))
    ew.add_event(_tb_event(hp.hparams_pb({"units": 32, "drop": 0.25}, trial_id="trial-1"), 0))
    ew.add_event(_tb_event(scalar_v2.scalar_pb("acc2", np.float32(0.5)), 6))
    ew.add_event(_tb_event(scalar_v2.scalar_pb("acc2", np.float32(0.625)), 7))
    # Odd scalar dtypes, as torch's add_tensor / other writers may produce.
    scalar_md = tb_summary.SummaryMetadata(plugin_data=tb_summary.SummaryMetadata.PluginData(plugin_name="scalars"))
    odd = [
        ("half", tb_tensor.TensorProto(dtype=19, half_val=[int(np.float16(1.5).view(np.uint16))]), 1.5),
        ("bf16", tb_tensor.TensorProto(dtype=14, half_val=[int(np.float32(-3.0).view(np.uint32) >> 16)]), -3.0),
        ("i64", tb_tensor.TensorProto(dtype=9, int64_val=[1234567890123]), 1234567890123.0),
        ("i32c", tb_tensor.TensorProto(dtype=3, tensor_content=np.int32(-7).tobytes()), -7.0),
        ("f64c", tb_tensor.TensorProto(dtype=2, tensor_content=np.float64(0.1).tobytes()), 0.1),
    ]
    for name, tensor, _ in odd:
        s = tb_summary.Summary(value=[tb_summary.Summary.Value(tag=name, tensor=tensor, metadata=scalar_md)])
        ew.add_event(_tb_event(s, 9))
    ew.close()
    exp["tb2"] = dict(hdata=hdata, imgs=imgs, pr_data=pr_data, wav=wav, odd=odd)

    # ---------------- vizboard's own logger
    from logger import SummaryWriter as VWriter

    ldir = str(root / "ours")
    lw = VWriter(ldir)
    for i in range(5):
        lw.add_scalars("train", {"loss": 1.0 / (i + 1), "acc": i / 5}, i)
        lw.add_scalar("plain", i * 2.0, i)
    lw.close()
    return str(root), exp


@pytest.fixture(scope="module")
def store(corpus):
    return load(corpus[0])


def test_runs_are_every_directory_with_event_files(store):
    names = [r.name for r in store.runs()]
    assert "torch" in names and "torch/nested" in names and "tbx" in names and "tb2" in names
    assert "torch/grp_a" in names and "torch/grp_b" in names  # torch add_scalars sub-runs
    assert "tbx/pair/p" in names and "tbx/pair/q" in names  # tensorboardX nested sub-runs
    assert "torch/hp" in names and "tbx/hpx" in names
    assert next(r for r in store.runs() if r.name == "torch").num_files == 2
    assert store.problems() == []


def test_scalars_exact_across_two_files(store, corpus):
    loss = corpus[1]["torch"]["loss"]
    s = store.scalars("torch", "loss")
    assert s.step.tolist() == list(range(30))
    assert s.value.tolist() == [F32(v) for v in loss]
    assert s.step.dtype == np.int64 and s.value.dtype == np.float64 and not s.value.flags.writeable
    assert store.scalars("torch", "new_style").value.tolist() == [F32(v) for v in loss[:20]]
    assert store.scalars("torch", "dbl").value.tolist() == loss[:20]  # double precision kept
    assert store.scalars("torch/nested", "inner").value.tolist() == [42.0]
    assert store.scalars("torch/grp_a", "grp").value.tolist() == [1.5]
    assert store.scalars("tbx", "acc").value.tolist() == [F32(i / 10) for i in range(10)]
    assert store.scalars("tb2", "s").value.tolist() == [1.25, -2.5]
    for name, _, want in corpus[1]["tb2"]["odd"]:
        assert store.scalars("tb2", name).value.tolist() == [want], name


def _oracle(run_dir: str):
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea

    acc = pea.EventAccumulator(run_dir, size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    return acc


def _tensor(acc, tag):
    from tensorboard.util import tensor_util

    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def test_histograms_match_tensorboard(store, corpus):
    root = corpus[0]
    for run, tag in [("torch", "weights"), ("tbx", "h"), ("tb2", "hist2")]:
        h = store.histograms(run, tag)
        want = _tensor(_oracle(os.path.join(root, run)), tag)
        assert h.step.tolist() == [s for s, _ in want]
        for i, (_, arr) in enumerate(want):
            left, right, count = h.buckets(i)
            # TensorBoard narrows legacy histograms to float32; we keep float64.
            np.testing.assert_array_equal(left.astype(arr.dtype), arr[:, 0])
            np.testing.assert_array_equal(right.astype(arr.dtype), arr[:, 1])
            np.testing.assert_array_equal(count.astype(arr.dtype), arr[:, 2])
    h = store.histograms("torch", "weights")
    for i, d in corpus[1]["torch"]["hist"].items():
        assert (h.minimum[i], h.maximum[i], h.num[i]) == (d.min(), d.max(), len(d))
        assert h.total[i] == pytest.approx(d.sum())


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_images_round_trip(store, corpus):
    refs = store.blobs("torch", "img")
    assert [(r.step, r.width, r.height, r.content_type) for r in refs] == [(4, 10, 6, "image/png")]
    np.testing.assert_array_equal(_png(store.read_blob(refs[0])), corpus[1]["torch"]["img"].transpose(1, 2, 0))
    refs = store.blobs("tb2", "im2")
    assert [(r.index, r.width, r.height) for r in refs] == [(0, 4, 5), (1, 4, 5)]
    for r, want in zip(refs, corpus[1]["tb2"]["imgs"]):
        np.testing.assert_array_equal(_png(store.read_blob(r)), want)


def test_audio(store, corpus):
    refs = store.blobs("torch", "snd")
    assert len(refs) == 1 and refs[0].sample_rate == 8000 and refs[0].content_type == "audio/wav"
    assert store.read_blob(refs[0])[:4] == b"RIFF"
    refs = store.blobs("tb2", "au2")
    assert [(r.index, r.label, r.content_type) for r in refs] == [(0, "first", "audio/wav"), (1, "second", "audio/wav")]
    assert store.read_blob(refs[1]) == corpus[1]["tb2"]["wav"]


def test_text(store):
    [t] = store.text("torch", "note/text_summary")
    assert t.step == 5 and t.data.tolist() == ["hello **x**"]
    info = next(i for i in store.tags(Kind.TEXT, ["torch"]) if i.tag == "note/text_summary")
    assert info.display_name == "note"
    assert store.text("tbx", "t/text_summary")[0].data.tolist() == ["tbx text"]
    [plain] = store.text("tb2", "plain")
    assert plain.data.shape == () and plain.data.item() == "rank *zero*"
    assert store.text("tb2", "table")[0].data.tolist() == [["a", "b"], ["c", "d"]]


def test_pr_curves_match_tensorboard(store, corpus):
    for run, tag in [("torch", "pr"), ("tb2", "pr2")]:
        got = store.pr_curves(run, tag)
        want = _tensor(_oracle(os.path.join(corpus[0], run)), tag)
        assert [g.step for g in got] == [s for s, _ in want]
        for g, (_, arr) in zip(got, want):
            assert g.data.shape[0] == 6
            np.testing.assert_array_equal(np.float32(g.data), arr)
    np.testing.assert_array_equal(store.pr_curves("tb2", "pr2")[0].data, corpus[1]["tb2"]["pr_data"])


def test_graph(store):
    from tensorboard.compat.proto import graph_pb2

    g = store.graph("torch")
    assert g is not None and g.graph_def is not None
    gd = graph_pb2.GraphDef.FromString(store.read_blob(g.graph_def))
    ops = {n.op for n in gd.node}
    assert "aten::linear" in ops and "aten::relu" in ops
    assert [t.tag for t in store.tags(Kind.GRAPHS, ["torch"])] == ["__run_graph__", "step1"]


def test_custom_scalars_and_chart_groups(store):
    layouts = store.chart_layouts()
    both = next(c for c in layouts if c.title == "both")
    assert both.category == "Cat" and both.tags == ("loss", r"new_.*")
    band = next(c for c in layouts if c.title == "band")
    assert band.margin == (("loss", "new_style", "dbl"),)
    train = next(c for c in layouts if c.title == "train")
    assert train.category == ""
    assert sorted(train.tags) == sorted(re.escape(t) for t in ("train/loss", "train/acc"))
    tags = {t.tag: t for t in store.tags(Kind.SCALARS, ["ours"])}
    assert tags["train/loss"].chart == "train" and tags["plain"].chart is None
    assert store.scalars("ours", "train/acc").value.tolist() == [F32(i / 5) for i in range(5)]


def test_hparams_sessions(store):
    hp = store.hparams()
    sessions = {s.run: s for s in hp.sessions}
    t = sessions["torch/hp"]
    assert t.hparams == {"lr": 0.1, "bs": 32.0, "opt": "adam", "flag": 1.0}
    assert t.metrics["hparam/acc"] == F32(0.75) and t.status == "success"
    x = sessions["tbx/hpx"]
    assert x.hparams == {"lr": 0.5, "use_bn": False, "name": "net"}
    assert x.metrics["m/acc"] == F32(0.25)
    s2 = sessions["tb2"]
    assert s2.group == "trial-1" and s2.hparams == {"units": 32.0, "drop": 0.25}
    assert s2.metrics["acc2"] == 0.625
    assert {"lr", "bs", "opt", "flag", "use_bn", "name", "units", "drop"} <= set(hp.hparam_names)
    assert {"hparam/acc", "m/acc", "acc2"} <= set(hp.metric_tags)
    assert hp.hparam_domains["units"] == (16.0, 32.0) and hp.hparam_domains["drop"] == (0.0, 0.5)
