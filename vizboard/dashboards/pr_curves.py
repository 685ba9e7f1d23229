"""The PR curves tab: per tag, precision against recall (one trace per run) at a step picked with a slider."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go
from dash import ALL, MATCH, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.card_grid import card_grid_layout, card_style, grid_style
from vizboard.components.step_slider import kept_position, slider_states, step_at, step_slider
from vizboard.dashboards.base import Dashboard, run_colors_of
from vizboard.data.models import Kind, PrCurveEntry, TagInfo
from vizboard.data.provider import DataProvider
from vizboard.figures.pr_curves import entry_at, pr_figure

__all__ = ["DASHBOARD", "ID", "pr_cards"]

ID = "pr_curves"
CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"
SLIDER = f"{ID}-step-slider"
GRAPH = f"{ID}-graph"

_CARD_STYLE = card_style("8px")
_GRID_STYLE = grid_style(420)


def layout() -> html.Div:
    """The grid of PR cards (filled by a callback)."""
    return card_grid_layout(ID, _GRID_STYLE)


def _curves(provider: DataProvider, tag: str, runs: list[str] | None) -> dict[str, list[PrCurveEntry]]:
    out: dict[str, list[PrCurveEntry]] = {}
    for info in provider.tags(Kind.PR_CURVES, runs):
        if info.tag == tag:
            entries = provider.pr_curves(info.run, tag)
            if entries:
                out[info.run] = entries
    return out


def _figure(provider: DataProvider, tag: str, steps: list[int], position: int | None,
            selected: list[str] | None, theme: str | None) -> go.Figure:
    """The PR chart of ``tag`` at slider ``position`` over ``steps`` (newest if None): one trace per run."""
    step = step_at(steps, position)
    curves = {}
    for run, entries in _curves(provider, tag, list(selected) if selected is not None else None).items():
        entry = entry_at(entries, step)
        if entry is not None:
            curves[run] = entry
    fig = pr_figure(curves, theme=theme or "light", title=f"step {step}", step=step, colors=run_colors_of(provider))
    fig.update_layout(height=380)
    return fig


def pr_cards(provider: DataProvider, infos: list[TagInfo], previous: dict[str, Any], selected: list[str] | None,
             theme: str | None) -> list:
    """One card per tag of ``infos``: a step slider over the union of the runs' steps (kept at
    ``previous[tag]``, see ``kept_position``) and the PR chart at that step; tags without entries are left out."""
    steps_by_tag: dict[str, set[int]] = defaultdict(set)
    names: dict[str, str] = {}
    for info in infos:
        names.setdefault(info.tag, info.display_name or info.tag)
        steps_by_tag[info.tag].update(int(e.step) for e in provider.pr_curves(info.run, info.tag))
    cards = []
    for tag, step_set in steps_by_tag.items():
        if not step_set:
            continue
        steps = sorted(step_set)
        value = kept_position(previous.get(tag), len(steps) - 1)
        cards.append(html.Div(className=f"{ID}-card", style=_CARD_STYLE, **{"data-tag": tag}, children=[
            html.Div(names[tag], style={"fontWeight": "600"}),
            step_slider(SLIDER, tag, steps, value),
            dcc.Store(id={"type": f"{ID}-steps", "index": tag}, data=steps),
            dcc.Graph(id={"type": GRAPH, "index": tag}, config={"displaylogo": False}, className=GRAPH,
                      figure=_figure(provider, tag, steps, value, selected, theme)),
        ]))
    return cards


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """A card per tag with a step slider (over the union of the runs' steps) and a PR chart."""

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        State({"type": SLIDER, "index": ALL}, "value"), State({"type": SLIDER, "index": ALL}, "max"),
        State({"type": SLIDER, "index": ALL}, "id"), State(SIGNATURE, "data"), State(ids.THEME, "data"),
    )
    def build(selected: list[str] | None, _version: Any, active: str | None, values: list[Any],
              maxes: list[Any], slider_ids: list[dict], old_sig: Any, theme: str | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        infos = provider.tags(Kind.PR_CURVES, list(selected) if selected is not None else None)
        sig = [[i.run, i.tag, i.version] for i in infos]
        if sig == old_sig:
            return no_update, no_update
        previous = slider_states(slider_ids, values, maxes)
        cards = pr_cards(provider, infos, previous, selected, theme)
        if not cards:
            return html.P("No PR curves in the selected runs.", className=f"{ID}-empty"), sig
        return cards, sig

    @app.callback(
        Output({"type": GRAPH, "index": MATCH}, "figure"),
        Input({"type": SLIDER, "index": MATCH}, "value"), Input(ids.THEME, "data"),
        State({"type": f"{ID}-steps", "index": MATCH}, "data"),
        State({"type": SLIDER, "index": MATCH}, "id"), State(ids.SELECTED_RUNS, "data"),
        prevent_initial_call=True,  # build() draws each card's first figure itself
    )
    def draw(position: int | None, theme: str | None, steps: list[int] | None, slider_id: dict,
             selected: list[str] | None) -> Any:
        if not steps:
            raise PreventUpdate
        return _figure(provider, slider_id["index"], steps, position, selected, theme)

DASHBOARD = Dashboard(
    id=ID, title="PR curves", kinds=(Kind.PR_CURVES,), layout=layout, register_callbacks=register_callbacks,
)
