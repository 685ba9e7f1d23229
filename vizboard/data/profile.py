"""torch.profiler traces: parsing into typed tables (operators, step phases, timeline) and a bounded cache.

Discovery and contained reads of trace files live in :mod:`vizboard.data.traces` (re-exported
here for callers of the old module). :func:`parse_trace` turns the Chrome-trace JSON into an
operator table (calls, self/total CPU time, device time), a per-step breakdown (data loading,
forward, backward, optimizer, other) from ``ProfilerStep#N`` spans, and compact columnar events
for a timeline. All times are microseconds, as in the trace. Corrupt or partial JSON raises
:class:`TraceParseError` with a readable message.

The result's tables are in :mod:`vizboard.data.profile_tables` (re-exported here). The
parsed-trace cache is :class:`vizboard.data.trace_cache.TraceCache`. Nothing here keeps
module-level state.
"""

from __future__ import annotations

import gc
import json
import re
import zlib
from typing import Any

import numpy as np

from vizboard.data.profile_tables import PHASES, OperatorTable, ProfileTrace, StepBreakdown, TraceEvents
from vizboard.data.traces import (
    MAX_TRACE_BYTES,
    TRACE_SUFFIXES,
    TraceFile,
    TraceParseError,
    find_traces,
    profile_run_name,
    read_trace_bytes,
)

__all__ = [
    "TRACE_SUFFIXES",
    "PHASES",
    "MAX_TRACE_BYTES",
    "TraceFile",
    "OperatorTable",
    "StepBreakdown",
    "TraceEvents",
    "ProfileTrace",
    "TraceParseError",
    "find_traces",
    "profile_run_name",
    "read_trace_bytes",
    "parse_trace",
    "load_trace",
]

_CPU_CATS = frozenset({"cpu_op", "user_annotation", "cuda_runtime", "cuda_driver", "operator", "runtime"})
_DEVICE_CATS = frozenset({"kernel", "gpu_memcpy", "gpu_memset", "memcpy", "memset", "gpu_user_annotation"})
_TABLE_CATS = frozenset({"cpu_op", "user_annotation", "cuda_runtime", "cuda_driver", "operator", "runtime"})
_STEP_RE = re.compile(r"^ProfilerStep#(\d+)$")
_EPS_US = 0.002  # timestamps carry 3 decimals (ns); allow rounding at span edges


# -- reading ---------------------------------------------------------------------------------------


def _decompress(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, MAX_TRACE_BYTES + 1)
    except zlib.error as exc:
        raise TraceParseError(f"the gzip stream is corrupt ({exc})") from exc
    if len(out) > MAX_TRACE_BYTES:
        raise TraceParseError(f"the trace decompresses to more than {MAX_TRACE_BYTES} bytes; not loaded")
    if not d.eof:
        raise TraceParseError("the gzip stream is truncated (the profiler may still be writing it)")
    return out


# -- parsing -------------------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    t = type(v)
    if t is not float and t is not int:
        return None
    f = float(v)
    return f if f - f == 0.0 else None  # rejects NaN and ±inf


def _h(v: Any) -> Any:
    """A hashable stand-in for a pid/tid/id value of any JSON type."""
    return v if v is None or isinstance(v, (int, float, str)) else json.dumps(v, sort_keys=True)


