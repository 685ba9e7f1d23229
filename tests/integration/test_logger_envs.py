"""The logger in real environments, each a throwaway venv built with pip (local wheel cache / PyPI).

- the committed ``logger/_pb`` modules are exactly what ``proto/generate.py`` makes with the
  pinned generator (grpcio-tools 1.62.3 = protoc 25.1, which needs protobuf < 5: hence a venv);
- the logger writes and reads back its files at both ends of the protobuf range it claims
  (``pyproject.toml``: the floor 3.20.3 and the newest release);
- ``pip install``-ed into a venv holding ``tensorflow-cpu`` (oldest and newest we claim) and
  TensorBoard, the logger keeps TensorFlow's protobuf, TensorFlow still imports and works, and
  TensorBoard's own loader reads what the logger wrote.

Marked ``envs`` (deselected by default in pyproject's addopts; ``.ci/run`` runs them as their
own step: ``python -m pytest -m envs``). Each prints how long its venv took to build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.envs, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).resolve().parent / "envcheck" / "write_read.py"
GENERATOR = "grpcio-tools==1.62.3"  # must match proto/generate.py's docstring
PROTOBUF_FLOOR = "protobuf==3.20.3"  # must match the floor in pyproject.toml
TF_OLDEST, TF_NEWEST = "tensorflow-cpu==2.15.1", "tensorflow-cpu==2.21.0"
LOGGER_RUNTIME = ["numpy", "google-crc32c", "Pillow"]


def _run(cmd: list[str], timeout: float = 1800, **kw: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def venv(path: Path, *requirements: str) -> Path:
    """A plain venv (no system site-packages) at ``path`` with ``requirements`` installed in one pip call; its python."""
    t0 = time.monotonic()
    _run([sys.executable, "-m", "venv", str(path)])
    py = path / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements])
    print(f"venv {path.name}: {' '.join(requirements)} built in {time.monotonic() - t0:.1f} s")
    return py


def pip_version(py: Path, dist: str) -> str:
    return _run([str(py), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"]).strip()


def check(py: Path, logdir: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = _run([str(py), str(CHECK), str(logdir)], env=env)
    assert out.startswith("OK protobuf"), out
    return out


def test_generated_code_matches_committed(tmp_path: Path) -> None:
    py = venv(tmp_path / "gen", GENERATOR, *LOGGER_RUNTIME)
    _run([str(py), str(REPO / "proto" / "generate.py"), "--out", str(tmp_path / "out")])
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "out" / "logger" / "_pb").iterdir()}
    committed = {p.name: p.read_bytes() for p in (REPO / "logger" / "_pb").glob("*_pb2.py*")}
    assert sorted(fresh) == sorted(committed)
    stale = [name for name in sorted(fresh) if fresh[name] != committed[name]]
    assert not stale, f"regenerate with `python proto/generate.py` in a venv with {GENERATOR}: {stale}"
    assert pip_version(py, "protobuf").startswith("4.25.")  # the generator's own runtime: a third point of the range
    check(py, tmp_path / "logs")


@pytest.mark.parametrize("protobuf", [PROTOBUF_FLOOR, "protobuf"], ids=["floor", "newest"])
def test_logger_writes_and_reads_at_both_ends_of_the_protobuf_range(tmp_path: Path, protobuf: str) -> None:
    py = venv(tmp_path / "pb", protobuf, *LOGGER_RUNTIME)
    out = check(py, tmp_path / "logs")
    if protobuf == "protobuf":
        newest = _run([str(py), "-m", "pip", "index", "versions", "protobuf"]).split("(")[1].split(")")[0]
        assert pip_version(py, "protobuf") == newest, out
    else:
        assert pip_version(py, "protobuf") == "3.20.3"


TB_READ = """
import sys
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "tensors": 0})
acc.Reload()
assert [round(e.value, 6) for e in acc.Scalars("loss")] == [1.0, 0.5, 0.333333], acc.Tags()
assert "note/text_summary" in acc.Tags()["tensors"], acc.Tags()
assert tf.constant(2.0).numpy() * 2 == 4.0
print("TF", tf.__version__, "read", sorted(acc.Tags()["scalars"]))
"""


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("tensorflow", [TF_OLDEST, TF_NEWEST], ids=["tf-oldest", "tf-newest"])
def test_logger_installs_next_to_tensorflow_and_tensorboard_reads_it(tmp_path: Path, tensorflow: str) -> None:
    """A TensorFlow user's venv (TF + TensorBoard: TF >= 2.20 no longer installs it), then ``pip install`` the logger."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "logger", "vizboard", "demo"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, src / name)
    t0 = time.monotonic()
    py = venv(tmp_path / "tf", tensorflow, "tensorboard")
    before = pip_version(py, "protobuf")
    _run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)])
    assert pip_version(py, "protobuf") == before  # installing the logger changed nothing of TensorFlow's
    _run([str(py), "-m", "pip", "check"])
    check(py, tmp_path / "logs")
    out = _run([str(py), "-c", TB_READ, str(tmp_path / "logs")])
    assert out.startswith(f"TF {tensorflow.split('==')[1]}"), out
    print(f"{tensorflow}: {out.strip()} (protobuf {before}); {time.monotonic() - t0:.0f} s")
