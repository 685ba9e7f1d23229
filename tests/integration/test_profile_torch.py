"""Real torch.profiler traces (made here) are discovered and parsed; the tables match the raw JSON."""

from __future__ import annotations

import collections
import gzip
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.torch_profiling import profile_tiny_model
from vizboard.data.profile import PHASES, find_traces, load_trace

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("logdir")
    profile_tiny_model(root / "run_a" / "plugins" / "profile")
    profile_tiny_model(root / "run_b", use_gzip=True)  # traces straight in the run dir, gzipped
    return root


def raw_events(path: str) -> list[dict]:
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return json.loads(data)["traceEvents"]


def test_layout_written_by_tensorboard_trace_handler(logdir: Path) -> None:
    files = sorted(p.relative_to(logdir).as_posix() for p in logdir.rglob("*") if p.is_file())
    assert len(files) == 2
    assert re.fullmatch(r"run_a/plugins/profile/[^/]+\.\d+\.pt\.trace\.json", files[0])
    assert re.fullmatch(r"run_b/[^/]+\.\d+\.pt\.trace\.json\.gz", files[1])


def test_traces_are_listed(logdir: Path) -> None:
    found = find_traces(str(logdir))
    assert [t.run for t in found] == ["run_a", "run_b"]
    assert all(t.worker and t.timestamp for t in found)


@pytest.mark.parametrize("which", [0, 1])
def test_operator_table_matches_the_raw_json(logdir: Path, which: int) -> None:
    trace = find_traces(str(logdir))[which]
    parsed = load_trace(str(logdir), trace)
    calls: collections.Counter[str] = collections.Counter()
    totals: collections.defaultdict[str, float] = collections.defaultdict(float)
    for e in raw_events(trace.path):
        if e.get("ph") == "X" and e.get("cat") in ("cpu_op", "user_annotation") \
                and not e["name"].startswith("ProfilerStep#"):
            calls[e["name"]] += 1
            totals[e["name"]] += e["dur"]
    ops = parsed.operators
    assert set(ops.name) == set(calls)
    for i, name in enumerate(ops.name):
        assert ops.calls[i] == calls[name], name
        assert ops.total_cpu_us[i] == pytest.approx(totals[name], rel=1e-9, abs=1e-6), name
        assert 0 <= ops.self_cpu_us[i] <= ops.total_cpu_us[i] + 1e-6
    assert not ops.has_device
    for name in ("aten::addmm", "Optimizer.step#SGD.step", "aten::mse_loss"):
        assert name in ops.name


def test_step_breakdown_of_a_real_trace(logdir: Path) -> None:
    trace = find_traces(str(logdir))[0]
    parsed = load_trace(str(logdir), trace)
    spans = sorted((e["ts"], e["dur"], e["name"]) for e in raw_events(trace.path)
                   if e.get("ph") == "X" and e["name"].startswith("ProfilerStep#"))
    assert len(spans) == 2  # active=2
    s = parsed.steps
    assert list(s.step) == [int(n.split("#")[1]) for _, _, n in spans]
    np.testing.assert_allclose(s.duration_us, [d for _, d, _ in spans])
    for p in ("data", "forward", "backward", "optimizer"):
        assert np.all(s.phase(p) > 0), p
    total = sum(s.phase(p) for p in PHASES)
    np.testing.assert_allclose(total, s.duration_us, rtol=1e-6)
    # the timeline of step 0 holds the DataLoader span and the optimizer step, on one thread
    idx = parsed.events.window(s.start_us[0], s.start_us[0] + s.duration_us[0])
    names = {parsed.events.names[parsed.events.name_idx[i]] for i in idx}
    assert any(n.startswith("enumerate(DataLoader)") for n in names)
    assert "Optimizer.step#SGD.step" in names
