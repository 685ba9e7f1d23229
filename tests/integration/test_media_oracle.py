"""Media tabs' data path (Store -> figures) against TensorBoard's own loader, on files from logger,
torch and tensorboardX (its audio needs soundfile, which is not a dependency: no tensorboardX audio).

TensorBoard's ``EventAccumulator`` is the oracle: its compressed histograms (the
Distributions view), image and audio bytes, and the PR tensors it reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vizboard.data.ingest import load
from vizboard.data.models import Kind
from vizboard.figures.audio import clip_info, wav_info
from vizboard.figures.distributions import percentiles
from vizboard.figures.images import items_at, steps_of
from vizboard.figures.pr_curves import trim_pr
from vizboard.figures.text import display_tag, text_view

ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

WRITERS = ("ours", "torch", "tbx")
AUDIO_WRITERS = ("ours", "torch")
STEPS = 30


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from tensorboardX import SummaryWriter as TbxWriter
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter as OurWriter

    root = tmp_path_factory.mktemp("media")
    for name, cls in zip(WRITERS, (OurWriter, TorchWriter, TbxWriter)):
        rng = np.random.default_rng(7)
        w = cls(str(root / name))
        for s in range(STEPS):
            w.add_histogram("h/normal", rng.normal(s * 0.1, 1 + s * 0.05, 800), s)
            w.add_histogram("h/ints", rng.integers(0, 5, 50).astype(float), s)
        w.add_histogram("h/constant", np.full(20, 3.0), 0)
        for s in range(6):
            w.add_image("img", rng.integers(0, 256, (3, 5, 7), dtype=np.uint8), s)
            if name in AUDIO_WRITERS:
                w.add_audio("snd", torch.from_numpy(rng.uniform(-1, 1, 400 + s).astype(np.float32)), s,
                            sample_rate=4000)
        for s in range(3):
            labels = rng.integers(0, 2, 100)
            w.add_pr_curve("pr", labels, np.clip(labels * 0.4 + rng.random(100) * 0.6, 0, 1), s, num_thresholds=33)
        w.add_text("t", "**x** <b>y</b>", 0)
        w.close()
    return root


def _oracle(run_dir: Path) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(str(run_dir), size_guidance={
        ea.COMPRESSED_HISTOGRAMS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.AUDIO: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


@pytest.mark.parametrize("run", WRITERS)
@pytest.mark.parametrize("tag", ["h/normal", "h/ints", "h/constant"])
def test_distribution_percentiles_match_tensorboard(logdir: Path, run: str, tag: str) -> None:
    store = load(str(logdir))
    series = store.histograms(run, tag)
    expected = _oracle(logdir / run).CompressedHistograms(tag)
    assert series is not None and len(series) == len(expected)
    ours = percentiles(series)
    for row, ev in zip(ours, expected):
        np.testing.assert_allclose(row, [v for _, v in ev.compressed_histogram_values], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("run", WRITERS)
def test_image_and_audio_bytes_match_tensorboard(logdir: Path, run: str) -> None:
    store = load(str(logdir))
    acc = _oracle(logdir / run)
    refs = store.blobs(run, "img")
    tb_images = acc.Images("img")
    assert steps_of(refs) == [e.step for e in tb_images]
    for ev in tb_images:
        (ref,) = items_at(refs, ev.step)
        assert store.read_blob(ref) == ev.encoded_image_string
        assert (ref.width, ref.height) == (ev.width, ev.height)
    if run not in AUDIO_WRITERS:
        return
    clips = store.blobs(run, "snd")
    tb_audio = acc.Audio("snd")
    assert steps_of(clips) == [e.step for e in tb_audio]
    for ev in tb_audio:
        (ref,) = items_at(clips, ev.step)
        data = store.read_blob(ref)
        assert data == ev.encoded_audio_string
        info = clip_info(ref, data)
        assert info == wav_info(data)
        assert (info.sample_rate, info.frames) == (ev.sample_rate, ev.length_frames)


@pytest.mark.parametrize("run", WRITERS)
def test_pr_curves_match_tensorboard_tensors(logdir: Path, run: str) -> None:
    from tensorboard.util import tensor_util

    store = load(str(logdir))
    ours = store.pr_curves(run, "pr")
    tb = _oracle(logdir / run).Tensors("pr")
    assert [e.step for e in ours] == [e.step for e in tb]
    for entry, ev in zip(ours, tb):
        arr = tensor_util.make_ndarray(ev.tensor_proto)
        np.testing.assert_array_equal(entry.data, arr)
        curve = trim_pr(entry.data)
        positives = arr[0] + arr[1]
        assert positives[len(curve.thresholds) - 1] > 0
        assert np.all(positives[len(curve.thresholds):] == 0)


@pytest.mark.parametrize("run", WRITERS)
def test_text_is_listed_under_its_display_name_and_sanitised(logdir: Path, run: str) -> None:
    store = load(str(logdir))
    (info,) = store.tags(Kind.TEXT, [run])
    assert display_tag(info.tag, info.display_name) == "t"
    (entry,) = store.text(run, info.tag)
    view = text_view(entry.data)
    assert view.rows == (("**x** &lt;b>y&lt;/b>",),)
