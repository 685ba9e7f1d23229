"""The read-only JSON HTTP API under ``/api/`` on the Dash app's Flask server (see docs/http-api.md).

Every route reads through the :class:`~vizboard.data.provider.DataProvider`; runs and
tags are looked up by name there and never joined to file paths, so no request can
reach a file outside the logdir. Unknown runs, tags and paths give a 404 JSON error.
Every response is encoded by :func:`vizboard.data.serialize.dumps`: every float, values and
wall times alike, travels as a number or, if non-finite, as ``"NaN"``, ``"Infinity"`` or
``"-Infinity"``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, request

from vizboard.data.colors import run_colors
from vizboard.data.downsample import MAX_POINTS_LIMIT, X_AXES
from vizboard.data.models import BlobRef, Kind
from vizboard.data.provider import DataProvider
from vizboard.data.serialize import dumps, float_list
from vizboard.data.served import served

__all__ = ["register_api", "register_not_found_handlers", "ApiError", "sniff_mime", "float_list", "API_VERSION"]

API_VERSION = 1
"""Bumped when a response changes incompatibly."""

_BLOB_CACHE_IMMUTABLE = "private, max-age=31536000, immutable"
_BLOB_CACHE_REVALIDATE = "private, no-cache"


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with HTTP ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(payload: Any, status: int = 200) -> Response:
    resp = Response(dumps(payload), status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def sniff_mime(data: bytes) -> str:
    """The MIME type of encoded media from its magic bytes (PNG, JPEG, GIF, BMP, WAV), else octet-stream."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"BM"):
        return "image/bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    return "application/octet-stream"


def _etag(ref: BlobRef) -> str:
    return hashlib.sha1(f"{ref.file}\0{ref.offset}\0{ref.length}\0{ref.index}".encode()).hexdigest()[:20]


# -- parameter helpers -------------------------------------------------------------------------

def _arg(name: str, required: bool = True) -> str | None:
    v = request.args.get(name)
    if v is None and required:
        raise ApiError(400, f"missing query parameter {name!r}")
    return v


def _int_arg(name: str, default: int | None = None) -> int | None:
    v = request.args.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be an integer, got {v!r}") from None


def _float_arg(name: str) -> float | None:
    v = request.args.get(name)
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be a number, got {v!r}") from None
    if not math.isfinite(f):
        raise ApiError(400, f"query parameter {name!r} must be finite")
    return f


def _kind_arg() -> Kind | None:
    v = request.args.get("kind")
    if not v:
        return None
    try:
        return Kind(v)
    except ValueError:
        raise ApiError(400, f"unknown kind {v!r}; one of {[k.value for k in Kind]}") from None