def _args(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("args")
    return raw if isinstance(raw, dict) else {}


def _thread_names(events: list[Any]) -> tuple[dict[tuple[Any, Any], str], dict[Any, str]]:
    threads: dict[tuple[Any, Any], str] = {}
    procs: dict[Any, str] = {}
    for e in events:
        if not isinstance(e, dict) or e.get("ph") != "M":
            continue
        args = _args(e)
        if e.get("name") == "thread_name" and isinstance(args.get("name"), str):
            threads[(_h(e.get("pid")), _h(e.get("tid")))] = args["name"]
        elif e.get("name") == "process_name" and isinstance(args.get("name"), str):
            procs[_h(e.get("pid"))] = args["name"]
    return threads, procs


def _union_len(intervals: list[tuple[float, float]]) -> float:
    if not intervals:
        return 0.0
    ordered = sorted(intervals)
    total = 0.0
    cur_s, cur_e = ordered[0]
    for s, e in ordered[1:]:
        if s > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = s, e
        elif e > cur_e:
            cur_e = e
    return total + (cur_e - cur_s)


def _phase_of(name: str) -> str | None:
    if name.startswith("enumerate(DataLoader)") or "DataLoader" in name:
        return "data"
    if name.startswith("Optimizer."):
        return "optimizer"
    if name.startswith("autograd::engine::evaluate_function") or name.startswith("## backward"):
        return "backward"
    return None


def parse_trace(data: bytes | str, file: TraceFile) -> ProfileTrace:
    """Parse a Chrome-trace JSON document written by torch.profiler (bytes may be gzipped).

    Raises TraceParseError (never another exception) when the input is not a usable trace.
    The cyclic garbage collector is paused while the JSON's many small objects are built
    (they hold no cycles; collecting during the build made big traces quadratic).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(data, file)
    except TraceParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed input becomes one clear message
        raise TraceParseError(f"unexpected trace structure ({type(exc).__name__}: {exc})") from exc
    finally:
        if was_enabled:
            gc.enable()


def _parse(data: bytes | str, file: TraceFile) -> ProfileTrace:
    raw = _decompress(data) if isinstance(data, bytes) else data
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise TraceParseError(f"the trace is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise TraceParseError(
            f"the trace is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "it may be incomplete while the profiler is still writing it"
        ) from exc
    events = doc.get("traceEvents") if isinstance(doc, dict) else doc if isinstance(doc, list) else None
    if not isinstance(events, list):
        raise TraceParseError("no traceEvents list: this is not a torch.profiler (Chrome trace) file")
    thread_names, proc_names = _thread_names(events)

    warnings: list[str] = []
    skipped = 0
    names: dict[str, int] = {}
    cats: dict[str, int] = {}
    threads: dict[tuple[Any, Any], int] = {}
    rows: list[tuple[int, int, int, float, float, bool, bool, Any, Any]] = []
    for e in events:
        if not isinstance(e, dict) or e.get("ph") != "X":
            continue
        cat = str(e.get("cat", "")).lower()
        ev_cpu, ev_dev = cat in _CPU_CATS, cat in _DEVICE_CATS
        if not (ev_cpu or ev_dev):
            continue
        ev_ts, ev_dur = _num(e.get("ts")), _num(e.get("dur"))
        if ev_ts is None or ev_dur is None or ev_dur < 0:
            skipped += 1
            continue
        name = str(e.get("name", ""))
        key = (_h(e.get("pid")), _h(e.get("tid")))
        args = _args(e)
        rows.append((
            names.setdefault(name, len(names)),
            cats.setdefault(cat, len(cats)),
            threads.setdefault(key, len(threads)),
            ev_ts, ev_dur, ev_cpu, ev_dev, _h(args.get("External id")), _h(args.get("correlation")),
        ))
    if skipped:
        warnings.append(f"{skipped} events without a numeric ts/dur were skipped")
    if not rows:
        raise TraceParseError("the trace holds no CPU or device events (was the profiler active for a step?)")

    rows.sort(key=lambda r: (r[2], r[3], -r[4]))
    n = len(rows)
    name_idx = np.fromiter((r[0] for r in rows), np.int32, n)
    cat_idx = np.fromiter((r[1] for r in rows), np.int16, n)
    thread_idx = np.fromiter((r[2] for r in rows), np.int32, n)
    ts = np.fromiter((r[3] for r in rows), np.float64, n)
    dur = np.fromiter((r[4] for r in rows), np.float64, n)
    is_cpu = np.fromiter((r[5] for r in rows), bool, n)
    name_list = list(names)

    # Nesting per thread (rows are grouped by thread, then by start, longest first).
    parent = np.full(n, -1, np.int64)
    depth = np.zeros(n, np.int16)
    child_sum = np.zeros(n, np.float64)
    stack: list[int] = []
    ends = (ts + dur).tolist()
    durs, thr, cpu = dur.tolist(), thread_idx.tolist(), is_cpu.tolist()
    par, dep, csum = [-1] * n, [0] * n, [0.0] * n
    for i in range(n):
        if not cpu[i]:
            stack = []
            continue
        if stack and thr[stack[-1]] != thr[i]:
            stack = []
        end_i = ends[i] - _EPS_US
        while stack and ends[stack[-1]] < end_i:
            stack.pop()
        if stack:
            p = stack[-1]
            par[i] = p
            dep[i] = dep[p] + 1
            csum[p] += durs[i]
        stack.append(i)
    parent[:] = par
    depth[:] = dep
    child_sum[:] = csum
    self_cpu = np.maximum(dur - child_sum, 0.0)

    # Device time: a kernel/memcpy/memset links to the op that launched it through its
    # "External id", or through its "correlation" to the runtime call (cudaLaunchKernel) and
    # that call's "External id". Device-side annotations are drawn but not counted.
    cat_names = list(cats)
    is_dev = np.fromiter((r[6] for r in rows), bool, n)
    has_device = bool(is_dev.any())
    dev_self = np.zeros(n, np.float64)
    if has_device:
        op_cat = [c in ("cpu_op", "user_annotation", "operator") for c in cat_names]
        counted = [c != "gpu_user_annotation" for c in cat_names]
        by_ext: dict[Any, int] = {}
        corr_ext: dict[Any, Any] = {}
        for i, r in enumerate(rows):
            if r[5] and r[7] is not None:
                if op_cat[r[1]]:
                    by_ext.setdefault(r[7], i)
                elif r[8] is not None:
                    corr_ext.setdefault(r[8], r[7])
        for i in np.nonzero(is_dev)[0].tolist():
            r = rows[i]
            if not counted[r[1]]:
                continue
            ext = r[7] if r[7] is not None else corr_ext.get(r[8])
            op = by_ext.get(ext) if ext is not None else None
            if op is not None:
                dev_self[op] += dur[i]
    dev_total = dev_self.copy()
    if has_device:
        par_list = parent.tolist()
        tot_list = dev_total.tolist()
        for i in np.argsort(-depth, kind="stable").tolist():
            p = par_list[i]
            if p >= 0:
                tot_list[p] += tot_list[i]
        dev_total = np.asarray(tot_list, np.float64)

    # Operator table (ProfilerStep#N spans are steps, not operators).
    in_table = np.array([c in _TABLE_CATS for c in cat_names], bool)[cat_idx] & is_cpu
    step_name = np.array([bool(_STEP_RE.match(s)) for s in name_list], bool)
    in_table &= ~step_name[name_idx]
    sel = np.nonzero(in_table)[0]
    uniq, inv = np.unique(name_idx[sel], return_inverse=True)
    k = len(uniq)
    calls = np.bincount(inv, minlength=k).astype(np.int64)
    tot = np.bincount(inv, weights=dur[sel], minlength=k)
    slf = np.bincount(inv, weights=self_cpu[sel], minlength=k)
    dslf = np.bincount(inv, weights=dev_self[sel], minlength=k)
    dtot = np.bincount(inv, weights=dev_total[sel], minlength=k)
    order = np.lexsort((np.array([name_list[u] for u in uniq], dtype=object).astype(str), -tot))
    operators = OperatorTable(
        name=tuple(name_list[uniq[j]] for j in order),
        calls=_ro(calls[order]), self_cpu_us=_ro(slf[order]), total_cpu_us=_ro(tot[order]),
        self_device_us=_ro(dslf[order]), total_device_us=_ro(dtot[order]), has_device=has_device,
    )

    steps = _steps(name_list, name_idx, thread_idx, ts, dur, depth, is_cpu, step_name)

    # Events sorted by start for the timeline.
    by_time = np.lexsort((-dur, ts))
    thread_labels = []
    for key in threads:
        label = thread_names.get(key)
        if label is None:
            proc = proc_names.get(key[0])
            label = f"{proc or key[0]} / {key[1]}"
        thread_labels.append(str(label))
    ev = TraceEvents(
        names=tuple(name_list), cats=tuple(cat_names), threads=_unique_labels(thread_labels),
        name_idx=_ro(name_idx[by_time]), cat_idx=_ro(cat_idx[by_time]), thread_idx=_ro(thread_idx[by_time]),
        ts_us=_ro(ts[by_time]), dur_us=_ro(dur[by_time]), depth=_ro(depth[by_time]),
    )
    return ProfileTrace(file, operators, steps, ev, float(ts.min()), float((ts + dur).max()), tuple(warnings))


def _unique_labels(labels: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        c = seen.get(label, 0)
        seen[label] = c + 1
        out.append(label if c == 0 else f"{label} ({c + 1})")
    return tuple(out)


def _steps(name_list: list[str], name_idx: np.ndarray, thread_idx: np.ndarray, ts: np.ndarray,
           dur: np.ndarray, depth: np.ndarray, is_cpu: np.ndarray, step_name: np.ndarray) -> StepBreakdown:
    codes = {"data": 0, "optimizer": 1, "backward": 2}
    phase_code = np.array([codes.get(_phase_of(s) or "", -1) for s in name_list], np.int8)[name_idx]
    step_rows = np.nonzero(step_name[name_idx] & is_cpu)[0]
    step_rows = step_rows[np.argsort(ts[step_rows], kind="stable")]
    cols: dict[str, list[float]] = {p: [] for p in PHASES}
    nums: list[int] = []
    starts: list[float] = []
    durs: list[float] = []
    order = np.argsort(ts, kind="stable")
    ts_sorted = ts[order]
    end = ts + dur
    for s in step_rows:
        s0, s1 = float(ts[s]), float(end[s])
        lo, hi = np.searchsorted(ts_sorted, s0 - _EPS_US), np.searchsorted(ts_sorted, s1, side="right")
        sel = order[lo:hi]
        sel = sel[is_cpu[sel] & (sel != s)]
        a, b = np.maximum(ts[sel], s0), np.minimum(end[sel], s1)
        ok = b > a
        pc = phase_code[sel]
        fwd = ok & (pc < 0) & (thread_idx[sel] == thread_idx[s]) & (depth[sel] == depth[s] + 1)
        spans = {
            "data": ok & (pc == 0), "optimizer": ok & (pc == 1), "backward": ok & (pc == 2), "forward": fwd,
        }
        covered = 0.0
        acc: list[tuple[float, float]] = []
        for ph in ("data", "optimizer", "backward", "forward"):
            m = spans[ph]
            acc.extend(zip(a[m].tolist(), b[m].tolist()))
            now = _union_len(acc)
            cols[ph].append(now - covered)
            covered = now
        total = float(dur[s])
        cols["other"].append(max(total - covered, 0.0))
        m = _STEP_RE.match(name_list[name_idx[s]])
        nums.append(int(m.group(1)) if m else len(nums))
        starts.append(s0)
        durs.append(total)
    def f(v: list[float]) -> np.ndarray:
        return _ro(np.asarray(v, np.float64))

    return StepBreakdown(
        step=_ro(np.asarray(nums, np.int64)), start_us=f(starts), duration_us=f(durs),
        data_us=f(cols["data"]), forward_us=f(cols["forward"]), backward_us=f(cols["backward"]),
        optimizer_us=f(cols["optimizer"]), other_us=f(cols["other"]),
    )


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def load_trace(logdir: str, trace: TraceFile, storage_options: dict[str, Any] | None = None) -> ProfileTrace:
    """Read and parse ``trace`` (a file under ``logdir``); raises TraceParseError on any problem."""
    return parse_trace(read_trace_bytes(logdir, trace, storage_options), trace)
