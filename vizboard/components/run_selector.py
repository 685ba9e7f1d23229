"""The run selector (left sidebar): a container the browser module fills, and the selection rules.

The list itself is built and kept by ``assets/scalars_page.js`` (DESIGN.md §3: the browser
does the interaction): the regex filter ``#shell-run-filter``, All / None, the count
``#shell-run-count`` ("N of M runs · K selected") and virtualised rows (only rows in view
are in the DOM; each ``label[data-vb-run]`` holds one checkbox and the run name as text,
never HTML). Colours come from ``vizboard.figures.theme.run_colors`` (by run order) in
the ``/api/page/init`` answer. Ticking, filtering and colouring cost no server request;
the selection is written to the URL (``run_re``, ``run``/``run_off``/``runs=none``) and
pushed to ``ids.SELECTED_RUNS`` only when a server-driven tab is shown.
:func:`resolve_selection` is the same rule in Python (``vizboard.page_api`` applies it to
the first screen).
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, html

from vizboard.components import ids
from vizboard.components import shell_ids as sid
from vizboard.components.scalar_index import compile_filter
from vizboard.data.provider import DataProvider
from vizboard.figures.theme import run_color_map

__all__ = ["layout", "register_callbacks", "resolve_selection", "run_colors_of"]


def layout() -> html.Div:
    """The sidebar container (filled in the browser) and the sink of the HParams request."""
    return html.Div(className="vb-runs", children=[
        html.Div(id=sid.RUNS_ROOT, className="vb-runs-root"),
        html.Div(id=sid.RUN_REQUEST_SINK, hidden=True),
    ])


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


def run_colors_of(provider: DataProvider) -> dict[str, str]:
    """Run name -> colour by the run's index among ALL of ``provider``'s runs (sorted by name):
    the colours of ``/api/runs`` and the Scalars page, so a run has one colour on every tab,
    whatever is selected or filtered."""
    return run_color_map([r.name for r in provider.runs()])


def register_callbacks(app: Dash) -> None:
    """A tab's request to select exactly some runs (HParams) reaches the browser's run list."""
    app.clientside_callback(
        ClientsideFunction("vbpage", "request"),
        Output(sid.RUN_REQUEST_SINK, "title"),
        Input(ids.RUN_SELECTION_REQUEST, "data"),
        prevent_initial_call=True,
    )
