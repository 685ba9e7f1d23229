"""Event payload -> typed values: series metadata, tensor decoding and every plugin's layout.

Implements event-format.md §3-4 for readers: per-series metadata from the first value
that has it (§3.1), TensorProto decoding with ``tensor_content`` precedence and
single-element broadcast (§3.3), and the legacy -> modern normalisation of §4.0
(histograms as (left, right, count) buckets with empty end buckets dropped and the
outer edges replaced by min/max, like TensorBoard's ``data_compat``).

Every decoder raises :class:`DecodeError` for a value it cannot read; the caller
records a ``bad_value`` problem and skips only that value. TensorProto decoding itself
(``make_ndarray``, re-exported here) is in ``vizboard.data.tensors``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from logger._pb import event_pb2, hparams_pb2, layout_pb2, plugins_pb2, summary_pb2
from vizboard.data.models import ChartLayout, Kind
from vizboard.data.tensors import DecodeError, make_ndarray, utf8_strings

__all__ = [
    "DecodeError",
    "SeriesMeta",
    "ScalarValue",
    "HistogramValue",
    "BlobItem",
    "BlobValue",
    "TextValue",
    "PrCurveValue",
    "HParamsValue",
    "LayoutValue",
    "ModuleTreeValue",
    "OtherValue",
    "MODULE_GRAPH_TAG",
    "RUN_GRAPH_TAG",
    "metadata_of",
    "inferred_metadata",
    "make_ndarray",
    "decode_value",
    "layout_to_charts",
    "sniff_content_type",
    "parse_event",
]

MODULE_GRAPH_TAG = "__vizboard_module_graph__"
"""Tag of logger's module-tree value (plugin ``vizboard_module_graph``, DT_STRING rank-0 JSON)."""
RUN_GRAPH_TAG = "__run_graph__"
"""Pseudo tag under which a run's ``graph_def`` events are indexed (as TensorBoard does)."""

_PLUGIN_KIND = {
    "scalars": Kind.SCALARS,
    "histograms": Kind.HISTOGRAMS,
    "images": Kind.IMAGES,
    "audio": Kind.AUDIO,
    "text": Kind.TEXT,
    "pr_curves": Kind.PR_CURVES,
    "hparams": Kind.HPARAMS,
    "graphs": Kind.GRAPHS,
    "graph_run_metadata": Kind.GRAPHS,
    "graph_run_metadata_graph": Kind.GRAPHS,
    "graph_keras_model": Kind.GRAPHS,
    "graph_tagged_run_metadata": Kind.GRAPHS,
    "vizboard_module_graph": Kind.GRAPHS,
}


@dataclass(frozen=True, slots=True)
class SeriesMeta:
    """How a series is drawn: fixed by the first value that carries metadata (§3.1)."""

    kind: Kind
    plugin: str
    display_name: str = ""
    description: str = ""
    chart: str | None = None
    content: bytes = b""
    from_metadata: bool = False


@dataclass(frozen=True, slots=True)
class ScalarValue:
    value: float


@dataclass(frozen=True, slots=True)
class HistogramValue:
    """Buckets (left, right, count) as float64 arrays, plus min/max/num/sum (NaN if unknown)."""

    left: np.ndarray
    right: np.ndarray
    count: np.ndarray
    minimum: float
    maximum: float
    num: float
    total: float


@dataclass(frozen=True, slots=True)
class BlobItem:
    """One image/audio/graph item of a value (bytes stay on disk)."""

    index: int
    content_type: str = ""
    width: int = 0
    height: int = 0
    sample_rate: float = 0.0
    num_channels: int = 0
    length_frames: int = 0
    label: str = ""


@dataclass(frozen=True, slots=True)
class BlobValue:
    items: tuple[BlobItem, ...]


@dataclass(frozen=True, slots=True)
class TextValue:
    data: np.ndarray


@dataclass(frozen=True, slots=True)
class PrCurveValue:
    data: np.ndarray