class _Routes:
    """The route handlers, bound to one provider (no module-level state)."""

    def __init__(self, provider: DataProvider, default_max_points: int) -> None:
        self.p = provider
        self.default_max_points = default_max_points
        self._names: tuple[int, frozenset[str]] = (-1, frozenset())

    def _known(self, run: str) -> bool:
        """Whether ``run`` exists; the name set is rebuilt once per data version, not per request
        (at 10,000 runs a per-request set costs O(runs) and holds the GIL against the ingest)."""
        version, names = self._names
        now = self.p.version()
        if version != now or run not in names:
            names = frozenset(r.name for r in self.p.runs())
            self._names = (now, names)
        return run in names

    def _run(self) -> str:
        run = _arg("run")
        assert run is not None
        if not self._known(run):
            raise ApiError(404, f"unknown run {run!r}")
        return run

    def _tag(self, run: str, kinds: tuple[Kind, ...]) -> str:
        tag = _arg("tag")
        assert tag is not None
        if not any(t.tag == tag and t.kind in kinds for t in self.p.tags(None, [run])):
            raise ApiError(404, f"unknown tag {tag!r} in run {run!r}")
        return tag

    def version(self) -> Any:
        st = self.p.status()
        return {"version": self.p.version(), "loading": st.loading}

    def status(self) -> Any:
        st = self.p.status()
        frac = (st.bytes_read / st.bytes_total) if st.bytes_total else (0.0 if st.loading else 1.0)
        return {
            "logdir": self.p.logdir,
            "loading": st.loading,
            "bytes_read": st.bytes_read,
            "bytes_total": st.bytes_total,
            "progress": min(frac, 1.0),
            "num_runs": st.num_runs,
            "num_problems": st.num_problems,
            "last_update": st.last_update,
            "version": st.version,
            "api_version": API_VERSION,
        }

    def runs(self) -> Any:
        runs = list(self.p.runs())
        colors = run_colors([r.name for r in runs])  # by run order, as the page colours them
        return [
            {"name": r.name, "version": r.version, "last_wall_time": r.last_wall_time,
             "num_files": r.num_files, "num_problems": r.num_problems, "color": c}
            for r, c in zip(runs, colors)
        ]

    def tags(self) -> Any:
        kind = _kind_arg()
        run = request.args.get("run")
        if run is not None and not self._known(run):
            raise ApiError(404, f"unknown run {run!r}")
        return [
            {"run": t.run, "tag": t.tag, "kind": t.kind.value, "plugin": t.plugin, "num_points": t.num_points,
             "version": t.version, "display_name": t.display_name, "description": t.description, "chart": t.chart}
            for t in self.p.tags(kind, None if run is None else [run])
        ]

    def scalars(self) -> Any:
        run = self._run()
        tag = self._tag(run, (Kind.SCALARS,))
        max_points = _int_arg("max_points", self.default_max_points)
        assert max_points is not None
        if not 10 <= max_points <= MAX_POINTS_LIMIT:
            raise ApiError(400, f"max_points must be in 10..{MAX_POINTS_LIMIT}, got {max_points}")
        x_axis = request.args.get("x", "step")
        if x_axis not in X_AXES:
            raise ApiError(400, f"x must be one of {list(X_AXES)}, got {x_axis!r}")
        x_min, x_max = _float_arg("x_min"), _float_arg("x_max")
        x_range = None
        if x_min is not None or x_max is not None:
            x_range = (-math.inf if x_min is None else x_min, math.inf if x_max is None else x_max)
        for _ in range(3):  # both reads from one snapshot: num_points must match the columns' version
            full = self.p.scalars(run, tag)
            sel = self.p.read_scalars(runs=[run], tag=tag, max_points=max_points, x_range=x_range,
                                      x_axis=x_axis).get(run)
            if sel is None or full is None or sel.version == full.version:
                break
        if sel is None or full is None:
            raise ApiError(404, f"unknown tag {tag!r} in run {run!r}")
        return {
            "run": run, "tag": tag, "version": sel.version, "num_points": len(full),
            "step": sel.step.tolist(), "wall_time": float_list(sel.wall_time), "value": float_list(sel.value),
        }

    def problems(self) -> Any:
        run = request.args.get("run")
        if run is not None and not self._known(run):
            raise ApiError(404, f"unknown run {run!r}")
        return [{"run": pr.run, "file": pr.file, "offset": pr.offset, "length": pr.length, "kind": pr.kind,
                 "detail": pr.detail} for pr in self.p.problems(run)]

    def histograms(self) -> Any:
        run = self._run()
        tag = self._tag(run, (Kind.HISTOGRAMS,))
        h = self.p.histograms(run, tag)
        if h is None:
            raise ApiError(404, f"unknown tag {tag!r} in run {run!r}")
        out = []
        for i in range(len(h)):
            left, right, count = h.buckets(i)
            out.append({"step": int(h.step[i]), "wall_time": float(h.wall_time[i]), "min": float(h.minimum[i]),
                        "max": float(h.maximum[i]), "num": float(h.num[i]), "sum": float(h.total[i]),
                        "buckets": [float_list(left), float_list(right), float_list(count)]})
        return {"run": run, "tag": tag, "version": h.version, "histograms": out}

    def _blob_list(self, kind: Kind) -> Any:
        run = self._run()
        tag = self._tag(run, (kind,))
        items = []
        for ref in self.p.blobs(run, tag):
            q = _qs(run=run, tag=tag, step=ref.step, index=ref.index, v=_etag(ref))
            item = {"step": ref.step, "wall_time": ref.wall_time, "index": ref.index,
                    "content_type": ref.content_type, "label": ref.label, "url": f"/api/blob?{q}"}
            if kind == Kind.IMAGES:
                item.update(width=ref.width, height=ref.height)
            else:
                item.update(sample_rate=ref.sample_rate, num_channels=ref.num_channels,
                            length_frames=ref.length_frames)
            items.append(item)
        return {"run": run, "tag": tag, kind.value: items}

    def images(self) -> Any:
        return self._blob_list(Kind.IMAGES)

    def audio(self) -> Any:
        return self._blob_list(Kind.AUDIO)

    def blob(self) -> Response:
        run = self._run()
        tag = self._tag(run, (Kind.IMAGES, Kind.AUDIO))
        step, index = _int_arg("step"), _int_arg("index", 0)
        if step is None:
            raise ApiError(400, "missing query parameter 'step'")
        refs = [r for r in self.p.blobs(run, tag) if r.step == step and r.index == index]
        if not refs:
            raise ApiError(404, f"no item at step {step} index {index} of {tag!r} in run {run!r}")
        ref = refs[-1]
        etag = _etag(ref)
        immutable = request.args.get("v") == etag
        cache = _BLOB_CACHE_IMMUTABLE if immutable else _BLOB_CACHE_REVALIDATE
        if request.if_none_match and etag in request.if_none_match:
            resp = Response(status=304)
        else:
            try:
                data = self.p.read_blob(ref)
            except (OSError, ValueError, KeyError) as exc:
                raise ApiError(404, f"item at step {step} index {index} is unreadable: {exc}") from None
            if not data:  # the provider refused (file resolves outside the logdir) or the record is damaged
                raise ApiError(404, f"item at step {step} index {index} is unreadable, damaged or outside the logdir "
                                    f"(see /api/problems?run=...)")
            resp = Response(data, status=200, mimetype=sniff_mime(data))
            resp.headers["Content-Length"] = str(len(data))
        resp.headers["ETag"] = f'"{etag}"'
        resp.headers["Cache-Control"] = cache
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    def text(self) -> Any:
        run = self._run()
        tag = self._tag(run, (Kind.TEXT,))
        return {"run": run, "tag": tag, "text": [
            {"step": e.step, "wall_time": e.wall_time, "shape": list(e.data.shape), "value": e.data.tolist()}
            for e in self.p.text(run, tag)]}

    def pr_curves(self) -> Any:
        run = self._run()
        tag = self._tag(run, (Kind.PR_CURVES,))
        names = ("tp", "fp", "tn", "fn", "precision", "recall")
        return {"run": run, "tag": tag, "pr_curves": [
            {"step": e.step, "wall_time": e.wall_time, **{n: float_list(e.data[i]) for i, n in enumerate(names)}}
            for e in self.p.pr_curves(run, tag)]}

    def graph(self) -> Any:
        run = self._run()
        g = self.p.graph(run)
        if g is None:
            raise ApiError(404, f"run {run!r} has no graph")
        out: dict[str, Any] = {"run": run, "module_tree": g.module_tree, "graph_def": None}
        if g.graph_def is not None:
            out["graph_def"] = _graph_def_summary(self.p, g.graph_def)
        return out

    def hparams(self) -> Any:
        h = self.p.hparams()
        return {
            "hparam_names": list(h.hparam_names),
            "metric_tags": list(h.metric_tags),
            "hparam_domains": {k: list(v) for k, v in h.hparam_domains.items()},
            "sessions": [
                {"run": s.run, "group": s.group, "hparams": dict(s.hparams), "metrics": dict(s.metrics),
                 "status": s.status,
                 "start_time": s.start_time, "end_time": s.end_time}
                for s in h.sessions
            ],
        }


