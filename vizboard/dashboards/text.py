"""The Text tab: per tag, each run's logged values as sanitised Markdown (tables for rank 1 and 2)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.card_grid import card_style
from vizboard.dashboards.base import Dashboard, run_colors_of
from vizboard.data.models import Kind, TagInfo, TextEntry
from vizboard.data.provider import DataProvider
from vizboard.figures.text import TextView, display_tag, text_view
from vizboard.figures.theme import color_of

__all__ = ["text_cards", "DASHBOARD", "ID", "MAX_ROWS"]

ID = "text"
MAX_ROWS = 100
"""Newest steps shown per (run, tag); the card says how many older ones are not shown."""

CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"
SHOW_ALL = f"{ID}-show-all"

_CARD_STYLE = card_style("8px", marginBottom="12px", overflowX="auto")
_CELL_STYLE = {"border": "1px solid rgba(128,128,128,.4)", "padding": "2px 8px", "verticalAlign": "top"}


PRELOAD = f"{ID}-markdown-preload"


def layout() -> html.Div:
    """A show-all switch above the list of text cards (filled by a callback).

    A hidden, empty ``dcc.Markdown`` is part of the static layout so Dash loads the Markdown
    component's lazy bundle with the page. Without it the bundle was first requested when a
    callback delivered many Markdown cells at once (two runs of HF Trainer's long ``args`` and
    ``model_config`` JSON), and in those loads the cells stayed blank.
    """
    return html.Div(id=f"{ID}-root", children=[
        dcc.Markdown("", id=PRELOAD, style={"display": "none"}),
        dcc.Checklist(id=SHOW_ALL, value=[], style={"marginBottom": "8px"},
                      options=[{"label": f" Show every step (default: the newest {MAX_ROWS})", "value": "all"}]),
        dcc.Store(id=SIGNATURE), html.Div(id=CARDS),
    ])


def _markdown(md: str) -> dcc.Markdown:
    # Never dangerously_allow_html: the text is already escaped, this is the second fence.
    # dedent=False: render the text as logged (indentation is Markdown syntax).
    return dcc.Markdown(md, className=f"{ID}-markdown", link_target="_blank", dedent=False)


def _render(view: TextView) -> list:
    out: list = []
    if view.warning:
        out.append(_markdown(view.warning))
    if view.markdown is not None:
        out.append(_markdown(view.markdown))
    else:
        out.append(html.Table(className=f"{ID}-table", style={"borderCollapse": "collapse"}, children=[
            html.Tbody([html.Tr([html.Td(_markdown(c), style=_CELL_STYLE) for c in row]) for row in view.rows])
        ]))
    return out


def _rows(info: TagInfo, entries: list[TextEntry], limit: int | None, color: str) -> list:
    shown = (entries if limit is None else entries[-limit:])[::-1]  # newest first
    out: list = [html.Div(info.run, className=f"{ID}-run", **{"data-run": info.run},
                          style={"fontWeight": "600", "color": color, "marginTop": "6px"})]
    for e in shown:
        out.append(html.Div(className=f"{ID}-row", **{"data-step": str(e.step), "data-run": info.run}, children=[
            html.Div(f"step {e.step}", className=f"{ID}-step", style={"fontSize": "12px", "opacity": 0.75}),
            *_render(text_view(e.data)),
        ], style={"borderTop": "1px solid rgba(128,128,128,.2)", "padding": "4px 0"}))
    hidden = len(entries) - len(shown)
    if hidden > 0:
        out.append(html.Div(f"{hidden} older steps not shown (newest {len(shown)} of {len(entries)}; "
                            "tick 'Show every step' to see them).",
                            className=f"{ID}-more", style={"fontSize": "12px", "fontStyle": "italic"}))
    return out


def text_cards(provider: DataProvider, infos: list[TagInfo], limit: int | None, colors: dict[str, str]) -> list:
    """One card per tag of ``infos`` with each run's values (newest first, at most ``limit`` per run),
    the run names in ``colors`` (run -> colour); tags with no value are left out."""
    by_tag: dict[str, list[TagInfo]] = defaultdict(list)
    for info in infos:
        by_tag[info.tag].append(info)
    cards = []
    for tag, group in by_tag.items():
        body: list = []
        for info in group:
            entries = provider.text(info.run, info.tag)
            if entries:
                body.extend(_rows(info, entries, limit, color_of(colors, info.run)))
        if body:
            title = display_tag(tag, group[0].display_name)
            cards.append(html.Div(className=f"{ID}-card", style=_CARD_STYLE, **{"data-tag": tag}, children=[
                html.Div(title, className=f"{ID}-title", style={"fontWeight": "600", "fontSize": "15px"}),
                *body,
            ]))
    return cards


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Render one card per tag holding each selected run's values, newest step first."""

    @app.callback(
        Output(CARDS, "children"), Output(SIGNATURE, "data"),
        Input(ids.SELECTED_RUNS, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.ACTIVE_TAB, "data"),
        Input(SHOW_ALL, "value"), State(SIGNATURE, "data"),
    )
    def build(selected: list[str] | None, _version: Any, active: str | None, show_all: list[str] | None,
              old_sig: Any) -> tuple:
        if active != ID:
            raise PreventUpdate
        limit = None if show_all and "all" in show_all else MAX_ROWS
        infos = provider.tags(Kind.TEXT, list(selected) if selected is not None else None)
        colors = run_colors_of(provider)  # a new run can shift the colours of the runs after it
        sig = [[i.run, i.tag, i.version, colors.get(i.run)] for i in infos] + [limit]
        if sig == old_sig:
            return no_update, no_update
        cards = text_cards(provider, infos, limit, colors)
        if not cards:
            return html.P("No text in the selected runs.", className=f"{ID}-empty"), sig
        return cards, sig


DASHBOARD = Dashboard(
    id=ID, title="Text", kinds=(Kind.TEXT,), layout=layout, register_callbacks=register_callbacks,
)
