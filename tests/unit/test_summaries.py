"""Pure builders in logger.summaries / logger.images: byte-identical to torch's summary functions."""

from __future__ import annotations

import numpy as np
import pytest

from logger import images, summaries
from logger._pb import event_pb2, hparams_pb2, plugins_pb2, summary_pb2
from logger.scalar_event import encode_scalar_event

ts = pytest.importorskip("torch.utils.tensorboard.summary")


def _torch_bins() -> list[float]:
    v, b = 1e-12, []
    while v < 1e20:
        b.append(v)
        v *= 1.1
    return [-x for x in b[::-1]] + [0] + b


RNG = np.random.default_rng(1234)
HIST_CASES = {
    "normal": RNG.standard_normal(20000),
    "tiny": RNG.standard_normal(500) * 1e-11,
    "zero": np.array([0.0]),
    "edges": np.array(_torch_bins()[50:3000:3]),
    "edge_neighbours": np.nextafter(np.array(_torch_bins()[10:3000:11]), np.inf),
    "extremes": np.array([1e-12, -1e-12, 1.1e-12, 1e19, -1e21, 5.0, 1e25]),
    "integers": RNG.integers(-5, 5, 1000).astype(float),
    "float32": RNG.standard_normal(3000).astype(np.float32),
    "with_inf": np.array([np.inf, -np.inf, 1.0, -2.0]),
}


def test_default_bins_equal_torch() -> None:
    assert np.array_equal(summaries.default_bins(), np.array(_torch_bins()))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(HIST_CASES))
def test_histogram_bytes_equal_torch(name: str) -> None:
    data = HIST_CASES[name]
    ours = summaries.histogram("h", data).SerializeToString()
    theirs = ts.histogram("h", data, _torch_bins()).SerializeToString()
    assert ours == theirs


@pytest.mark.parametrize("bins,max_bins", [("auto", None), (10, None), ("auto", 7), (np.linspace(-3, 3, 50), 9)])
def test_histogram_other_bins_equal_torch(bins, max_bins) -> None:
    data = RNG.standard_normal(5000)
    ours = summaries.histogram("h", data, bins, max_bins).SerializeToString()
    assert ours == ts.histogram("h", data, bins, max_bins).SerializeToString()


def test_histogram_empty_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        summaries.histogram("h", np.array([]))


@pytest.mark.parametrize(
    "shape,fmt,dtype",
    [((3, 20, 30), "CHW", np.float32), ((20, 30, 3), "HWC", np.float64), ((20, 30, 4), "HWC", np.uint8),
     ((5, 7), "HW", np.float64), ((1, 9, 9), "CHW", np.uint8), ((10, 1, 8, 8), "NCHW", np.uint8),
     ((3, 6, 5, 3), "NHWC", np.float32)],
)
def test_image_bytes_equal_torch(shape, fmt, dtype) -> None:
    data = RNG.random(shape) * (255 if dtype == np.uint8 else 1.2)
    data = data.astype(dtype)
    assert images.image("i", data, fmt).SerializeToString() == ts.image("i", data, dataformats=fmt).SerializeToString()


def test_check_dataformats_names_the_problem() -> None:
    with pytest.raises(ValueError, match="dataformats"):
        images.check_dataformats((3, 4, 5), "HW", (2, 3))
    with pytest.raises(ValueError, match="channels"):
        images.check_dataformats((7, 4, 5), "CHW", (2, 3))
    with pytest.raises(ValueError, match="dataformats"):
        images.check_dataformats((3, 4, 5), "XYZ", (2, 3))


def test_audio_bytes_equal_torch_and_stereo(capsys) -> None:
    snd = np.sin(np.arange(4000) / 7.0) * 1.2
    assert summaries.audio("a", snd, 16000).SerializeToString() == ts.audio("a", snd, 16000).SerializeToString()
    stereo = np.stack([snd, -snd], 1) * 0.5
    value = summaries.audio("a", stereo, 8000).value[0]
    assert value.audio.num_channels == 2 and value.audio.length_frames == 4000
    same = summaries.audio("a", stereo.T, 8000).value[0]
    assert same.audio.encoded_audio_string == value.audio.encoded_audio_string


