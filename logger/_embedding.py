"""Embedding projector files, written as torch's ``add_embedding`` writes them (synchronously: a rare call).

Files: ``<log_dir>/<step:05d>/<tag percent-encoded>/{tensors.tsv, metadata.tsv, sprite.png}``
and ``<log_dir>/projector_config.pbtxt`` listing every embedding added by this writer.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from logger import _convert, storage

__all__ = ["write_embedding", "encode_tag"]


def encode_tag(tag: str) -> str:
    """torch's ``_encode``: percent-encode ``%``, ``/`` and ``\\`` so the tag is one path component."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _sprite(label_img: Any) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    from logger.images import make_grid

    n = label_img.shape[0]
    nrow = math.ceil(n**0.5)
    grid = make_grid(label_img, ncols=nrow)  # CHW
    square = np.zeros((grid.shape[2], grid.shape[2], 3))
    hwc = grid.transpose(1, 2, 0)
    square[: hwc.shape[0], :, :] = hwc
    out = io.BytesIO()
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(out, format="PNG")
    return out.getvalue()


def write_embedding(log_dir: str, config: Any, mat: Any, metadata: Sequence[Any] | None, label_img: Any,
                    global_step: int | None, tag: str, metadata_header: Sequence[str] | None,
                    storage_options: dict[str, Any] | None = None) -> Any:
    """Write one embedding's files and rewrite the projector config; return the updated ProjectorConfig.

    ``log_dir`` may be an fsspec URL (``storage_options`` for its filesystem).
    """
    from google.protobuf import text_format

    from logger._pb import projector_pb2

    tag = _convert.check_tag(tag)
    mat = _convert.to_numpy(_convert.capture(mat, "mat"))
    if mat.ndim != 2:
        raise _convert.ArgumentError(f"mat must be 2-D [points, dims], got shape {mat.shape}")
    step = _convert.check_step(global_step)
    subdir = f"{str(step).zfill(5)}/{encode_tag(tag)}"
    save_path = storage.join(log_dir, subdir)
    if not storage.is_remote(save_path) and os.path.exists(save_path) and not os.path.isdir(save_path):
        raise NotADirectoryError(f"{save_path} exists and is a file; cannot write the embedding there")
    if metadata is not None and len(metadata) != mat.shape[0]:
        raise _convert.ArgumentError(f"metadata has {len(metadata)} rows but mat has {mat.shape[0]} points")
    img = None
    if label_img is not None:
        img = _convert.to_numpy(_convert.capture(label_img, "label_img"))
        if img.ndim != 4 or img.shape[0] != mat.shape[0] or img.shape[1] not in (1, 3):
            raise _convert.ArgumentError(
                f"label_img must be [N, C, H, W] with N = {mat.shape[0]} points and C in 1/3, got {img.shape}")
    storage.makedirs(save_path, storage_options)
    if metadata is not None:
        if not metadata_header:
            lines = [str(x) for x in metadata]
        else:
            if len(metadata_header) != len(metadata[0]):
                raise _convert.ArgumentError("metadata_header must have one name per metadata column")
            lines = ["\t".join(str(e) for e in row) for row in [metadata_header, *metadata]]
        storage.write_file(storage.join(save_path, "metadata.tsv"), ("\n".join(lines) + "\n").encode("utf-8"), storage_options)
    if img is not None:
        storage.write_file(storage.join(save_path, "sprite.png"), _sprite(img), storage_options)
    rows = "".join("\t".join(str(i.item()) for i in row) + "\n" for row in mat)
    storage.write_file(storage.join(save_path, "tensors.tsv"), rows.encode("utf-8"), storage_options)
    if config is None:
        config = projector_pb2.ProjectorConfig()
    info = config.embeddings.add()
    info.tensor_name = f"{tag}:{str(step).zfill(5)}"
    info.tensor_path = f"{subdir}/tensors.tsv"
    if metadata is not None:
        info.metadata_path = f"{subdir}/metadata.tsv"
    if img is not None:
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([img.shape[3], img.shape[2]])
    storage.write_file(storage.join(log_dir, "projector_config.pbtxt"), text_format.MessageToString(config).encode("utf-8"),
                       storage_options)
    return config
