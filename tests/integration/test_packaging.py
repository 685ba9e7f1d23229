"""The wheel: built offline from a copy of the sources, it holds every package, the protos, the assets and the
demo (as ``vizboard._demo``); installed into a bare directory, ``vizboard`` imports and its demo trains."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "logger", "vizboard", "demo")


def _package_dirs(top: str) -> set[str]:
    """Every directory under ``top`` (inclusive) that holds Python modules, as a dotted name."""
    out = set()
    for d, _, files in os.walk(REPO / top):
        if "__pycache__" in d:
            continue
        if any(f.endswith(".py") for f in files):
            out.add(Path(d).relative_to(REPO).as_posix().replace("/", "."))
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Offline build (no build isolation): needs the build backend installed here; bdist_wheel is built in since 70.1.
    pytest.importorskip("setuptools", minversion="70.1", reason="building the wheel offline needs setuptools >= 70.1")
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", str(src), "-w", str(dist)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (whl,) = dist.glob("vizboard-*.whl")
    return whl


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def _run_installed(site: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], cwd=site.parent, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_wheel_holds_every_package_the_protos_assets_and_demo(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith(".py")}
    expected = _package_dirs("logger") | _package_dirs("vizboard")
    assert expected <= packages, f"missing from the wheel (list them in pyproject.toml): {expected - packages}"
    for pb in ("event", "summary", "tensor", "graph", "hparams", "plugins"):
        assert f"logger/_pb/{pb}_pb2.py" in names
    assert {"vizboard/assets/vizboard.css", "vizboard/assets/vizboard.js", "logger/py.typed"} <= names
    demo = {f"vizboard/_demo/{p.name}" for p in (REPO / "demo").glob("*.py")}
    assert demo and demo <= names
    assert not any(n.startswith(("demo/", "tests/", "bench/", "proto/")) for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f"\nVersion: {version}\n" in text
    assert "vizboard = vizboard.cli:main" in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()


def test_installed_wheel_imports_and_has_the_cli(site: Path) -> None:
    out = _run_installed(site, "-c", "import logger, vizboard, logger._pb.event_pb2; "
                                     "print(vizboard.__file__); print(vizboard.__version__)")
    assert out.returncode == 0, out.stderr
    path, version = out.stdout.split()
    assert Path(path).is_relative_to(site)
    from vizboard import __version__

    assert version == __version__
    out = _run_installed(site, "-m", "vizboard", "--help")
    assert out.returncode == 0, out.stderr
    for cmd in ("serve", "export", "demo"):
        assert cmd in out.stdout
    out = _run_installed(site, "-c", "from vizboard.demo import demo_module; print(demo_module()[0])")
    assert out.returncode == 0 and out.stdout.strip() == "vizboard._demo.train", out.stdout + out.stderr


def test_installed_demo_trains(site: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = _run_installed(site, "-m", "vizboard._demo.train", "--quick", "--runs", "1", "--epochs", "1",
                         "--logdir", str(tmp_path / "logs"), timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    files = list((tmp_path / "logs" / "lr_0.01_seed0").glob("events.out.tfevents.*"))
    assert files and files[0].stat().st_size > 1000
