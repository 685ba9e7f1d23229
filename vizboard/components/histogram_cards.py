"""Histogram chart cards for the Histograms and Distributions tabs (which differ only in the figure they draw).

Cards are grouped into collapsible sections by tag prefix with a tag filter, exactly as the
Scalars tab groups its cards (``vizboard.components.scalar_index.build_sections``), and only
open sections build their cards: a closed section is a header until it is opened. One card per
(tag, run), tagged with ``data-run``/``data-tag``. Only the first section starts open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from dash import MATCH, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.components.card_grid import card_style, grid_style
from vizboard.components.card_pins import pin_button, pin_key, pinned_infos, pinned_row
from vizboard.components.run_selector import run_colors_of
from vizboard.components.scalar_index import Section, build_sections
from vizboard.data.models import HistogramSeries, Kind, TagInfo
from vizboard.data.provider import DataProvider

__all__ = ["CARD_STYLE", "GRID_STYLE", "DrawOne", "histogram_cards", "histogram_sections", "section_ids",
           "sections_view", "sections_update", "opened_state", "pinned_update", "register_section_toggle",
           "tag_filter_input"]

CARD_STYLE = card_style("4px")
"""Style of one chart card."""
GRID_STYLE = grid_style(420)
"""Style of the grid holding a section's cards."""

DrawOne = Callable[[TagInfo, HistogramSeries, str], Any]
"""``draw(info, series, title)``: the Plotly figure of one (tag, run) card."""


def section_ids(prefix: str) -> dict[str, str]:
    """The pattern-matching id types of a tab's sections: toggle button, open flag (Store), body."""
    return {"toggle": f"{prefix}-sec-toggle", "open": f"{prefix}-sec-open", "body": f"{prefix}-sec-body"}


def tag_filter_input(prefix: str) -> dcc.Input:
    """The tab's tag filter (a regex searched anywhere in the tag; invalid regexes match as text)."""
    return dcc.Input(id=f"{prefix}-tag-filter", type="search", debounce=True, placeholder="Filter tags (regex)",
                     style={"minWidth": "240px", "maxWidth": "420px", "flex": "1"})


def histogram_sections(provider: DataProvider, selected: Sequence[str] | None, tag_filter: str | None) -> list[Section]:
    """Sections of histogram tags (by prefix, filtered) of the ``selected`` runs (all if None)."""
    infos = provider.tags(Kind.HISTOGRAMS, list(selected) if selected is not None else None)
    runs = sorted({t.run for t in infos})
    # build_sections groups scalar TagInfos; histogram tags have no add_scalars chart. Histogram
    # cards are heavy (a ridge per step), so only the first section starts open.
    sections = build_sections([replace(t, kind=Kind.SCALARS, chart=None) for t in infos], [], runs, tag_filter)
    return [replace(s, open_by_default=s.open_by_default and i == 0) for i, s in enumerate(sections)]


def histogram_cards(provider: DataProvider, infos: Sequence[TagInfo], prefix: str,
                    draw: DrawOne, pins: Sequence[str] = (), row: str = "grid") -> list[html.Div] | html.P:
    """One ``{prefix}-card`` per (tag, run) in ``infos`` holding histograms (tags with no data get none),
    each with a pin button (its text from ``pins``; ``row`` as in :func:`card_pins.pin_button`).

    With no ``infos`` at all, a ``{prefix}-empty`` message instead.
    """
    if not infos:
        return html.P("No histograms in the selected runs.", className=f"{prefix}-empty")
    pinned = set(pins)
    cards = []
    for info in infos:
        series = provider.histograms(info.run, info.tag)
        if series is None or len(series) == 0:
            continue
        fig = draw(info, series, f"{info.display_name or info.tag} · {info.run}")
        cards.append(html.Div(className=f"{prefix}-card", style=CARD_STYLE,
                              **{"data-run": info.run, "data-tag": info.tag}, children=[
            html.Div(pin_button(prefix, info.run, info.tag, pin_key(info.run, info.tag) in pinned, row),
                     style={"display": "flex", "justifyContent": "flex-end"}),  # above the graph's modebar
            dcc.Graph(figure=fig, config={"displaylogo": False}, className=f"{prefix}-graph"),
        ]))
    return cards


def _section_infos(provider: DataProvider, section: Section) -> list[TagInfo]:
    wanted = {(run, tag) for card in section.cards for run, tag, _ in card.lines}
    runs = sorted({r for r, _ in wanted})
    return [t for t in provider.tags(Kind.HISTOGRAMS, runs) if (t.run, t.tag) in wanted]


def _label(section: Section, is_open: bool) -> str:
    n = sum(len(c.lines) for c in section.cards)
    return f"{'▾' if is_open else '▸'} {section.name} ({n})"


