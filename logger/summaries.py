"""Pure builders: python/numpy values -> Summary protos, encoded as torch's SummaryWriter does.

Every function here is deterministic and free of I/O; the writer thread calls them.
Where torch's output is reproduced, the function names the torch function it mirrors
(``torch.utils.tensorboard.summary``); intentional differences are documented inline.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from logger._convert import ArgumentError
from logger._pb import event_pb2, hparams_pb2, layout_pb2, plugins_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

__all__ = [
    "event_bytes",
    "scalar_tensor",
    "scalars_metadata",
    "default_bins",
    "histogram",
    "histogram_raw",
    "audio",
    "text",
    "pr_curve",
    "pr_curve_raw",
    "compute_curve",
    "custom_scalars",
    "hparams_values",
    "hparams_experiment",
    "hparams_session_start",
    "hparams_session_end",
    "string_tensor_value",
    "mesh",
    "module_graph",
    "MODULE_GRAPH_TAG",
    "MODULE_GRAPH_PLUGIN",
]

Summary = summary_pb2.Summary
SummaryMetadata = summary_pb2.SummaryMetadata
MODULE_GRAPH_TAG = "__vizboard_module_graph__"
MODULE_GRAPH_PLUGIN = "vizboard_module_graph"


def event_bytes(summary: Summary, step: int, wall_time: float) -> bytes:
    """Serialize ``Event{wall_time, step, summary}``."""
    data: bytes = event_pb2.Event(wall_time=wall_time, step=step, summary=summary).SerializeToString()
    return data


def _meta(plugin: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin, content=content))


def _shape(*dims: int) -> tensor_shape_pb2.TensorShapeProto:
    return tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])


# ---------------------------------------------------------------------------- scalars
def scalar_tensor(tag: str, value: float, double_precision: bool = False) -> Summary:
    """torch ``scalar(new_style=True)``: rank-0 DT_FLOAT (or DT_DOUBLE) tensor, plugin ``scalars``."""
    if double_precision:
        tensor = tensor_pb2.TensorProto(double_val=[value], dtype="DT_DOUBLE")
    else:
        tensor = tensor_pb2.TensorProto(float_val=[value], dtype="DT_FLOAT")
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=_meta("scalars"))])


# dtype name (torch's without "torch.", or numpy's) -> (TensorProto dtype, value field, kind), as torch's tensor_proto
_TENSOR_DTYPES = {
    "float16": ("DT_HALF", "half_val", "half"), "half": ("DT_HALF", "half_val", "half"),
    "bfloat16": ("DT_BFLOAT16", "half_val", "half"),
    "float32": ("DT_FLOAT", "float_val", "list"), "float64": ("DT_DOUBLE", "double_val", "list"),
    "int8": ("DT_INT8", "int_val", "list"), "uint8": ("DT_UINT8", "uint32_val", "list"),
    "qint8": ("DT_UINT8", "int_val", "list"), "int16": ("DT_INT16", "int_val", "list"),
    "int32": ("DT_INT32", "int_val", "list"), "qint32": ("DT_INT32", "int_val", "list"),
    "int64": ("DT_INT64", "int64_val", "list"), "bool": ("DT_BOOL", "bool_val", "list"),
    "complex64": ("DT_COMPLEX64", "scomplex_val", "complex"), "complex128": ("DT_COMPLEX128", "dcomplex_val", "complex"),
}


def tensor_dtype_name(x: Any) -> str:
    """``x``'s dtype as a key of the add_tensor table (``torch.float32`` and numpy ``float32`` -> ``float32``)."""
    return str(x.dtype).removeprefix("torch.")


def tensor_summary(tag: str, t: Any) -> Summary:
    """torch ``tensor_proto``: the whole tensor, values in the dtype's ``*_val`` field, plugin ``tensor``.

    Half and bfloat16 values are stored as torch stores them: the bits of each value as a
    float32, read as int32. Complex values are interleaved (real, imaginary).
    """
    import struct

    import numpy as np

    dtype, field, kind = _TENSOR_DTYPES[tensor_dtype_name(t)]
    if kind == "half":
        flat = t.float().flatten().tolist() if hasattr(t, "float") else np.asarray(t, np.float32).reshape(-1).tolist()
        values: list[Any] = [struct.unpack("i", struct.pack("f", f))[0] for f in flat]
    elif kind == "complex":
        arr = t.numpy() if hasattr(t, "numpy") else np.asarray(t)
        values = np.stack([arr.real, arr.imag], -1).reshape(-1).tolist()
    else:
        values = t.flatten().tolist() if hasattr(t, "flatten") else np.asarray(t).reshape(-1).tolist()
    proto = tensor_pb2.TensorProto(dtype=dtype, tensor_shape=_shape(*(int(d) for d in t.shape)))
    getattr(proto, field).extend(values)
    return Summary(value=[Summary.Value(tag=tag, metadata=_meta("tensor"), tensor=proto)])


