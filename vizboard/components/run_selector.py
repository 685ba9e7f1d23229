"""The run selector (left sidebar): coloured checkboxes, a regex filter, select all / none.

Runs matching the filter and ticked go into ``ids.SELECTED_RUNS``; ``ids.RUN_COLORS``
maps every run to its stable colour. The list follows the data live (new runs appear
ticked unless the selection came as an explicit list, e.g. from a link). Run names are
rendered as text (Dash escapes them), never as HTML.

Option labels are plain strings, not components: Dash 4's option list keys its rows by
index below 100 options and renders component labels at ``options[i].label``, so a
shrinking filtered list reused stale rows and crashed the renderer (the page then
reset the filter). Each run's colour is applied by CSS instead: a clientside callback
writes one rule per run (checkbox ``accent-color`` and a swatch before the name),
selecting the row by its input's ``value`` with ``CSS.escape``d run names.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from vizboard.components import ids
from vizboard.components import shell_ids as sid
from vizboard.components.scalar_index import compile_filter
from vizboard.data.provider import DataProvider
from vizboard.figures.theme import run_color

__all__ = ["layout", "register_callbacks", "resolve_selection"]


def layout() -> html.Div:
    """The sidebar tree (filled by the callback)."""
    return html.Div(
        className="vb-runs",
        children=[
            html.Div("Runs", className="vb-side-title"),
            dcc.Input(id=sid.RUN_FILTER, type="text", placeholder="Filter runs (regex)", debounce=0.3,
                      className="vb-input", value=""),
            html.Div(className="vb-run-buttons", children=[
                html.Button("All", id=sid.RUN_ALL, className="vb-tool", title="Tick every run shown"),
                html.Button("None", id=sid.RUN_NONE, className="vb-tool", title="Untick every run"),
                html.Span("", id=sid.RUN_COUNT, className="vb-run-count"),
            ]),
            dcc.Store(id=sid.RUN_STATE, data={"mode": "all", "off": []}),
            dcc.Checklist(id=sid.RUN_CHECKLIST, options=[], value=[], className="vb-run-list",
                          labelClassName="vb-run-label"),
            html.Div(id=sid.RUN_COLOR_SINK, hidden=True),
        ],
    )


def resolve_selection(all_runs: list[str], state: dict[str, Any] | None, pattern: str | None) -> tuple[list[str], list[str]]:
    """(shown runs, ticked shown runs) for the run list, the selection state and the filter."""
    keep = compile_filter(pattern)
    shown = [r for r in all_runs if keep(r)]
    state = state or {"mode": "all", "off": []}
    if state.get("mode") == "list":
        on = set(state.get("on", []))
        ticked = [r for r in shown if r in on]
    else:
        off = set(state.get("off", []))
        ticked = [r for r in shown if r not in off]
    return shown, ticked


def _option(run: str) -> dict[str, Any]:
    return {"label": run, "value": run, "title": run}


_COLOR_RULES_JS = """
function (colors) {
    var el = document.getElementById("vb-run-color-rules");
    if (!el) {
        el = document.createElement("style");
        el.id = "vb-run-color-rules";
        document.head.appendChild(el);
    }
    var list = "#%(checklist)s";
    var rules = [list + " .vb-run-label::before{content:'';display:inline-block;width:10px;height:10px;"
                 + "border-radius:2px;margin-right:6px;vertical-align:middle;flex:none}"];
    Object.keys(colors || {}).forEach(function (run) {
        var c = String(colors[run]);
        if (!/^#[0-9a-fA-F]{3,8}$/.test(c)) { return; }
        var v = CSS.escape(run);
        rules.push(list + ' label:has(input[value="' + v + '"]) .vb-run-label::before{background-color:' + c + '}');
        rules.push(list + ' input[value="' + v + '"]{accent-color:' + c + '}');
    });
    el.textContent = rules.join("\\n");
    return window.dash_clientside.no_update;
}
""" % {"checklist": sid.RUN_CHECKLIST}


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Keep the list, the selection state and the shared stores in sync."""
    app.clientside_callback(_COLOR_RULES_JS, Output(sid.RUN_COLOR_SINK, "children"), Input(ids.RUN_COLORS, "data"))

    @app.callback(
        Output(sid.RUN_CHECKLIST, "options"),
        Output(sid.RUN_CHECKLIST, "value"),
        Output(sid.RUN_STATE, "data"),
        Output(ids.SELECTED_RUNS, "data"),
        Output(ids.RUN_COLORS, "data"),
        Output(sid.RUN_COUNT, "children"),
        Input(ids.DATA_VERSION, "data"),
        Input(sid.RUN_FILTER, "value"),
        Input(sid.RUN_CHECKLIST, "value"),
        Input(sid.RUN_ALL, "n_clicks"),
        Input(sid.RUN_NONE, "n_clicks"),
        Input(sid.RUN_STATE, "data"),
        Input(ids.RUN_SELECTION_REQUEST, "data"),
        State(sid.RUN_CHECKLIST, "options"),
        State(ids.SELECTED_RUNS, "data"),
        State(ids.RUN_COLORS, "data"),
    )
    def update(_version, pattern, ticked, _all, _none, state, requested, options, selected, colors):
        all_runs = [r.name for r in provider.runs()]
        orig_state = state
        state = dict(state or {"mode": "all", "off": []})
        trig = ctx.triggered_id
        shown_before = [o["value"] for o in (options or [])]
        if trig == sid.RUN_ALL:
            state = {"mode": "all", "off": []}
        elif trig == sid.RUN_NONE:
            state = {"mode": "list", "on": []}
        elif trig == ids.RUN_SELECTION_REQUEST and requested:
            state = {"mode": "list", "on": sorted(set(requested) & set(all_runs))}
        elif trig == sid.RUN_CHECKLIST:
            ticked_set = set(ticked or [])
            if state.get("mode") == "list":
                on = (set(state.get("on", [])) - set(shown_before)) | ticked_set
                state = {"mode": "list", "on": sorted(on)}
            else:
                off = (set(state.get("off", [])) - set(shown_before)) | (set(shown_before) - ticked_set)
                state = {"mode": "all", "off": sorted(off)}
        shown, new_ticked = resolve_selection(all_runs, state, pattern)
        new_colors = {r: run_color(r) for r in all_runs}
        count = f"{len(new_ticked)} of {len(all_runs)}"
        return (
            [_option(r) for r in shown] if shown != shown_before else no_update,
            new_ticked if new_ticked != (ticked or []) else no_update,
            state if state != orig_state else no_update,
            new_ticked if new_ticked != selected else no_update,
            new_colors if new_colors != colors else no_update,
            count,
        )
