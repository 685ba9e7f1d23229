"""The view lives in the URL query string: encode controls to ``?a=b&...`` and restore them on load.

Each :class:`UrlParam` maps one component property to query parameters. One callback
(registered by :func:`register_url_state`) keeps them in sync both ways: on page load
(or back/forward) the URL sets the controls; when a control changes, the URL is
rewritten (history entry replaced, no reload). Values equal to the default are left
out of the URL so links stay short.

The callback runs in the browser (a clientside callback built from each param's
``js`` spec, the same rules as the Python ``encode``/``decode``), so changing a control
costs no server request; it rewrites only its own keys and keeps every other query
parameter (the run list's ``run_re``/``run``/``run_off``/``runs``, owned by
``assets/scalars_page.js``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import Dash, Input, Output

__all__ = ["UrlParam", "text_param", "float_param", "list_param", "run_state_param", "register_url_state",
           "encode_query", "decode_query"]

Query = dict[str, list[str]]


@dataclass(frozen=True)
class UrlParam:
    """One control in the URL: ``encode(value) -> [(key, text)]``, ``decode(query) -> value``."""

    component_id: str
    prop: str
    default: Any
    encode: Callable[[Any], list[tuple[str, str]]]
    decode: Callable[[Query], Any]
    js: dict[str, Any] = field(default_factory=dict)
    """The same rule for the browser: ``{"kind": "text"|"float"|"list", "name", "default", ...}``."""


def text_param(name: str, component_id: str, prop: str = "value", default: str = "",
               allowed: Sequence[str] | None = None) -> UrlParam:
    """A string control (``allowed`` restricts restored values)."""
    def enc(v: Any) -> list[tuple[str, str]]:
        return [] if v in (None, default) else [(name, str(v))]

    def dec(q: Query) -> Any:
        v = q.get(name, [default])[-1]
        return v if allowed is None or v in allowed else default

    return UrlParam(component_id, prop, default, enc, dec,
                    {"kind": "text", "name": name, "default": default,
                     "allowed": None if allowed is None else list(allowed)})


def float_param(name: str, component_id: str, default: float, lo: float, hi: float,
                prop: str = "value") -> UrlParam:
    """A number in [lo, hi]."""
    def enc(v: Any) -> list[tuple[str, str]]:
        return [] if v is None or float(v) == default else [(name, f"{float(v):g}")]

    def dec(q: Query) -> Any:
        try:
            v = float(q.get(name, [default])[-1])
        except ValueError:
            return default
        return min(max(v, lo), hi) if v == v else default

    return UrlParam(component_id, prop, default, enc, dec,
                    {"kind": "float", "name": name, "default": default, "lo": lo, "hi": hi})


def list_param(name: str, component_id: str, prop: str = "value", allowed: Sequence[str] | None = None) -> UrlParam:
    """A list of strings (e.g. a Checklist's value) as repeated ``name=`` parameters."""
    def enc(v: Any) -> list[tuple[str, str]]:
        return [(name, str(x)) for x in (v or [])]

    def dec(q: Query) -> Any:
        return [x for x in q.get(name, []) if allowed is None or x in allowed]

    return UrlParam(component_id, prop, [], enc, dec,
                    {"kind": "list", "name": name, "default": [], "allowed": None if allowed is None else list(allowed)})


def run_state_param(component_id: str) -> UrlParam:
    """The run selection: nothing (all runs), ``run_off=`` (all but these) or ``run=`` (only these)."""
    default = {"mode": "all", "off": []}

    def enc(v: Any) -> list[tuple[str, str]]:
        if not v or v.get("mode") == "all":
            return [("run_off", r) for r in sorted((v or {}).get("off", []))]
        on = sorted(v.get("on", []))
        return [("run", r) for r in on] if on else [("runs", "none")]

    def dec(q: Query) -> Any:
        if "run" in q or q.get("runs") == ["none"]:
            return {"mode": "list", "on": sorted(set(q.get("run", [])))}
        return {"mode": "all", "off": sorted(set(q.get("run_off", [])))}

    return UrlParam(component_id, "data", default, enc, dec)


def encode_query(params: Sequence[UrlParam], values: Sequence[Any]) -> str:
    """``?k=v&...`` for the values (empty string if all are defaults)."""
    pairs = [kv for p, v in zip(params, values) for kv in p.encode(v)]
    return "?" + urlencode(pairs) if pairs else ""


def decode_query(params: Sequence[UrlParam], search: str | None) -> list[Any]:
    """The value of each param from a query string (defaults where absent or invalid)."""
    q = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    q.pop("token", None)
    return [p.decode(q) for p in params]


_SYNC_JS = """
function (search) {
    var specs = %(specs)s, values = Array.prototype.slice.call(arguments, 1);
    var dc = window.dash_clientside, nu = dc.no_update, ctx = dc.callback_context;
    var trig = (ctx && ctx.triggered) || [];
    var fromUrl = !trig.length || trig.some(function (t) { return t.prop_id === "." || t.prop_id.indexOf(%(url)s + ".") === 0; });
    var q = new URLSearchParams(window.location.search);
    if (fromUrl) {
        var out = [nu];
        specs.forEach(function (p, i) {
            var v;
            if (p.kind === "list") {
                v = q.getAll(p.name).filter(function (x) { return !p.allowed || p.allowed.indexOf(x) >= 0; });
            } else if (p.kind === "float") {
                v = q.has(p.name) ? parseFloat(q.getAll(p.name).pop()) : p.default;
                v = isNaN(v) ? p.default : Math.min(Math.max(v, p.lo), p.hi);
            } else {
                v = q.has(p.name) ? q.getAll(p.name).pop() : p.default;
                if (p.allowed && p.allowed.indexOf(v) < 0) { v = p.default; }
            }
            out.push(JSON.stringify(v) === JSON.stringify(values[i]) ? nu : v);
        });
        return out;
    }
    specs.forEach(function (p, i) {
        var v = values[i];
        q.delete(p.name);
        if (p.kind === "list") { (v || []).forEach(function (x) { q.append(p.name, String(x)); }); }
        else if (p.kind === "float") {
            if (v !== null && v !== undefined && v !== "" && Number(v) !== p.default) { q.set(p.name, String(Number(v))); }
        } else if (v !== null && v !== undefined && v !== p.default) { q.set(p.name, String(v)); }
    });
    q.delete("token");
    var s = q.toString();
    if (("?" + s) !== window.location.search && !(s === "" && window.location.search === "")) {
        var loc = window.location;
        window.history.replaceState(window.history.state, "", loc.pathname + (s ? "?" + s : "") + loc.hash);
    }
    return [nu].concat(specs.map(function () { return nu; }));
}
"""


def register_url_state(app: Dash, url_id: str, params: Sequence[UrlParam]) -> None:
    """Sync ``params`` with the ``search`` of the ``dcc.Location`` ``url_id`` (both directions), in the browser."""
    params = list(params)
    for p in params:
        if p.js.get("kind") not in ("text", "float", "list"):
            raise ValueError(f"params: {p.component_id!r} has no browser rule (use text_param, float_param or list_param)")
    outputs = [Output(url_id, "search", allow_duplicate=True)] + [
        Output(p.component_id, p.prop, allow_duplicate=True) for p in params]
    inputs = [Input(url_id, "search")] + [Input(p.component_id, p.prop) for p in params]
    js = _SYNC_JS % {"specs": json.dumps([p.js for p in params]), "url": json.dumps(url_id)}
    app.clientside_callback(js, *outputs, *inputs, prevent_initial_call="initial_duplicate")
