"""Projector maths: PCA against numpy's SVD, seeded t-SNE/UMAP, sampling, nearest neighbours, the missing-extra message."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from vizboard.data import projector_math as pm


def _data(n: int = 200, d: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * np.linspace(5, 0.5, d)).astype(np.float32)


def test_pca_matches_numpy_svd_up_to_sign() -> None:
    x = _data()
    coords, ratio = pm.pca(x, 3)
    c = x.astype(np.float64) - x.mean(axis=0)
    u, s, _vt = np.linalg.svd(c, full_matrices=False)
    expected = u[:, :3] * s[:3]
    for j in range(3):
        sign = np.sign(coords[0, j]) * np.sign(expected[0, j])
        np.testing.assert_allclose(coords[:, j], sign * expected[:, j], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ratio, (s[:3] ** 2) / (s**2).sum(), rtol=1e-6)
    assert ratio[0] > ratio[1] > ratio[2]


def test_pca_signs_are_fixed_and_rank_deficient_input_pads_with_zeros() -> None:
    x = _data()
    a, _ = pm.pca(x, 2)
    b, _ = pm.pca(-x, 2)  # the same cloud mirrored: same picture after the sign rule
    np.testing.assert_allclose(np.abs(a), np.abs(b), rtol=1e-4, atol=1e-4)
    line = np.outer(np.arange(5, dtype=np.float32), [1.0, 2.0])  # rank 1, 2 dims
    coords, ratio = pm.pca(line, 3)
    assert coords.shape == (5, 3) and np.all(coords[:, 2] == 0) and ratio[2] == 0.0
    assert ratio[0] == pytest.approx(1.0)


def test_sampling_is_seeded_sorted_and_states_the_count() -> None:
    a = pm.sample_indices(1000, 100, seed=3)
    assert len(a) == 100 and np.all(np.diff(a) > 0)
    np.testing.assert_array_equal(a, pm.sample_indices(1000, 100, seed=3))
    assert not np.array_equal(a, pm.sample_indices(1000, 100, seed=4))
    np.testing.assert_array_equal(pm.sample_indices(50, 100), np.arange(50))
    proj = pm.project(_data(300), "pca", 2, limit=120)
    assert proj.sampled and len(proj.indices) == 120 and proj.total == 300 and proj.coords.shape == (120, 2)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_nearest_matches_brute_force(metric: str) -> None:
    x = _data(60, 5)
    idx, dist = pm.nearest(x, 7, k=5, metric=metric)
    xd = x.astype(np.float64)
    if metric == "euclidean":
        ref = np.linalg.norm(xd - xd[7], axis=1)
    else:
        ref = 1 - (xd @ xd[7]) / (np.linalg.norm(xd, axis=1) * np.linalg.norm(xd[7]))
    ref[7] = np.inf
    np.testing.assert_array_equal(idx, np.argsort(ref, kind="stable")[:5])
    np.testing.assert_allclose(dist, np.sort(ref)[:5], rtol=1e-9, atol=1e-12)
    assert 7 not in idx


def test_nearest_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="metric"):
        pm.nearest(_data(10), 0, 3, "manhattan")
    with pytest.raises(IndexError, match="index 10"):
        pm.nearest(_data(10), 10, 3)


def test_tsne_is_deterministic_with_a_seed() -> None:
    x = _data(40, 8)
    a = pm.tsne(x, 2, perplexity=5, seed=1, max_iter=250)
    b = pm.tsne(x, 2, perplexity=5, seed=1, max_iter=250)
    assert a.shape == (40, 2)
    np.testing.assert_array_equal(a, b)


def test_umap_is_deterministic_with_a_seed() -> None:
    x = _data(40, 8)
    a = pm.umap(x, 2, n_neighbors=5, seed=1)
    b = pm.umap(x, 2, n_neighbors=5, seed=1)
    assert a.shape == (40, 2)
    np.testing.assert_array_equal(a, b)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(pm.MissingExtraError, match=r"vizboard\[projector\]"):
        pm.tsne(_data(20), 2)
    with pytest.raises(pm.MissingExtraError, match=r"vizboard\[projector\]"):
        pm.umap(_data(20), 2)


def test_project_validates_method_and_dims() -> None:
    with pytest.raises(ValueError, match="method"):
        pm.project(_data(10), "lda")
    with pytest.raises(ValueError, match="dims"):
        pm.project(_data(10), "pca", dims=4)
