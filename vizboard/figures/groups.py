"""Pure figure pieces for run groups: a ``GroupAggregate`` -> Plotly trace dicts (filled band + line).

Traces are plain dicts (JSON-ready for ``dcc.Graph`` figures and for Plotly.js in the
browser alike). Per group, in drawing order: the band's lower edge (invisible line), the
upper edge filled down to it (``fill: "tonexty"``), then the line. The line's hover shows
the group name, the exact step (``164,818``, never ``164.818k``), the value, the band, the
member count at that step, and "interpolated" where a member's value was interpolated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from vizboard.data.groups import GroupAggregate
from vizboard.figures.escape import escape_template, escape_text

__all__ = ["BAND_LABELS", "band_fill", "group_traces", "groups_traces", "group_hover_text"]

BAND_LABELS = {"minmax": "min–max", "std": "±std", "stderr": "±stderr", "none": ""}
"""How each band kind is named in legends and hovers."""

_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def band_fill(color: str, alpha: float = 0.2) -> str:
    """``color`` (``#rrggbb`` or ``rgb(r,g,b)``) as an ``rgba`` fill with ``alpha`` (0..1)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (got {alpha})")
    m = _HEX.match(color.strip())
    if m:
        h = m.group(1)
        r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
        return f"rgba({r},{g},{b},{alpha:g})"
    m2 = re.match(r"^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)", color.strip())
    if m2:
        return f"rgba({m2.group(1)},{m2.group(2)},{m2.group(3)},{alpha:g})"
    raise ValueError(f"color must be '#rrggbb' or 'rgb(r,g,b)' (got {color!r})")


def _fmt(v: float) -> str:
    return "NaN" if not np.isfinite(v) else f"{v:.6g}"


def group_hover_text(agg: GroupAggregate) -> list[str]:
    """One hover line per point: value, band, ``n=`` member count and an ``interpolated`` note."""
    band = BAND_LABELS.get(agg.band_kind, agg.band_kind)
    total = len(agg.members)
    out = []
    for i in range(len(agg)):
        parts = [f"{agg.line_kind} {_fmt(float(agg.line[i]))}"]
        if band:
            parts.append(f"{band} [{_fmt(float(agg.lower[i]))}, {_fmt(float(agg.upper[i]))}]")
        parts.append(f"n={int(agg.count[i])} of {total} runs")
        if agg.interpolated[i]:
            parts.append("interpolated (steps differ between runs)")
        out.append("<br>".join(parts))
    return out


def _clean(a: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in a]


def group_traces(
    agg: GroupAggregate,
    color: str,
    *,
    x: np.ndarray | None = None,
    legendgroup: str | None = None,
    show_band: bool = True,
    band_alpha: float = 0.2,
) -> list[dict]:
    """The traces of one group: ``[lower, upper (filled), line]``, or ``[line]`` without a band.

    ``x`` replaces the steps on the x-axis (e.g. wall time or a joined metric; same length
    as ``agg``); steps stay in the hover. Non-finite values become gaps (``None``).
    ``legendgroup`` (default the group name) ties the three traces together so one legend
    click hides the group.
    """
    xs = agg.step if x is None else np.asarray(x)
    if xs.shape[0] != len(agg):
        raise ValueError(f"x must have one value per aggregated point ({len(agg)}), got {xs.shape[0]}")
    lg = legendgroup if legendgroup is not None else f"group:{agg.name}"
    xl = xs.tolist()
    label = escape_text(f"{agg.name} ({len(agg.members)} runs)")
    line = {
        "type": "scatter", "mode": "lines", "name": label, "x": xl, "y": _clean(agg.line),
        "line": {"color": color, "width": 2}, "legendgroup": lg,
        "customdata": [[int(s)] for s in agg.step], "text": group_hover_text(agg),
        "hovertemplate": f"<b>{escape_template(agg.name)}</b><br>step %{{customdata[0]:,d}}<br>%{{text}}<extra></extra>",
        "meta": {"group": agg.name, "members": list(agg.members), "tag": agg.tag},
    }
    if not show_band or agg.band_kind == "none":
        return [line]
    common = {"type": "scatter", "mode": "lines", "x": xl, "legendgroup": lg, "showlegend": False,
              "hoverinfo": "skip", "line": {"width": 0, "color": color}}
    lower = {**common, "name": f"{label} lower", "y": _clean(agg.lower)}
    upper = {**common, "name": f"{label} upper", "y": _clean(agg.upper), "fill": "tonexty",
             "fillcolor": band_fill(color, band_alpha)}
    return [lower, upper, line]


def groups_traces(aggs: Sequence[GroupAggregate], colors: Sequence[str], **kwargs: object) -> list[dict]:
    """:func:`group_traces` for each aggregate with its colour (``colors`` aligned with ``aggs``)."""
    if len(colors) != len(aggs):
        raise ValueError(f"colors must give one colour per group ({len(aggs)}), got {len(colors)}")
    out: list[dict] = []
    for agg, color in zip(aggs, colors):
        out.extend(group_traces(agg, color, **kwargs))  # type: ignore[arg-type]
    return out
