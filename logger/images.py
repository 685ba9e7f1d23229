"""Images, image grids, GIF videos and matplotlib figures -> legacy ``Summary.Image`` values (PNG/GIF via Pillow).

Pixel handling mirrors torch's ``summary.image`` (uint8 kept, anything else x255, clipped,
cast to uint8; CHW/HWC/HW/NCHW/NHWC; batches tiled 8 per row like ``make_grid``), so the
PNG bytes are identical to torch's for the same input. Pillow is imported lazily.
"""

from __future__ import annotations

import io
from typing import Any

from logger._convert import ArgumentError
from logger._pb import summary_pb2

__all__ = ["check_dataformats", "to_hwc", "make_grid", "image", "image_boxes", "video", "figure_to_chw"]

Summary = summary_pb2.Summary


def check_dataformats(shape: tuple[int, ...], dataformats: str, allowed: tuple[int, ...] = (2, 3, 4)) -> str:
    """Validate ``dataformats`` against an image's shape on the training thread; return it upper-cased."""
    if not isinstance(dataformats, str):
        raise TypeError(f"dataformats must be a str such as 'CHW', got {dataformats!r}")
    fmt = dataformats.upper()
    required = {2: "HW", 3: "CHW", 4: "NCHW"}
    if len(fmt) not in allowed or sorted(fmt) != sorted(required[len(fmt)]):
        raise ArgumentError(f"dataformats {dataformats!r} is not supported here; use a permutation of "
                         + " or ".join(repr(required[n]) for n in allowed))
    if len(shape) != len(fmt):
        raise ArgumentError(f"img_tensor has shape {shape} ({len(shape)} dims) but dataformats={dataformats!r} "
                         f"needs {len(fmt)} dims; pass matching dataformats (e.g. 'HWC', 'HW', 'NCHW')")
    if "C" in fmt and shape[fmt.index("C")] not in (1, 3, 4):
        raise ValueError(f"img_tensor has {shape[fmt.index('C')]} channels (shape {shape}, dataformats "
                         f"{dataformats!r}); images need 1, 3 or 4 channels — check dataformats")
    if len(fmt) == 4 and shape[fmt.index("C")] == 4:
        raise ValueError("add_images takes 1 or 3 channels per image (torch's make_grid), got 4")
    return fmt


def make_grid(batch: Any, ncols: int = 8) -> Any:
    """torch's ``make_grid``: N1HW or N3HW -> 3 x (H*rows) x (W*cols), row-major, zeros elsewhere."""
    import numpy as np

    if batch.shape[1] == 1:
        batch = np.concatenate([batch, batch, batch], 1)
    nimg, _, h, w = batch.shape
    ncols = min(nimg, ncols)
    nrows = int(np.ceil(float(nimg) / ncols))
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=batch.dtype)
    for i in range(nimg):
        y, x = divmod(i, ncols)
        canvas[:, y * h : (y + 1) * h, x * w : (x + 1) * w] = batch[i]
    return canvas


def to_hwc(array: Any, fmt: str) -> Any:
    """torch's ``convert_to_HWC``: any supported layout -> HWC (1 channel expanded to 3)."""
    import numpy as np

    if len(fmt) == 4:
        nchw = array.transpose([fmt.find(c) for c in "NCHW"])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in "HWC"])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    hw = array.transpose([fmt.find(c) for c in "HW"])
    return np.stack([hw, hw, hw], 2)


def _to_uint8(array: Any) -> Any:
    import numpy as np

    scale = 1 if array.dtype == np.uint8 else 255
    return (array.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def image(tag: str, array: Any, dataformats: str = "CHW") -> Summary:
    """torch ``image``: numpy array in ``dataformats`` -> PNG ``Summary.Image`` (colorspace = channels)."""
    from PIL import Image

    hwc = _to_uint8(to_hwc(array, dataformats))
    height, width, channels = hwc.shape
    out = io.BytesIO()
    Image.fromarray(hwc).save(out, format="PNG")
    img = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=out.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def _draw_box(draw: Any, font: Any, box: Any, label: str | None) -> None:
    """One red box ``[x1, y1, x2, y2]`` (2 px) and, if given, ``label`` in black on red above its bottom-left corner."""
    import numpy as np

    left, top, right, bottom = box[0], box[1], box[2], box[3]
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill="Red")
    if label:
        x0, y0, x1, y1 = font.getbbox(label)
        tw, th = x1 - x0, y1 - y0
        margin = np.ceil(0.05 * th)
        draw.rectangle([(left, bottom - th - 2 * margin), (left + tw, bottom)], fill="Red")
        draw.text((left + margin, bottom - th - margin), label, fill="black", font=font)


def image_boxes(tag: str, array: Any, boxes: Any, rescale: float = 1, dataformats: str = "CHW",
                labels: list[str] | None = None) -> Summary:
    """Image with boxes drawn as torch's ``image_boxes`` draws them (PNG byte-identical to torch's).

    ``boxes``: [N, 4] pixel corners ``x1, y1, x2, y2``; ``labels``: one string per box or
    None; ``rescale``: the PNG is resized (Lanczos) by this factor after drawing, while
    ``height``/``width`` record the original size, as torch does.
    """
    from PIL import Image, ImageDraw, ImageFont

    hwc = _to_uint8(to_hwc(array, dataformats))
    height, width, channels = hwc.shape
    img = Image.fromarray(hwc)
    if len(boxes):
        draw, font = ImageDraw.Draw(img), ImageFont.load_default()
        for i, box in enumerate(boxes):
            _draw_box(draw, font, box, None if labels is None else labels[i])
    img = img.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG")
    proto = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=out.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def _prepare_video(v: Any) -> Any:
    """torch's ``_prepare_video``: [B, T, C, H, W] -> [T, H', W', C] with the batch on a power-of-2 grid."""
    import numpy as np

    b, t, c, h, w = v.shape
    if v.dtype == np.uint8:
        v = np.float32(v) / 255.0
    if not (b != 0 and (b & (b - 1)) == 0):
        extra = int(2 ** b.bit_length() - b)
        v = np.concatenate((v, np.zeros(shape=(extra, t, c, h, w))), axis=0)
    n_rows = 2 ** ((b.bit_length() - 1) // 2)
    n_cols = v.shape[0] // n_rows
    v = np.reshape(v, (n_rows, n_cols, t, c, h, w))
    v = np.transpose(v, axes=(2, 0, 4, 1, 5, 3))
    return np.reshape(v, (t, n_rows * h, n_cols * w, c))


def video(tag: str, array: Any, fps: float = 4) -> Summary:
    """``add_video`` without moviepy: [B, T, C, H, W] -> animated GIF (Pillow) in ``Summary.Image``."""
    from PIL import Image

    frames = _to_uint8(_prepare_video(array))
    t, h, w, c = frames.shape
    mode_frames = [Image.fromarray(f[:, :, 0] if c == 1 else f[:, :, :3]) for f in frames]
    out = io.BytesIO()
    duration = max(1, int(round(1000.0 / fps)))
    mode_frames[0].save(out, format="GIF", save_all=True, append_images=mode_frames[1:], duration=duration, loop=0)
    img = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=out.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def figure_to_chw(figure: Any, close: bool = True) -> Any:
    """torch's ``figure_to_image`` for one figure: render with Agg -> uint8 CHW RGB."""
    import numpy as np
    from matplotlib.backends import backend_agg

    canvas = backend_agg.FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)  # type: ignore[no-untyped-call]
    w, h = figure.canvas.get_width_height()
    chw = np.moveaxis(data.reshape([h, w, 4])[:, :, 0:3], source=2, destination=0).copy()
    if close:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return chw
