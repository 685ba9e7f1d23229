"""The view lives in the URL query string: encode controls to ``?a=b&...`` and restore them on load.

Each :class:`UrlParam` maps one component property to query parameters. One callback
(registered by :func:`register_url_state`) keeps them in sync both ways: on page load
(or back/forward) the URL sets the controls; when a control changes, the URL is
rewritten (history entry replaced, no reload). Values equal to the default are left
out of the URL so links stay short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import Dash, Input, Output, ctx, no_update

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


def text_param(name: str, component_id: str, prop: str = "value", default: str = "",
               allowed: Sequence[str] | None = None) -> UrlParam:
    """A string control (``allowed`` restricts restored values)."""
    def enc(v: Any) -> list[tuple[str, str]]:
        return [] if v in (None, default) else [(name, str(v))]

    def dec(q: Query) -> Any:
        v = q.get(name, [default])[-1]
        return v if allowed is None or v in allowed else default

    return UrlParam(component_id, prop, default, enc, dec)


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

    return UrlParam(component_id, prop, default, enc, dec)


def list_param(name: str, component_id: str, prop: str = "value", allowed: Sequence[str] | None = None) -> UrlParam:
    """A list of strings (e.g. a Checklist's value) as repeated ``name=`` parameters."""
    def enc(v: Any) -> list[tuple[str, str]]:
        return [(name, str(x)) for x in (v or [])]

    def dec(q: Query) -> Any:
        return [x for x in q.get(name, []) if allowed is None or x in allowed]

    return UrlParam(component_id, prop, [], enc, dec)


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


def register_url_state(app: Dash, url_id: str, params: Sequence[UrlParam]) -> None:
    """Sync ``params`` with the ``search`` of the ``dcc.Location`` ``url_id`` (both directions)."""
    params = list(params)
    outputs = [Output(url_id, "search")] + [
        Output(p.component_id, p.prop, allow_duplicate=True) for p in params]
    inputs = [Input(url_id, "search")] + [Input(p.component_id, p.prop) for p in params]

    @app.callback(*outputs, *inputs, prevent_initial_call="initial_duplicate")
    def sync(search: str | None, *values: Any) -> list[Any]:
        if ctx.triggered_id in (None, url_id):
            restored = decode_query(params, search)
            return [no_update] + [r if r != v else no_update for r, v in zip(restored, values)]
        new = encode_query(params, values)
        return [new if new != (search or "") else no_update] + [no_update] * len(params)