@dataclass(frozen=True, slots=True)
class HParamsValue:
    """One of experiment / session_start_info / session_end_info (``which``), as a proto."""

    which: str
    message: Any


@dataclass(frozen=True, slots=True)
class LayoutValue:
    charts: tuple[ChartLayout, ...]


@dataclass(frozen=True, slots=True)
class ModuleTreeValue:
    tree: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OtherValue:
    """A value of a plugin vizboard does not draw (counted, not stored)."""

    plugin: str = ""


# --------------------------------------------------------------------------- metadata


def _chart_of(content: bytes) -> str | None:
    try:
        msg = plugins_pb2.ScalarPluginData.FromString(content)
    except Exception:  # noqa: BLE001 - bad content only loses the grouping
        return None
    return getattr(msg, "vizboard_chart", "") or None


def _kind_for(plugin: str, data_class: int) -> Kind:
    kind = _PLUGIN_KIND.get(plugin)
    if kind is not None:
        return kind
    if data_class == summary_pb2.DATA_CLASS_SCALAR:
        return Kind.SCALARS
    return Kind.OTHER


def metadata_of(value: summary_pb2.Summary.Value) -> SeriesMeta | None:
    """The series metadata carried by ``value`` itself, or None if it has no plugin metadata."""
    if not value.HasField("metadata"):
        return None
    md = value.metadata
    plugin = md.plugin_data.plugin_name
    if plugin not in ("", "scalars") and value.WhichOneof("value") == "simple_value":
        # TensorBoard's data_compat migrates every simple_value to the scalars plugin, keeping
        # only display name and description, whatever plugin the value claims.
        return SeriesMeta(Kind.SCALARS, "scalars", md.display_name, md.summary_description)
    if not plugin:
        # tensorboardX puts display_name/description without a plugin on simple_value.
        inferred = inferred_metadata(value)
        if inferred.kind is Kind.OTHER:
            return None
        return SeriesMeta(inferred.kind, inferred.plugin, md.display_name, md.summary_description)
    content = md.plugin_data.content
    chart = _chart_of(content) if plugin == "scalars" and content else None
    return SeriesMeta(
        _kind_for(plugin, md.data_class), plugin, md.display_name, md.summary_description, chart, content, True
    )


def inferred_metadata(value: summary_pb2.Summary.Value) -> SeriesMeta:
    """Metadata implied by a legacy value's oneof (§4.0); OTHER for an unlabelled tensor."""
    which = value.WhichOneof("value")
    if which == "simple_value":
        return SeriesMeta(Kind.SCALARS, "scalars")
    if which == "histo":
        return SeriesMeta(Kind.HISTOGRAMS, "histograms")
    if which == "image":
        return SeriesMeta(Kind.IMAGES, "images")
    if which == "audio":
        return SeriesMeta(Kind.AUDIO, "audio")
    return SeriesMeta(Kind.OTHER, "")


# --------------------------------------------------------------------------- plugins


