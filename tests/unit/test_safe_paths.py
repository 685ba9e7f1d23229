"""vizboard.data.safe_paths.resolve_within: real-path containment for local paths and fsspec URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from vizboard.data.safe_paths import OutsideLogdirError, is_within, resolve_within


def test_local_paths_inside_resolve_to_their_real_path(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    f = tmp_path / "run" / "a.txt"
    f.write_text("x")
    assert resolve_within(str(tmp_path), str(f)) == str(f.resolve())
    assert resolve_within(str(tmp_path), "run/a.txt") == str(f.resolve())
    assert resolve_within(f"file://{tmp_path}", str(f)) == str(f.resolve())
    assert resolve_within(str(tmp_path), str(tmp_path)) == str(tmp_path.resolve())


@pytest.mark.parametrize("rel", ["../x", "run/../../x", "/etc/passwd", "run/link", "run/dirlink/file"])
def test_escapes_are_refused(tmp_path: Path, rel: str) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "file").write_text("secret")
    logdir = tmp_path / "logdir"
    (logdir / "run").mkdir(parents=True)
    (logdir / "run" / "link").symlink_to(outside / "file")
    (logdir / "run" / "dirlink").symlink_to(outside, target_is_directory=True)
    path = rel if rel.startswith("/") else str(logdir / rel)
    with pytest.raises(OutsideLogdirError):
        resolve_within(str(logdir), path)
    assert not is_within(str(logdir), path)


def test_a_sibling_with_a_common_prefix_is_outside(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs2").mkdir()
    assert not is_within(str(tmp_path / "logs"), str(tmp_path / "logs2" / "x"))


def test_remote_urls() -> None:
    root = "s3://bucket/exp"
    assert resolve_within(root, "s3://bucket/exp/run/a") == "s3://bucket/exp/run/a"
    assert resolve_within(root, "run/a") == "s3://bucket/exp/run/a"
    for bad in ("s3://bucket/exp/../other/a", "s3://bucket/expX/a", "gs://bucket/exp/a", "/etc/passwd", "../x"):
        assert not is_within(root, bad), bad
    assert not is_within("/local/logdir", "s3://bucket/exp/a")
    with pytest.raises(ValueError, match="root is empty"):
        resolve_within("", "x")
