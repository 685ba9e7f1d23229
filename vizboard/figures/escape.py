"""Escaping run, tag and other user-chosen names for Plotly's pseudo-HTML text (legends, hovers, titles, ticks).

Plotly renders a small HTML subset in every text it draws: ``<a href>`` (a clickable link),
``<b>``, ``<i>``, ``<br>``, ``<sup>``, ``<sub>``, ``<span style>`` and entities. A run
directory named ``<a href="https://evil.example/">x</a>`` would otherwise become a link in every
legend. :func:`escape_text` turns ``&``, ``<`` and ``>`` into the entities Plotly decodes
(``&amp;``, ``&lt;``, ``&gt;``), so the name shows exactly as typed.
:func:`escape_template` additionally neutralises ``%{...}`` for text embedded in a
``hovertemplate`` / ``texttemplate`` (Plotly substitutes those before drawing).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["escape_text", "escape_template", "escape_all"]

_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_text(name: str) -> str:
    """``name`` safe to pass as a Plotly ``name``, ``text``, title or tick label: shown literally."""
    return str(name).translate(_TABLE)


def escape_template(name: str) -> str:
    """``name`` safe to embed in a Plotly ``hovertemplate``/``texttemplate``: also ``%{`` is shown literally."""
    return escape_text(name).replace("%{", "&#37;{")


def escape_all(names: Iterable[str]) -> list[str]:
    """:func:`escape_text` of each of ``names`` (e.g. categorical tick labels, ``customdata`` shown as text)."""
    return [escape_text(n) for n in names]
