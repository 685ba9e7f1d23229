"""SummaryWriter: a drop-in for ``torch.utils.tensorboard.SummaryWriter`` that validates and enqueues only.

Each ``add_*`` call validates its arguments cheaply, snapshots arrays/tensors
(``_convert.capture``) and queues a tuple; protos are built, framed and written by the
:class:`logger.event_file.EventFileWriter` thread. Intentional differences from torch
(all still read by TensorBoard):

- ``flush_secs`` defaults to 1 s (torch: 120 s); ``max_queue`` defaults to 1024 items
  (the training thread blocks when it is full; nothing is dropped).
- ``add_scalars`` writes ``main_tag/key`` scalars into this run (no sub-runs), tagged
  with ``ScalarPluginData.vizboard_chart = main_tag`` so vizboard draws them together.
- ``add_hparams`` records the hparams of this run (no timestamp sub-run) with typed
  values (bool stays bool); the session end (SUCCESS/FAILURE + end time) is written by
  ``close()``. With an explicit ``run_name`` it writes into ``<log_dir>/<run_name>`` as
  torch does (start and end at once). TensorBoard keeps the first record of each hparams
  tag per run, so call it once per run.
- ``add_graph`` also writes vizboard's module tree (``__vizboard_module_graph__``).
- ``add_video`` writes a GIF with Pillow (no moviepy).
- ``walltime`` must be finite (ValueError otherwise); NaN/inf values are written.

Size: ~500 lines because the class is torch's whole ``SummaryWriter`` API (30 public
methods with torch's signatures and docstrings, each only validating and queueing);
what runs on the writer thread is in ``logger._encoders``, the proto builders in
``logger.summaries``/``logger.images``. Splitting the class itself would scatter one API.
"""

from __future__ import annotations

import os
import sys
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from logger import _convert, storage
from logger._convert import capture, check_step, check_tag, check_walltime
from logger._encoders import (
    _b_audio,
    _b_boxes,
    _b_histogram,
    _b_image,
    _b_mesh,
    _b_pr,
    _b_pr_raw,
    _b_scalar_tensor,
    _b_video,
    _call,
    _enc_scalar_meta,
    _enc_summary,
    _end_session,
)
from logger.event_file import EventFileWriter, _nbytes
from logger.file_writer import FileWriter
from logger.system_metrics import sampler_for_writer
from logger.timing import StepTimer

__all__ = ["SummaryWriter"]

_scalar = _convert.scalar
_time = time.time


