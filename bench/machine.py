"""Facts about the machine and software a benchmark run happened on (cores, memory, versions, date)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PACKAGES", "MachineFacts", "collect", "load_average"]

PACKAGES: tuple[str, ...] = (
    "vizboard",
    "torch",
    "tensorboard",
    "tensorboard-data-server",
    "tensorboardX",
    "tbparse",
    "dash",
    "plotly",
    "protobuf",
    "numpy",
)
"""Distributions whose versions the report lists (ours first, then the competitors, then shared deps)."""

_REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class MachineFacts:
    """What a reader needs to judge the numbers: hardware, OS, interpreter, versions, when.

    ``memory_bytes`` is total physical memory in bytes; ``load_average`` is the 1/5/15-minute
    load average when the facts were collected (a busy machine makes every figure noisier).
    """

    date: str
    cpu_model: str
    logical_cores: int
    physical_cores: int | None
    memory_bytes: int | None
    os: str
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    load_average: tuple[float, float, float] | None = None


def load_average() -> tuple[float, float, float] | None:
    """The 1/5/15-minute load average, or None where the OS does not offer it."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return None
    return (one, five, fifteen)


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else (platform.processor() or platform.machine() or "unknown")


def _memory_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _physical_cores() -> int | None:
    try:
        import psutil

        return psutil.cpu_count(logical=False)
    except Exception:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(_REPO), *args], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _git_commit() -> str | None:
    """Short commit of the source tree, marked when benchmarked code has uncommitted changes."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return None
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "logger", "vizboard", "bench")
    return f"{commit} + uncommitted changes" if dirty else commit


def _vizboard_version() -> str:
    """Installed distribution version, else the source tree's pyproject version; plus the git commit."""
    try:
        version = importlib.metadata.version("vizboard")
    except importlib.metadata.PackageNotFoundError:
        version = "source"
        try:
            match = re.search(r'^version\s*=\s*"([^"]+)"', (_REPO / "pyproject.toml").read_text(), re.MULTILINE)
            if match:
                version = match.group(1) + " (source tree)"
        except OSError:
            pass
    commit = _git_commit()
    return f"{version} @ {commit}" if commit else version


def _package_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in PACKAGES:
        if name == "vizboard":
            versions[name] = _vizboard_version()
            continue
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def collect(now: _dt.datetime | None = None) -> MachineFacts:
    """Gather the facts now (cheap: no imports of the benchmarked packages, reads metadata only)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return MachineFacts(
        date=now.strftime("%Y-%m-%d %H:%M UTC"),
        cpu_model=_cpu_model(),
        logical_cores=os.cpu_count() or 1,
        physical_cores=_physical_cores(),
        memory_bytes=_memory_bytes(),
        os=platform.platform(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        packages=_package_versions(),
        load_average=load_average(),
    )


if __name__ == "__main__":
    for key, value in vars(collect()).items():
        print(f"{key}: {value}")
