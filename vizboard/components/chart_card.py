"""A chart card: title, Plotly graph, CSV/JSON/SVG download buttons and a full-screen toggle.

``chart_card(prefix, key, title)`` builds the component tree; ``register_card_clientside(app, prefix)``
attaches the browser-side full-screen and SVG callbacks once per prefix. Component ids are
pattern-matching dicts ``{"type": f"{prefix}-<part>", "card": key}``.
"""

from __future__ import annotations

from dash import MATCH, ClientsideFunction, Dash, Input, Output, State, dcc, html

__all__ = ["card_id", "chart_card", "register_card_clientside", "GRAPH_CONFIG"]

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
"""Plotly config of every chart: the modebar's camera button saves a PNG."""


def card_id(prefix: str, part: str, key: str) -> dict[str, str]:
    """The pattern-matching id of one part (``graph``, ``csv``, ...) of card ``key``."""
    return {"type": f"{prefix}-{part}", "card": key}


def chart_card(prefix: str, key: str, title: str, filename: str = "chart") -> html.Div:
    """The card tree (graph initially empty: a callback fills it). ``title`` is shown as text."""
    config = dict(GRAPH_CONFIG)
    config["toImageButtonOptions"] = {**GRAPH_CONFIG["toImageButtonOptions"], "filename": filename}
    return html.Div(
        className="vb-card",
        id=card_id(prefix, "card", key),
        children=[
            html.Div(
                className="vb-card-head",
                children=[
                    html.Span(title, className="vb-card-title", title=title),
                    html.Div(
                        className="vb-card-tools",
                        children=[
                            html.Button("CSV", id=card_id(prefix, "csv", key), className="vb-tool",
                                        title="Download the full-resolution data as CSV"),
                            html.Button("JSON", id=card_id(prefix, "json", key), className="vb-tool",
                                        title="Download the full-resolution data as JSON"),
                            html.Button("SVG", id=card_id(prefix, "svg", key), className="vb-tool",
                                        title="Download the chart as SVG (PNG: camera icon)"),
                            html.Button("⤢", id=card_id(prefix, "full", key), className="vb-tool",
                                        title="Full screen (toggle)"),
                        ],
                    ),
                ],
            ),
            dcc.Graph(id=card_id(prefix, "graph", key), config=config, className="vb-graph",
                      style={"height": "320px"}, figure={"data": [], "layout": {}}),
            dcc.Download(id=card_id(prefix, "download", key)),
            dcc.Store(id=card_id(prefix, "state", key), data=None),
            html.Span(filename, id=card_id(prefix, "filename", key), hidden=True),
        ],
    )


def register_card_clientside(app: Dash, prefix: str) -> None:
    """Full-screen toggle and SVG download, run in the browser (no server round trip)."""
    app.clientside_callback(
        ClientsideFunction("vizboard", "toggleFullscreen"),
        Output(card_id(prefix, "card", MATCH), "className"),
        Input(card_id(prefix, "full", MATCH), "n_clicks"),
        State(card_id(prefix, "card", MATCH), "className"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("vizboard", "downloadSvg"),
        Output(card_id(prefix, "svg", MATCH), "title"),
        Input(card_id(prefix, "svg", MATCH), "n_clicks"),
        State(card_id(prefix, "filename", MATCH), "children"),
        prevent_initial_call=True,
    )