def _graph_def_summary(provider: DataProvider, ref: BlobRef) -> dict[str, Any]:
    summary: dict[str, Any] = {"step": ref.step, "wall_time": ref.wall_time, "bytes": ref.length}
    try:
        from vizboard.data.graph_blobs import graph_blob_to_graphdef

        data = provider.read_blob(ref)
        if not data:
            summary["error"] = "the GraphDef record is unreadable, damaged or outside the logdir"
            return summary
        gd = graph_blob_to_graphdef(data)  # also a TF2 trace or a Keras model graph
        ops: dict[str, int] = {}
        for node in gd.node:
            ops[node.op] = ops.get(node.op, 0) + 1
        summary.update(num_nodes=len(gd.node), ops=dict(sorted(ops.items())),
                       nodes=[{"name": n.name, "op": n.op, "inputs": list(n.input)} for n in gd.node[:5000]])
    except Exception as exc:  # a damaged GraphDef must not crash the route
        summary["error"] = f"unreadable GraphDef: {type(exc).__name__}: {exc}"
    return summary


def _qs(**params: Any) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def register_api(server: Flask, provider: DataProvider, default_max_points: int = 1500) -> None:
    """Attach the ``/api/*`` routes for ``provider`` to the Flask ``server``."""
    routes = _Routes(served(provider), default_max_points)
    bp = Blueprint("vizboard_api", __name__, url_prefix="/api")

    def wrap(fn: Callable[[], Any]) -> Callable[[], Response]:
        def view() -> Response:
            try:
                out = fn()
            except ApiError as exc:
                return _json({"error": exc.message}, exc.status)
            return out if isinstance(out, Response) else _json(out)

        view.__name__ = fn.__name__
        return view

    for name in ("version", "status", "runs", "tags", "scalars", "problems", "histograms", "images", "audio",
                 "blob", "text", "pr_curves", "graph", "hparams"):
        bp.add_url_rule(f"/{name}", view_func=wrap(getattr(routes, name)), methods=["GET"])

    @bp.route("/", defaults={"rest": ""})
    @bp.route("/<path:rest>")
    def not_found(rest: str) -> Response:
        return _json({"error": f"unknown API path /api/{rest}"}, 404)

    server.register_blueprint(bp)


def register_not_found_handlers(server: Flask) -> None:
    """Answer 404 (not 500 with a traceback in the log) for unknown ``/_dash-component-suites/...`` files.

    Dash raises ``DependencyException`` for a package or path it has not registered; that is
    a missing file, not a server error.
    """
    from dash.exceptions import DependencyException

    def not_found(_exc: Exception) -> Response:
        resp = Response("not found\n", status=404, mimetype="text/plain")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    server.register_error_handler(DependencyException, not_found)
