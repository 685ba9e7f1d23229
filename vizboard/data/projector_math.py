"""Projections and neighbours for the projector: exact PCA (numpy), t-SNE and UMAP (optional extra), sampling, kNN.

All functions are pure and deterministic: the same input and ``seed`` give the same
output. t-SNE (scikit-learn) and UMAP (umap-learn) come from the ``projector`` extra
(``pip install 'vizboard[projector]'``); without it :class:`MissingExtraError` names the
extra. As TensorBoard's projector does, t-SNE and UMAP run on the first
:data:`PRE_PCA_DIMS` principal components when the tensor is wider (much faster, same
picture), and big tensors are sampled (:func:`sample_indices`) with the count stated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "METHODS",
    "METRICS",
    "PRE_PCA_DIMS",
    "SAMPLE_LIMITS",
    "MissingExtraError",
    "Projection",
    "sample_indices",
    "pca",
    "tsne",
    "umap",
    "project",
    "nearest",
]

METHODS = ("pca", "tsne", "umap")
METRICS = ("cosine", "euclidean")
PRE_PCA_DIMS = 50
SAMPLE_LIMITS = {"pca": 50_000, "tsne": 10_000, "umap": 10_000}
"""Most points each method projects (TensorBoard samples too); more are sampled at random with a fixed seed."""


class MissingExtraError(ImportError):
    """t-SNE/UMAP asked for without the optional packages; ``str()`` names the extra to install."""


@dataclass(frozen=True, slots=True)
class Projection:
    """Projected points: ``coords`` float32 [n, dims] for the rows ``indices`` of the tensor.

    ``explained`` is PCA's explained-variance ratio per component (empty for t-SNE/UMAP);
    ``total`` the tensor's point count (``len(indices) < total`` when sampled).
    """

    method: str
    coords: np.ndarray
    indices: np.ndarray
    total: int
    explained: tuple[float, ...] = ()

    @property
    def sampled(self) -> bool:
        """True when only a random sample of the points was projected."""
        return len(self.indices) < self.total


def sample_indices(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices: all ``n`` rows, or ``limit`` of them drawn without replacement with ``seed``."""
    if limit <= 0:
        raise ValueError(f"limit must be > 0 points, got {limit}")
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.int64)


