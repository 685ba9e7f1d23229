"""What the writer thread runs for each queued ``add_*`` item: summary builders and event encoders.

``SummaryWriter`` (``logger.writer``) queues ``(encoder, builder, args, step, wall)`` tuples;
the :class:`~logger.event_file.EventFileWriter` thread calls ``encoder(builder, args, step,
wall)``, so array conversion and proto building happen off the training thread. The
names stay underscored: they are the writer's internals, not API.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from logger import _convert
from logger.event_file import EventFileWriter
from logger.scalar_event import encode_scalar_event

__all__ = [
    "_enc_summary",
    "_enc_scalar_meta",
    "_b_scalar_tensor",
    "_b_histogram",
    "_b_image",
    "_b_boxes",
    "_b_video",
    "_b_audio",
    "_b_pr",
    "_b_pr_raw",
    "_b_mesh",
    "_call",
    "_end_session",
]


def _enc_summary(build: Any, args: tuple[Any, ...], step: int, wall: float) -> bytes:
    from logger.summaries import event_bytes

    return event_bytes(build(*args), step, wall)


def _enc_scalar_meta(tag_chart: tuple[str, str], value: Any, step: int, wall: float) -> bytes:
    from logger.event_file import _as_float
    from logger.summaries import scalars_metadata

    tag, chart = tag_chart
    v = value if type(value) is float else _as_float(value)
    return encode_scalar_event(tag.encode("utf-8"), v, step, wall, scalars_metadata(chart))


def _b_scalar_tensor(tag: str, value: Any, double: bool) -> Any:
    from logger.event_file import _as_float
    from logger.summaries import scalar_tensor

    return scalar_tensor(tag, value if type(value) is float else _as_float(value), double)


def _b_histogram(tag: str, values: Any, bins: Any, max_bins: Any) -> Any:
    from logger.summaries import histogram

    return histogram(tag, _convert.to_numpy(values), bins, max_bins)


def _b_image(tag: str, img: Any, fmt: str) -> Any:
    from logger.images import image

    return image(tag, _convert.to_numpy(img), fmt)


def _b_boxes(tag: str, img: Any, boxes: Any, fmt_rescale: tuple[str, float], labels: list[str] | None) -> Any:
    from logger.images import image_boxes

    fmt, rescale = fmt_rescale
    return image_boxes(tag, _convert.to_numpy(img), _convert.to_numpy(boxes).reshape(-1, 4), rescale, fmt, labels)


def _b_video(tag: str, vid: Any, fps: float) -> Any:
    from logger.images import video

    return video(tag, _convert.to_numpy(vid), fps)


def _b_audio(tag: str, snd: Any, rate: float) -> Any:
    from logger.summaries import audio

    return audio(tag, _convert.to_numpy(snd), rate)


def _b_pr(tag: str, labels: Any, preds: Any, num_thresholds: int, weights: Any) -> Any:
    from logger.summaries import pr_curve

    w = None if weights is None else _convert.to_numpy(weights)
    return pr_curve(tag, _convert.to_numpy(labels), _convert.to_numpy(preds), num_thresholds, w)


def _b_pr_raw(tag: str, arrays: tuple[Any, ...], num_thresholds: int) -> Any:
    from logger.summaries import pr_curve_raw

    tp, fp, tn, fn, precision, recall = (_convert.to_numpy(a) for a in arrays)
    return pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=num_thresholds)


def _b_mesh(tag: str, vertices: Any, colors: Any, faces: Any, config: Any) -> Any:
    from logger.summaries import mesh

    conv = [None if a is None else _convert.to_numpy(a) for a in (vertices, colors, faces)]
    return mesh(tag, conv[0], conv[1], conv[2], config)


def _call(fn_name: str) -> Any:
    def build(*args: Any) -> Any:
        from logger import summaries

        return getattr(summaries, fn_name)(*args)

    build.__name__ = fn_name
    return build


def _end_session(fw: EventFileWriter, hp: dict[str, Any], success: bool | None) -> None:
    """Write ``_hparams_/session_end_info`` (and a deferred experiment) once; ``success=None``: decide at exit."""
    from logger import summaries

    if hp["ended"] or fw.closed:
        return
    hp["ended"] = True
    if success is None:  # interpreter exit: an uncaught exception leaves sys.last_type behind
        success = getattr(sys, "last_type", None) is None
    now = time.time()
    if not hp["experiment_written"]:
        # No metric_dict: every scalar tag this run logged is a metric (TensorBoard infers the
        # same while the experiment record is absent).
        fw.flush()
        tags = sorted(t for t in fw.scalar_tags() if not t.startswith("_hparams_/"))
        fw.put((_enc_summary, summaries.hparams_experiment, (hp["values"], tags, hp["domains"], now), 0, now))
    fw.put((_enc_summary, summaries.hparams_session_end, (success, now), 0, now))
