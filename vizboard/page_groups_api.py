"""The Scalars page's comparison routes: run groups (aggregate line + band) and any scalar tag as the x-axis.

Routes (next to :mod:`vizboard.page_api`'s, behind the same token guard, JSON like them):

* ``GET /api/page/groups?by=regex|hparam|text&key=K`` — the groups of *all* runs
  (``[[name, [run, ...]], ...]``, in the order of their first member); the browser keeps the
  members that are selected. Cached per data version.
* ``POST /api/page/groups/series`` — ``{"items": [[group, [run, ...], tag], ...], "line":
  mean|median|min|max, "band": minmax|std|stderr|none, "smooth", "w", "max_points",
  "xtag": tag | null, "x_range": [a, b] | null}``. Each group is aggregated by
  :func:`vizboard.data.groups.aggregate` on the members' full-resolution series (smoothed
  first when ``smooth`` is not ``none``), cut to ``x_range`` and only then downsampled
  (every bucket's extremes of the line and both band edges kept). Packed like
  ``/api/page/series`` (:func:`pack_group`). With ``xtag`` the x of each step is the
  members' mean of that tag at the step (joined by step, interpolated between its points).
  Without ``xtag``, ``"xaxis": "relative" | "wall_time"`` draws the group on time: the x of each
  step is the members' mean relative time (seconds since each member's first point) or mean wall
  time (epoch seconds) at that step (:func:`vizboard.data.groups.group_time_x`); ``x_range`` is
  then in seconds. ``"step"`` (the default) sends no ``x``.
* ``POST /api/page/xseries`` — ``{"items": [[run, tag], ...], "xtag": tag, "smooth", "w",
  "max_points", "x_range"}``: each run's series joined with its ``xtag`` series by step
  (:func:`vizboard.data.xjoin.join_by_step`, interpolated), packed with an ``x`` array.

Full-resolution aggregates are cached per (tag, members and their series versions,
settings) in a count-bounded LRU; packed answers per the same key plus range and points.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import Blueprint, Flask, Response, request

from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.data.downsample import MAX_POINTS_LIMIT, downsample
from vizboard.data.groups import (
    BANDS,
    GROUP_BY,
    LINES,
    TIME_AXES,
    GroupAggregate,
    aggregate,
    group_runs,
    group_time_x,
)
from vizboard.data.models import ScalarSeries
from vizboard.data.provider import DataProvider
from vizboard.data.smoothing import SMOOTHING_KINDS, smooth_series
from vizboard.data.xjoin import join_by_step
from vizboard.page_api import _respond

__all__ = ["register_group_api", "GroupRequest", "parse_group_request", "pack_group", "cut_and_downsample",
           "GroupData", "MAX_GROUP_ITEMS"]

MAX_GROUP_ITEMS = 2_000
"""Most (group, tag) items one ``/api/page/groups/series`` request may ask for."""
_AGG_CACHE = 64
_PACK_CACHE = 512


def _b64(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


class _Lru:
    """A thread-safe LRU bounded by entry count."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._d: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple) -> Any:
        with self._lock:
            hit = self._d.get(key)
            if hit is not None:
                self._d.move_to_end(key)
            return hit

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self._size:
                self._d.popitem(last=False)


@dataclass(frozen=True)
class GroupRequest:
    """A validated ``/api/page/groups/series`` or ``/api/page/xseries`` body."""

    items: list[tuple[Any, ...]]
    line: str
    band: str
    smooth: str
    weight: float
    max_points: int
    xtag: str | None
    x_range: tuple[float, float] | None
    xaxis: str = "step"


