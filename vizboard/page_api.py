"""The Scalars page's data routes under ``/api/page/``: first screen, packed series batches, live changes.

The browser module ``assets/scalars_page.js`` owns the Scalars tab and the run list
(DESIGN.md §3: the browser does the interaction, the server does the data). It needs
three things from the server, each one request:

* ``GET /api/page/init`` — everything the first screen shows: the runs (in order, with
  colours), every scalar section and card (for *all* runs, so run filter and ticks are
  applied in the browser), the structure hash, and the packed series of the first
  cards for the selection the page's URL describes (query parameters ``run``,
  ``run_off``, ``runs``, ``run_re``, ``tag_re``, ``smooth``, ``w``, ``n`` first cards,
  ``max_points``).
* ``POST /api/page/series`` — a batch of (run, tag) series, JSON body
  ``{"items": [[run, tag], ...], "smooth": kind, "w": weight, "max_points": n,
  "x": axis, "x_range": [a, b] | null}``. Each series is downsampled with
  :func:`~vizboard.data.downsample.select_indices` (every bucket's min/max kept) and
  sent packed: base64 of little-endian float64 ``step`` and ``wall_time`` and float32
  ``value`` and ``smoothed`` (NaN and ±inf travel natively). Smoothing is computed on
  the full series and cached per (series version, kind, weight) in a byte-bounded
  cache; packed answers are cached (byte-bounded) per (series version, settings).
* ``POST /api/page/download`` — ``{"items": [[run, tag], ...], "format": "csv" | "json"}``:
  the full-resolution rows of a card (the card's CSV / JSON buttons).
* ``GET /api/page/changes?since=V&h=HASH`` — the data version, the (run, tag, version)
  of every scalar series changed after version ``V``, and the structure again only if
  its hash is not ``HASH`` — so a live update fetches only the series that changed.
* ``POST /api/page/live`` — the page's live loop, a long poll: body ``{"since": V, "h": HASH,
  "wait": seconds, "items": [[run, tag], ...], "smooth", "w", "max_points"}``. It answers as
  soon as the data version is not ``V`` (or after ``wait`` seconds, at most
  ``LIVE_WAIT_MAX``) with what ``changes`` answers plus ``series``: the packed series of
  those ``items`` (the page's drawn series) that changed — a new point reaches the page in
  one round trip, without waiting for a poll period or a Dash callback.

Deviations from the recommended shape, measured: wall times travel as float32 offsets from
the series' first wall time and steps as int32 (not float64: a third less to send and decode;
~1 ms resolution over days); about 600 points per trace at most (150 with 200+ runs), not
1500: three pixels per bucket on a ~460 px card, and Plotly's SVG draw time grows with points.
Responses carry ``ETag`` = data version + request; a matching ``If-None-Match`` is
answered 304. Layer: an app-level adapter (like ``vizboard.api``) over the provider,
the data layer and ``components.scalar_index``; no Dash.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from flask import Blueprint, Flask, Response, request

from vizboard.components.scalar_index import CardSpec, Section, build_sections, compile_filter
from vizboard.components.smoothing_cache import SmoothingCache
from vizboard.data.downsample import MAX_POINTS_LIMIT, X_AXES, select_indices
from vizboard.data.models import Kind
from vizboard.data.provider import DataProvider
from vizboard.data.serialize import dumps, series_csv, series_records
from vizboard.data.smoothing import SMOOTHING_KINDS, extend_smoothed, smooth_series
from vizboard.figures.theme import run_colors

__all__ = ["register_page_api", "PageData", "pack_series", "select_runs", "FIRST_CARDS", "FIRST_SERIES",
           "LIVE_WAIT_MAX", "LIVE_CHECK"]

FIRST_CARDS = 2
"""Cards whose series ``/api/page/init`` sends with the structure (the first row: the first
curve needs this one response; the rest of the screen follows in one batch)."""
FIRST_SERIES = 400
"""At most this many series ride in ``/api/page/init`` (1,000 runs would make it megabytes)."""
POINTS_PER_CHART = 30_000
"""Points per chart the page aims at: per trace ``POINTS_PER_CHART / runs``, within 150..600."""
MAX_BATCH = 20_000
"""Most (run, tag) items one ``/api/page/series`` request may ask for."""
LIVE_WAIT_MAX = 25.0
"""Longest a ``/api/page/live`` request waits for new data (seconds) before answering "no change"."""
LIVE_CHECK = 0.02
"""How often a waiting ``/api/page/live`` request reads the data version (seconds)."""
_PACK_CACHE_BYTES = 64 * 1024 * 1024


def _b64(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def pack_series(step: np.ndarray, wall_time: np.ndarray, value: np.ndarray,
                smoothed: np.ndarray | None, t0: float) -> dict[str, Any]:
    """Packed arrays of one downsampled series (base64 of little-endian typed arrays).

    ``si`` int32 steps (or ``s`` float64 when a step does not fit in int32), ``t`` float32
    seconds since ``t0`` (the series' first wall time; ~1 ms resolution over days),
    ``v`` float32 values and ``m`` float32 smoothed values (NaN and ±inf travel natively).
    """
    out: dict[str, Any] = {}
    if step.size == 0 or (int(step.min()) >= -(2**31) and int(step.max()) < 2**31):
        out["si"] = _b64(step, "<i4")
    else:
        out["s"] = _b64(step, "<f8")
    out["t"] = _b64(np.asarray(wall_time, dtype=np.float64) - t0, "<f4")
    out["v"] = _b64(value, "<f4")
    if smoothed is not None:
        out["m"] = _b64(smoothed, "<f4")
    return out


class _ByteLru:
    """A thread-safe LRU of JSON-ready dicts bounded by the bytes of their packed strings."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._d: OrderedDict[tuple, tuple[dict[str, Any], int]] = OrderedDict()

    def get(self, key: tuple) -> dict[str, Any] | None:
        with self._lock:
            hit = self._d.get(key)
            if hit is None:
                return None
            self._d.move_to_end(key)
            return hit[0]

    def put(self, key: tuple, value: dict[str, Any]) -> None:
        size = sum(len(v) for v in value.values() if isinstance(v, str)) + 200
        if size > self._max:
            return
        with self._lock:
            if key in self._d:
                return
            self._d[key] = (value, size)
            self._bytes += size
            while self._bytes > self._max and self._d:
                _, (_, s) = self._d.popitem(last=False)
                self._bytes -= s


def _card_json(card: CardSpec, run_index: dict[str, int], points: dict[tuple[str, str], int]) -> dict[str, Any]:
    most = max((points.get((r, t), 0) for r, t, _ in card.lines), default=0)
    if card.kind == "tag":  # one line per run, labelled by the run: send run indices only
        tag = card.lines[0][1] if card.lines else card.title
        return {"key": card.key, "title": card.title, "kind": "tag", "tag": tag, "np": most,
                "runs": [run_index[r] for r, _, _ in card.lines if r in run_index]}
    lines = []
    for run, tag, label in card.lines:
        i = run_index.get(run)
        if i is None:
            continue
        if card.kind == "chart":  # label the browser composes: suffix only, or "run: suffix"
            label = label.split(": ", 1)[1] if label.startswith(run + ": ") else label
        lines.append([i, tag, label])
    return {"key": card.key, "title": card.title, "kind": card.kind, "lines": lines, "np": most}


def _section_json(s: Section, run_index: dict[str, int], points: dict[tuple[str, str], int]) -> dict[str, Any]:
    return {"name": s.name, "key": s.key, "open": s.open_by_default,
            "cards": [_card_json(c, run_index, points) for c in s.cards]}


class PageData:
    """The page's view of one provider: structure per data version, packed series, changes."""

    def __init__(self, provider: DataProvider, default_max_points: int = 1500) -> None:
        self.p = provider
        self.default_max_points = default_max_points
        self._smooth = SmoothingCache(lambda s, k, w: smooth_series(s, k, w), extend=extend_smoothed)
        self._packed = _ByteLru(_PACK_CACHE_BYTES)
        self._lock = threading.Lock()
        self._structure: tuple[int, dict[str, Any]] | None = None

    def structure(self) -> dict[str, Any]:
        """Runs (sorted, with colours by order), sections of cards over all runs, and their hash."""
        version = self.p.version()
        with self._lock:
            if self._structure is not None and self._structure[0] == version:
                return self._structure[1]
        runs = [r.name for r in self.p.runs()]
        run_index = {r: i for i, r in enumerate(runs)}
        tags = self.p.tags(Kind.SCALARS)
        points = {(t.run, t.tag): t.num_points for t in tags}
        secs = build_sections(tags, self.p.chart_layouts(), runs)
        body = {"runs": runs, "colors": run_colors(runs), "max_points": self.points_per_trace(len(runs)),
                "sections": [_section_json(s, run_index, points) for s in secs]}
        h = hashlib.sha1(json.dumps(body, separators=(",", ":")).encode("utf-8")).hexdigest()[:16]
        out = dict(body, hash=h)
        with self._lock:
            self._structure = (version, out)
        return out

    def points_per_trace(self, num_runs: int) -> int:
        """Points per trace the page asks for: at most 600 (min and max of ~150 buckets, about
        three pixels each on a card), fewer with many runs (see ``POINTS_PER_CHART``)."""
        per = max(150, min(self.default_max_points, 600, POINTS_PER_CHART // max(1, num_runs)))
        return per - per % 50  # in steps, so one more live run rarely changes it (and refetches)

    def series(self, run: str, tag: str, smoothing: str, weight: float, max_points: int,
               x_axis: str = "step", x_range: tuple[float, float] | None = None) -> dict[str, Any] | None:
        """One packed series (see module doc), or None if (run, tag) is unknown."""
        s = self.p.scalars(run, tag)
        if s is None:
            return None
        key = (run, tag, s.version, len(s), smoothing, round(weight, 6), max_points, x_axis, x_range)
        hit = self._packed.get(key)
        if hit is not None:
            return hit
        idx = select_indices(s, max_points, x_axis, x_range)
        sm = self._smooth.get(s, smoothing, weight)
        t0 = float(s.wall_time[0]) if len(s) else 0.0
        head = {"run": run, "tag": tag, "version": s.version, "n": len(s), "t0": t0, "k": int(idx.size)}
        out = dict(head, **pack_series(s.step[idx], s.wall_time[idx], s.value[idx],
                                       None if sm is None else sm[idx], t0))
        self._packed.put(key, out)
        return out

    def batch(self, items: Sequence[tuple[str, str]], smoothing: str, weight: float, max_points: int,
              x_axis: str = "step", x_range: tuple[float, float] | None = None) -> list[dict[str, Any]]:
        """Packed series for ``items`` (unknown ones left out)."""
        out = []
        for run, tag in items:
            one = self.series(run, tag, smoothing, weight, max_points, x_axis, x_range)
            if one is not None:
                out.append(one)
        return out

    def wait_for_change(self, since: int, timeout: float) -> int:
        """The data version, once it differs from ``since`` or after ``timeout`` seconds (a long
        poll: the version is a cheap read, checked every ``LIVE_CHECK`` seconds)."""
        deadline = time.monotonic() + timeout
        version = self.p.version()
        while version == since and time.monotonic() < deadline:
            time.sleep(LIVE_CHECK)
            version = self.p.version()
        return version

    def changes(self, since: int) -> list[list[Any]]:
        """``[run, tag, version]`` of every scalar series whose version is above ``since``."""
        return [[t.run, t.tag, t.version] for t in self.p.tags(Kind.SCALARS) if t.version > since]


def select_runs(runs: Sequence[str], args: Any) -> list[str]:
    """The ticked runs a page URL describes (``run``/``run_off``/``runs=none`` and the ``run_re`` filter)."""
    keep = compile_filter(args.get("run_re") or "")
    shown = [r for r in runs if keep(r)]
    on = args.getlist("run")
    if on or args.get("runs") == "none":
        chosen = set(on)
        return [r for r in shown if r in chosen]
    off = set(args.getlist("run_off"))
    return [r for r in shown if r not in off]


def _first_items(structure: dict[str, Any], selected: Sequence[str], tag_re: str, n_cards: int) -> list[tuple[str, str]]:
    runs = structure["runs"]
    chosen = set(selected)
    keep = compile_filter(tag_re)
    items: list[tuple[str, str]] = []
    cards = 0
    for sec in structure["sections"]:
        if not sec["open"]:
            continue
        for card in sec["cards"]:
            if cards >= n_cards:
                return items
            if not keep(card["title"]):
                continue
            lines = ([(runs[i], card["tag"]) for i in card["runs"] if runs[i] in chosen] if card["kind"] == "tag"
                     else [(runs[i], tag) for i, tag, _ in card["lines"] if runs[i] in chosen])
            if lines:
                items.extend(lines)
                cards += 1
            if len(items) >= FIRST_SERIES:  # many runs: the rest of the first card comes in batches
                return items[:FIRST_SERIES]
        if cards:  # the first section with cards fills the first screen
            return items
    return items


class _BadRequest(Exception):
    pass


def _settings(src: Any, default_max_points: int) -> tuple[str, float, int]:
    kind = str(src.get("smooth") or "ema")
    if kind not in SMOOTHING_KINDS:
        raise _BadRequest(f"smooth must be one of {list(SMOOTHING_KINDS)}, got {kind!r}")
    try:
        weight = float(src.get("w", 0.6))
        max_points = int(src.get("max_points", default_max_points))
    except (TypeError, ValueError):
        raise _BadRequest("w must be a number and max_points an integer") from None
    if not (0.0 <= weight <= 0.999) or math.isnan(weight):
        raise _BadRequest(f"w must be in [0, 0.999], got {weight}")
    return kind, weight, min(max(max_points, 10), MAX_POINTS_LIMIT)


def _respond(payload: Any, version: int, status: int = 200) -> Response:
    body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("utf-8")
    resp = Response(body, status=status, mimetype="application/json")
    if len(body) > 1024 and "gzip" in request.headers.get("Accept-Encoding", ""):
        # gzip level 1: packed floats barely compress further at higher levels, and level 6
        # cost ~4x the CPU on a busy 2-core machine (flask-compress skips encoded responses).
        resp.set_data(gzip.compress(body, compresslevel=1, mtime=0))
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if status == 200:
        resp.set_etag(hashlib.sha1(b"%d\0" % version + body).hexdigest()[:24])
        resp.make_conditional(request)
    return resp


def _error(message: str, status: int = 400) -> Response:
    return _respond({"error": message}, 0, status)


def register_page_api(server: Flask, provider: DataProvider, default_max_points: int = 1500) -> PageData:
    """Attach ``/api/page/init``, ``series``, ``changes``, ``live`` and ``download`` to ``server``."""
    data = PageData(provider, default_max_points)
    bp = Blueprint("vizboard_page_api", __name__, url_prefix="/api/page")

    @bp.route("/init", methods=["GET"])
    def init() -> Response:
        version = provider.version()
        try:
            kind, weight, _max_points = _settings(request.args, default_max_points)
            n_cards = min(max(int(request.args.get("n", FIRST_CARDS)), 0), 60)
        except (_BadRequest, ValueError) as exc:
            return _error(str(exc))
        st = data.structure()
        selected = select_runs(st["runs"], request.args)
        items = _first_items(st, selected, request.args.get("tag_re") or "", n_cards)
        per_trace = st["max_points"]
        series = data.batch(items, kind, weight, per_trace)
        status = provider.status()
        return _respond(dict(st, version=version, loading=status.loading, series=series,
                             settings={"smooth": kind, "w": weight, "max_points": per_trace}), version)

    @bp.route("/series", methods=["POST"])
    def series() -> Response:
        version = provider.version()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error("the body must be a JSON object {items: [[run, tag], ...], smooth, w, max_points}")
        items = body.get("items")
        if not isinstance(items, list) or len(items) > MAX_BATCH or not all(
                isinstance(i, list) and len(i) == 2 and all(isinstance(x, str) for x in i) for i in items):
            return _error(f"items must be a list of at most {MAX_BATCH} [run, tag] pairs of strings")
        try:
            kind, weight, max_points = _settings(body, default_max_points)
        except _BadRequest as exc:
            return _error(str(exc))
        x_axis = body.get("x", "step")
        if x_axis not in X_AXES:
            return _error(f"x must be one of {list(X_AXES)}, got {x_axis!r}")
        x_range = body.get("x_range")
        if x_range is not None:
            if not (isinstance(x_range, list) and len(x_range) == 2 and all(
                    isinstance(v, (int, float)) and math.isfinite(v) for v in x_range)):
                return _error("x_range must be null or two finite numbers [x0, x1]")
            x_range = (float(min(x_range)), float(max(x_range)))
        out = data.batch([(r, t) for r, t in items], kind, weight, max_points, x_axis, x_range)
        return _respond({"version": version, "series": out}, version)

    @bp.route("/changes", methods=["GET"])
    def changes() -> Response:
        version = provider.version()
        try:
            since = int(request.args.get("since", "-1"))
        except ValueError:
            return _error("since must be an integer data version")
        st = data.structure()
        out: dict[str, Any] = {"version": version, "loading": provider.status().loading,
                               "changed": data.changes(since)}
        if request.args.get("h") != st["hash"]:
            out.update(st)
        return _respond(out, version)

    @bp.route("/live", methods=["POST"])
    def live() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error("the body must be a JSON object {since, h, wait, items, smooth, w, max_points}")
        try:
            since = int(body.get("since", -1))
            wait = min(max(float(body.get("wait", 0.0)), 0.0), LIVE_WAIT_MAX)
            kind, weight, max_points = _settings(body, default_max_points)
        except (TypeError, ValueError, _BadRequest) as exc:
            return _error(f"since must be an integer data version and wait seconds ({exc})")
        items = body.get("items") or []
        if not isinstance(items, list) or len(items) > MAX_BATCH or not all(
                isinstance(i, list) and len(i) == 2 and all(isinstance(x, str) for x in i) for i in items):
            return _error(f"items must be a list of at most {MAX_BATCH} [run, tag] pairs of strings")
        version = data.wait_for_change(since, wait)
        st = data.structure()
        changed = data.changes(since)
        out: dict[str, Any] = {"version": version, "loading": provider.status().loading, "changed": changed}
        if body.get("h") != st["hash"]:
            out.update(st)
        if changed and items:
            newer = {(c[0], c[1]) for c in changed}
            out["series"] = data.batch([(r, t) for r, t in items if (r, t) in newer], kind, weight, max_points)
        return _respond(out, version)

    @bp.route("/download", methods=["POST"])
    def download() -> Response:
        body = request.get_json(silent=True)
        items = body.get("items") if isinstance(body, dict) else None
        fmt = body.get("format") if isinstance(body, dict) else None
        if not isinstance(items, list) or fmt not in ("csv", "json") or not all(
                isinstance(i, list) and len(i) == 2 and all(isinstance(x, str) for x in i) for i in items):
            return _error("the body must be {items: [[run, tag], ...], format: 'csv' | 'json'}")
        found = [provider.scalars(r, t) for r, t in items[:MAX_BATCH]]
        series = [s for s in found if s is not None]
        if fmt == "csv":
            return Response(series_csv(series), mimetype="text/csv")  # the one serializer (export, API, downloads)
        return Response(dumps(series_records(series)), mimetype="application/json")

    server.register_blueprint(bp)
    return data