def _default_logdir(comment: str) -> str:
    import socket
    from datetime import datetime

    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Writes TensorBoard event files for ``log_dir`` from a background thread.

    Args:
        log_dir: run directory; default ``runs/<Mon DD_HH-MM-SS>_<host><comment>``.
        comment: suffix of the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: on restart, hide points at steps >= this (writes torch's START marker).
        max_queue: queued items before ``add_*`` blocks (default 1024).
        flush_secs: maximum delay (seconds) before queued data reaches the file (default 1).
        filename_suffix: appended to the event file name.
        system_metrics: True samples CPU/memory/GPU every 10 s, a number every that many
            seconds, on a background thread, as ``system/*`` scalars (step = sample counter;
            see :mod:`logger.system_metrics`; needs psutil); stopped by ``close()``.
        storage_options: keyword arguments for the fsspec filesystem when ``log_dir`` is a URL.

    ``log_dir`` may be any fsspec URL (``s3://bucket/exp1``, ``gs://...``, ``memory://...``):
    event files are then objects re-uploaded on each flush (at most every ``flush_secs``)
    and rolled to a new object every 8 MiB; after a crash what the last flush uploaded
    survives (:mod:`logger.storage`). A missing filesystem package (s3fs, gcsfs, ...)
    raises ImportError naming it; nothing is written locally.

    ``writer.timer(name, batch_size=None, step=None)`` times a phase as ``time/<name>``
    (seconds); ``writer.timer.step()`` advances its step (see :mod:`logger.timing`).
    """

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 1024, flush_secs: float = 1.0, filename_suffix: str = "",
                 system_metrics: bool | float = False, *, storage_options: dict[str, Any] | None = None) -> None:
        self.log_dir = str(log_dir) if log_dir else _default_logdir(comment)
        self.storage_options = storage_options
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._fw: EventFileWriter | None = None
        self._file: FileWriter | None = None  # torch-style wrapper handed out by the file_writer property
        self._hparams: dict[str, Any] | None = None
        self._projector: Any = None
        self._system = sampler_for_writer(self, system_metrics)  # validated before any file exists
        self._get_file_writer()
        self.timer = StepTimer.for_writer(self)
        if self._system is not None:
            self._system.start()

    # ------------------------------------------------------------------ plumbing
    def _get_file_writer(self) -> EventFileWriter:
        fw = self._fw
        if fw is None:
            fw = self._fw = EventFileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix,
                                            self.storage_options)
            if self.purge_step is not None:
                from logger._pb import event_pb2

                step = check_step(self.purge_step)
                fw.put_raw(event_pb2.Event(step=step, file_version="brain.Event:2", wall_time=_time()).SerializeToString())
                start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
                fw.put_raw(event_pb2.Event(step=step, session_log=start, wall_time=_time()).SerializeToString())
                self.purge_step = None
        return fw

    @property
    def file_writer(self) -> FileWriter | None:
        """torch's ``FileWriter`` API over the current event file; None after ``close()`` (the next ``add_*`` reopens)."""
        fw = self._fw
        if fw is None:
            return None
        if self._file is None or self._file.event_writer is not fw:
            self._file = FileWriter(fw)
        return self._file

    @property
    def all_writers(self) -> dict[str, FileWriter] | None:
        """``{log_dir: file_writer}`` as torch (one entry: ``add_scalars`` writes into this run); None after ``close()``."""
        f = self.file_writer
        return None if f is None else {self.log_dir: f}

    def get_logdir(self) -> str:
        """Directory where event files are written."""
        return self.log_dir

    def _put(self, build: Any, args: tuple[Any, ...], global_step: Any, walltime: Any) -> None:
        step = global_step if type(global_step) is int else check_step(global_step)
        wall = _time() if walltime is None else check_walltime(walltime)
        fw = self._fw or self._get_file_writer()
        fw.put((_enc_summary, build, args, step, wall), _nbytes(args))

    def _put_event(self, payload: bytes) -> None:
        (self._fw or self._get_file_writer()).put_raw(payload)

    # ------------------------------------------------------------------ scalars
    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Log one scalar (float32 ``simple_value``; ``new_style`` = rank-0 tensor as torch).

        ``scalar_value``: int/float/bool, numpy or torch 1-element (CUDA tensors are read
        on the writer thread, no sync here). NaN and inf are written as such.
        """
        if type(tag) is not str:
            tag = check_tag(tag)
        value = scalar_value if type(scalar_value) is float else _scalar(scalar_value)
        step = global_step if type(global_step) is int else check_step(global_step)
        wall = _time() if walltime is None else check_walltime(walltime)
        if new_style:
            args = (tag, value, bool(double_precision))
            (self._fw or self._get_file_writer()).put((_enc_summary, _b_scalar_tensor, args, step, wall))
            return
        (self._fw or self._get_file_writer()).put_scalar(tag, value, step, wall)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Log ``main_tag/<key>`` scalars in this run, drawn on one vizboard chart (``vizboard_chart``)."""
        main_tag = check_tag(main_tag, "main_tag")
        if not isinstance(tag_scalar_dict, Mapping):
            raise TypeError(f"tag_scalar_dict must be a dict of tag -> number, got {type(tag_scalar_dict).__name__}")
        step = check_step(global_step)
        wall = _time() if walltime is None else check_walltime(walltime)
        items = [(f"{main_tag}/{check_tag(k, 'tag_scalar_dict key')}", _scalar(v, f"tag_scalar_dict[{k!r}]"))
                 for k, v in tag_scalar_dict.items()]
        fw = self._fw or self._get_file_writer()
        for tag, value in items:
            fw.put((_enc_scalar_meta, (tag, main_tag), value, step, wall))

    def add_tensor(self, tag: str, tensor: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        """The whole tensor (torch ``add_tensor``: dtype kept, plugin ``tensor``; TensorBoard shows no dashboard for it)."""
        from logger.summaries import _TENSOR_DTYPES, tensor_dtype_name

        tag = check_tag(tag)
        snap = capture(tensor, "tensor", numeric=False)
        if tensor_dtype_name(snap) not in _TENSOR_DTYPES:
            raise _convert.ArgumentError(f"tensor has unsupported dtype {snap.dtype}; use a bool, int, float or complex tensor")
        if _nbytes(snap) >= (1 << 31):
            raise _convert.ArgumentError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
        self._put(_call("tensor_summary"), (tag, snap), global_step, walltime)

    # ------------------------------------------------------------------ histograms
    def add_histogram(self, tag: str, values: Any, global_step: int | None = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """Histogram of ``values`` (legacy ``histo``, same buckets as torch; default bins 'tensorflow')."""
        tag = check_tag(tag)
        if not (isinstance(bins, (str, int)) or hasattr(bins, "__len__")):
            raise TypeError(f"bins must be 'tensorflow', a numpy bins string, an int or a sequence of edges, got {bins!r}")
        snap = capture(values, "values")
        size = snap.numel() if hasattr(snap, "numel") else snap.size
        if size == 0:
            raise _convert.ArgumentError(f"values is empty (shape {tuple(snap.shape)}): a histogram needs at least one element")
        if not isinstance(bins, str) and hasattr(bins, "__len__"):
            bins = capture(bins, "bins")
        self._put(_b_histogram, (tag, snap, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag: str, min: float, max: float, num: float, sum: float, sum_squares: float,  # noqa: A002
                          bucket_limits: Sequence[float], bucket_counts: Sequence[float],
                          global_step: int | None = None, walltime: float | None = None) -> None:
        """Histogram from precomputed fields (written verbatim, as torch)."""
        tag = check_tag(tag)
        limits = [float(x) for x in _convert.to_numpy(capture(bucket_limits, "bucket_limits")).reshape(-1)]
        counts = [float(x) for x in _convert.to_numpy(capture(bucket_counts, "bucket_counts")).reshape(-1)]
        if len(limits) != len(counts):
            raise _convert.ArgumentError(
                f"bucket_limits ({len(limits)}) and bucket_counts ({len(counts)}) must have the same length")
        fields = [float(_scalar(x, n)) for x, n in ((min, "min"), (max, "max"), (num, "num"), (sum, "sum"),
                                                  (sum_squares, "sum_squares"))]
        self._put(_call("histogram_raw"), (tag, *fields, limits, counts), global_step, walltime)

    # ------------------------------------------------------------------ images, video, audio
    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """One image (CHW/HWC/HW, or NCHW/NHWC tiled as torch allows; uint8 as is, floats in [0, 1] x255), PNG."""
        from logger.images import check_dataformats

        tag = check_tag(tag)
        snap = capture(img_tensor, "img_tensor")
        fmt = check_dataformats(_convert.shape_of(snap), dataformats, (2, 3, 4))
        self._put(_b_image, (tag, snap, fmt), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images (NCHW/NHWC) tiled 8 per row into one image, as torch's make_grid."""
        from logger.images import check_dataformats

        tag = check_tag(tag)
        snap = capture(img_tensor, "img_tensor")
        fmt = check_dataformats(_convert.shape_of(snap), dataformats, (4,))
        self._put(_b_image, (tag, snap, fmt), global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor: Any, box_tensor: Any, global_step: int | None = None,
                             walltime: float | None = None, rescale: float = 1, dataformats: str = "CHW",
                             labels: Sequence[str] | str | None = None) -> None:
        """One image with red bounding boxes drawn as torch draws them (same PNG bytes).

        ``box_tensor``: [N, 4] rows ``x1, y1, x2, y2`` in pixels; ``labels``: one string per
        box (a str counts as one label; a list of the wrong length is ignored, as torch);
        ``rescale``: the drawn image is resized by this factor (Lanczos).
        """
        from logger.images import check_dataformats

        tag = check_tag(tag)
        snap = capture(img_tensor, "img_tensor")
        fmt = check_dataformats(_convert.shape_of(snap), dataformats, (2, 3))
        boxes = capture(box_tensor, "box_tensor")
        shape = _convert.shape_of(boxes)
        if not (len(shape) == 2 and shape[1] == 4) and not (len(shape) == 1 and shape[0] in (0, 4)):
            raise _convert.ArgumentError(f"box_tensor must be [N, 4] rows of x1, y1, x2, y2, got shape {shape}")
        if not (isinstance(rescale, (int, float)) and rescale > 0):
            raise _convert.ArgumentError(f"rescale must be a positive number, got {rescale!r}")
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else [str(x) for x in labels]
            if len(labels) != (shape[0] if len(shape) == 2 else (1 if shape[0] else 0)):
                labels = None
        self._put(_b_boxes, (tag, snap, boxes, (fmt, float(rescale)), labels), global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """Render a matplotlib figure (or a list of figures, tiled) and log it as an image."""
        import numpy as np

        from logger.images import figure_to_chw

        if isinstance(figure, list):
            self.add_image(tag, np.stack([figure_to_chw(f, close) for f in figure]), global_step, walltime, "NCHW")
        else:
            self.add_image(tag, figure_to_chw(figure, close), global_step, walltime, "CHW")

    def add_video(self, tag: str, vid_tensor: Any, global_step: int | None = None, fps: float = 4,
                  walltime: float | None = None) -> None:
        """Video [B, T, C, H, W] (uint8 or floats in [0, 1]) as an animated GIF, encoded with Pillow."""
        tag = check_tag(tag)
        snap = capture(vid_tensor, "vid_tensor")
        shape = _convert.shape_of(snap)
        if len(shape) != 5 or shape[2] not in (1, 3, 4):
            raise _convert.ArgumentError(f"vid_tensor must be [N, T, C, H, W] with C in 1/3/4, got shape {shape}")
        if not fps > 0:
            raise _convert.ArgumentError(f"fps must be positive, got {fps!r}")
        self._put(_b_video, (tag, snap, float(fps)), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: int | None = None, sample_rate: float = 44100,
                  walltime: float | None = None) -> None:
        """Audio clip: floats in [-1, 1], mono (1-D) or stereo ([frames, 2] or [2, frames]); int16 WAV."""
        tag = check_tag(tag)
        snap = capture(snd_tensor, "snd_tensor")
        shape = tuple(d for d in _convert.shape_of(snap) if d != 1)
        if len(shape) > 2 or (len(shape) == 2 and min(shape) > 2) or not shape:
            raise _convert.ArgumentError(
                f"snd_tensor must be 1-D (mono) or 2-D with 1 or 2 channels, got shape {_convert.shape_of(snap)}")
        if not (isinstance(sample_rate, (int, float)) and sample_rate > 0):
            raise _convert.ArgumentError(f"sample_rate must be a positive number of Hz, got {sample_rate!r}")
        self._put(_b_audio, (tag, snap, sample_rate), global_step, walltime)

    # ------------------------------------------------------------------ text, pr curves, layouts
    def add_text(self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None) -> None:
        """Markdown text (tag ``<tag>/text_summary`` as torch)."""
        tag = check_tag(tag)
        if not isinstance(text_string, str):
            raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
        self._put(_call("text"), (tag, text_string), global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any, global_step: int | None = None,
                     num_thresholds: int = 127, weights: Any = None, walltime: float | None = None) -> None:
        """Precision-recall curve from 0/1 ``labels`` and ``predictions`` in [0, 1] (as torch)."""
        tag = check_tag(tag)
        lab, pred = capture(labels, "labels"), capture(predictions, "predictions")
        if _convert.shape_of(lab) != _convert.shape_of(pred):
            raise _convert.ArgumentError(
                f"labels {_convert.shape_of(lab)} and predictions {_convert.shape_of(pred)} must have the same shape")
        if not isinstance(num_thresholds, int) or num_thresholds < 1:
            raise _convert.ArgumentError(f"num_thresholds must be an int >= 1, got {num_thresholds!r}")
        w = None if weights is None else capture(weights, "weights")
        self._put(_b_pr, (tag, lab, pred, num_thresholds, w), global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts: Any, false_positive_counts: Any, true_negative_counts: Any,
                         false_negative_counts: Any, precision: Any, recall: Any, global_step: int | None = None,
                         num_thresholds: int = 127, weights: Any = None, walltime: float | None = None) -> None:
        """Precision-recall curve from the six precomputed arrays (as torch)."""
        tag = check_tag(tag)
        names = ("true_positive_counts", "false_positive_counts", "true_negative_counts", "false_negative_counts",
                 "precision", "recall")
        arrays = tuple(capture(a, n) for a, n in zip((true_positive_counts, false_positive_counts, true_negative_counts,
                                                      false_negative_counts, precision, recall), names))
        shapes = {_convert.shape_of(a) for a in arrays}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise _convert.ArgumentError(f"the six pr-curve arrays must be 1-D and of equal length, got shapes {sorted(shapes)}")
        self._put(_b_pr_raw, (tag, arrays, num_thresholds), global_step, walltime)

    def add_custom_scalars(self, layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> None:
        """Custom-scalars layout ``{category: {title: ["Multiline", [regex...]] | ["Margin", [v, lo, hi]]}}``."""
        if not isinstance(layout, Mapping):
            raise TypeError(f"layout must be a dict of category -> {{title: [kind, tags]}}, got {type(layout).__name__}")
        for cat, charts in layout.items():
            for title, spec in charts.items():
                if not (isinstance(spec, (list, tuple)) and len(spec) == 2 and spec[0] in ("Multiline", "Margin")):
                    raise _convert.ArgumentError(
                        f"layout[{cat!r}][{title!r}] must be ['Multiline', [tags]] or ['Margin', [v, lo, hi]]")
                if spec[0] == "Margin" and len(spec[1]) != 3:
                    raise _convert.ArgumentError(f"layout[{cat!r}][{title!r}]: a Margin chart needs exactly 3 tags")
        self._put(_call("custom_scalars"), ({k: dict(v) for k, v in layout.items()},), None, None)

    def add_custom_scalars_multilinechart(self, tags: Sequence[str], category: str = "default", title: str = "untitled") -> None:
        """One multiline chart of ``tags`` (regular expressions) in ``category``."""
        self.add_custom_scalars({category: {title: ["Multiline", list(tags)]}})

    def add_custom_scalars_marginchart(self, tags: Sequence[str], category: str = "default", title: str = "untitled") -> None:
        """One margin chart from ``[value, lower, upper]`` tags."""
        if len(tags) != 3:
            raise _convert.ArgumentError(f"tags must be [value, lower, upper], got {len(tags)} tags")
        self.add_custom_scalars({category: {title: ["Margin", list(tags)]}})

    # ------------------------------------------------------------------ hparams
    def add_hparams(self, hparam_dict: Mapping[str, Any], metric_dict: Mapping[str, Any],
                    hparam_domain_discrete: Mapping[str, Sequence[Any]] | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """Record this run's hyperparameters and metrics for TensorBoard's HParams tab.

        Values keep their type (bool/number/string); ``metric_dict`` values are logged as
        scalars at ``global_step`` (0 if None) and name the experiment's metrics (later
        ``add_scalar`` calls on those tags update them). Writes the experiment and session
        start now and the session end on ``close()``. With ``run_name``, writes everything
        into the sub-run ``<log_dir>/<run_name>`` at once, as torch does.
        """
        from logger import summaries

        if not isinstance(hparam_dict, Mapping):
            raise TypeError(f"hparam_dict must be a dict, got {type(hparam_dict).__name__}")
        if not isinstance(metric_dict, Mapping):
            raise TypeError(f"metric_dict must be a dict, got {type(metric_dict).__name__}")
        values = summaries.hparams_values(hparam_dict)
        domains = dict(hparam_domain_discrete or {})
        for k, dom in domains.items():
            if k not in values or not isinstance(dom, (list, tuple)):
                raise TypeError(f"hparam_domain_discrete[{k!r}] must be a list of the values hparam_dict[{k!r}] can take")
        metrics = {check_tag(k, "metric_dict key"): _scalar(v, f"metric_dict[{k!r}]") for k, v in metric_dict.items()}
        step = check_step(global_step)
        if run_name:
            with SummaryWriter(storage.join(self.log_dir, run_name), max_queue=self.max_queue, flush_secs=self.flush_secs,
                               storage_options=self.storage_options) as sub:
                sub.add_hparams(hparam_dict, metric_dict, hparam_domain_discrete, None, global_step)
            return
        now = _time()
        if self._hparams is not None:
            self._hparams["finalizer"].detach()
        fw = self._fw or self._get_file_writer()
        hp = self._hparams = {"values": values, "domains": domains, "ended": False, "experiment_written": bool(metrics)}
        if metrics:
            self._put(summaries.hparams_experiment, (values, list(metrics), domains, now), None, now)
        self._put(summaries.hparams_session_start, (values, now), None, now)
        for tag, value in metrics.items():
            self.add_scalar(tag, value, step)
        # Exit without close(): the session end is still written (finalizers run last-in first-out,
        # so this one runs before the file writer's own).
        hp["finalizer"] = weakref.finalize(self, _end_session, fw, hp, None)

    def _end_hparams(self, success: bool) -> None:
        hp = self._hparams
        if hp is not None and self._fw is not None:
            hp["finalizer"].detach()
            _end_session(self._fw, hp, success)

    # ------------------------------------------------------------------ graph, embedding, mesh
    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False, use_strict_trace: bool = True) -> None:
        """TensorBoard's GraphDef of ``model`` (torch's tracer, as torch) plus vizboard's module tree.

        The module tree (tag ``__vizboard_module_graph__``, drawn by vizboard's Graphs tab)
        is written first. If torch's tracer fails, a ``RuntimeWarning`` gives the reason and
        the tracer's exception is raised after the tree is written, as torch raises it.
        """
        from logger import graph
        from logger._pb import event_pb2
        from logger.summaries import event_bytes, module_graph

        graph_def, run_metadata, tree, error = graph.build(model, input_to_model, verbose, use_strict_trace)
        now = _time()
        self._put_event(event_bytes(module_graph(tree), 0, now))
        if error is not None:
            raise error
        if graph_def:  # empty only without the tensorboard package (torch's tracer module needs it)
            self._put_event(event_pb2.Event(wall_time=now, graph_def=graph_def).SerializeToString())
            trm = event_pb2.TaggedRunMetadata(tag="step1", run_metadata=run_metadata)
            self._put_event(event_pb2.Event(wall_time=now, tagged_run_metadata=trm).SerializeToString())

    def add_onnx_graph(self, prototxt: str | os.PathLike[str]) -> None:
        """The graph of the ONNX model file ``prototxt`` (a path, as torch), written as torch writes it (needs ``onnx``)."""
        from logger.graph import onnx_graph_def

        self._put_event(onnx_graph_def(prototxt, _time()))

    def add_embedding(self, mat: Any, metadata: Sequence[Any] | None = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default", metadata_header: Sequence[str] | None = None) -> None:
        """Embedding projector files as torch writes them (tensors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt)."""
        from logger._embedding import write_embedding

        self._projector = write_embedding(self.log_dir, self._projector, mat, metadata, label_img, global_step, tag,
                                          metadata_header, self.storage_options)

    def add_mesh(self, tag: str, vertices: Any, colors: Any = None, faces: Any = None,
                 config_dict: Mapping[str, Any] | None = None,
                 global_step: int | None = None, walltime: float | None = None) -> None:
        """Mesh / point cloud as torch writes it: ``vertices``, ``colors``, ``faces`` each [B, N, 3]."""
        tag = check_tag(tag)
        parts: list[Any] = []
        for arr, name in ((vertices, "vertices"), (colors, "colors"), (faces, "faces")):
            if arr is None:
                parts.append(None)
                continue
            snap = capture(arr, name)
            shape = _convert.shape_of(snap)
            if len(shape) != 3 or shape[2] != 3:
                raise _convert.ArgumentError(f"{name} must have shape [B, N, 3], got {shape}")
            parts.append(snap)
        if parts[0] is None:
            raise _convert.ArgumentError("vertices is required")
        self._put(_b_mesh, (tag, *parts, dict(config_dict) if config_dict is not None else None), global_step, walltime)

    # ------------------------------------------------------------------ lifecycle
    def flush(self, sync: bool = False) -> None:
        """Write everything logged so far to the OS (or upload it, for a URL log_dir): survives a crash of this process.

        ``sync=True`` also fsyncs a local file (survives power loss).
        """
        if self._fw is not None:
            self._fw.flush(sync)

    def close(self) -> None:
        """Write the hparams session end (if any), flush and close the file (idempotent; add_* reopens like torch)."""
        if self._system is not None:
            self._system.stop()  # joins; its last sample is queued before the file closes
        if self._fw is None:
            return
        try:
            self._end_hparams(sys.exc_info()[0] is None)
        finally:
            fw, self._fw, self._file = self._fw, None, None
            fw.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._fw is not None:
            self._end_hparams(exc_type is None)
        self.close()
