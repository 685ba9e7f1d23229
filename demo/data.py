"""The demo's dataset: coloured shapes drawn with numpy on noisy 32x32 RGB backgrounds (no downloads)."""

from __future__ import annotations

import numpy as np

__all__ = ["CLASSES", "IMAGE_SIZE", "make_shapes", "train_val"]

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross", "diamond", "ring")
"""Class names, in label order."""

IMAGE_SIZE = 32
"""Height and width of every image, pixels."""

_YY, _XX = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32) + 0.5


def _mask(kind: int, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    """Boolean HxW mask of shape ``kind`` centred at (cx, cy) with radius ``r`` pixels, rotated by ``angle`` rad."""
    dx, dy = _XX - cx, _YY - cy
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy  # rotated coordinates
    name = CLASSES[kind]
    if name == "circle":
        return dx * dx + dy * dy <= r * r
    if name == "square":
        return (np.abs(u) <= r * 0.8) & (np.abs(v) <= r * 0.8)
    if name == "triangle":  # upward triangle in rotated frame: inside three half-planes
        h = r * 1.5
        return (v <= h / 3) & (v >= -2 * h / 3 + np.abs(u) * 1.732)
    if name == "cross":
        w = r * 0.3
        return ((np.abs(u) <= w) & (np.abs(v) <= r)) | ((np.abs(v) <= w) & (np.abs(u) <= r))
    if name == "diamond":
        return np.abs(u) + np.abs(v) <= r
    d2 = dx * dx + dy * dy  # ring
    return (d2 <= r * r) & (d2 >= (r * 0.55) ** 2)


def make_shapes(n: int, seed: int, noise: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (float32 [n, 3, 32, 32] in 0..1) and labels (int64 [n]), reproducible from ``seed``.

    Each image: a random dark background colour with a gentle gradient, one brighter shape of a
    random class, colour, size (radius 7..12 px), position and a small tilt (up to ~15 degrees), plus Gaussian pixel noise
    (standard deviation ``noise``).
    """
    if n <= 0:
        raise ValueError(f"n must be a positive number of images, got {n}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), size=n)
    images = np.empty((n, 3, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for i, kind in enumerate(labels):
        bg = rng.uniform(0.0, 0.4, size=3).astype(np.float32)  # a darkish background ...
        fg = rng.uniform(0.3, 1.0, size=3).astype(np.float32)  # ... and a shape clearly brighter than it
        fg[rng.integers(0, 3)] = rng.uniform(0.85, 1.0)
        grad = rng.uniform(-0.15, 0.15) * (_XX / IMAGE_SIZE - 0.5)
        r = rng.uniform(7.0, 12.0)
        cx, cy = rng.uniform(r * 0.8, IMAGE_SIZE - r * 0.8, size=2)
        mask = _mask(int(kind), cx, cy, r, rng.uniform(-0.25, 0.25))
        img = np.where(mask[None], fg[:, None, None], bg[:, None, None] + grad[None])
        images[i] = img
    images += rng.normal(0.0, noise, size=images.shape).astype(np.float32)
    np.clip(images, 0.0, 1.0, out=images)
    return images, labels.astype(np.int64)


def train_val(n_train: int, n_val: int, seed: int = 0) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Disjoint train and validation sets (different seeds), each as (images, labels) from :func:`make_shapes`."""
    return make_shapes(n_train, seed), make_shapes(n_val, seed + 10_000)
