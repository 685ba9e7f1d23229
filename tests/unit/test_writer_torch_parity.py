"""The behaviours torch's test_tensorboard.py checks per writer method: our writer's file vs torch's writer's file, same call.

Summaries are compared byte for byte (serialized deterministically); wall times are passed
explicitly so they match. Deliberate differences (add_scalars, add_hparams, add_video) are
tested in test_writer_core.py and listed in the README.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from logger import SummaryWriter
from tests.unit.test_writer_torch_api import WALL, both

rng = np.random.default_rng(7)
IMG_F = rng.random((3, 10, 12)).astype(np.float32)
IMG_U8 = (rng.random((10, 12, 3)) * 255).astype(np.uint8)
BATCH = rng.random((5, 3, 6, 7)).astype(np.float32)
LABELS = rng.integers(0, 2, 50)
PREDS = rng.random(50)
VERTS = torch.tensor([[[1.0, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]])
COLORS = torch.tensor([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], dtype=torch.int32)
FACES = torch.tensor([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], dtype=torch.int32)
LAYOUT = {"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
          "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]], "nasdaq": ["Multiline", ["nasdaq/aaa"]]}}

CASES = {
    "scalar float": ("add_scalar", ("loss", 0.1234567, 3, WALL), {}),
    "scalar int": ("add_scalar", ("loss", 7, 3, WALL), {}),
    "scalar numpy": ("add_scalar", ("loss", np.float64(2.5), 3, WALL), {}),
    "scalar 0-d tensor": ("add_scalar", ("loss", torch.tensor(1.5), 3, WALL), {}),
    "scalar 1-element tensor": ("add_scalar", ("loss", torch.tensor([1.5]), 3, WALL), {}),
    "scalar new_style": ("add_scalar", ("loss", 0.25, 3, WALL), {"new_style": True}),
    "scalar double": ("add_scalar", ("loss", 0.1, 3, WALL), {"new_style": True, "double_precision": True}),
    "scalar nan": ("add_scalar", ("loss", float("nan"), 3, WALL), {}),
    "histogram": ("add_histogram", ("w", rng.normal(size=1000), 2, "tensorflow", WALL), {}),
    "histogram auto bins": ("add_histogram", ("w", rng.normal(size=1000), 2, "auto", WALL), {}),
    "histogram int tensor": ("add_histogram", ("w", torch.arange(100), 2, 10, WALL), {}),
    "histogram max_bins": ("add_histogram", ("w", rng.normal(size=1000), 2, "fd", WALL), {"max_bins": 5}),
    "histogram_raw": ("add_histogram_raw", ("w", -1.0, 5.0, 10, 20.0, 60.0, [0.0, 2.5, 5.0], [3.0, 4.0, 3.0], 1, WALL), {}),
    "image CHW float": ("add_image", ("img", IMG_F, 1, WALL), {}),
    "image HWC uint8": ("add_image", ("img", IMG_U8, 1, WALL), {"dataformats": "HWC"}),
    "image HW": ("add_image", ("img", IMG_F[0], 1, WALL), {"dataformats": "HW"}),
    "image tensor": ("add_image", ("img", torch.from_numpy(IMG_F), 1, WALL), {}),
    "images NCHW": ("add_images", ("imgs", BATCH, 1, WALL), {}),
    "images NHWC": ("add_images", ("imgs", BATCH.transpose(0, 2, 3, 1).copy(), 1, WALL), {"dataformats": "NHWC"}),
    "audio": ("add_audio", ("snd", np.sin(np.linspace(0, 100, 4410)), 1, 4410, WALL), {}),
    "audio clipped": ("add_audio", ("snd", np.linspace(-3, 3, 1000), 1, 8000, WALL), {}),
    "text": ("add_text", ("note", "**bold** `code`", 1, WALL), {}),
    "pr_curve": ("add_pr_curve", ("pr", LABELS, PREDS, 1, 127, None, WALL), {}),
    "pr_curve weights": ("add_pr_curve", ("pr", LABELS, PREDS, 1, 33, rng.random(50), WALL), {}),
    "pr_curve_raw": ("add_pr_curve_raw", ("pr", [75, 64, 21], [150, 105, 18], [0, 45, 132], [0, 11, 54],
                                           [0.33, 0.38, 0.54], [1.0, 0.85, 0.28], 1, 3, None, WALL), {}),
    "custom_scalars": ("add_custom_scalars", (LAYOUT,), {}),
    "multilinechart": ("add_custom_scalars_multilinechart", (["twse/0050", "twse/2330"],), {}),
    "marginchart": ("add_custom_scalars_marginchart", (["a", "b", "c"],), {"category": "cat", "title": "t"}),
    "mesh": ("add_mesh", ("mesh", VERTS), {"colors": COLORS, "faces": FACES, "global_step": 1, "walltime": WALL}),
    "mesh config": ("add_mesh", ("mesh", VERTS), {"config_dict": {"camera": {"cls": "PerspectiveCamera", "fov": 75}},
                                                  "global_step": 1, "walltime": WALL}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_call_writes_the_same_summary_as_torch(tmp_path: Path, case: str) -> None:
    method, args, kwargs = CASES[case]
    theirs, ours = both(tmp_path, method, *args, **kwargs)
    assert ours and ours == theirs


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "tfevents" not in p.name}


def test_add_embedding_files_equal_torch(tmp_path: Path) -> None:
    mat = torch.from_numpy(rng.random((6, 4)).astype(np.float32))
    meta = [f"p{i}" for i in range(6)]
    imgs = torch.from_numpy(rng.random((6, 3, 8, 8)).astype(np.float32))
    for writer_cls, sub in ((TorchWriter, "torch"), (SummaryWriter, "ours")):
        with writer_cls(tmp_path / sub) as w:
            w.add_embedding(mat, metadata=meta, label_img=imgs, global_step=3, tag="emb/a")
            w.add_embedding(mat * 2, metadata=[[m, str(i)] for i, m in enumerate(meta)], global_step=4,
                            metadata_header=["name", "index"])
    assert _files(tmp_path / "ours") == _files(tmp_path / "torch")


def test_purge_step_writes_torch_start_marker(tmp_path: Path) -> None:
    from tests.unit.test_writer_torch_api import events

    for writer_cls, sub in ((TorchWriter, "torch"), (SummaryWriter, "ours")):
        with writer_cls(tmp_path / sub, purge_step=5) as w:
            w.add_scalar("x", 1.0, 6, WALL)
    t, o = events(tmp_path / "torch"), events(tmp_path / "ours")
    marker = [(e.step, e.file_version, e.session_log.status) for e in t if e.step == 5]
    assert [(e.step, e.file_version, e.session_log.status) for e in o if e.step == 5] == marker
    assert [e.summary.SerializeToString() for e in o if e.HasField("summary")] == \
        [e.summary.SerializeToString() for e in t if e.HasField("summary")]