def sections_view(provider: DataProvider, prefix: str, sections: Sequence[Section], draw: DrawOne,
                  opened: dict[str, bool], pins: Sequence[str] = ()) -> list[html.Div] | html.P:
    """Every section as a header button and a body; only open sections' cards are built.

    ``opened`` maps a section key to its open flag on the page (kept across redraws, e.g.
    a data update or a filter change); new sections use their default (the first one open).
    """
    if not sections:
        return html.P("No histograms in the selected runs (or none match the filter).", className=f"{prefix}-empty")
    sid = section_ids(prefix)
    out = []
    for s in sections:
        is_open = opened.get(s.key, s.open_by_default)
        body = histogram_cards(provider, _section_infos(provider, s), prefix, draw, pins) if is_open else []
        out.append(html.Div(className=f"{prefix}-section", **{"data-section": s.name}, children=[
            html.Button(_label(s, is_open), id={"type": sid["toggle"], "index": s.key}, n_clicks=0,
                        className=f"{prefix}-section-toggle",
                        style={"background": "none", "border": "none", "fontWeight": "600", "fontSize": "15px",
                               "cursor": "pointer", "padding": "6px 0", "color": "inherit"}),
            dcc.Store(id={"type": sid["open"], "index": s.key}, data=is_open),
            html.Div(body, id={"type": sid["body"], "index": s.key}, style=GRID_STYLE),
        ]))
    return out


def sections_update(provider: DataProvider, prefix: str, selected: Sequence[str] | None, tag_filter: str | None,
                    old_sig: Any, settings: list[Any], draw: Callable[[], DrawOne],
                    opened: dict[str, bool], pins: Sequence[str] = ()) -> tuple[Any, Any]:
    """(children, signature) of a histogram-cards tab, or ``(no_update, no_update)`` when nothing
    it draws changed: the (run, tag, version, run colour) of every series in ``selected`` runs,
    the tab's ``settings`` (theme, mode, ...) and ``tag_filter``. ``draw()`` makes the card
    drawer (called only when redrawing); ``opened`` as in :func:`sections_view`."""
    infos = provider.tags(Kind.HISTOGRAMS, list(selected) if selected is not None else None)
    colors = run_colors_of(provider)  # a new run can shift the colours of the runs after it
    sig = [[i.run, i.tag, i.version, colors.get(i.run)] for i in infos] + [[*settings, tag_filter or ""]]
    if sig == old_sig:
        return no_update, no_update
    sections = histogram_sections(provider, selected, tag_filter)
    return sections_view(provider, prefix, sections, draw(), opened, pins), sig


def pinned_update(provider: DataProvider, prefix: str, selected: Sequence[str] | None, pins: Sequence[Any] | None,
                  old_sig: Any, settings: list[Any], draw: Callable[[], DrawOne]) -> tuple[Any, Any]:
    """(children, signature) of the tab's Pinned row (the pinned cards of the ``selected`` runs, in pin
    order, whatever the tag filter and open sections), or ``(no_update, no_update)`` when unchanged."""
    infos = pinned_infos(provider.tags(Kind.HISTOGRAMS, list(selected) if selected is not None else None), pins)
    colors = run_colors_of(provider)
    sig = [[i.run, i.tag, i.version, colors.get(i.run)] for i in infos] + [list(settings)]
    if sig == old_sig:
        return no_update, no_update
    cards = histogram_cards(provider, infos, prefix, draw(), [pin_key(i.run, i.tag) for i in infos], "pinned") \
        if infos else []
    return pinned_row(prefix, cards if isinstance(cards, list) else []), sig


def opened_state(open_ids: list[dict] | None, values: list[Any] | None) -> dict[str, bool]:
    """The open flags of the sections on the page (from ALL-pattern States), by section key."""
    return {i["index"]: bool(v) for i, v in zip(open_ids or [], values or [])}


def register_section_toggle(app: Dash, provider: DataProvider, prefix: str,
                            make_draw: Callable[..., DrawOne], states: Sequence[State] = ()) -> None:
    """Open/close one section on its header click; opening builds its cards (``make_draw(*state values)``)."""
    sid = section_ids(prefix)

    @app.callback(
        Output({"type": sid["body"], "index": MATCH}, "children"),
        Output({"type": sid["open"], "index": MATCH}, "data"),
        Output({"type": sid["toggle"], "index": MATCH}, "children"),
        Input({"type": sid["toggle"], "index": MATCH}, "n_clicks"),
        State({"type": sid["open"], "index": MATCH}, "data"),
        State({"type": sid["toggle"], "index": MATCH}, "id"),
        State(ids.SELECTED_RUNS, "data"), State(f"{prefix}-tag-filter", "value"), State(f"{prefix}-pins", "data"),
        *states,
        prevent_initial_call=True,
    )
    def toggle(n: int | None, is_open: bool | None, toggle_id: dict, selected: list[str] | None,
               tag_filter: str | None, pins: list[str] | None, *values: Any) -> tuple:
        if not n:
            raise PreventUpdate
        key = toggle_id["index"]
        section = next((s for s in histogram_sections(provider, selected, tag_filter) if s.key == key), None)
        if section is None:
            return no_update, no_update, no_update
        now_open = not bool(is_open)
        body = histogram_cards(provider, _section_infos(provider, section), prefix, make_draw(*values),
                               pins or []) if now_open else []
        return body, now_open, _label(section, now_open)
