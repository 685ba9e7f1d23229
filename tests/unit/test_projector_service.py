"""ProjectorService (background scan, caches, jobs, owner joins its threads) and the projector figures/payload."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vizboard.data.fs import LocalFS
from vizboard.data.projector import Metadata, parse_metadata
from vizboard.data.projector_math import Projection
from vizboard.data.projector_service import Job, ProjectorService
from vizboard.figures import projector as pf


def _write(root: Path, n: int = 30, tag: str = "emb", step: int = 1) -> np.ndarray:
    from logger import SummaryWriter

    x = np.random.default_rng(step).normal(size=(n, 6)).astype(np.float32)
    with SummaryWriter(str(root / "run")) as w:
        w.add_embedding(x, metadata=[[f"p{i}", str(i % 3)] for i in range(n)], metadata_header=["name", "group"],
                        tag=tag, global_step=step)
    return x


def _wait(job: Job, timeout: float = 120.0) -> Job:
    deadline = time.monotonic() + timeout
    while job.state == "running":
        assert time.monotonic() < deadline, f"job still {job.stage!r} after {timeout} s"
        time.sleep(0.02)
    return job


@pytest.fixture()
def service(tmp_path: Path):
    svc = ProjectorService(LocalFS(str(tmp_path)), rescan_interval=0.05)
    try:
        yield svc
    finally:
        svc.close()


def test_scan_runs_in_a_worker_thread_and_projection_is_cached(tmp_path: Path, service: ProjectorService) -> None:
    x = _write(tmp_path)
    assert threading.active_count() >= 1
    entries = service.entries(wait=30)
    assert [(e.run, e.tag, e.step) for e in entries] == [("run", "emb", 1)]
    assert any(t.name.startswith("vizboard-projector") for t in threading.enumerate())
    job = _wait(service.projection(entries[0], "pca", 2))
    assert job.state == "done" and job.result is not None and job.result.coords.shape == (30, 2)
    assert job.loaded is not None and job.loaded.metadata is not None
    np.testing.assert_allclose(job.loaded.tensor.matrix, x, rtol=1e-6)
    assert service.projection(entries[0], "pca", 2) is job  # cached per (tensor, method, params)
    assert service.projection(entries[0], "pca", 3) is not job
    nbs = service.neighbours(job.loaded, 0, 3, "euclidean")
    assert len(nbs) == 3 and all(d >= 0 for _, d in nbs)


def test_a_new_embedding_is_found_by_a_later_scan(tmp_path: Path, service: ProjectorService) -> None:
    _write(tmp_path, step=1)
    assert len(service.entries(wait=30)) == 1
    _write(tmp_path, step=2)  # a second writer session rewrites the config with its own entry
    deadline = time.monotonic() + 30
    while [e.step for e in service.entries(wait=5)] != [2]:
        assert time.monotonic() < deadline
        time.sleep(0.06)


def test_errors_become_messages_and_close_joins(tmp_path: Path) -> None:
    (tmp_path / "projector_config.pbtxt").write_text('embeddings { tensor_name: "bad" tensor_path: "t.tsv" }\n')
    (tmp_path / "t.tsv").write_text("1\t2\n3\n")
    svc = ProjectorService(LocalFS(str(tmp_path)))
    (entry,) = svc.entries(wait=30)
    job = _wait(svc.projection(entry, "pca", 2))
    assert job.state == "error" and "line 2 has 1 values" in (job.error or "")
    svc.close()
    assert not any(t.name.startswith("vizboard-projector") and t.is_alive() for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="closed"):
        svc.projection(entry, "pca", 3)


def test_rescan_interval_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rescan_interval"):
        ProjectorService(LocalFS(str(tmp_path)), rescan_interval=0)


def _proj(n: int = 6, dims: int = 2, total: int | None = None) -> Projection:
    coords = np.arange(n * dims, dtype=np.float32).reshape(n, dims)
    return Projection("pca", coords, np.arange(n) * 2, total or n * 2, (0.5, 0.25))


def test_payload_carries_labels_and_markers_for_every_column() -> None:
    meta = parse_metadata(b"name\tscore\tcls\n" + b"".join(f"n{i}\t{i / 10}\tc{i % 2}\n".encode() for i in range(12)))
    data = pf.payload(_proj(), meta, {"key": "k"})
    assert data["columns"] == [pf.INDEX_COLUMN, "name", "score", "cls"]
    assert data["idx"] == [0, 2, 4, 6, 8, 10] and data["total"] == 12 and data["z"] is None
    assert data["labels"]["name"] == ["n0", "n2", "n4", "n6", "n8", "n10"]  # rows of the shown points
    assert data["markers"]["score"]["colorscale"] == "Viridis" and data["markers"]["score"]["cmax"] == 1.0
    assert data["markers"]["cls"]["color"] == [pf.PALETTE[0]] * 6  # c0 for every even row
    assert pf.default_label(data) == "name"
    fig = pf.scatter_figure(data, "cls", "name")
    assert [t.type for t in fig.data] == ["scattergl"] * 3
    assert list(fig.data[0].customdata) == [0, 2, 4, 6, 8, 10] and list(fig.data[0].text)[1] == "n2"


def test_3d_and_selection_trace_and_texts() -> None:
    data = pf.payload(_proj(4, 3), None, {"key": "k"})
    fig = pf.scatter_figure(data)
    assert [t.type for t in fig.data] == ["scatter3d"] * 3
    sel = pf.selection_trace(data, [2, 5, 4], None)  # row 5 is not shown (not in the sample)
    assert sel["customdata"] == [2, 4] and sel["z"] == [data["z"][1], data["z"][2]]
    assert pf.sample_text(10, 10, 0) == "10 points"
    assert pf.sample_text(10_000, 123_456, 0) == "Showing 10,000 of 123,456 points (random sample, seed 0)"
    assert pf.variance_text((0.5, 0.25)) == "PC1 50.0 % · PC2 25.0 % of the variance (75.0 % shown)"


def test_too_many_categories_are_not_coloured() -> None:
    meta = Metadata(("w",), {"w": [f"w{i}" for i in range(60)]}, {"w": False}, {"w": None})
    marker = pf.column_marker(meta.values["w"], False, None, "w")
    assert isinstance(marker["color"], str)


def test_kept_choices_keep_current_columns_else_defaults() -> None:
    meta = {"columns": [pf.INDEX_COLUMN, "label", "cls"]}
    assert pf.kept_choices(meta, "cls", "cls") == ("cls", "cls")
    assert pf.kept_choices(meta, "gone", None) == ("label", "label")
    bare = {"columns": [pf.INDEX_COLUMN]}
    assert pf.kept_choices(bare, "label", "label") == (pf.INDEX_COLUMN, pf.INDEX_COLUMN)
