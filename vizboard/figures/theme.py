"""Colours and Plotly templates shared by every figure: stable run colours, light and dark themes."""

from __future__ import annotations

import zlib
from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["PALETTE", "ORDER_PALETTE", "run_color", "run_colors", "apply_theme", "FONT_FAMILY"]

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#7f7f7f", "#0b6e4f", "#c2185b", "#3949ab", "#ef6c00",
    "#00897b", "#6d4c41",
)
"""Colours for runs: distinguishable on both light and dark backgrounds."""

ORDER_PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f", "#a0522d", "#e7969c", "#00a087", "#f0c808", "#6b6ecf", "#ad494a",
    "#52c0a1", "#d6616b", "#8ca252", "#ce6dbd",
)
"""Colours handed out by run order: the first 20 runs all differ (readable on white and #1e1e1e)."""

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def run_color(run: str) -> str:
    """The colour of ``run``: a pure function of its name, so it never changes between views."""
    return PALETTE[zlib.crc32(run.encode("utf-8")) % len(PALETTE)]


def run_colors(runs: list[str]) -> list[str]:
    """One colour per run of ``runs`` (in the order given, usually sorted by name).

    The first ``len(ORDER_PALETTE)`` runs get distinct palette colours; later ones get
    golden-angle hues (same lightness band, readable in both themes). A run keeps its
    colour across reloads and filter changes as long as the set of runs before it does.
    """
    out = []
    for i, _run in enumerate(runs):
        if i < len(ORDER_PALETTE):
            out.append(ORDER_PALETTE[i])
            continue
        hue = (i * 137.508) % 360.0
        out.append(_hsl_hex(hue, 0.62, 0.52 if (i // 7) % 2 else 0.44))
    return out


def _hsl_hex(h: float, s: float, lum: float) -> str:
    c = (1 - abs(2 * lum - 1)) * s
    x = c * (1 - abs((h / 60.0) % 2 - 1))
    m = lum - c / 2
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h // 60) % 6]
    return "#{:02x}{:02x}{:02x}".format(*(round((v + m) * 255) for v in (r, g, b)))


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
