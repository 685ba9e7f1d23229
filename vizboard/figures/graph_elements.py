"""Cytoscape drawing of a view tree: the drawn nodes under a set of expanded ids, laid out on the server.

Expanded groups become compound boxes, collapsed ones single nodes; edges between
collapsed groups are aggregated (no self-loops, no duplicates); positions come from
``vizboard.figures.graph_layout`` so the browser uses the 'preset' layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vizboard.figures.graph_layout import layered_layout
from vizboard.figures.graph_tree import ROOT_ID, ViewNode, ViewTree, ancestors, format_shape, human_count

__all__ = ["graph_elements", "visible_nodes", "stylesheet"]

_PAD = 14.0  # compound box padding (pixels), matches the stylesheet
_LABEL_H = 18.0  # room for a compound box's label above its children


def _drawn(tree: ViewTree, expanded: set[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """(leaves, groups, parent group of each drawn node or '' at top level), in DFS order."""
    leaves: list[str] = []
    groups: list[str] = []
    parent: dict[str, str] = {}

    def walk(vid: str, group: str) -> None:
        parent[vid] = group
        node = tree.nodes[vid]
        if node.children and vid in expanded:
            groups.append(vid)
            for c in node.children:
                walk(c, vid)
        else:
            leaves.append(vid)

    for vid in tree.top:
        walk(vid, "")
    return leaves, groups, parent


def visible_nodes(tree: ViewTree, expanded: Iterable[str]) -> list[str]:
    """Ids drawn for ``expanded`` (leaves and group boxes), in DFS order."""
    leaves, groups, _ = _drawn(tree, set(expanded))
    return groups + leaves


def _label(node: ViewNode) -> str:
    if node.kind == "io":
        return node.path
    if node.kind == "fold":
        return f"{node.type} ×{node.count}\n{node.name}"
    if node.id == ROOT_ID:
        return node.type
    return f"{node.type}\n{node.name}"


def _size(label: str) -> tuple[float, float]:
    lines = label.split("\n")
    return max(60.0, 7.0 * max(len(s) for s in lines) + 16), 14.0 * len(lines) + 12


def graph_elements(tree: ViewTree, expanded: Iterable[str], highlight: Iterable[str] = ()) -> tuple[list[dict], float, float]:
    """Cytoscape elements (nodes with preset positions, compound groups, aggregated edges) and (width, height) px.

    ``highlight`` ids get class ``match`` when drawn, or mark their drawn collapsed
    ancestor with ``match-inside``.
    """
    exp = set(expanded)
    leaves, groups, parent = _drawn(tree, exp)
    drawn = set(leaves) | set(groups)
    rep: dict[str, str] = {}

    def rep_of(vid: str) -> str:
        if vid not in rep:
            chain = [vid, *ancestors(tree, vid)]
            rep[vid] = next((a for a in reversed(chain) if a in drawn and a not in exp), vid if vid in drawn else ROOT_ID)
        return rep[vid]

    agg: dict[tuple[str, str], set] = {}
    for s, d, shape in tree.edges:
        rs, rd = rep_of(s), rep_of(d)
        if rs != rd and rs in drawn and rd in drawn:
            agg.setdefault((rs, rd), set()).add(shape)

    labels = {v: _label(tree.nodes[v]) for v in leaves}
    labels.update({v: _label(tree.nodes[v]).replace("\n", " · ") for v in groups})  # one line above the box
    chains = {v: [v] for v in drawn}
    for v in drawn:  # chain of drawn groups from the top down to v
        c, p = [v], parent[v]
        while p:
            c.append(p)
            p = parent[p]
        chains[v] = c[::-1]
    level_edges: dict[str, list[tuple[str, str]]] = {}
    for s, d in agg:
        cs, cd = chains[s], chains[d]
        k = 0
        while k < min(len(cs), len(cd)) and cs[k] == cd[k]:
            k += 1
        if k < len(cs) and k < len(cd):
            level_edges.setdefault(cs[k - 1] if k else "", []).append((cs[k], cd[k]))

    kids: dict[str, list[str]] = {}
    for v in [*groups, *leaves]:
        kids.setdefault(parent[v], []).append(v)
    order = {v: i for i, v in enumerate(leaves)}
    Pts = dict[str, tuple[float, float]]
    Bends = dict[tuple[str, str], list[tuple[float, float]]]

    def lay(group: str) -> tuple[float, float, Pts, Bends]:
        members = sorted(kids.get(group, []), key=lambda v: _first_leaf_order(v, kids, order))
        sizes: dict[str, tuple[float, float]] = {}
        inner: dict[str, tuple[Pts, Bends]] = {}
        for m in members:
            if m in groups:
                w, h, sub, sub_bends = lay(m)
                sizes[m] = (w + 2 * _PAD, h + 2 * _PAD + _LABEL_H)
                inner[m] = (sub, sub_bends)
            else:
                sizes[m] = _size(labels[m])
        lo = layered_layout(members, level_edges.get(group, []), sizes)
        local: Pts = dict(lo.positions)
        local_bends: Bends = dict(lo.bends)
        for m, (sub, sub_bends) in inner.items():
            x, y = lo.positions[m]
            ox, oy = x - sizes[m][0] / 2 + _PAD, y - sizes[m][1] / 2 + _PAD + _LABEL_H
            local.update({k: (a + ox, b + oy) for k, (a, b) in sub.items()})
            local_bends.update({e: [(a + ox, b + oy) for a, b in pts] for e, pts in sub_bends.items()})
        return lo.width, lo.height, local, local_bends

    _, _, pos, bends = lay("")
    leaf_set = set(leaves)
    width = max((p[0] + _size(labels[v])[0] / 2 for v, p in pos.items() if v in leaf_set), default=0.0)
    height = max((p[1] + 30 for p in pos.values()), default=0.0)

    hl = set(highlight)
    inside = {rep_of(h) for h in hl if h in tree.nodes and h not in drawn}
    elements: list[dict] = []
    for v in groups + leaves:
        n = tree.nodes[v]
        cls = [n.kind, "group" if v in groups else ("collapsed" if n.children else "leaf")]
        if v in hl:
            cls.append("match")
        elif v in inside:
            cls.append("match-inside")
        data = {"id": v, "label": labels[v], "type": n.type, "path": n.path, "kind": n.kind,
                "expandable": bool(n.children), "params": human_count(n.params_total) if n.params_total > 0 else ""}
        if parent[v]:
            data["parent"] = parent[v]
        el: dict[str, Any] = {"data": data, "classes": " ".join(cls)}
        if v not in groups:
            el["position"] = {"x": pos[v][0], "y": pos[v][1]}
            data["w"], data["h"] = _size(labels[v])
        elements.append(el)
    for (s, d), shapes in agg.items():
        known = {sh for sh in shapes if sh is not None}
        label = format_shape(list(next(iter(known)))) if len(known) == 1 else (f"{len(known)} shapes" if known else "")
        data: dict[str, Any] = {"id": f"e:{s}->{d}", "source": s, "target": d, "label": label}
        pts = bends.get((s, d))
        if pts and s in pos and d in pos:
            data["sd"], data["sw"] = _segments(pos[s], pos[d], pts)
            elements.append({"data": data, "classes": "edge bent"})
        else:
            elements.append({"data": data, "classes": "edge"})
    return elements, width, height


def _segments(
    src: tuple[float, float], dst: tuple[float, float], pts: list[tuple[float, float]]
) -> tuple[list[float], list[float]]:
    """Cytoscape ``segment-distances``/``segment-weights`` (edge-distances: node-position) through ``pts``."""
    dx, dy = dst[0] - src[0], dst[1] - src[1]
    norm2 = dx * dx + dy * dy or 1.0
    dist, wts = [], []
    for px, py in pts:
        vx, vy = px - src[0], py - src[1]
        wts.append(round((vx * dx + vy * dy) / norm2, 4))
        dist.append(round((vx * dy - vy * dx) / norm2 ** 0.5, 1))
    return dist, wts


def _first_leaf_order(v: str, kids: dict[str, list[str]], order: dict[str, int]) -> int:
    while v in kids and kids[v]:
        v = kids[v][0]
    return order.get(v, 0)


def stylesheet(theme: str = "light") -> list[dict]:
    """The cytoscape stylesheet for ``theme`` (``light`` or ``dark``)."""
    dark = theme == "dark"
    fg, bg, line = ("#e6e6e6", "#2b2b2b", "#9aa0a6") if dark else ("#1f2328", "#ffffff", "#8c959f")
    return [
        {"selector": "node", "style": {
            "shape": "round-rectangle", "label": "data(label)", "text-wrap": "wrap", "text-valign": "center",
            "text-halign": "center", "font-size": 11, "color": fg, "background-color": bg, "border-width": 1,
            "border-color": line}},
        {"selector": "node[w]", "style": {"width": "data(w)", "height": "data(h)"}},
        {"selector": "node.collapsed", "style": {"background-color": "#3a4a6b" if dark else "#e8f0fe", "border-width": 2,
                                                  "border-color": "#4c8bf5"}},
        {"selector": "node.fold", "style": {"border-style": "double", "border-width": 4}},
        {"selector": "node.op", "style": {"shape": "ellipse", "background-color": "#3b3b3b" if dark else "#f6f8fa"}},
        {"selector": "node.io", "style": {"shape": "tag", "background-color": "#2d4a33" if dark else "#e6f4ea"}},
        {"selector": "node.group", "style": {
            "text-valign": "top", "text-halign": "center", "background-opacity": 0.06, "padding": _PAD,
            "border-style": "dashed", "font-weight": "bold"}},
        {"selector": "node.match, node.match-inside", "style": {"border-color": "#f9ab00", "border-width": 4}},
        {"selector": "node.match-inside", "style": {"border-style": "dashed"}},
        {"selector": "node:selected", "style": {"border-color": "#d93025", "border-width": 3}},
        {"selector": "edge", "style": {
            "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5, "line-color": line,
            "target-arrow-color": line, "label": "data(label)", "font-size": 9, "color": fg,
            "text-background-color": bg, "text-background-opacity": 0.8, "text-background-padding": 1}},
        {"selector": "edge.bent", "style": {
            "curve-style": "segments", "edge-distances": "node-position", "segment-distances": "data(sd)",
            "segment-weights": "data(sw)"}},
    ]
