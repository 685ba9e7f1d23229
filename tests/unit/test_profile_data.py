"""vizboard.data.profile: discovery layouts, parsing (self/total/device time, step phases), errors, cache."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from vizboard.data.profile import (
    PHASES,
    TraceFile,
    TraceParseError,
    find_traces,
    load_trace,
    parse_trace,
    profile_run_name,
    read_trace_bytes,
)
from vizboard.data.trace_cache import TraceCache

T0 = 4_494_122_028_000.0  # realistic trace clock (microseconds)


def ev(name, ts, dur, cat="cpu_op", tid=1, pid=10, **args):
    return {"ph": "X", "cat": cat, "name": name, "pid": pid, "tid": tid, "ts": T0 + ts, "dur": dur, "args": args}


def synthetic() -> dict:
    return {
        "schemaVersion": 1,
        "traceEvents": [
            {"ph": "M", "name": "thread_name", "pid": 10, "tid": 1, "args": {"name": "thread 1 (python)"}},
            {"ph": "M", "name": "process_name", "pid": 0, "tid": 0, "args": {"name": "GPU 0"}},
            ev("ProfilerStep#5", 0, 100, cat="user_annotation"),
            ev("enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__", 5, 20, cat="user_annotation"),
            ev("aten::linear", 30, 20, **{"External id": 1}),
            ev("aten::addmm", 32, 16, **{"External id": 2}),
            ev("cudaLaunchKernel", 33, 2, cat="cuda_runtime", **{"External id": 2}),
            ev("autograd::engine::evaluate_function: AddmmBackward0", 55, 15),
            ev("Optimizer.step#SGD.step", 75, 15, cat="user_annotation", **{"External id": 3}),
            ev("aten::add_", 76, 4, **{"External id": 4}),
            ev("aten::add_", 81, 2, **{"External id": 5}),
            ev("gemm_kernel", 40, 7, cat="kernel", pid=0, tid=7, **{"External id": 2}),
            ev("cudaLaunchKernel", 77, 1, cat="cuda_runtime", **{"External id": 4, "correlation": 99}),
            ev("add_kernel", 78, 3, cat="kernel", pid=0, tid=7, correlation=99),
            ev("ProfilerStep#5", 40, 50, cat="gpu_user_annotation", pid=0, tid=8, **{"External id": 2}),
            ev("ProfilerStep#6", 100, 50, cat="user_annotation"),
            ev("aten::linear", 110, 30, **{"External id": 6}),
            {"ph": "X", "cat": "Trace", "name": "PyTorch Profiler (0)", "pid": "Spans", "tid": "x", "ts": T0, "dur": 150},
            {"ph": "X", "cat": "cpu_op", "name": "broken", "pid": 10, "tid": 1, "ts": "bad"},
            {"ph": "s", "id": 1, "pid": 10, "tid": 1, "ts": T0, "cat": "fwdbwd", "name": "fwdbwd"},
        ],
    }


FILE = TraceFile(".", "/x/w.1.pt.trace.json", "w", 1, 0, 0.0)


def test_operator_table() -> None:
    tr = parse_trace(json.dumps(synthetic()).encode(), FILE)
    ops = {n: i for i, n in enumerate(tr.operators.name)}
    o = tr.operators
    assert "ProfilerStep#5" not in ops and "PyTorch Profiler (0)" not in ops and "gemm_kernel" not in ops
    i = ops["aten::linear"]
    assert (o.calls[i], o.total_cpu_us[i], o.self_cpu_us[i]) == (2, 50.0, pytest.approx(34.0))
    i = ops["aten::addmm"]
    assert (o.calls[i], o.total_cpu_us[i], o.self_cpu_us[i]) == (1, 16.0, pytest.approx(14.0))
    assert o.self_device_us[i] == 7.0 and o.total_device_us[i] == 7.0
    i = ops["aten::linear"]
    assert o.self_device_us[i] == 0.0 and o.total_device_us[i] == 7.0
    i = ops["Optimizer.step#SGD.step"]
    assert o.self_cpu_us[i] == pytest.approx(9.0)
    i = ops["aten::add_"]
    assert (o.calls[i], o.total_cpu_us[i]) == (2, 6.0)
    assert o.self_device_us[i] == 3.0  # linked by correlation through cudaLaunchKernel
    i = ops["Optimizer.step#SGD.step"]
    assert o.self_device_us[i] == 0.0 and o.total_device_us[i] == 3.0
    assert o.total_device_us[ops["aten::addmm"]] == 7.0  # the device annotation is not counted
    assert o.has_device
    assert list(o.total_cpu_us) == sorted(o.total_cpu_us, reverse=True)
    assert tr.warnings and "1 events" in tr.warnings[0]


def test_step_breakdown() -> None:
    tr = parse_trace(json.dumps(synthetic()).encode(), FILE)
    s = tr.steps
    assert list(s.step) == [5, 6]
    assert list(s.duration_us) == [100.0, 50.0]
    got = {p: [round(float(x), 3) for x in s.phase(p)] for p in PHASES}
    assert got == {
        "data": [20.0, 0.0], "forward": [20.0, 30.0], "backward": [15.0, 0.0],
        "optimizer": [15.0, 0.0], "other": [30.0, 20.0],
    }
    total = sum(s.phase(p) for p in PHASES)
    np.testing.assert_allclose(total, s.duration_us, atol=1e-3)
    with pytest.raises(ValueError, match="phase"):
        s.phase("lunch")


def test_events_and_window() -> None:
    tr = parse_trace(json.dumps(synthetic()).encode(), FILE)
    e = tr.events
    assert "thread 1 (python)" in e.threads and "GPU 0 / 7" in e.threads
    assert np.all(np.diff(e.ts_us) >= 0)
    step5 = e.window(tr.steps.start_us[0], tr.steps.start_us[0] + tr.steps.duration_us[0])
    names = {e.names[e.name_idx[i]] for i in step5}
    assert "gemm_kernel" in names and "ProfilerStep#6" not in names
    addmm = [i for i in range(len(e)) if e.names[e.name_idx[i]] == "aten::addmm"][0]
    assert e.depth[addmm] == 2  # step > linear > addmm


def test_gzip_is_read() -> None:
    data = gzip.compress(json.dumps(synthetic()).encode())
    assert len(parse_trace(data, FILE).operators) > 0


@pytest.mark.parametrize("data, match", [
    (b'{"traceEvents": [{"ph": "X", "cat": "cpu_op", "na', "not valid JSON"),
    (b"\xff\xfe garbage", "UTF-8|JSON"),
    (b'{"foo": 1}', "traceEvents"),
    (b'{"traceEvents": []}', "no CPU or device events"),
    (b'{"traceEvents": [1, "x", null, {"ph": "X", "cat": "cpu_op", "ts": 1}]}', "no CPU or device events"),
    (b"[1, 2", "not valid JSON"),
    (gzip.compress(b'{"traceEvents": []}')[:-10], "gzip"),
])
def test_bad_traces_raise_clear_errors(data, match) -> None:
    with pytest.raises(TraceParseError, match=match):
        parse_trace(data, FILE)


def test_weird_but_valid_structures_never_crash() -> None:
    doc = synthetic()
    doc["traceEvents"] += [{"ph": "X", "cat": "cpu_op", "name": None, "pid": [], "tid": {}, "ts": 1.0, "dur": 1.0,
                            "args": "x"}, {"ph": "X", "cat": 5, "ts": 1, "dur": 1}]
    one = parse_trace(json.dumps({"traceEvents": [{"ph": "X", "cat": "cpu_op", "ts": 1, "dur": 1, "pid": [1]}]}), FILE)
    assert one.operators.name == ("",) and one.events.threads == ("[1] / None",)
    tr = parse_trace(json.dumps(doc).encode(), FILE)
    assert len(tr.operators) > 0


@pytest.mark.parametrize("rel, run", [
    ("", "."), ("plugins/profile", "."), ("a/b", "a/b"), ("a/plugins/profile", "a"),
    ("a/plugins/profile/2024_01_01", "a"), ("plugins", "plugins"),
])
def test_profile_run_name(rel, run) -> None:
    assert profile_run_name(rel) == run


def write(path: Path, doc: dict | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return path


def test_find_traces_layouts(tmp_path: Path) -> None:
    write(tmp_path / "r1/plugins/profile/host_1.111.pt.trace.json", synthetic())
    write(tmp_path / "r2/host_2.222.pt.trace.json.gz", gzip.compress(json.dumps(synthetic()).encode()))
    write(tmp_path / "r3/plugins/profile/sub/host_3.333.pt.trace.json", synthetic())
    write(tmp_path / "host_4.444.pt.trace.json", synthetic())
    write(tmp_path / "r1/notes.json", b"{}")
    write(tmp_path / "r1/x.pt.trace.json.tmp", b"{}")
    found = find_traces(str(tmp_path))
    assert [(t.run, t.worker, t.timestamp) for t in found] == [
        (".", "host_4", 444), ("r1", "host_1", 111), ("r2", "host_2", 222), ("r3", "host_3", 333),
    ]
    assert all(t.size == os.path.getsize(t.path) and t.mtime > 0 for t in found)
    for t in found:
        assert len(load_trace(str(tmp_path), t).operators) > 0
    assert find_traces(str(tmp_path / "missing")) == []


def test_read_outside_logdir_is_refused(tmp_path: Path) -> None:
    outside = write(tmp_path / "other/w.1.pt.trace.json", synthetic())
    (tmp_path / "logdir").mkdir()
    forged = TraceFile(".", str(tmp_path / "logdir" / ".." / "other" / outside.name), "w", 1, 10, 0.0)
    with pytest.raises(TraceParseError, match="outside"):
        read_trace_bytes(str(tmp_path / "logdir"), forged)


def test_cache_parses_once_reparses_on_change_and_is_bounded(tmp_path: Path) -> None:
    p = write(tmp_path / "run/w.1.pt.trace.json", synthetic())
    cache = TraceCache(max_entries=2)
    loader = lambda t: load_trace(str(tmp_path), t)  # noqa: E731
    (t,) = find_traces(str(tmp_path))
    a = cache.get(t, loader)
    assert cache.get(t, loader) is a and cache.parses == 1
    doc = synthetic()
    doc["traceEvents"].append(ev("aten::extra", 120, 1))
    write(p, doc)
    os.utime(p, (t.mtime + 5, t.mtime + 5))
    (t2,) = find_traces(str(tmp_path))
    assert t2.key != t.key
    b = cache.get(t2, loader)
    assert cache.parses == 2 and "aten::extra" in b.operators.name
    bad = write(tmp_path / "run/w.2.pt.trace.json", b'{"traceEvents": [')
    tb = [x for x in find_traces(str(tmp_path)) if x.path == str(bad)][0]
    for _ in range(2):
        with pytest.raises(TraceParseError, match="not valid JSON"):
            cache.get(tb, loader)
    assert cache.parses == 3 and len(cache) == 2
    with pytest.raises(ValueError):
        TraceCache(0)


def test_cache_is_bounded_in_bytes(tmp_path: Path) -> None:
    write(tmp_path / "run/w.1.pt.trace.json", synthetic())
    write(tmp_path / "run/w.2.pt.trace.json", synthetic())
    t1, t2 = find_traces(str(tmp_path))
    loader = lambda t: load_trace(str(tmp_path), t)  # noqa: E731
    one = TraceCache(max_entries=100).get(t1, loader)
    from vizboard.data.trace_cache import trace_nbytes

    size = trace_nbytes(one)
    cache = TraceCache(max_entries=100, max_bytes=size + size // 2)
    cache.get(t1, loader)
    cache.get(t2, loader)
    assert len(cache) == 1 and cache.used <= cache.max_bytes
    tiny = TraceCache(max_entries=100, max_bytes=10)
    assert len(tiny.get(t1, loader).operators) > 0 and len(tiny) == 0  # returned, not kept


def test_symlinked_trace_pointing_outside_is_neither_listed_nor_read(tmp_path: Path) -> None:
    """Issue 16: a symlink named like a trace under <run>/plugins/profile/ must not expose its target."""
    secret = write(tmp_path / "home/.ssh/id_rsa", b"PRIVATE KEY")
    logdir = tmp_path / "logdir"
    real = write(logdir / "run/plugins/profile/w.1.pt.trace.json", synthetic())
    link = logdir / "run/plugins/profile/evil.2.pt.trace.json"
    link.symlink_to(secret)
    dirlink = logdir / "run/plugins/profile/sub"
    dirlink.symlink_to(secret.parent, target_is_directory=True)
    assert [t.path for t in find_traces(str(logdir))] == [str(real)]
    forged = TraceFile("run", str(link), "evil", 2, 11, 0.0)
    with pytest.raises(TraceParseError, match="outside"):
        read_trace_bytes(str(logdir), forged)
    # a link that stays inside the logdir is fine
    inside = logdir / "run/plugins/profile/alias.3.pt.trace.json"
    inside.symlink_to(real)
    assert str(inside) in [t.path for t in find_traces(str(logdir))]


def test_symlinked_logdir_itself_is_allowed(tmp_path: Path) -> None:
    real = write(tmp_path / "real/run/w.1.pt.trace.json", synthetic())
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    (t,) = find_traces(str(tmp_path / "alias"))
    assert read_trace_bytes(str(tmp_path / "alias"), t) == real.read_bytes()


def test_remote_traces_are_contained() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/contain/logdir/run/w.1.pt.trace.json", json.dumps(synthetic()).encode())
    fs.pipe("/contain/secret/w.9.pt.trace.json", b"secret")
    (t,) = find_traces("memory://contain/logdir")
    assert read_trace_bytes("memory://contain/logdir", t)[:1] == b"{"
    forged = TraceFile("run", "memory:///contain/logdir/../secret/w.9.pt.trace.json", "w", 9, 6, 0.0)
    with pytest.raises(TraceParseError, match="outside"):
        read_trace_bytes("memory://contain/logdir", forged)
    other = TraceFile("run", "s3://contain/logdir/run/w.1.pt.trace.json", "w", 1, 6, 0.0)
    with pytest.raises(TraceParseError, match="outside"):
        read_trace_bytes("memory://contain/logdir", other)


def test_trace_index_first_walk_waits_for_the_cold_load(tmp_path: Path) -> None:
    """``start(after=...)`` defers the first walk until ``after`` says the load is done; a client asking
    meanwhile gets a walk of its own; stop() ends a thread still waiting."""
    import threading

    from vizboard.data.traces import TraceIndex

    (tmp_path / "run" / "plugins" / "profile").mkdir(parents=True)
    (tmp_path / "run" / "plugins" / "profile" / "h_1.1.pt.trace.json").write_text("{}")
    loaded = threading.Event()
    index = TraceIndex(str(tmp_path), interval=60.0)
    index.start(after=loaded.wait)
    try:
        assert not loaded.wait(0.3) and index.refreshes == 0  # still waiting: nothing walked
        loaded.set()
        for _ in range(200):
            if index.refreshes:
                break
            threading.Event().wait(0.01)
        assert index.refreshes == 1 and [t.run for t in index.traces()] == ["run"]
    finally:
        index.stop()
    waiting = TraceIndex(str(tmp_path), interval=60.0)
    waiting.start(after=threading.Event().wait)  # never loaded
    assert [t.run for t in waiting.traces()] == ["run"] and waiting.refreshes == 1  # asked: walks itself
    waiting.stop(timeout=5.0)
    assert waiting.refreshes == 1