@functools.lru_cache(maxsize=256)
def scalars_metadata(chart: str) -> bytes:
    """Serialized SummaryMetadata for an ``add_scalars`` member: plugin ``scalars`` + vizboard_chart."""
    content = plugins_pb2.ScalarPluginData(vizboard_chart=chart).SerializeToString()
    data: bytes = _meta("scalars", content).SerializeToString()
    return data


# ---------------------------------------------------------------------------- histograms
@functools.lru_cache(maxsize=1)
def default_bins() -> Any:
    """torch's default ``bins="tensorflow"`` edges: -x_n..-x_0, 0, x_0..x_n, x_0=1e-12, x_{k+1}=1.1 x_k < 1e20."""
    import numpy as np

    v = 1e-12
    buckets = []
    while v < 1e20:
        buckets.append(v)
        v *= 1.1
    edges = np.array([-b for b in reversed(buckets)] + [0.0] + buckets, dtype=np.float64)
    edges.setflags(write=False)
    return edges


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Summary:
    """torch ``histogram``/``make_histogram``: legacy ``histo`` with numpy bins, trimmed to the support.

    ``values`` is a numpy array (any shape, converted to float64). Raises ValueError if empty.
    """
    import numpy as np

    values = np.asarray(values).astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("values is empty: a histogram needs at least one element")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = default_bins()
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        subsampling = num_bins // max_bins
        subsampling_remainder = num_bins % subsampling
        if subsampling_remainder != 0:
            counts = np.pad(counts, pad_width=[[0, subsampling - subsampling_remainder]], mode="constant", constant_values=0)
        counts = counts.reshape(-1, subsampling).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:subsampling]
        new_limits[-1] = limits[-1]
        limits = new_limits
    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side="right")
    start = int(start)
    end = int(end) + 1
    counts = counts[start - 1 : end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start : end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("values produced an empty histogram (all values outside the bins?)")
    hist = summary_pb2.HistogramProto(
        min=values.min(),
        max=values.max(),
        num=len(values),
        sum=values.sum(),
        sum_squares=values.dot(values),
        bucket_limit=limits.tolist(),
        bucket=counts.tolist(),
    )
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


def histogram_raw(tag: str, min: float, max: float, num: float, sum: float, sum_squares: float,
                  bucket_limits: Sequence[float], bucket_counts: Sequence[float]) -> Summary:  # noqa: A002
    """torch ``histogram_raw``: the fields verbatim."""
    hist = summary_pb2.HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                                      bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


# ---------------------------------------------------------------------------- audio, text
def audio(tag: str, array: Any, sample_rate: float = 44100) -> Summary:
    """torch ``audio`` for mono input (byte-identical); also stereo.

    ``array`` (floats in [-1, 1]): 1-D mono, or 2-D ``[frames, channels]`` /
    ``[channels, frames]`` with 1 or 2 channels. Clipped to [-1, 1], scaled by 32767 and
    truncated to int16, written as WAV with the stdlib ``wave`` module.
    """
    import wave

    import numpy as np

    array = np.asarray(array).squeeze()
    if array.size and abs(array).max() > 1:
        array = array.clip(-1, 1)
    if array.ndim == 1:
        channels = 1
    elif array.ndim == 2:
        if array.shape[1] <= 2:
            channels = array.shape[1]
        else:
            array = array.T
            channels = array.shape[1]
    else:
        raise ArgumentError(f"snd_tensor must be 1-D (mono) or 2-D with 1 or 2 channels, got shape {array.shape}")
    pcm = (array * np.iinfo(np.int16).max).astype("<i2")
    fio = io.BytesIO()
    with wave.open(fio, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(pcm).data)
    snd = Summary.Audio(sample_rate=sample_rate, num_channels=channels, length_frames=pcm.shape[0],
                        encoded_audio_string=fio.getvalue(), content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=snd)])


def text(tag: str, text_string: str) -> Summary:
    """torch ``text``: tag ``<tag>/text_summary``, DT_STRING shape [1], plugin ``text``."""
    tensor = tensor_pb2.TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf_8")], tensor_shape=_shape(1))
    content = plugins_pb2.TextPluginData(version=0).SerializeToString()
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=_meta("text", content), tensor=tensor)])


