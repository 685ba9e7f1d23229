"""The test tree itself: pytest (rootdir-relative, no packages) needs every test file's basename unique."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_file_basename_is_unique():
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert len(names) > 10  # the tree was found
    assert [n for n, k in names.items() if k > 1] == []