def parse_group_request(body: Any, *, groups: bool) -> GroupRequest:
    """Validate a request body; raises ``ValueError`` naming the bad field and what it accepts."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object {items: [...], ...}")
    items = body.get("items")
    if groups:
        ok = isinstance(items, list) and len(items) <= MAX_GROUP_ITEMS and all(
            isinstance(i, list) and len(i) == 3 and isinstance(i[0], str) and isinstance(i[2], str)
            and isinstance(i[1], list) and all(isinstance(r, str) for r in i[1]) for i in items)
        if not ok:
            raise ValueError(f"items must be a list of at most {MAX_GROUP_ITEMS} [group, [run, ...], tag]")
        parsed = [(g, tuple(runs), tag) for g, runs, tag in items]
    else:
        ok = isinstance(items, list) and len(items) <= 20_000 and all(
            isinstance(i, list) and len(i) == 2 and all(isinstance(x, str) for x in i) for i in items)
        if not ok:
            raise ValueError("items must be a list of at most 20000 [run, tag] pairs of strings")
        parsed = [(r, t) for r, t in items]
    line, band = body.get("line", "mean"), body.get("band", "minmax")
    if line not in LINES:
        raise ValueError(f"line must be one of {list(LINES)}, got {line!r}")
    if band not in BANDS:
        raise ValueError(f"band must be one of {list(BANDS)}, got {band!r}")
    smooth = body.get("smooth") or "none"
    if smooth not in SMOOTHING_KINDS:
        raise ValueError(f"smooth must be one of {list(SMOOTHING_KINDS)}, got {smooth!r}")
    try:
        weight = float(body.get("w", 0.6))
        max_points = int(body.get("max_points", 600))
    except (TypeError, ValueError):
        raise ValueError("w must be a number and max_points an integer") from None
    if not (0.0 <= weight <= 0.999) or math.isnan(weight):
        raise ValueError(f"w must be in [0, 0.999], got {weight}")
    xtag = body.get("xtag")
    if xtag is not None and (not isinstance(xtag, str) or not xtag):
        raise ValueError("xtag must be null or a scalar tag name (e.g. 'train/tokens')")
    if not groups and xtag is None:
        raise ValueError("xtag is required: the scalar tag to draw on the x-axis")
    xr = body.get("x_range")
    x_range = None
    if xr is not None:
        if not (isinstance(xr, list) and len(xr) == 2 and all(
                isinstance(v, (int, float)) and math.isfinite(v) for v in xr)):
            raise ValueError("x_range must be null or two finite numbers [x0, x1]")
        x_range = (float(min(xr)), float(max(xr)))
    xaxis = body.get("xaxis") or "step"
    if xaxis not in ("step", *TIME_AXES):
        raise ValueError(f"xaxis must be one of {['step', *TIME_AXES]}, got {xaxis!r}")
    return GroupRequest(parsed, line, band, smooth, weight, min(max(max_points, 10), MAX_POINTS_LIMIT),
                        xtag, x_range, "step" if xtag is not None else xaxis)


def cut_and_downsample(x: np.ndarray, arrays: Sequence[np.ndarray], max_points: int,
                       x_range: tuple[float, float] | None) -> np.ndarray:
    """Indices to keep: inside ``x_range`` (plus a neighbour each side) and, per bucket, the extremes
    of every array of ``arrays`` (a line and its band edges), at most ``max_points`` per array."""
    if x.size <= max_points and x_range is None:
        return np.arange(x.size)
    keep = np.empty(0, dtype=np.int64)
    for a in arrays:
        keep = np.union1d(keep, downsample(x, a, max_points, x_range=x_range))
    return keep.astype(np.int64)


def pack_group(agg: GroupAggregate, idx: np.ndarray, x: np.ndarray | None) -> dict[str, Any]:
    """One group's aggregate at indices ``idx``, packed (base64 of little-endian typed arrays).

    ``si`` int32 steps (``s`` float64 if they do not fit), ``l``/``lo``/``hi`` float32 line and band
    edges, ``c`` uint16 member count per point (saturating), ``f`` uint8 1 where a member's value
    was interpolated, ``x`` float64 x values (metric as x only), ``members`` the runs aggregated.
    """
    step = agg.step[idx]
    out: dict[str, Any] = {"name": agg.name, "tag": agg.tag, "members": list(agg.members), "n": agg.total_points,
                           "k": int(idx.size), "line_kind": agg.line_kind, "band_kind": agg.band_kind}
    if step.size == 0 or (int(step.min()) >= -(2**31) and int(step.max()) < 2**31):
        out["si"] = _b64(step, "<i4")
    else:
        out["s"] = _b64(step, "<f8")
    out["l"] = _b64(agg.line[idx], "<f4")
    out["lo"] = _b64(agg.lower[idx], "<f4")
    out["hi"] = _b64(agg.upper[idx], "<f4")
    out["c"] = _b64(np.minimum(agg.count[idx], 65535), "<u2")
    out["f"] = _b64(agg.interpolated[idx], "u1")
    if x is not None:
        out["x"] = _b64(x[idx], "<f8")
    return out


class GroupData:
    """Groups, aggregates and joined series of one provider, with their caches."""

    def __init__(self, provider: DataProvider) -> None:
        self.p = provider
        self._smooth = SmoothingCache(lambda s, k, w: smooth_series(s, k, w))
        self._groups = _Lru(16)
        self._aggs = _Lru(_AGG_CACHE)
        self._packed = _Lru(_PACK_CACHE)

    def groups(self, by: str, key: str) -> list[list[Any]]:
        """``[[name, [run, ...]], ...]`` of every run (see :func:`vizboard.data.groups.group_runs`)."""
        version = self.p.version()
        ck = (version, by, key)
        hit = self._groups.get(ck)
        if hit is None:
            runs = [r.name for r in self.p.runs()]
            hit = [[name, list(members)] for name, members in group_runs(self.p, runs, by, key).items()]
            self._groups.put(ck, hit)
        return hit

    def _values(self, s: ScalarSeries, req: GroupRequest) -> np.ndarray | None:
        return self._smooth.get(s, req.smooth, req.weight)

    def group_series(self, name: str, runs: Sequence[str], tag: str, req: GroupRequest) -> dict[str, Any] | None:
        """One group's packed aggregate, or None if no member has ``tag``."""
        members = [s for s in (self.p.scalars(r, tag) for r in runs) if s is not None and len(s)]
        if not members:
            return None
        xs: list[ScalarSeries] = []
        if req.xtag is not None:
            xs = [s for s in (self.p.scalars(m.run, req.xtag) for m in members) if s is not None and len(s)]
            if not xs:
                return None
        sig = (tag, tuple((s.run, s.version, len(s)) for s in members), req.line, req.band, req.smooth,
               round(req.weight, 6), req.xtag, tuple((s.run, s.version, len(s)) for s in xs), req.xaxis)
        full = self._aggs.get(sig)
        if full is None:
            transform = None if req.smooth == "none" else (lambda s: self._values(s, req))
            agg = aggregate(members, name=name, line=req.line, band=req.band, transform=transform)
            x = None
            if xs:
                xagg = aggregate(xs, line="mean", band="none")
                ok = np.isfinite(xagg.line)
                fx, fy = xagg.step[ok].astype(np.float64), xagg.line[ok]
                x = np.full(len(agg), np.nan)
                if fx.size:
                    inside = (agg.step >= fx[0]) & (agg.step <= fx[-1])
                    x[inside] = np.interp(agg.step[inside].astype(np.float64), fx, fy)
            elif req.xaxis in TIME_AXES:
                x = group_time_x(members, req.xaxis)
            full = (agg, x)
            self._aggs.put(sig, full)
        agg, x = full
        pk = (sig, name, req.max_points, req.x_range)
        hit = self._packed.get(pk)
        if hit is not None:
            return dict(hit)
        axis = agg.step.astype(np.float64) if x is None else x
        base = np.flatnonzero(np.isfinite(axis))
        idx = base[cut_and_downsample(axis[base], (agg.line[base], agg.lower[base], agg.upper[base]),
                                      req.max_points, req.x_range)]
        out = pack_group(agg, idx, x)
        out["name"] = name
        self._packed.put(pk, out)
        return dict(out)

    def xseries(self, run: str, tag: str, req: GroupRequest) -> dict[str, Any] | None:
        """One run's ``tag`` joined by step with its ``req.xtag`` series, downsampled and packed."""
        assert req.xtag is not None
        ys, xs = self.p.scalars(run, tag), self.p.scalars(run, req.xtag)
        if ys is None or xs is None or not len(ys) or not len(xs):
            return None
        pk = (run, tag, ys.version, len(ys), req.xtag, xs.version, len(xs), req.smooth, round(req.weight, 6),
              req.max_points, req.x_range)
        hit = self._packed.get(pk)
        if hit is not None:
            return hit
        j = join_by_step(xs, ys, how="interpolate")
        sm = self._values(ys, req)
        msm = None if sm is None else join_by_step(xs, ScalarSeries(run, tag, ys.step, ys.wall_time, sm, ys.version),
                                                   how="interpolate").y
        wall = join_by_step(xs, ScalarSeries(run, tag, ys.step, ys.wall_time, ys.wall_time, ys.version),
                            how="interpolate").y
        idx = downsample(j.x, j.y, req.max_points, x_range=req.x_range) if len(j) > 8 else np.arange(len(j))
        t0 = float(ys.wall_time[0])
        step = j.step[idx]
        out: dict[str, Any] = {"run": run, "tag": tag, "xtag": req.xtag, "version": ys.version, "n": len(j),
                               "k": int(idx.size), "t0": t0}
        if step.size == 0 or (int(step.min()) >= -(2**31) and int(step.max()) < 2**31):
            out["si"] = _b64(step, "<i4")
        else:
            out["s"] = _b64(step, "<f8")
        out["x"] = _b64(j.x[idx], "<f8")
        out["t"] = _b64(wall[idx] - t0, "<f4")
        out["v"] = _b64(j.y[idx], "<f4")
        if msm is not None:
            out["m"] = _b64(msm[idx], "<f4")
        self._packed.put(pk, out)
        return out