def pca(x: np.ndarray, n_components: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """Exact PCA by SVD of the centred data: (coords [n, k], explained-variance ratio per component).

    Component signs are fixed (the largest-magnitude loading of each component is positive)
    so the picture does not flip between runs. ``k = min(n_components, n, dims)``; columns
    beyond the rank are zero.
    """
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D [points, dims], got shape {x.shape}")
    data = np.asarray(x, dtype=np.float64)
    centred = data - data.mean(axis=0)
    _u, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(n_components, vt.shape[0])
    comps = vt[:k]
    signs = np.sign(comps[np.arange(k), np.argmax(np.abs(comps), axis=1)])
    signs[signs == 0] = 1.0
    comps = comps * signs[:, None]
    coords = centred @ comps.T
    var = s**2
    total = float(var.sum())
    ratio = tuple(float(v / total) if total > 0 else 0.0 for v in var[:k])
    if k < n_components:
        coords = np.hstack([coords, np.zeros((coords.shape[0], n_components - k))])
        ratio = ratio + (0.0,) * (n_components - k)
    return coords.astype(np.float32), ratio


def _reduce(x: np.ndarray) -> np.ndarray:
    if x.shape[1] <= PRE_PCA_DIMS:
        return np.asarray(x, dtype=np.float32)
    return pca(x, PRE_PCA_DIMS)[0]


def tsne(x: np.ndarray, dims: int = 2, perplexity: float = 30.0, seed: int = 0, max_iter: int = 1000) -> np.ndarray:
    """Barnes-Hut t-SNE (scikit-learn) of ``x`` into ``dims`` (2 or 3) dimensions, PCA-initialised, seeded.

    ``perplexity`` is clipped to ``(n - 1) / 3`` for small inputs (scikit-learn requires it below n).
    """
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise MissingExtraError("t-SNE needs scikit-learn: pip install 'vizboard[projector]'") from None
    n = x.shape[0]
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 points, the tensor has {n}")
    perp = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
    model = TSNE(n_components=dims, perplexity=perp, init="pca", random_state=seed, max_iter=max_iter,
                 learning_rate="auto", method="barnes_hut" if dims < 4 else "exact")
    return np.asarray(model.fit_transform(_reduce(x)), dtype=np.float32)


def umap(x: np.ndarray, dims: int = 2, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0) -> np.ndarray:
    """UMAP (umap-learn) of ``x`` into ``dims`` dimensions; ``seed`` makes it deterministic (single-threaded)."""
    try:
        import umap as umap_lib
    except ImportError:
        raise MissingExtraError("UMAP needs umap-learn: pip install 'vizboard[projector]'") from None
    n = x.shape[0]
    if n < 4:
        raise ValueError(f"UMAP needs at least 4 points, the tensor has {n}")
    model = umap_lib.UMAP(n_components=dims, n_neighbors=int(min(n_neighbors, n - 1)), min_dist=min_dist,
                          random_state=seed, init="spectral" if n > dims + 1 else "random", n_jobs=1)
    return np.asarray(model.fit_transform(_reduce(x)), dtype=np.float32)


def project(x: np.ndarray, method: str, dims: int = 2, seed: int = 0, perplexity: float = 30.0,
            n_neighbors: int = 15, limit: int | None = None,
            stage: Callable[[str], None] | None = None) -> Projection:
    """Project ``x`` [points, dims] with ``method`` (``pca``, ``tsne`` or ``umap``) into ``dims`` (2 or 3).

    Points above ``limit`` (default :data:`SAMPLE_LIMITS`) are sampled with ``seed``.
    ``stage(text)`` is called as each phase starts (progress for the UI).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    report = stage or (lambda _text: None)
    idx = sample_indices(x.shape[0], limit or SAMPLE_LIMITS[method], seed)
    sub = x[idx] if len(idx) < x.shape[0] else x
    if method == "pca":
        report("PCA (exact SVD)")
        coords, ratio = pca(sub, dims)
        return Projection(method, coords, idx, x.shape[0], ratio)
    if sub.shape[1] > PRE_PCA_DIMS:
        report(f"PCA to {PRE_PCA_DIMS} dimensions")
    if method == "tsne":
        report(f"t-SNE on {len(idx):,} points")
        coords = tsne(sub, dims, perplexity, seed)
    else:
        report(f"UMAP on {len(idx):,} points (the first run compiles numba code)")
        coords = umap(sub, dims, n_neighbors, seed=seed)
    return Projection(method, coords, idx, x.shape[0])


def nearest(x: np.ndarray, index: int, k: int = 10, metric: str = "cosine") -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``x`` to row ``index`` (itself excluded), in the original space.

    Returns (indices, distances) sorted by distance, ties by index. ``metric``: ``cosine``
    (1 - cosine similarity; a zero vector is at distance 1 from everything) or ``euclidean``.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    n = x.shape[0]
    if not 0 <= index < n:
        raise IndexError(f"index {index} is outside 0..{n - 1}")
    data = np.asarray(x, dtype=np.float64)
    q = data[index]
    if metric == "euclidean":
        dist = np.sqrt(np.maximum(((data - q) ** 2).sum(axis=1), 0.0))
    else:
        norms = np.linalg.norm(data, axis=1)
        qn = float(np.linalg.norm(q))
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = (data @ q) / (norms * qn)
        dist = 1.0 - np.where(np.isfinite(sim), sim, 0.0)
    dist[index] = np.inf
    k = max(0, min(k, n - 1))
    order = np.lexsort((np.arange(n), dist))[:k]
    return order.astype(np.int64), dist[order]
