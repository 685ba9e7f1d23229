"""Pictures and sounds the demo logs: a confusion-matrix image, a labelled prediction grid, a tone (numpy + Pillow)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["confusion_matrix", "confusion_image", "prediction_grid", "tone"]


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts [true, predicted] as an int64 [num_classes, num_classes] array."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels.astype(np.int64), preds.astype(np.int64)), 1)
    return cm


def _font(size: int):  # noqa: ANN202 - a PIL font
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 (scalable when FreeType is there)
    except TypeError:
        return ImageFont.load_default()


def confusion_image(cm: np.ndarray, names: Sequence[str], cell: int = 44) -> np.ndarray:
    """An RGB uint8 [H, W, 3] picture of ``cm``: rows = true class, columns = predicted,
    shaded by row share, counts written in."""
    from PIL import Image, ImageDraw

    n = cm.shape[0]
    margin = 70
    size = (margin + n * cell + 8, margin + n * cell + 8)
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font, small = _font(12), _font(10)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    for i in range(n):
        for j in range(n):
            s = float(share[i, j])
            base = (33, 113, 181) if i == j else (203, 24, 29)
            colour = tuple(int(255 - (255 - c) * s) for c in base)
            x0, y0 = margin + j * cell, margin + i * cell
            draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=colour, outline=(220, 220, 220))
            text = str(int(cm[i, j]))
            tw = draw.textlength(text, font=font)
            draw.text((x0 + (cell - tw) / 2, y0 + cell / 2 - 7), text, fill=(0, 0, 0) if s < 0.6 else (255, 255, 255),
                      font=font)
    for k, name in enumerate(names):
        label = name[:8]
        draw.text((4, margin + k * cell + cell / 2 - 6), label, fill=(0, 0, 0), font=small)
        tw = draw.textlength(label, font=small)
        draw.text((margin + k * cell + (cell - tw) / 2, margin - 16), label, fill=(0, 0, 0), font=small)
    draw.text((margin, 6), "predicted ->", fill=(80, 80, 80), font=small)
    draw.text((4, margin - 32), "true", fill=(80, 80, 80), font=small)
    return np.asarray(img, dtype=np.uint8)


def prediction_grid(images: np.ndarray, labels: np.ndarray, preds: np.ndarray, names: Sequence[str],
                    cols: int = 8, scale: int = 3) -> np.ndarray:
    """RGB uint8 [H, W, 3]: each image (float [N, 3, h, w] in 0..1) enlarged ``scale`` times with its
    predicted class written under it, framed green when right and red when wrong."""
    from PIL import Image, ImageDraw

    n, _, h, w = images.shape
    tile_w, tile_h = w * scale + 6, h * scale + 20
    rows = (n + cols - 1) // cols
    canvas = Image.new("RGB", (cols * tile_w, rows * tile_h), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    font = _font(11)
    for k in range(n):
        r, c = divmod(k, cols)
        x0, y0 = c * tile_w, r * tile_h
        ok = int(preds[k]) == int(labels[k])
        frame = (40, 160, 60) if ok else (210, 40, 40)
        draw.rectangle((x0 + 1, y0 + 1, x0 + tile_w - 2, y0 + h * scale + 4), fill=frame)
        pix = (np.clip(images[k].transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
        canvas.paste(Image.fromarray(pix).resize((w * scale, h * scale), Image.NEAREST), (x0 + 3, y0 + 3))
        draw.text((x0 + 3, y0 + h * scale + 6), names[int(preds[k])], fill=frame, font=font)
    return np.asarray(canvas, dtype=np.uint8)


def tone(freq_hz: float, seconds: float = 0.6, rate: int = 16000) -> np.ndarray:
    """A mono float32 [1, samples] sine at ``freq_hz`` with a soft attack and decay, peak 0.5 (for add_audio)."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    env = np.minimum(1.0, t / 0.02) * np.exp(-3.0 * t / seconds)
    wave = 0.5 * env * (np.sin(2 * np.pi * freq_hz * t) + 0.3 * np.sin(4 * np.pi * freq_hz * t)) / 1.3
    return wave.astype(np.float32)[None, :]