def test_text_pr_custom_scalars_equal_torch() -> None:
    assert summaries.text("t", "héllo **x**").SerializeToString() == ts.text("t", "héllo **x**").SerializeToString()
    lab, pred = RNG.integers(0, 2, 100), RNG.random(100)
    for t in (127, 50, 500):
        assert summaries.pr_curve("p", lab, pred, t).SerializeToString() == ts.pr_curve("p", lab, pred, t).SerializeToString()
    arrs = [RNG.random(10) for _ in range(6)]
    ours = summaries.pr_curve_raw("p", *arrs, num_thresholds=10).SerializeToString()
    assert ours == ts.pr_curve_raw("p", *arrs, num_thresholds=10).SerializeToString()
    lay = {"cat": {"c1": ["Multiline", ["a", "b"]], "c2": ["Margin", ["x", "lo", "hi"]]}}
    assert summaries.custom_scalars(lay).SerializeToString() == ts.custom_scalars(lay).SerializeToString()
    for double in (False, True):
        ours = summaries.scalar_tensor("s", 1.5, double).SerializeToString()
        assert ours == ts.scalar("s", 1.5, new_style=True, double_precision=double).SerializeToString()


@pytest.mark.parametrize("tag", ["loss", "a/b/ü", "x" * 200])
@pytest.mark.parametrize("value", [0.0, 1.5, -2.25, float("nan"), float("inf"), -float("inf"), 1e39, 3.0e-45])
@pytest.mark.parametrize("step", [0, 1, 127, 128, 2**40, -1])
def test_hand_encoded_scalar_equals_protobuf(tag: str, value: float, step: int) -> None:
    wall = 1700000000.123
    value_pb = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    ev = event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[value_pb]))
    assert encode_scalar_event(tag.encode(), value, step, wall) == ev.SerializeToString()
    meta = summaries.scalars_metadata("chart")
    v = summary_pb2.Summary.Value(tag=tag, simple_value=value)
    v.metadata.ParseFromString(meta)
    ev = event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[v]))
    assert encode_scalar_event(tag.encode(), value, step, wall, meta) == ev.SerializeToString()


def test_scalars_metadata_carries_chart() -> None:
    meta = summary_pb2.SummaryMetadata.FromString(summaries.scalars_metadata("losses"))
    assert meta.plugin_data.plugin_name == "scalars"
    assert plugins_pb2.ScalarPluginData.FromString(meta.plugin_data.content).vizboard_chart == "losses"


def test_hparams_values_keep_types_and_name_bad_keys() -> None:
    torch = pytest.importorskip("torch")
    vals = summaries.hparams_values({"b": True, "i": 3, "f": 0.5, "s": "adam", "n": None, "t": torch.tensor([2.5]),
                                     "nb": np.bool_(False), "ni": np.int64(4)})
    assert vals == {"b": ("bool", True), "i": ("number", 3.0), "f": ("number", 0.5), "s": ("string", "adam"),
                    "t": ("number", 2.5), "nb": ("bool", False), "ni": ("number", 4.0)}
    with pytest.raises(TypeError, match="'bad'"):
        summaries.hparams_values({"bad": [1, 2]})
    with pytest.raises(TypeError, match="'big'"):
        summaries.hparams_values({"big": torch.zeros(3)})
    start = summaries.hparams_session_start(vals, 12.5).value[0]
    data = hparams_pb2.HParamsPluginData.FromString(start.metadata.plugin_data.content)
    assert data.session_start_info.hparams["b"].bool_value is True
    assert data.session_start_info.hparams["s"].string_value == "adam"
    assert data.session_start_info.start_time_secs == 12.5
    exp = summaries.hparams_experiment(vals, ["acc"], {"s": ["adam", "sgd"]}).value[0]
    exp_data = hparams_pb2.HParamsPluginData.FromString(exp.metadata.plugin_data.content).experiment
    types = {h.name: h.type for h in exp_data.hparam_infos}
    assert types["b"] == hparams_pb2.DATA_TYPE_BOOL and types["s"] == hparams_pb2.DATA_TYPE_STRING
    info = next(h for h in exp_data.hparam_infos if h.name == "s")
    assert [v.string_value for v in info.domain_discrete.values] == ["adam", "sgd"]
    assert [m.name.tag for m in exp_data.metric_infos] == ["acc"]


def test_video_is_gif() -> None:
    vid = (RNG.random((2, 5, 3, 8, 8)) * 255).astype(np.uint8)
    img = images.video("v", vid, fps=5).value[0].image
    assert img.encoded_image_string[:6] in (b"GIF87a", b"GIF89a")
    assert (img.height, img.width, img.colorspace) == (8, 16, 3)


def test_mesh_equals_torch() -> None:
    torch = pytest.importorskip("torch")
    verts = torch.rand(1, 5, 3)
    faces = torch.randint(0, 5, (1, 4, 3))
    colors = torch.randint(0, 255, (1, 5, 3))
    cfg = {"camera": {"cls": "PerspectiveCamera", "fov": 75}}
    ours = summaries.mesh("m", verts.numpy(), colors.numpy(), faces.numpy(), cfg)
    assert ours.SerializeToString() == ts.mesh("m", verts, colors, faces, cfg).SerializeToString()
    assert [v.tag for v in ours.value] == ["m_VERTEX", "m_FACE", "m_COLOR"]
