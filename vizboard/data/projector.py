"""Embedding projector files: finding ``projector_config.pbtxt``, parsing it, loading tensors, metadata and sprites.

Where configs are found. Every file named ``projector_config.pbtxt`` under the logdir
(walked through :mod:`vizboard.data.fs`, so fsspec URLs work). Its *run* is its directory
relative to the logdir (``.`` for the logdir itself), with a trailing
``plugins/org_tensorflow_tensorboard_projector`` (TensorBoard's plugin-assets folder)
removed. torch's, tensorboardX's and Lightning's ``add_embedding`` and our logger write the
config into the writer's directory (the run), so the run names match the other tabs'.

What is read (as TensorBoard's projector plugin reads it). ``tensor_path``,
``metadata_path`` and ``sprite.image_path`` are relative to the config's directory
(absolute paths and ``~`` are accepted). A tensor file is TSV text (one point per line,
tab-separated floats; a first column that is not a number is taken as a label, as the
projector's frontend does); a file that is not UTF-8 text is raw little-endian float32
whose shape is the config's ``tensor_shape`` (TensorFlow's bytes tensors). A tensor name
``tag:NNNNN`` (what every PyTorch writer writes) is shown as tag ``tag`` at step
``NNNNN``; any other name is a tag without a step. A trailing ``:0`` is dropped.

Not supported (reported per embedding, never raised): tensors that live only in a
TensorFlow checkpoint (an embedding without ``tensor_path``, e.g. TF 2's
``projector.visualize_embeddings`` with ``embedding/.ATTRIBUTES/VARIABLE_VALUE``) - reading
them needs TensorFlow's checkpoint reader; and bookmarks files.

Safety. Every file is resolved to its real path (symlinks followed) and refused if that
lies outside the logdir (:func:`resolve_inside`); files above :data:`MAX_FILE_BYTES` and
sprites above :data:`MAX_SPRITE_PX` per side are refused. Corrupt files give
:class:`ProjectorError` with a readable message, never a crash.
"""

from __future__ import annotations

import io
import os
import posixpath
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vizboard.data.fs import FileSystem, ReadAllError, read_all

__all__ = [
    "CONFIG_NAME",
    "MAX_FILE_BYTES",
    "MAX_SPRITE_PX",
    "ProjectorError",
    "SpriteInfo",
    "EmbeddingEntry",
    "ConfigFile",
    "Metadata",
    "TensorData",
    "find_configs",
    "file_signature",
    "config_run_name",
    "parse_config",
    "resolve_inside",
    "read_file",
    "parse_tensor",
    "parse_metadata",
    "crop_sprite",
    "load_tensor",
    "load_metadata",
    "load_sprite_thumbnail",
]

CONFIG_NAME = "projector_config.pbtxt"
_ASSETS_SUFFIX = "plugins/org_tensorflow_tensorboard_projector"
MAX_FILE_BYTES = 2 << 30
"""Largest tensor, metadata or sprite file read, in bytes (2 GiB)."""
MAX_SPRITE_PX = 8192
"""Largest sprite side in pixels (TensorBoard's projector refuses bigger ones too)."""
MAX_CATEGORIES = 50
"""A metadata column with more distinct values than this is not coloured by category (TensorBoard's rule)."""


class ProjectorError(ValueError):
    """A projector file that cannot be used; ``str()`` says which file and why."""


