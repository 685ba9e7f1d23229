"""Colours and Plotly templates shared by every figure: stable run colours, light and dark themes."""

from __future__ import annotations

import zlib
from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["PALETTE", "run_color", "apply_theme", "FONT_FAMILY"]

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#0b6e4f", "#c2185b", "#3949ab", "#ef6c00",
    "#00897b", "#6d4c41",
)
"""Colours for runs: distinguishable on both light and dark backgrounds."""

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def run_color(run: str) -> str:
    """The colour of ``run``: a pure function of its name, so it never changes between views."""
    return PALETTE[zlib.crc32(run.encode("utf-8")) % len(PALETTE)]


_TEMPLATE_TRACE_TYPES = ("scatter", "scattergl", "bar", "heatmap", "histogram", "parcoords", "table")


@lru_cache(maxsize=2)
def _template(theme: str) -> go.layout.Template:
    """Plotly's white/dark template cut to the layout and the trace types we draw.

    Memoised (a pure function of ``theme``): the full template carries defaults for
    ~25 trace types, and copying it into every figure cost ~20 ms a chart.
    """
    full = pio.templates["plotly_dark" if theme == "dark" else "plotly_white"]
    data = {k: v for k, v in full.data.to_plotly_json().items() if k in _TEMPLATE_TRACE_TYPES}
    return go.layout.Template(layout=full.layout, data=data)


def apply_theme(fig: go.Figure, theme: str = "light") -> go.Figure:
    """Style ``fig`` for the ``"light"`` or ``"dark"`` theme in place and return it."""
    dark = theme == "dark"
    fig.update_layout(
        template=_template("dark" if dark else "light"),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#1e1e1e" if dark else "#ffffff",
        font={"family": FONT_FAMILY, "size": 12},
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
    )
    return fig
