"""Store semantics: full resolution, restart preemption, immutable snapshots, versions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vizboard.data.decode import HistogramValue, SeriesMeta
from vizboard.data.models import Kind, TextEntry
from vizboard.data.store import Store

META = SeriesMeta(Kind.SCALARS, "scalars")


def add(store, steps, values=None, run="r", tag="t"):
    steps = np.asarray(steps, np.int64)
    values = np.asarray(values if values is not None else steps * 1.5, np.float64)
    store.add_scalars(run, tag, META, steps, np.full(steps.shape, 1.7e9), values)


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path))


def test_appends_keep_every_point(store):
    for lo in range(0, 10_000, 1000):
        add(store, np.arange(lo, lo + 1000))
    s = store.scalars("r", "t")
    assert s.step.tolist() == list(range(10_000)) and s.value.tolist() == [i * 1.5 for i in range(10_000)]
    assert s.step.dtype == np.int64 and s.wall_time.dtype == np.float64 and s.value.dtype == np.float64


def test_restart_replaces_overlapping_steps(store):
    add(store, [0, 1, 2, 3, 4], [0, 1, 2, 3, 4])
    add(store, [2, 3], [20, 30])
    s = store.scalars("r", "t")
    assert s.step.tolist() == [0, 1, 2, 3] and s.value.tolist() == [0, 1, 20, 30]


def test_restart_inside_one_batch_and_duplicates_keep_last(store):
    add(store, [0, 1, 2, 1, 2, 2, 5], [0, 1, 2, 10, 20, 21, 5])
    s = store.scalars("r", "t")
    assert s.step.tolist() == [0, 1, 2, 5] and s.value.tolist() == [0, 10, 21, 5]


def test_snapshots_never_change(store):
    add(store, np.arange(100))
    snap = store.scalars("r", "t")
    before = snap.value.copy()
    add(store, np.arange(100, 200))  # append past the snapshot
    add(store, [50], [-1.0])  # restart: truncates and rewrites
    assert np.array_equal(snap.value, before) and len(snap) == 100
    assert not snap.value.flags.writeable
    with pytest.raises(ValueError):
        snap.value[0] = 3.0
    now = store.scalars("r", "t")
    assert now.step.tolist() == list(range(50)) + [50] and now.value[-1] == -1.0


def test_versions_only_grow_and_tag_versions_track_changes(store):
    v0 = store.version()
    add(store, [0, 1])
    add(store, [0], tag="other")
    v1 = store.version()
    assert v1 > v0
    t_before = {t.tag: t.version for t in store.tags()}
    add(store, [2])
    t_after = {t.tag: t.version for t in store.tags()}
    assert t_after["t"] > t_before["t"] and t_after["other"] == t_before["other"]
    assert store.runs()[0].version == store.version()


def test_memory_per_point_is_bounded(store):
    for lo in range(0, 200_000, 777):
        add(store, np.arange(lo, min(lo + 777, 200_000)))
    step, wall, value, n = store._runs["r"].series["t"].data.state
    bytes_per_point = (step.nbytes + wall.nbytes + value.nbytes) / n
    assert bytes_per_point <= 32


def test_entries_preempt_like_scalars(store):
    meta = SeriesMeta(Kind.TEXT, "text")
    for step, text in [(0, "a"), (1, "b"), (2, "c"), (1, "b2")]:
        store.add_entry("r", "txt", meta, step, 0.0, TextEntry(step, 0.0, np.array(text, dtype=object)))
    assert [(e.step, e.data.item()) for e in store.text("r", "txt")] == [(0, "a"), (1, "b2")]


def test_histogram_snapshot(store):
    meta = SeriesMeta(Kind.HISTOGRAMS, "histograms")
    h1 = HistogramValue(np.array([0.0, 1]), np.array([1.0, 2]), np.array([3.0, 4]), 0.0, 2.0, 7.0, 9.0)
    h2 = HistogramValue(np.array([5.0]), np.array([6.0]), np.array([1.0]), 5.0, 6.0, 1.0, 5.5)
    store.add_entry("r", "h", meta, 0, 1.0, h1)
    store.add_entry("r", "h", meta, 1, 2.0, h2)
    h = store.histograms("r", "h")
    assert h.step.tolist() == [0, 1] and h.offsets.tolist() == [0, 2, 3]
    assert [b.tolist() for b in h.buckets(1)] == [[5.0], [6.0], [1.0]]
    assert h.num.tolist() == [7.0, 1.0] and h.total.tolist() == [9.0, 5.5]


def test_unknown_run_or_tag_gives_empty(store):
    assert store.scalars("nope", "x") is None and store.histograms("nope", "x") is None
    assert store.blobs("nope", "x") == [] and store.text("nope", "x") == [] and store.graph("nope") is None
    assert store.problems("nope") == []


def test_nan_wall_time_and_values_kept(store):
    store.add_scalars("r", "t", META, np.array([0, 1]), np.array([np.nan, np.inf]), np.array([np.nan, -np.inf]))
    s = store.scalars("r", "t")
    assert np.isnan(s.wall_time[0]) and np.isinf(s.wall_time[1])
    assert np.isnan(s.value[0]) and s.value[1] == -np.inf


def test_concurrent_readers_always_see_consistent_snapshots(store):
    import threading

    rng = np.random.default_rng(3)
    stop = threading.Event()
    errors: list[str] = []

    def reader():
        while not stop.is_set():
            s = store.scalars("r", "t")
            if s is None:
                continue
            st, val = s.step.copy(), s.value.copy()
            if len(st) != len(val) or len(s.wall_time) != len(st):
                errors.append("length mismatch")
            elif len(st) and (np.any(np.diff(st) <= 0) or np.any(np.floor(val / 1000) != st)):
                errors.append("inconsistent snapshot")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    last = 0
    for session in range(300):
        start = max(0, last - int(rng.integers(0, 50)))  # sometimes restart earlier
        steps = np.arange(start, start + int(rng.integers(1, 400)))
        add(store, steps, steps * 1000.0 + session % 1000 / 1000)
        last = int(steps[-1]) + 1
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_tags_cache_is_bounded_in_bytes_not_entries(tmp_path):
    """Issue 16: distinct selections of many runs once grew the tags() cache by ~1 MB each."""
    budget = 1 << 20
    store = Store(str(tmp_path), tags_cache_bytes=budget)
    runs = [f"run{i:04d}" for i in range(2000)]
    for r in runs:
        add(store, [0, 1], run=r, tag="loss")
    rng = np.random.default_rng(0)
    for _ in range(40):  # ~200 KB per answer: 64 entries (the old bound) would hold ~13 MB
        sel = sorted(rng.choice(runs, size=300, replace=False).tolist())
        got = store.tags(Kind.SCALARS, sel)
        assert [t.run for t in got] == sel
        assert store.tags(Kind.SCALARS, sel) == got  # a hit answers the same
    assert 0 < store._tags_cache.nbytes <= budget
    add(store, [2], run=runs[0], tag="acc")  # a new version: cached answers are not reused
    assert [t.tag for t in store.tags(Kind.SCALARS, [runs[0]])] == ["acc", "loss"]


def _scalar_state(store):
    out = {}
    for t in store.tags():
        s = store.scalars(t.run, t.tag)
        out[(t.run, t.tag)] = (s.step.tolist(), s.wall_time.tolist(), s.value.tolist())
    walls = {r.name: r.last_wall_time for r in store.runs()}
    return out, walls


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["x", "y", "z"]),
                                   st.lists(st.tuples(st.integers(-3, 12),
                                                      st.sampled_from([1.0, 5.0, -2.0, float("nan"), float("inf")])),
                                            min_size=1, max_size=6)),
                         min_size=1, max_size=5, unique_by=lambda g: (g[0], g[1])),
                min_size=1, max_size=4))
def test_add_scalars_many_equals_one_add_scalars_per_series(tmp_path_factory, batches):
    """The bulk path (views for new series, restart rule only where steps do not rise, one
    per-group wall reduction) stores exactly what one add_scalars per series stores."""
    d = str(tmp_path_factory.mktemp("many"))
    bulk, single = Store(d), Store(d)
    bulk.add_runs(["a", "b"])
    single.add_runs(["a", "b"])
    for batch in batches:
        groups, steps, walls, values, bounds = [], [], [], [], [0]
        for run, tag, pts in batch:
            st_, wa = [p[0] for p in pts], [p[1] for p in pts]
            va = [float(i) for i in range(len(pts))]
            single.add_scalars(run, tag, META, np.asarray(st_, np.int64), np.asarray(wa), np.asarray(va))
            groups.append((run, tag, META))
            steps += st_
            walls += wa
            values += va
            bounds.append(len(steps))
        v = bulk.version()
        bulk.add_scalars_many(groups, np.asarray(bounds, np.int64), np.asarray(steps, np.int64),
                              np.asarray(walls), np.asarray(values))
        assert bulk.version() == v + 1  # one version bump per batch
        assert _scalar_state(bulk) == _scalar_state(single) or _nan_equal(_scalar_state(bulk), _scalar_state(single))


def _nan_equal(a, b):
    return repr(a) == repr(b)  # nan != nan, but their reprs match


def test_add_scalars_many_rejects_bounds_that_do_not_cut_the_arrays(store):
    with pytest.raises(ValueError, match="bounds"):
        store.add_scalars_many([("r", "t", META)], np.asarray([0, 2]), np.arange(3), np.zeros(3), np.zeros(3))
