"""vizboard.data.heap: a serving process tunes glibc so freed memory goes back to the OS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
glibc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")

@glibc
def test_serving_tunes_glibc():
    """Both tunings are accepted by glibc (run in a child: they would change this process's allocator)."""
    out = subprocess.run([sys.executable, "-c", "from vizboard.data import heap; "
                          "print(heap.limit_malloc_arenas(), heap.return_freed_memory_eagerly())"],
                         cwd=REPO, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.split() == ["True", "True"], out.stderr
