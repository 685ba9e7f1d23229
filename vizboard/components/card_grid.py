"""The look of the per-(tag, run) card tabs: card and grid styles, and the card-grid tab layout."""

from __future__ import annotations

from dash import dcc, html

__all__ = ["card_grid_layout", "card_style", "grid_style"]


def card_style(padding: str = "8px", **extra: str) -> dict[str, str]:
    """A card's style: thin grey border, rounded corners, ``padding`` (CSS length), then ``extra``."""
    return {"border": "1px solid rgba(128,128,128,.3)", "borderRadius": "6px", "padding": padding, **extra}


def grid_style(min_width_px: int, **extra: str) -> dict[str, str]:
    """A responsive grid of cards at least ``min_width_px`` pixels wide, 10 px apart, then ``extra``."""
    return {"display": "grid", "gridTemplateColumns": f"repeat(auto-fill, minmax({min_width_px}px, 1fr))",
            "gap": "10px", **extra}


def card_grid_layout(prefix: str, grid: dict[str, str]) -> html.Div:
    """A tab that is only a card grid: ``{prefix}-root`` holding the ``{prefix}-signature`` Store (what the
    cards were drawn from) and the ``{prefix}-cards`` grid (styled ``grid``, filled by a callback)."""
    return html.Div(id=f"{prefix}-root", children=[dcc.Store(id=f"{prefix}-signature"),
                                                  html.Div(id=f"{prefix}-cards", style=grid)])
