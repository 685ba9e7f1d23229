"""LocalFS.list_event_files: run names, symlinked directories followed once, loops terminate; read_all bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from vizboard.data.fs import LocalFS, ReadAllError, read_all


def test_runs_links_and_loops(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for rel in ("a", "b/c", "."):
        d = root / rel
        d.mkdir(parents=True, exist_ok=True)
        (d / "events.out.tfevents.1.h").write_bytes(b"12345")
    (root / "b" / "c" / "notes.txt").write_text("x")
    (root / "b" / "c" / "loop").symlink_to(root / "b", target_is_directory=True)  # a cycle
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "events.out.tfevents.2.h").write_bytes(b"1")
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    got = [(f.run, Path(f.path).name, f.size) for f in LocalFS(str(root)).list_event_files()]
    assert got == [(".", "events.out.tfevents.1.h", 5), ("a", "events.out.tfevents.1.h", 5),
                   ("b/c", "events.out.tfevents.1.h", 5), ("linked", "events.out.tfevents.2.h", 1)]
    assert LocalFS(str(tmp_path / "missing")).list_event_files() == []


def test_read_all_reads_whole_file_within_limit_else_names_the_problem(tmp_path: Path) -> None:
    fs = LocalFS(str(tmp_path))
    (tmp_path / "f.bin").write_bytes(b"abcdef")
    assert read_all(fs, str(tmp_path / "f.bin"), 6, "blob") == b"abcdef"
    with pytest.raises(ReadAllError, match=r"blob .*f\.bin is 6 bytes, more than the 5 read"):
        read_all(fs, str(tmp_path / "f.bin"), 5, "blob")
    with pytest.raises(ReadAllError, match=r"blob .*gone does not exist"):
        read_all(fs, str(tmp_path / "gone"), 5, "blob")


def test_a_directory_reached_by_several_links_is_listed_once(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    (root / "real").mkdir(parents=True)
    (root / "real" / "events.out.tfevents.1.h").write_bytes(b"123")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "events.out.tfevents.2.h").write_bytes(b"12")
    (root / "to_real").symlink_to(root / "real", target_is_directory=True)
    (root / "to_root").symlink_to(root, target_is_directory=True)
    (root / "out1").symlink_to(outside, target_is_directory=True)
    (root / "out2").symlink_to(outside, target_is_directory=True)
    fs = LocalFS(str(root))
    got = fs.list_event_files()
    names = sorted(Path(f.path).name for f in got)
    assert names == ["events.out.tfevents.1.h", "events.out.tfevents.2.h"]  # each directory once
    assert {f.run for f in got} <= {"real", "to_real", "out1", "out2"}
    assert fs.linked_dirs >= 3