@dataclass(frozen=True, slots=True)
class SpriteInfo:
    """The sprite image of an embedding: resolved ``path`` and one thumbnail's ``width`` x ``height`` (pixels)."""

    path: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class EmbeddingEntry:
    """One embedding listed in a config: where its files are and how it is named in the UI.

    ``key`` identifies it uniquely (run + tensor name); ``tag``/``step`` come from the
    tensor name; ``tensor_path`` is None for checkpoint-only tensors (then ``problem``
    says why it cannot be shown). ``problem`` is also set when a path leaves the logdir.
    """

    run: str
    name: str
    tag: str
    step: int | None
    config_path: str
    tensor_path: str | None
    tensor_shape: tuple[int, ...]
    metadata_path: str | None
    sprite: SpriteInfo | None
    problem: str | None = None

    @property
    def key(self) -> str:
        """``run`` and tensor ``name`` joined by a NUL (never part of either)."""
        return f"{self.run}\x00{self.name}"


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A ``projector_config.pbtxt`` found under the logdir: its run, path and (size, mtime) signature."""

    run: str
    path: str
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class Metadata:
    """Per-point metadata: column names and, per column, one value per row (None = missing).

    ``numeric[c]`` is True when every present value of column ``c`` parses as a number;
    ``categories[c]`` is the number of distinct present values, or None when above
    :data:`MAX_CATEGORIES`.
    """

    columns: tuple[str, ...]
    values: dict[str, list[str | None]]
    numeric: dict[str, bool] = field(default_factory=dict)
    categories: dict[str, int | None] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values[self.columns[0]]) if self.columns else 0


@dataclass(frozen=True, slots=True)
class TensorData:
    """A loaded tensor: ``matrix`` float32 [points, dims], optional first-column ``labels``, and any ``warning``."""

    matrix: np.ndarray
    labels: list[str] | None = None
    warning: str | None = None


def config_run_name(rel_dir: str) -> str:
    """The run a config in directory ``rel_dir`` (relative to the logdir, ``/`` separated) belongs to."""
    rel = rel_dir.replace(os.sep, "/").strip("/")
    if rel == _ASSETS_SUFFIX:
        return "."
    if rel.endswith("/" + _ASSETS_SUFFIX):
        rel = rel[: -len(_ASSETS_SUFFIX) - 1]
    return rel if rel and rel != "." else "."


def file_signature(fs: FileSystem, path: str) -> tuple[int, float] | None:
    """(size in bytes, mtime in seconds; 0 for remote objects) of ``path``, or None if it is gone."""
    if not fs.remote:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return int(st.st_size), float(st.st_mtime)
    size = fs.size(path)
    return None if size is None else (size, 0.0)


def _strip_scheme(path: str) -> str:
    """``/a/b`` for ``/a/b``, ``s3://a/b`` and ``memory:///a/b`` alike (one leading slash)."""
    return "/" + path.partition("://")[2].lstrip("/") if "://" in path else path


def find_configs(fs: FileSystem) -> list[ConfigFile]:
    """Every ``projector_config.pbtxt`` under ``fs``'s root, sorted by run; never raises for I/O errors."""
    try:
        paths = fs.glob(".", "*" + CONFIG_NAME)
    except (OSError, ValueError):
        return []
    root = _strip_scheme(fs.root.replace(os.sep, "/")).rstrip("/")
    out: list[ConfigFile] = []
    for path in paths:
        norm = _strip_scheme(path.replace(os.sep, "/"))
        if posixpath.basename(norm) != CONFIG_NAME or not norm.startswith(root + "/"):
            continue
        st = file_signature(fs, path)
        if st is None:
            continue
        out.append(ConfigFile(config_run_name(posixpath.dirname(norm[len(root) + 1:])), path, st[0], st[1]))
    out.sort(key=lambda c: (c.run, c.path))
    return out


def resolve_inside(fs: FileSystem, base_dir: str, ref: str, what: str) -> str:
    """``ref`` (relative to ``base_dir``, or absolute) resolved to a real path inside the logdir.

    The check is :func:`vizboard.data.safe_paths.resolve_within` (local paths: every
    symlink followed and compared with the logdir's real path; URLs: ``..`` removed, same
    prefix). Raises :class:`ProjectorError` naming ``what`` when the result lies outside.
    """
    from vizboard.data.safe_paths import OutsideLogdirError, resolve_within

    if not ref:
        raise ProjectorError(f"{what}: empty path")
    if fs.remote:
        if "://" in ref:
            candidate = ref
        else:
            scheme = fs.root.partition("://")[0]
            base = _strip_scheme(base_dir) if "://" in base_dir else "/" + base_dir.lstrip("/")
            candidate = f"{scheme}://{posixpath.join(base, ref).lstrip('/')}"
    else:
        path = os.path.expanduser(ref)
        candidate = path if os.path.isabs(path) else os.path.join(base_dir, path)
    try:
        return resolve_within(fs.root, candidate)
    except OutsideLogdirError as exc:
        raise ProjectorError(f"{what} {ref!r} lies outside the logdir {fs.root}; refused ({exc})") from None


def read_file(fs: FileSystem, path: str, what: str) -> bytes:
    """All bytes of ``path`` (already resolved), or :class:`ProjectorError` if missing, unreadable or too big."""
    try:
        return read_all(fs, path, MAX_FILE_BYTES, what)
    except ReadAllError as exc:
        raise ProjectorError(str(exc)) from exc


def _split_name(name: str) -> tuple[str, int | None]:
    tag, sep, step = name.rpartition(":")
    if sep and tag and step.isdigit():
        return tag, int(step)
    return name, None


