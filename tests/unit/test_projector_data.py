"""Projector files: configs from every writer, metadata header rules, tensor formats, sprites, and the logdir fence."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from vizboard.data.fs import LocalFS
from vizboard.data.projector import (
    ConfigFile,
    ProjectorError,
    config_run_name,
    crop_sprite,
    find_configs,
    load_metadata,
    load_sprite_thumbnail,
    load_tensor,
    parse_config,
    parse_metadata,
    parse_tensor,
    resolve_inside,
)


def _entries(root: Path) -> dict[str, list]:
    fs = LocalFS(str(root))
    out: dict[str, list] = {}
    for cfg in find_configs(fs):
        out.setdefault(cfg.run, []).extend(parse_config(fs, cfg))
    return out


def _label_imgs(n: int) -> np.ndarray:
    """n 1x4x4 images, image i filled with intensity (i + 1) / (n + 1)."""
    return np.stack([np.full((1, 4, 4), (i + 1) / (n + 1), np.float32) for i in range(n)])


@pytest.mark.parametrize("writer", ["torch", "logger", "tensorboardX"])
def test_add_embedding_of_each_writer_is_found_and_loads(tmp_path: Path, writer: str) -> None:
    if writer == "torch":
        from torch.utils.tensorboard import SummaryWriter
    elif writer == "tensorboardX":
        from tensorboardX import SummaryWriter
    else:
        from logger import SummaryWriter
    import torch

    mat = np.arange(60, dtype=np.float32).reshape(10, 6) / 7
    w = SummaryWriter(str(tmp_path / "run1"))
    w.add_embedding(torch.from_numpy(mat), metadata=[f"p{i}" for i in range(10)],
                    label_img=torch.from_numpy(_label_imgs(10)), tag="feat/x", global_step=3)
    w.add_embedding(torch.from_numpy(mat * 2), metadata=[[i, i % 2] for i in range(10)], metadata_header=["id", "parity"],
                    tag="feat/x", global_step=7)
    w.close()
    entries = _entries(tmp_path)["run1"]
    assert [(e.tag, e.step) for e in entries] == [("feat/x", 3), ("feat/x", 7)]
    fs = LocalFS(str(tmp_path))
    first, second = entries
    np.testing.assert_allclose(load_tensor(fs, first).matrix, mat, rtol=1e-6)
    np.testing.assert_allclose(load_tensor(fs, second).matrix, mat * 2, rtol=1e-6)
    meta1 = load_metadata(fs, first)
    assert meta1 is not None and meta1.columns == ("label",) and meta1.values["label"][:2] == ["p0", "p1"]
    meta2 = load_metadata(fs, second)
    assert meta2 is not None and meta2.columns == ("id", "parity") and meta2.numeric == {"id": True, "parity": True}
    assert first.sprite is not None and (first.sprite.width, first.sprite.height) == (4, 4)
    from PIL import Image

    thumb = Image.open(io.BytesIO(load_sprite_thumbnail(fs, first.sprite, 4) or b""))
    assert thumb.size == (4, 4)
    assert thumb.convert("L").getpixel((1, 1)) == int(5 / 11 * 255)  # image 4 = intensity 5/11


def test_metadata_single_column_has_no_header() -> None:
    meta = parse_metadata(b"cat\ndog\n\ncat\n")
    assert meta.columns == ("label",)
    assert meta.values["label"] == ["cat", "dog", "cat"]  # blank lines skipped
    assert meta.numeric == {"label": False} and meta.categories == {"label": 2}


def test_metadata_single_column_first_line_is_data_even_if_it_looks_like_a_name() -> None:
    meta = parse_metadata(b"label\n1\n2\n")  # no tab in the first line: TensorBoard reads it as a value
    assert meta.values["label"] == ["label", "1", "2"] and meta.numeric["label"] is False


def test_metadata_multi_column_header_missing_cells_and_numeric_columns() -> None:
    meta = parse_metadata(b"word\tcount\tclass\r\nthe\t10\ta\nof\t\tb\nand\t3\n")
    assert meta.columns == ("word", "count", "class")
    assert meta.values["count"] == ["10", None, "3"]
    assert meta.values["class"] == ["a", "b", None]
    assert meta.numeric == {"word": False, "count": True, "class": False}


def test_metadata_many_distinct_values_are_not_categories() -> None:
    meta = parse_metadata(("\n".join(f"w{i}" for i in range(51)) + "\n").encode())
    assert meta.categories["label"] is None
    assert parse_metadata(("\n".join(f"w{i}" for i in range(50)) + "\n").encode()).categories["label"] == 50


def test_tensor_tsv_with_label_column_and_errors() -> None:
    t = parse_tensor(b"a\t1\t2\nb\t3\t4\n\n")
    assert t.labels == ["a", "b"] and t.matrix.tolist() == [[1, 2], [3, 4]]
    plain = parse_tensor(b"1\t2\t3\n4\t5\t6\n")
    assert plain.labels is None and plain.matrix.shape == (2, 3) and plain.matrix.dtype == np.float32
    with pytest.raises(ProjectorError, match="line 2 has 2 values"):
        parse_tensor(b"1\t2\t3\n4\t5\n")
    with pytest.raises(ProjectorError, match="at least 2"):
        parse_tensor(b"1\n2\n")
    with pytest.raises(ProjectorError, match="no points"):
        parse_tensor(b"\n\n")


def test_tensor_bytes_need_a_shape_and_short_files_are_reported() -> None:
    mat = np.arange(12, dtype="<f4").reshape(4, 3)
    raw = mat.tobytes() + b"\xff\xfe"  # not UTF-8
    got = parse_tensor(raw, (4, 3))
    np.testing.assert_array_equal(got.matrix, mat)
    short = parse_tensor(mat[:2].tobytes() + b"\xff\xff\xff\xff\xff\xff", (4, 3))
    assert short.matrix.shape == (2, 3) and "first 2 of 4" in (short.warning or "")
    with pytest.raises(ProjectorError, match="tensor_shape"):
        parse_tensor(raw, ())


def test_crop_sprite_row_major_cells() -> None:
    from PIL import Image

    sprite = Image.new("RGB", (9, 9))
    for i in range(9):
        r, c = divmod(i, 3)
        sprite.paste((i * 20, 0, 0), (c * 3, r * 3, c * 3 + 3, r * 3 + 3))
    for i in range(9):
        cell = crop_sprite(sprite, i, 3, 3)
        assert cell is not None and cell.size == (3, 3) and cell.getpixel((1, 1)) == (i * 20, 0, 0)
    assert crop_sprite(sprite, 9, 3, 3) is None  # past the last row
    assert crop_sprite(sprite, -1, 3, 3) is None


def test_run_names_strip_the_plugin_assets_folder() -> None:
    assert config_run_name("") == "."
    assert config_run_name("a/b") == "a/b"
    assert config_run_name("a/plugins/org_tensorflow_tensorboard_projector") == "a"
    assert config_run_name("plugins/org_tensorflow_tensorboard_projector") == "."


def test_tensorflow_configs_bytes_supported_checkpoint_reported(tmp_path: Path) -> None:
    mat = np.random.default_rng(0).normal(size=(5, 4)).astype("<f4")
    (tmp_path / "emb.bytes").write_bytes(mat.tobytes() + b"\xff")
    (tmp_path / "projector_config.pbtxt").write_text(
        'embeddings { tensor_name: "word_embedding:0" tensor_path: "emb.bytes" tensor_shape: 5 tensor_shape: 4 }\n'
        'embeddings { tensor_name: "embedding/.ATTRIBUTES/VARIABLE_VALUE" metadata_path: "meta.tsv" }\n'
        'model_checkpoint_path: "ckpt-1"\n')
    e1, e2 = _entries(tmp_path)["."]
    assert (e1.name, e1.tag, e1.step, e1.problem) == ("word_embedding", "word_embedding", None, None)
    np.testing.assert_array_equal(load_tensor(LocalFS(str(tmp_path)), e1).matrix, mat)
    assert e2.tensor_path is None and "checkpoint" in (e2.problem or "")


def test_corrupt_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "projector_config.pbtxt").write_text("embeddings { tensor_name: ")
    fs = LocalFS(str(tmp_path))
    with pytest.raises(ProjectorError, match="not a readable projector config"):
        parse_config(fs, find_configs(fs)[0])


def test_files_outside_the_logdir_are_refused_even_through_symlinks(tmp_path: Path) -> None:
    logdir, outside = tmp_path / "logs", tmp_path / "secret"
    (logdir / "run").mkdir(parents=True)
    outside.mkdir()
    (outside / "tensors.tsv").write_text("1\t2\n3\t4\n")
    (outside / "meta.tsv").write_text("x\ny\n")
    os.symlink(outside / "tensors.tsv", logdir / "run" / "link.tsv")
    (logdir / "run" / "projector_config.pbtxt").write_text(
        'embeddings { tensor_name: "dotdot" tensor_path: "../../secret/tensors.tsv" }\n'
        'embeddings { tensor_name: "link" tensor_path: "link.tsv" }\n'
        f'embeddings {{ tensor_name: "abs" tensor_path: "{outside / "tensors.tsv"}" }}\n'
        'embeddings { tensor_name: "meta" tensor_path: "ok.tsv" metadata_path: "../../secret/meta.tsv" }\n')
    (logdir / "run" / "ok.tsv").write_text("1\t2\n")
    entries = {e.name: e for e in _entries(logdir)["run"]}
    fs = LocalFS(str(logdir))
    for name in ("dotdot", "link", "abs", "meta"):
        assert entries[name].tensor_path is None and "outside the logdir" in (entries[name].problem or "")
        with pytest.raises(ProjectorError, match="outside the logdir"):
            load_tensor(fs, entries[name])
    with pytest.raises(ProjectorError, match="outside the logdir"):
        resolve_inside(fs, str(logdir), str(logdir / "run" / "link.tsv"), "tensor_path")
    # a config that is itself a symlink to a config outside is refused too
    (outside / "projector_config.pbtxt").write_text('embeddings { tensor_name: "t" tensor_path: "tensors.tsv" }\n')
    (logdir / "other").mkdir()
    os.symlink(outside / "projector_config.pbtxt", logdir / "other" / "projector_config.pbtxt")
    cfg = next(c for c in find_configs(fs) if c.run == "other")
    with pytest.raises(ProjectorError, match="outside the logdir"):
        parse_config(fs, cfg)


def test_remote_paths_are_fenced_too() -> None:
    pytest.importorskip("fsspec")
    from vizboard.data.fs import RemoteFS

    fs = RemoteFS("memory://bucket/logs")
    assert resolve_inside(fs, "memory://bucket/logs/run", "t.tsv", "x") == "memory://bucket/logs/run/t.tsv"
    with pytest.raises(ProjectorError, match="outside the logdir"):
        resolve_inside(fs, "memory://bucket/logs/run", "../../other/t.tsv", "x")
    with pytest.raises(ProjectorError, match="outside the logdir"):
        resolve_inside(fs, "memory://bucket/logs/run", "s3://bucket/logs/t.tsv", "x")


def test_config_found_over_fsspec(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    import fsspec

    from vizboard.data.fs import RemoteFS

    mem = fsspec.filesystem("memory")
    mem.pipe("/projtest/logs/run/projector_config.pbtxt",
             b'embeddings { tensor_name: "t:00002" tensor_path: "00002/t/tensors.tsv" }\n')
    mem.pipe("/projtest/logs/run/00002/t/tensors.tsv", b"1\t2\n3\t4\n")
    fs = RemoteFS("memory://projtest/logs")
    cfgs = find_configs(fs)
    assert [c.run for c in cfgs] == ["run"]
    (entry,) = parse_config(fs, cfgs[0])
    assert (entry.tag, entry.step) == ("t", 2)
    assert load_tensor(fs, entry).matrix.tolist() == [[1, 2], [3, 4]]
    assert isinstance(cfgs[0], ConfigFile)
