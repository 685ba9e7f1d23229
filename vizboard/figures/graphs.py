"""Model graph view state: which nodes are shown (depth, expand/collapse, search) and where the view looks.

Pure functions over a ``ViewTree`` (``vizboard.figures.graph_tree``) that the Graphs tab's
callback only adapts: :func:`next_view` is the tab's whole state machine (a new run or
depth resets the view, a tap on a group expands or collapses it, a new search reveals and
centres its matches). The module tree schema (``logger.add_graph``)::

    {"version": 1, "root": NODE, "edges": [[src_path, dst_path, shape_or_null], ...]}
    NODE = {"path", "name", "type", "params", "params_total", "trainable",
            "input_shapes", "output_shapes", "extra", "children": [NODE, ...]}

The tree, the drawing and the stylesheet are re-exported from here (their modules are
``graph_tree`` and ``graph_elements``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vizboard.figures.graph_elements import graph_elements, stylesheet, visible_nodes
from vizboard.figures.graph_tree import (
    ROOT_ID,
    ViewNode,
    ViewTree,
    ancestors,
    build_view_tree,
    format_shape,
    human_count,
    node_details,
)

__all__ = [
    "ViewNode",
    "ViewTree",
    "build_view_tree",
    "expanded_for_depth",
    "auto_depth",
    "visible_nodes",
    "search",
    "reveal",
    "collapse",
    "focus_view",
    "initial_view",
    "GraphView",
    "next_view",
    "VIEW_W",
    "VIEW_H",
    "graph_elements",
    "node_details",
    "human_count",
    "format_shape",
    "stylesheet",
    "ROOT_ID",
]


def expanded_for_depth(tree: ViewTree, depth: int) -> set[str]:
    """Ids to expand so that modules down to ``depth`` levels below the root are shown (folds stay folded)."""
    return {n.id for n in tree.nodes.values() if n.children and n.kind != "fold" and n.depth < depth and n.id != ROOT_ID}


def auto_depth(tree: ViewTree, limit: int = 60) -> int:
    """The deepest depth (>= 1) whose view has at most ``limit`` drawn nodes."""
    best = 1
    for d in range(1, tree.max_depth + 1):
        if len(visible_nodes(tree, expanded_for_depth(tree, d))) > limit:
            break
        best = d
    return best


def search(tree: ViewTree, query: str) -> list[str]:
    """Ids whose path, name or type contains ``query`` (case-insensitive); empty query -> []."""
    q = query.strip().lower()
    if not q:
        return []
    return [n.id for n in tree.nodes.values() if n.id != ROOT_ID and n.kind != "fold"
            and (q in n.path.lower() or q in n.type.lower() or q in n.name.lower())]


def reveal(tree: ViewTree, expanded: Iterable[str], ids: Iterable[str]) -> set[str]:
    """``expanded`` plus every ancestor of ``ids``, so that those nodes are drawn."""
    out = set(expanded)
    for vid in ids:
        if vid in tree.nodes:
            out.update(ancestors(tree, vid))
    return out


VIEW_W = 900.0
"""Typical canvas width (px) the initial zoom and the search focus aim at; the user pans and zooms from there."""
VIEW_H = 560.0
"""Typical canvas height (px): 75vh of a laptop screen."""


def collapse(tree: ViewTree, expanded: Iterable[str], vid: str) -> set[str]:
    """``expanded`` without ``vid`` and everything below it."""
    out = set(expanded)
    stack = [vid]
    while stack:
        v = stack.pop()
        out.discard(v)
        node = tree.nodes.get(v)
        if node is not None:
            stack.extend(node.children)
    return out


def focus_view(elements: list[dict], zoom: Any, view_w: float = VIEW_W,
               view_h: float = VIEW_H) -> tuple[float, dict[str, float]] | None:
    """(zoom, pan) that centres the first drawn search match (class ``match``, else ``match-inside``).

    The zoom is kept unless it is below 0.8 (a match too small to read), then 0.8. None when
    no drawn node matches. ``view_w``/``view_h`` are the canvas size in px.
    """
    for wanted in ("match", "match-inside"):
        for el in elements:
            pos = el.get("position")
            if pos is not None and wanted in str(el.get("classes", "")).split():
                z = max(float(zoom) if isinstance(zoom, (int, float)) and zoom > 0 else 1.0, 0.8)
                return round(z, 3), {"x": round(view_w / 2 - pos["x"] * z, 1), "y": round(view_h / 2 - pos["y"] * z, 1)}
    return None


def initial_view(width: float, view_w: float = VIEW_W) -> tuple[float, dict[str, float]]:
    """(zoom, pan) showing the top of a drawing ``width`` px wide: its whole width when that fits
    at a readable scale (zoom 0.35-1.0), centred, 20 px from the top."""
    zoom = round(max(0.35, min(1.0, (view_w - 40) / max(width, 1.0))), 3)
    return zoom, {"x": round(max(20.0, (view_w - width * zoom) / 2), 1), "y": 20}


@dataclass(frozen=True, slots=True)
class GraphView:
    """What the Graphs tab shows after one event: cytoscape ``elements``, the ``expanded`` ids
    (sorted), the ``depth`` control's value and ``max_depth``, ``key`` (what this view applied,
    handed back as the next call's ``key``), ``zoom``/``pan`` (None: keep the canvas's), the
    number of ``matches`` of the search and the ``info`` line."""

    elements: list[dict]
    expanded: list[str]
    depth: int
    max_depth: int
    key: dict[str, Any]
    zoom: float | None
    pan: dict[str, float] | None
    matches: int
    info: str


def next_view(tree: ViewTree, run: str | None, source: str, *, key: Mapping[str, Any] | None,
              expanded: Iterable[str] | None, depth: int | None, tap: Mapping[str, Any] | None,
              query: str | None, zoom_now: float | None, max_visible: int = 60,
              reveal_limit: int = 12) -> GraphView:
    """The Graphs tab's state machine: the view after the inputs changed.

    ``key`` is the previous view's :attr:`GraphView.key` (None at first); it records what was
    applied (tree, depth, last tap, query), so a request that supersedes an in-flight one
    still applies a pending tap. In order: a new tree (``run``) or no ``depth`` picks the
    deepest depth drawing at most ``max_visible`` nodes and resets the view; a new ``depth``
    expands to it and resets the view; a new ``tap`` (cytoscape ``tapNodeData`` with ``id``
    and ``timeStamp``) on a group expands it, or collapses it and everything below. A new
    ``query`` with 1..``reveal_limit`` matches expands their ancestors, and centres the
    first drawn match (keeping ``zoom_now`` unless too small). ``source`` names where the
    tree came from, for the info line.
    """
    state = key if isinstance(key, Mapping) else {}
    tree_key = [run, len(tree.nodes), len(tree.edges)]
    stamp = [tap.get("id"), tap.get("timeStamp")] if tap else None
    shown = set(expanded or [])
    reset_view = False
    if state.get("tree") != tree_key or depth is None:
        depth = auto_depth(tree, max_visible)
        shown = expanded_for_depth(tree, depth)
        reset_view = True
    elif state.get("depth") != depth:
        depth = int(depth)
        shown = expanded_for_depth(tree, depth)
        reset_view = True
    elif stamp is not None and stamp != state.get("tap"):
        node = tree.nodes.get(str(stamp[0]))
        if node is not None and node.children:
            shown = collapse(tree, shown, node.id) if node.id in shown else shown | {node.id}
    query = query or ""
    new_query = query != state.get("query", "")
    matches = search(tree, query)
    if new_query and 0 < len(matches) <= reveal_limit:
        shown = reveal(tree, shown, matches)
    shown &= set(tree.nodes)
    elements, width, _h = graph_elements(tree, shown, matches)
    zoom: float | None = None
    pan: dict[str, float] | None = None
    if reset_view:  # taps keep the view
        zoom, pan = initial_view(width)
    if query and new_query:  # a new search: bring the first match into view
        focus = focus_view(elements, zoom_now if zoom is None else zoom)
        if focus is not None:
            zoom, pan = focus
    drawn = sum(1 for e in elements if "source" not in e["data"])
    info = f"{drawn} nodes shown · {len(tree.nodes)} in the model · from the {source}"
    if query:
        info += f" · {len(matches)} match{'es' if len(matches) != 1 else ''}"
    return GraphView(elements, sorted(shown), int(depth), max(tree.max_depth, 1),
                     {"tree": tree_key, "depth": depth, "tap": stamp, "query": query}, zoom, pan, len(matches), info)