def parse_config(fs: FileSystem, config: ConfigFile) -> list[EmbeddingEntry]:
    """The embeddings listed in ``config``; raises :class:`ProjectorError` if it is unreadable or not a config."""
    from google.protobuf import text_format

    from logger._pb import projector_pb2

    cfg_path = resolve_inside(fs, fs.root, config.path, "projector config") if not fs.remote else config.path
    raw = read_file(fs, cfg_path, "projector config")
    msg = projector_pb2.ProjectorConfig()
    try:
        text_format.Merge(raw.decode("utf-8"), msg, allow_unknown_field=True)
    except (UnicodeDecodeError, text_format.ParseError) as exc:
        raise ProjectorError(f"{config.path} is not a readable projector config: {exc}") from exc
    base = posixpath.dirname(config.path) if fs.remote else os.path.dirname(cfg_path)
    out: list[EmbeddingEntry] = []
    for info in msg.embeddings:
        name = info.tensor_name or (posixpath.basename(info.tensor_path) if info.tensor_path else "")
        if name.endswith(":0"):
            name = name[:-2]
        tag, step = _split_name(name)
        problem: str | None = None
        tensor_path = metadata_path = None
        sprite = None
        try:
            if info.tensor_path:
                tensor_path = resolve_inside(fs, base, info.tensor_path, "tensor_path")
            else:
                problem = (f"tensor {name!r} is stored in a TensorFlow checkpoint ({msg.model_checkpoint_path or 'no path'})"
                           "; vizboard reads tensors from tensor_path files (TSV or float32 bytes) only")
            if info.metadata_path:
                metadata_path = resolve_inside(fs, base, info.metadata_path, "metadata_path")
            if info.sprite.image_path:
                dims = list(info.sprite.single_image_dim)
                if len(dims) == 2 and dims[0] > 0 and dims[1] > 0:
                    sprite = SpriteInfo(resolve_inside(fs, base, info.sprite.image_path, "sprite.image_path"),
                                        int(dims[0]), int(dims[1]))
        except ProjectorError as exc:
            problem = str(exc)
            tensor_path = None
        out.append(EmbeddingEntry(config.run, name, tag, step, config.path, tensor_path,
                                  tuple(int(d) for d in info.tensor_shape), metadata_path, sprite, problem))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_tensor(raw: bytes, shape: tuple[int, ...] = ()) -> TensorData:
    """A tensor file's points: TSV text, or raw float32 bytes of ``shape`` when the file is not UTF-8.

    TSV rules (TensorBoard's): blank lines are skipped; every row must have the same number
    of values (at least 2); a first cell that is not a number is a label. Raises
    :class:`ProjectorError` naming the line when the rows disagree.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _parse_bytes(raw, shape)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ProjectorError("the tensor file holds no points")
    first = lines[0].strip().split("\t")
    labelled = not _is_number(first[0])
    dims = len(first) - (1 if labelled else 0)
    if dims < 2:
        raise ProjectorError(f"the tensor has {dims} dimension per point; the projector needs at least 2")
    if not labelled:
        fast = _fast_tsv(raw, len(lines), dims)
        if fast is not None:
            return TensorData(fast)
    rows: list[list[str]] = []
    labels: list[str] | None = [] if labelled else None
    for i, ln in enumerate(lines):
        cells = ln.strip().split("\t")
        if labels is not None:
            labels.append(cells[0])
            cells = cells[1:]
        if len(cells) != dims:
            raise ProjectorError(f"line {i + 1} has {len(cells)} values, the first line {dims}: "
                                 f"every point needs the same number of dimensions")
        rows.append(cells)
    try:
        mat = np.array(rows, dtype=np.float32)
    except ValueError as exc:
        raise ProjectorError(f"the tensor file holds a value that is not a number ({exc})") from exc
    return TensorData(mat, labels)


def _fast_tsv(raw: bytes, rows: int, dims: int) -> np.ndarray | None:
    """pandas' C parser (10x numpy's on big files), or None to take the line-by-line path."""
    if raw.count(b"\t") != rows * (dims - 1):
        return None  # ragged rows (pandas would pad them with NaN) or stray tabs: checked line by line
    try:
        import pandas as pd

        mat = pd.read_csv(io.BytesIO(raw), sep="\t", header=None, dtype=np.float32, engine="c",
                          skip_blank_lines=True).to_numpy(dtype=np.float32)
    except Exception:  # pandas missing, a non-number, ragged rows: the slow path explains it
        return None
    return mat if mat.shape == (rows, dims) else None


def _parse_bytes(raw: bytes, shape: tuple[int, ...]) -> TensorData:
    if len(shape) != 2 or shape[1] <= 0:
        raise ProjectorError("the tensor file is binary (float32) but the config gives no 2-D tensor_shape; "
                             "add tensor_shape: [points, dims] to the embedding")
    n = len(raw) // 4 // shape[1]
    if n == 0:
        raise ProjectorError(f"the float32 tensor file is too small for tensor_shape {list(shape)}")
    mat = np.frombuffer(raw, dtype="<f4", count=n * shape[1]).reshape(n, shape[1]).astype(np.float32)
    warning = f"showing the first {n:,} of {shape[0]:,} points (the file is shorter)" if n < shape[0] else None
    return TensorData(mat[: shape[0]] if shape[0] > 0 else mat, None, warning)


def parse_metadata(raw: bytes) -> Metadata:
    """A metadata TSV as TensorBoard reads it.

    Blank lines are skipped. If the first line holds a tab it is the header (column
    names), otherwise there is no header and the single column is called ``label``.
    Missing cells and empty strings are None.
    """
    text = raw.decode("utf-8", errors="replace")
    lines = [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]
    columns = ["label"]
    if lines and "\t" in lines[0]:
        columns = lines[0].split("\t")
        lines = lines[1:]
    values: dict[str, list[str | None]] = {c: [] for c in columns}
    for ln in lines:
        cells = ln.split("\t") if len(columns) > 1 else [ln]
        for j, c in enumerate(columns):
            v = cells[j] if j < len(cells) else None
            values[c].append(v if v else None)
    numeric: dict[str, bool] = {}
    categories: dict[str, int | None] = {}
    for c in columns:
        present = [v for v in values[c] if v is not None]
        numeric[c] = bool(present) and all(_is_number(v) for v in present)
        distinct = len(set(present))
        categories[c] = distinct if distinct <= MAX_CATEGORIES else None
    return Metadata(tuple(columns), values, numeric, categories)


def crop_sprite(sprite: Any, index: int, width: int, height: int) -> Any | None:
    """Thumbnail ``index`` of a PIL sprite image tiled row-major in ``width`` x ``height`` cells, or None if outside."""
    per_row = sprite.width // width
    if per_row <= 0 or index < 0:
        return None
    row, col = divmod(index, per_row)
    box = (col * width, row * height, (col + 1) * width, (row + 1) * height)
    if box[3] > sprite.height:
        return None
    return sprite.crop(box)


def load_tensor(fs: FileSystem, entry: EmbeddingEntry) -> TensorData:
    """Read and parse ``entry``'s tensor file (see :func:`parse_tensor`)."""
    if entry.tensor_path is None:
        raise ProjectorError(entry.problem or f"{entry.name}: no tensor_path")
    try:
        return parse_tensor(read_file(fs, entry.tensor_path, "tensor file"), entry.tensor_shape)
    except ProjectorError as exc:
        raise ProjectorError(f"{entry.tensor_path}: {exc}") from exc


def load_metadata(fs: FileSystem, entry: EmbeddingEntry) -> Metadata | None:
    """``entry``'s metadata, or None when it has none."""
    if entry.metadata_path is None:
        return None
    return parse_metadata(read_file(fs, entry.metadata_path, "metadata file"))


def load_sprite_thumbnail(fs: FileSystem, sprite: SpriteInfo, index: int) -> bytes | None:
    """PNG bytes of point ``index``'s thumbnail, None if the sprite has no such cell; ProjectorError if unreadable."""
    from PIL import Image, UnidentifiedImageError

    raw = read_file(fs, sprite.path, "sprite image")
    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.width > MAX_SPRITE_PX or img.height > MAX_SPRITE_PX:
                raise ProjectorError(f"sprite {sprite.path} is {img.width}x{img.height} px, more than "
                                     f"{MAX_SPRITE_PX}x{MAX_SPRITE_PX}")
            thumb = crop_sprite(img, index, sprite.width, sprite.height)
            if thumb is None:
                return None
            out = io.BytesIO()
            thumb.convert("RGBA" if thumb.mode in ("RGBA", "LA", "P") else "RGB").save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError) as exc:
        raise ProjectorError(f"sprite {sprite.path} is not a readable image: {exc}") from exc