def sniff_content_type(data: bytes, default: str = "application/octet-stream") -> str:
    """MIME type of image/audio bytes from their magic number (PNG, JPEG, GIF, BMP, WAV)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data.startswith(b"BM"):
        return "image/bmp"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "audio/wav"
    return default


def _scalar(value: summary_pb2.Summary.Value) -> ScalarValue:
    which = value.WhichOneof("value")
    if which == "simple_value":
        return ScalarValue(float(value.simple_value))
    if which == "tensor":
        arr = make_ndarray(value.tensor)
        if arr.size != 1 or arr.dtype == object:
            raise DecodeError(f"scalar tensor has {arr.size} elements of {arr.dtype}")
        x = arr.reshape(-1)[0]
        if np.iscomplexobj(x):
            raise DecodeError("complex scalar")
        return ScalarValue(float(x))
    raise DecodeError(f"scalar value holds {which!r}")


def _histogram(value: summary_pb2.Summary.Value) -> HistogramValue:
    which = value.WhichOneof("value")
    if which == "histo":
        h = value.histo
        counts = np.asarray(h.bucket, dtype=np.float64)
        limits = np.asarray(h.bucket_limit, dtype=np.float64)
        if counts.size != limits.size:
            raise DecodeError(f"histogram has {counts.size} buckets but {limits.size} limits")
        nz = np.flatnonzero(counts > 0)
        if nz.size == 0:
            e = np.zeros(0)
            return HistogramValue(e, e, e, h.min, h.max, h.num, h.sum)
        start, end = int(nz[0]), int(nz[-1])
        inner = limits[start:end]
        left = np.concatenate(([h.min], inner))
        right = np.concatenate((inner, [h.max]))
        return HistogramValue(left, right, counts[start : end + 1].copy(), h.min, h.max, h.num, h.sum)
    if which == "tensor":
        arr = make_ndarray(value.tensor)
        if arr.dtype == object or arr.ndim != 2 or arr.shape[1] != 3:
            raise DecodeError(f"histogram tensor has shape {arr.shape}, expected [k, 3]")
        arr = arr.astype(np.float64)
        left, right, count = arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy()
        if len(arr) == 0:
            return HistogramValue(left, right, count, np.nan, np.nan, 0.0, np.nan)
        return HistogramValue(left, right, count, float(left[0]), float(right[-1]), float(count.sum()), np.nan)
    raise DecodeError(f"histogram value holds {which!r}")


def _images(value: summary_pb2.Summary.Value) -> BlobValue:
    which = value.WhichOneof("value")
    if which == "image":
        im = value.image
        ct = sniff_content_type(im.encoded_image_string)
        return BlobValue((BlobItem(0, ct, im.width, im.height),))
    if which == "tensor":
        arr = make_ndarray(value.tensor)
        if arr.dtype != object or arr.ndim != 1 or arr.size < 2:
            raise DecodeError(f"image tensor has shape {arr.shape}, expected DT_STRING [2+k]")
        try:
            w, h = int(arr[0]), int(arr[1])
        except ValueError as exc:
            raise DecodeError(f"image tensor width/height not decimal: {exc}") from None
        return BlobValue(tuple(BlobItem(i, sniff_content_type(b), w, h) for i, b in enumerate(arr[2:])))
    raise DecodeError(f"image value holds {which!r}")


def _audio(value: summary_pb2.Summary.Value) -> BlobValue:
    which = value.WhichOneof("value")
    if which == "audio":
        a = value.audio
        ct = a.content_type or sniff_content_type(a.encoded_audio_string, "audio/wav")
        return BlobValue((BlobItem(0, ct, 0, 0, a.sample_rate, a.num_channels, a.length_frames),))
    if which == "tensor":
        arr = make_ndarray(value.tensor)
        if arr.dtype != object or arr.ndim not in (0, 1, 2):
            raise DecodeError(f"audio tensor has shape {arr.shape}")
        if arr.ndim == 0:
            arr = arr.reshape(1)
        items = []
        for i in range(arr.shape[0]):
            clip = arr[i, 0] if arr.ndim == 2 else arr[i]
            label = arr[i, 1] if arr.ndim == 2 and arr.shape[1] > 1 else b""
            lab = label.decode("utf-8", "replace") if isinstance(label, bytes) else str(label)
            items.append(BlobItem(i, sniff_content_type(clip, "audio/wav"), label=lab))
        return BlobValue(tuple(items))
    raise DecodeError(f"audio value holds {which!r}")


def _graph_blob(value: summary_pb2.Summary.Value) -> BlobValue:
    if value.WhichOneof("value") != "tensor":
        raise DecodeError("graph value has no tensor")
    arr = make_ndarray(value.tensor)
    if arr.dtype != object:
        raise DecodeError("graph tensor is not DT_STRING")
    return BlobValue(tuple(BlobItem(i, "application/octet-stream") for i in range(arr.size)))


def layout_to_charts(layout: layout_pb2.Layout) -> tuple[ChartLayout, ...]:
    """Flatten a custom-scalars Layout (§4.7) into ChartLayout records."""
    out = []
    for cat in layout.category:
        for chart in cat.chart:
            if chart.HasField("margin"):
                margin = tuple((s.value, s.lower, s.upper) for s in chart.margin.series)
                out.append(ChartLayout(cat.title, chart.title, (), margin, cat.closed))
            else:
                out.append(ChartLayout(cat.title, chart.title, tuple(chart.multiline.tag), (), cat.closed))
    return tuple(out)


def _single_string(value: summary_pb2.Summary.Value) -> bytes:
    if value.WhichOneof("value") != "tensor":
        raise DecodeError("expected a DT_STRING tensor")
    arr = make_ndarray(value.tensor)
    if arr.dtype != object or arr.size != 1:
        raise DecodeError(f"expected one string, got shape {arr.shape}")
    return bytes(arr.reshape(-1)[0])


def _hparams(meta: SeriesMeta, value: summary_pb2.Summary.Value) -> HParamsValue:
    content = value.metadata.plugin_data.content if value.HasField("metadata") else meta.content
    try:
        data = hparams_pb2.HParamsPluginData.FromString(content)
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"hparams content does not parse: {exc}") from None
    if data.version != 0:
        raise DecodeError(f"hparams plugin data version {data.version} (only 0 is defined)")
    which = data.WhichOneof("data")
    if which is None:
        raise DecodeError("hparams plugin data holds nothing")
    return HParamsValue(which, getattr(data, which))


def decode_value(value: summary_pb2.Summary.Value, meta: SeriesMeta) -> Any:
    """Decode one Summary.Value of a series whose metadata is ``meta``.

    Returns one of the ``*Value`` records; raises DecodeError if the value's bytes do
    not fit the plugin's layout (the caller skips just this value).
    """
    try:
        kind, plugin = meta.kind, meta.plugin
        if kind is Kind.SCALARS:
            return _scalar(value)
        if kind is Kind.HISTOGRAMS:
            return _histogram(value)
        if kind is Kind.IMAGES:
            return _images(value)
        if kind is Kind.AUDIO:
            return _audio(value)
        if kind is Kind.TEXT:
            arr = make_ndarray(value.tensor)
            if arr.dtype != object:
                raise DecodeError("text tensor is not DT_STRING")
            return TextValue(utf8_strings(arr))
        if kind is Kind.PR_CURVES:
            arr = make_ndarray(value.tensor)
            if arr.dtype == object or arr.ndim != 2 or arr.shape[0] != 6:
                raise DecodeError(f"PR curve tensor has shape {arr.shape}, expected [6, T]")
            return PrCurveValue(arr.astype(np.float64))
        if kind is Kind.HPARAMS:
            return _hparams(meta, value)
        if plugin == "vizboard_module_graph":
            tree = json.loads(_single_string(value).decode("utf-8"))
            if not isinstance(tree, dict):
                raise DecodeError("module graph JSON is not an object")
            return ModuleTreeValue(tree)
        if kind is Kind.GRAPHS:
            return _graph_blob(value)
        if plugin == "custom_scalars":
            layout = layout_pb2.Layout.FromString(_single_string(value))
            return LayoutValue(layout_to_charts(layout))
        return OtherValue(plugin)
    except DecodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a bad value, never a crash
        raise DecodeError(f"{type(exc).__name__}: {exc}") from None


# --------------------------------------------------------------------------- events


def parse_event(payload: bytes) -> event_pb2.Event:
    """Parse one record payload as an Event (raises DecodeError if it does not parse)."""
    try:
        event: event_pb2.Event = event_pb2.Event.FromString(payload)
        return event
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(f"payload is not an Event: {exc}") from None