def string_tensor_value(tag: str, plugin: str, data: bytes) -> Summary:
    """A rank-0 DT_STRING tensor value (no tensor_shape) with plugin metadata."""
    tensor = tensor_pb2.TensorProto(dtype="DT_STRING", string_val=[data])
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=_meta(plugin))])


# ---------------------------------------------------------------------------- PR curves
def compute_curve(labels: Any, predictions: Any, num_thresholds: int, weights: Any = None) -> Any:
    """torch/TensorBoard ``compute_curve``: [6, T] rows tp, fp, tn, fn, precision, recall."""
    import numpy as np

    minimum_count = 1e-7
    if weights is None:
        weights = 1.0
    bucket_indices = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    histogram_range = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range, weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=(1.0 - float_labels) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _pr_summary(tag: str, data: Any, num_thresholds: int) -> Summary:
    content = plugins_pb2.PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    tensor = tensor_pb2.TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                                    tensor_shape=_shape(data.shape[0], data.shape[1]))
    return Summary(value=[Summary.Value(tag=tag, metadata=_meta("pr_curves", content), tensor=tensor)])


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Summary:
    """torch ``pr_curve`` (num_thresholds capped at 127 as torch does)."""
    num_thresholds = min(num_thresholds, 127)
    return _pr_summary(tag, compute_curve(labels, predictions, num_thresholds, weights), num_thresholds)


def pr_curve_raw(tag: str, tp: Any, fp: Any, tn: Any, fn: Any, precision: Any, recall: Any, num_thresholds: int = 127) -> Summary:
    """torch ``pr_curve_raw``: the six arrays stacked into [6, T]."""
    import numpy as np

    num_thresholds = min(num_thresholds, 127)
    return _pr_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)), num_thresholds)


# ---------------------------------------------------------------------------- custom scalars
def custom_scalars(layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> Summary:
    """torch ``custom_scalars``: ``{category: {title: ["Multiline", [tags]] | ["Margin", [v, lo, hi]]}}``."""
    categories = []
    for k, v in layout.items():
        charts = []
        for chart_name, chart_metadata in v.items():
            kind, tags = chart_metadata[0], chart_metadata[1]
            if kind == "Margin":
                if len(tags) != 3:
                    raise ArgumentError(f"layout[{k!r}][{chart_name!r}]: a Margin chart needs [value, lower, upper] tags")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                charts.append(layout_pb2.Chart(title=chart_name, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                charts.append(layout_pb2.Chart(title=chart_name, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=k, chart=charts))
    data = layout_pb2.Layout(category=categories).SerializeToString()
    tensor = tensor_pb2.TensorProto(dtype="DT_STRING", string_val=[data], tensor_shape=tensor_shape_pb2.TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor, metadata=_meta("custom_scalars"))])


# ---------------------------------------------------------------------------- hparams
def hparams_values(hparam_dict: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """Validate hparams: ``{name: (kind, value)}`` with kind "bool" | "number" | "string"; None skipped.

    Accepts bool, int, float, str, numpy scalars and 1-element torch tensors / numpy
    arrays. Anything else raises TypeError naming the key.
    """
    out: dict[str, tuple[str, Any]] = {}
    for k, v in hparam_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"hparam_dict keys must be str, got {k!r}")
        if v is None:
            continue
        mod = type(v).__module__
        np_bool = mod == "numpy" and getattr(v, "dtype", None) is not None and v.dtype.kind == "b" and v.size == 1
        if isinstance(v, bool) or np_bool:
            out[k] = ("bool", bool(v))
        elif isinstance(v, (int, float)):
            out[k] = ("number", float(v))
        elif isinstance(v, str):
            out[k] = ("string", v)
        elif (mod.startswith("torch") or mod == "numpy") and getattr(v, "dtype", None) is not None:
            size = v.numel() if hasattr(v, "numel") else v.size
            if size != 1 or str(v.dtype).replace("torch.", "")[0] not in "fiub":
                raise TypeError(f"hparam_dict[{k!r}]: a tensor/array hparam must hold one real number, "
                                f"got shape {tuple(v.shape)} {v.dtype}")
            item = v.reshape(()).item() if hasattr(v, "reshape") else v.item()
            out[k] = ("bool", item) if isinstance(item, bool) else ("number", float(item))
        else:
            raise TypeError(f"hparam_dict[{k!r}] must be bool, int, float, str, None or a 1-element tensor; "
                            f"got {type(v).__name__}")
    return out


_HP_TYPES = {"bool": "DATA_TYPE_BOOL", "number": "DATA_TYPE_FLOAT64", "string": "DATA_TYPE_STRING"}


def _pb_value(kind: str, value: Any) -> Any:
    from google.protobuf import struct_pb2

    if kind == "bool":
        return struct_pb2.Value(bool_value=bool(value))
    if kind == "number":
        return struct_pb2.Value(number_value=float(value))
    return struct_pb2.Value(string_value=str(value))


def _hp_summary(tag: str, data: hparams_pb2.HParamsPluginData) -> Summary:
    return Summary(value=[Summary.Value(tag=tag, metadata=_meta("hparams", data.SerializeToString()))])


def hparams_experiment(values: Mapping[str, tuple[str, Any]], metric_tags: Sequence[str],
                       domains: Mapping[str, Sequence[Any]] | None = None, time_created_secs: float = 0.0) -> Summary:
    """``_hparams_/experiment``: one HParamInfo per hparam (typed, optional discrete domain), one MetricInfo per tag."""
    from google.protobuf import struct_pb2

    domains = domains or {}
    infos = []
    for name, (kind, _) in values.items():
        info = hparams_pb2.HParamInfo(name=name, type=_HP_TYPES[kind])
        if name in domains:
            info.domain_discrete.CopyFrom(struct_pb2.ListValue(values=[_pb_value(kind, d) for d in domains[name]]))
        infos.append(info)
    metrics = [hparams_pb2.MetricInfo(name=hparams_pb2.MetricName(tag=t)) for t in metric_tags]
    exp = hparams_pb2.Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=time_created_secs)
    return _hp_summary("_hparams_/experiment", hparams_pb2.HParamsPluginData(version=0, experiment=exp))