def _error(message: str) -> Response:
    return _respond({"error": message}, 0, 400)


def register_group_api(server: Flask, provider: DataProvider) -> GroupData:
    """Attach ``/api/page/groups``, ``/api/page/groups/series`` and ``/api/page/xseries`` to ``server``."""
    data = GroupData(provider)
    bp = Blueprint("vizboard_page_groups_api", __name__, url_prefix="/api/page")

    @bp.route("/groups", methods=["GET"])
    def groups() -> Response:
        version = provider.version()
        by, key = request.args.get("by", "regex"), request.args.get("key", "")
        if by not in GROUP_BY:
            return _error(f"by must be one of {list(GROUP_BY)}, got {by!r}")
        if not key:
            return _error("key is required: a regex like '(.*)_seed\\d+', an hparam name, or a text TAG[:FIELD]")
        try:
            out = data.groups(by, key)
        except ValueError as exc:
            return _error(str(exc))
        return _respond({"version": version, "by": by, "key": key, "groups": out}, version)

    @bp.route("/groups/series", methods=["POST"])
    def group_series() -> Response:
        version = provider.version()
        try:
            req = parse_group_request(request.get_json(silent=True), groups=True)
        except ValueError as exc:
            return _error(str(exc))
        out = [s for s in (data.group_series(g, runs, tag, req) for g, runs, tag in req.items) if s is not None]
        return _respond({"version": version, "series": out}, version)

    @bp.route("/xseries", methods=["POST"])
    def xseries() -> Response:
        version = provider.version()
        try:
            req = parse_group_request(request.get_json(silent=True), groups=False)
        except ValueError as exc:
            return _error(str(exc))
        out = [s for s in (data.xseries(r, t, req) for r, t in req.items) if s is not None]
        return _respond({"version": version, "series": out}, version)

    server.register_blueprint(bp)
    return data
