"""Benchmark logdirs written by tensorboardX's SummaryWriter (not our logger), cached between runs.

Every UI and scale figure compares vizboard and TensorBoard on files a competitor's writer
produced. Writing them is slow (tensorboardX spends ~100-200 us of CPU per scalar), so a logdir
is written once into a cache folder named after its shape and the tensorboardX version, and
reused by later runs: ``$VIZBOARD_BENCH_CACHE`` or ``~/.cache/vizboard-bench``.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LogdirSpec", "cache_root", "ensure_logdir", "run_name", "tag_names"]


@dataclass(frozen=True)
class LogdirSpec:
    """Shape of a logdir: ``runs`` runs, each with ``tags`` scalar tags of ``steps`` points.

    Tags are grouped into ``sections`` (the part of the tag before ``/``), as both dashboards
    group cards by that prefix.
    """

    runs: int
    tags: int
    steps: int
    sections: int

    def __post_init__(self) -> None:
        for name in ("runs", "tags", "steps", "sections"):
            if getattr(self, name) < 1:
                raise ValueError(f"LogdirSpec.{name} must be >= 1, got {getattr(self, name)}")
        if self.sections > self.tags:
            raise ValueError(f"LogdirSpec.sections ({self.sections}) cannot exceed tags ({self.tags})")

    @property
    def label(self) -> str:
        """Human size, e.g. ``30 runs x 12 tags x 2,000 steps``."""
        return f"{self.runs:,} runs x {self.tags} tags x {self.steps:,} steps"

    @property
    def key(self) -> str:
        """Folder name in the cache (shape only; the writer version is the parent folder)."""
        return f"r{self.runs}-t{self.tags}-s{self.steps}-g{self.sections}"


def run_name(i: int) -> str:
    """Run ``i``'s name: sweep groups of 100 (``sweep3/run0342``), so a regex can pick a slice."""
    return f"sweep{i // 100}/run{i:04d}"


def tag_names(tags: int, sections: int) -> list[str]:
    """``tags`` tag names spread evenly over ``sections`` prefixes: ``sec00/metric0`` ..."""
    per = math.ceil(tags / sections)
    return [f"sec{k // per:02d}/metric{k % per}" for k in range(tags)]


def cache_root() -> Path:
    """Where written logdirs are kept: ``$VIZBOARD_BENCH_CACHE`` or ``~/.cache/vizboard-bench``."""
    env = os.environ.get("VIZBOARD_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "vizboard-bench"


def _write(root: Path, spec: LogdirSpec) -> None:
    from tensorboardX import SummaryWriter

    names = tag_names(spec.tags, spec.sections)
    rng = random.Random(0)
    for i in range(spec.runs):
        scale, decay = rng.uniform(0.5, 2.0), rng.uniform(0.5, 3.0)
        w = SummaryWriter(str(root / run_name(i)), max_queue=100_000, flush_secs=3600)
        try:
            for step in range(spec.steps):
                base = scale / (1.0 + decay * step / max(1, spec.steps) * 10)
                for j, tag in enumerate(names):
                    w.add_scalar(tag, base * (1.0 + 0.1 * j) + rng.random() * 0.02, step)
        finally:
            w.close()


def ensure_logdir(spec: LogdirSpec, root: Path | None = None) -> Path:
    """The logdir of ``spec``, written by tensorboardX's SummaryWriter on first use and cached.

    Written into a temporary sibling folder and renamed when complete, so an interrupted write
    never leaves a half logdir in the cache.
    """
    import tensorboardX

    base = (root or cache_root()) / f"tensorboardX-{tensorboardX.__version__}"
    final = base / spec.key
    if final.is_dir():
        return final
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.key}-", dir=base))
    try:
        _write(tmp, spec)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