def hparams_session_start(values: Mapping[str, tuple[str, Any]], start_time_secs: float) -> Summary:
    """``_hparams_/session_start_info`` with typed values and ``start_time_secs``."""
    ssi = hparams_pb2.SessionStartInfo(start_time_secs=start_time_secs)
    for name, (kind, value) in values.items():
        ssi.hparams[name].CopyFrom(_pb_value(kind, value))
    return _hp_summary("_hparams_/session_start_info", hparams_pb2.HParamsPluginData(version=0, session_start_info=ssi))


def hparams_session_end(success: bool, end_time_secs: float) -> Summary:
    """``_hparams_/session_end_info``: STATUS_SUCCESS or STATUS_FAILURE with ``end_time_secs``."""
    sei = hparams_pb2.SessionEndInfo(status="STATUS_SUCCESS" if success else "STATUS_FAILURE", end_time_secs=end_time_secs)
    return _hp_summary("_hparams_/session_end_info", hparams_pb2.HParamsPluginData(version=0, session_end_info=sei))


def mesh(tag: str, vertices: Any, colors: Any, faces: Any, config_dict: Mapping[str, Any] | None,
         display_name: str | None = None, description: str | None = None) -> Summary:
    """torch ``mesh``: one DT_FLOAT [B, N, 3] value per component, tags ``<tag>_VERTEX|_FACE|_COLOR``, plugin ``mesh``."""
    import numpy as np

    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    kinds = plugins_pb2.MeshPluginData
    parts = [(a, ct) for a, ct in ((vertices, kinds.VERTEX), (faces, kinds.FACE), (colors, kinds.COLOR)) if a is not None]
    components = 0
    for _, ct in parts:
        components |= 1 << ct
    values = []
    for arr, ct in parts:
        arr = np.asarray(arr)
        content = kinds(version=0, name=tag, content_type=ct, components=components, shape=list(arr.shape),
                        json_config=json_config).SerializeToString()
        meta = SummaryMetadata(display_name=display_name, summary_description=description,
                               plugin_data=SummaryMetadata.PluginData(plugin_name="mesh", content=content))
        tensor = tensor_pb2.TensorProto(dtype="DT_FLOAT", float_val=arr.reshape(-1).tolist(), tensor_shape=_shape(*arr.shape))
        values.append(Summary.Value(tag=f"{tag}_{kinds.ContentType.Name(ct)}", tensor=tensor, metadata=meta))
    return Summary(value=values)


def module_graph(tree: Mapping[str, Any]) -> Summary:
    """The vizboard module tree (graph.py's dict) as a ``__vizboard_module_graph__`` value."""
    data = json.dumps(tree, separators=(",", ":")).encode("utf-8")
    return string_tensor_value(MODULE_GRAPH_TAG, MODULE_GRAPH_PLUGIN, data)
