"""Model graph view: module tree -> folded, collapsible view tree -> cytoscape elements with preset positions.

The input is the module-tree schema written by ``logger.add_graph`` (and produced from a
GraphDef by ``vizboard.figures.graphdef_tree``)::

    {"version": 1, "root": NODE, "edges": [[src_path, dst_path, shape_or_null], ...]}
    NODE = {"path", "name", "type", "params", "params_total", "trainable",
            "input_shapes", "output_shapes", "extra", "children": [NODE, ...]}

``build_view_tree`` folds runs of identical consecutive siblings into one "Type ×N"
node; ``graph_elements`` draws the nodes visible under a set of expanded ids (expanded
groups become cytoscape compound boxes, collapsed ones single nodes), aggregates
edges between collapsed groups (no self-loops, no duplicates) and lays everything out
on the server (``vizboard.figures.graph_layout``), so the browser uses the 'preset' layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vizboard.figures.graph_layout import layered_layout

__all__ = [
    "ViewNode",
    "ViewTree",
    "build_view_tree",
    "expanded_for_depth",
    "auto_depth",
    "visible_nodes",
    "search",
    "reveal",
    "graph_elements",
    "node_details",
    "human_count",
    "format_shape",
    "stylesheet",
    "ROOT_ID",
]

ROOT_ID = "m:"
"""View id of the root module (ids are ``m:<path>``, ``fold:<first>..<last>``, ``io:<input:i>``)."""

_PAD = 14.0  # compound box padding (pixels), matches the stylesheet
_LABEL_H = 18.0  # room for a compound box's label above its children


@dataclass(frozen=True, slots=True)
class ViewNode:
    """One node of the view tree: a module, a functional op, a folded run of blocks, or a graph input/output.

    ``kind`` is ``module``, ``op``, ``fold`` or ``io``; ``depth`` counts module levels
    (root 0; a fold has the depth of its blocks); ``count`` is the number of folded
    blocks (1 otherwise); ``children`` are view ids in order.
    """

    id: str
    path: str
    name: str
    type: str
    kind: str
    depth: int
    parent: str | None
    children: tuple[str, ...] = ()
    count: int = 1
    params: int = 0
    params_total: int = 0
    trainable: int = 0
    input_shapes: tuple[Any, ...] = ()
    output_shapes: tuple[Any, ...] = ()
    extra: str = ""


@dataclass(frozen=True, slots=True)
class ViewTree:
    """The folded tree plus the leaf-to-leaf edges (src view id, dst view id, shape or None)."""

    nodes: dict[str, ViewNode]
    edges: tuple[tuple[str, str, tuple[int, ...] | None], ...]
    max_depth: int
    top: tuple[str, ...] = field(default=())  # what the root level shows: inputs, root's children, outputs


def human_count(n: int | float) -> str:
    """``1234567 -> '1.2M'``, ``25600 -> '25.6K'``, ``512 -> '512'``; negative (unknown) -> ``'unknown'``."""
    if n < 0:
        return "unknown"
    n = float(n)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.1f}".rstrip("0").rstrip(".") + suffix
    return str(int(n))


def format_shape(shape: Any) -> str:
    """``[1, 3, 224, 224] -> '1×3×224×224'``; None/unknown dims (-1) -> '?'; scalars -> '()'."""
    if shape is None:
        return ""
    if isinstance(shape, (list, tuple)):
        if shape and isinstance(shape[0], (list, tuple)):
            return ", ".join(format_shape(s) for s in shape)
        return "×".join("?" if d is None or d == -1 else str(d) for d in shape) or "()"
    return str(shape)


def _signature(raw: Mapping[str, Any], memo: dict[int, Any]) -> Any:
    key = id(raw)
    if key not in memo:
        kids = tuple(_signature(c, memo) for c in raw.get("children") or ())
        memo[key] = hash((str(raw.get("type", "")), str(raw.get("extra", "")), int(raw.get("params_total", 0) or 0), kids))
    return memo[key]


def _count(raw: Mapping[str, Any], key: str) -> int:
    """An integer count from ``raw``; -1 when the writer did not record it (GraphDef-derived trees)."""
    v = raw.get(key)
    return -1 if v is None else int(v)


def _sum_counts(raws: list[Mapping[str, Any]], key: str) -> int:
    counts = [_count(r, key) for r in raws]
    return -1 if any(c < 0 for c in counts) else sum(counts)


def _shapes(v: Any) -> tuple[Any, ...]:
    return tuple(tuple(s) if isinstance(s, list) else s for s in (v or ()))


def build_view_tree(module_tree: Mapping[str, Any]) -> ViewTree:
    """Fold and index a decoded module tree (see the module docstring); raises ValueError on a malformed tree."""
    if not isinstance(module_tree, Mapping) or not isinstance(module_tree.get("root"), Mapping):
        raise ValueError("module_tree must be a dict with a 'root' NODE dict (logger.add_graph's module tree schema)")
    nodes: dict[str, ViewNode] = {}
    by_path: dict[str, str] = {}
    memo: dict[int, Any] = {}

    def add(raw: Mapping[str, Any], parent: str | None, depth: int) -> str:
        if "path" not in raw or "type" not in raw:
            raise ValueError(f"module tree node {dict(raw)!r:.120} lacks 'path' or 'type'; every NODE needs both")
        path = str(raw["path"])
        vid = "m:" + path
        kids_raw = list(raw.get("children") or ())
        child_ids: list[str] = []
        i = 0
        while i < len(kids_raw):
            j = i + 1
            sig = _signature(kids_raw[i], memo)
            while kids_raw[i].get("children") and j < len(kids_raw) and _signature(kids_raw[j], memo) == sig:
                j += 1  # only composite blocks fold: two LayerNorm leaves side by side stay apart
            if j - i >= 2:
                first, last = kids_raw[i], kids_raw[j - 1]
                fid = f"fold:{first['path']}..{last.get('name', '')}"
                blocks = tuple(add(k, fid, depth + 1) for k in kids_raw[i:j])
                n = j - i
                nodes[fid] = ViewNode(
                    id=fid, path=str(first["path"]), name=f"{first.get('name', '')}–{last.get('name', '')}",
                    type=str(first["type"]), kind="fold", depth=depth + 1, parent=vid, children=blocks, count=n,
                    params=0 if "params" in first else -1, params_total=_sum_counts(kids_raw[i:j], "params_total"),
                    trainable=_sum_counts(kids_raw[i:j], "trainable"),
                    input_shapes=_shapes(first.get("input_shapes")), output_shapes=_shapes(last.get("output_shapes")),
                    extra=str(first.get("extra", "") or ""),
                )
                child_ids.append(fid)
            else:
                child_ids.append(add(kids_raw[i], vid, depth + 1))
            i = j
        typ = str(raw["type"])
        nodes[vid] = ViewNode(
            id=vid, path=path, name=str(raw.get("name", path.rsplit(".", 1)[-1])), type=typ,
            kind="op" if "::" in typ else "module", depth=depth, parent=parent, children=tuple(child_ids),
            params=_count(raw, "params"), params_total=_count(raw, "params_total"),
            trainable=_count(raw, "trainable"), input_shapes=_shapes(raw.get("input_shapes")),
            output_shapes=_shapes(raw.get("output_shapes")), extra=str(raw.get("extra", "") or ""),
        )
        by_path[path] = vid
        return vid

    root = add(module_tree["root"], None, 0)
    if root != ROOT_ID:
        raise ValueError(f"the root NODE's path must be '' (got {root[2:]!r})")
    edges: list[tuple[str, str, tuple[int, ...] | None]] = []
    ios: dict[str, str] = {}
    for e in module_tree.get("edges") or ():
        if not isinstance(e, (list, tuple)) or len(e) < 2:
            raise ValueError(f"edge {e!r} must be [src_path, dst_path, shape_or_null]")
        ends = []
        for p in (str(e[0]), str(e[1])):
            if p.startswith(("input:", "output:")):
                vid = ios.setdefault(p, "io:" + p)
                nodes.setdefault(vid, ViewNode(id=vid, path=p, name=p, type=p.split(":")[0], kind="io", depth=1, parent=ROOT_ID))
                ends.append(vid)
            else:
                ends.append(by_path.get(p))
        shape = e[2] if len(e) > 2 else None
        if ends[0] is not None and ends[1] is not None:
            edges.append((ends[0], ends[1], tuple(shape) if isinstance(shape, list) else shape))
    ins = sorted((v for v in ios.values() if v.startswith("io:input")), key=_io_key)
    outs = sorted((v for v in ios.values() if v.startswith("io:output")), key=_io_key)
    top = (*ins, *nodes[ROOT_ID].children, *outs) if nodes[ROOT_ID].children else (*ins, ROOT_ID, *outs)
    max_depth = max((n.depth for n in nodes.values() if n.kind != "io"), default=0)
    return ViewTree(nodes=nodes, edges=tuple(edges), max_depth=max_depth, top=top)


def _io_key(vid: str) -> tuple[int, str]:
    tail = vid.rsplit(":", 1)[-1]
    return (int(tail), vid) if tail.isdigit() else (1 << 30, vid)


def expanded_for_depth(tree: ViewTree, depth: int) -> set[str]:
    """Ids to expand so that modules down to ``depth`` levels below the root are shown (folds stay folded)."""
    return {n.id for n in tree.nodes.values() if n.children and n.kind != "fold" and n.depth < depth and n.id != ROOT_ID}


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


def auto_depth(tree: ViewTree, limit: int = 60) -> int:
    """The deepest depth (>= 1) whose view has at most ``limit`` drawn nodes."""
    best = 1
    for d in range(1, tree.max_depth + 1):
        if len(visible_nodes(tree, expanded_for_depth(tree, d))) > limit:
            break
        best = d
    return best


def _ancestors(tree: ViewTree, vid: str) -> list[str]:
    out = []
    p = tree.nodes[vid].parent
    while p is not None and p != ROOT_ID:
        out.append(p)
        p = tree.nodes[p].parent
    return out


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
            out.update(_ancestors(tree, vid))
    return out


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
            chain = [vid, *_ancestors(tree, vid)]
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


def node_details(tree: ViewTree, vid: str) -> dict[str, str]:
    """Human-readable facts about one node, for the details panel (empty dict for an unknown id)."""
    n = tree.nodes.get(vid)
    if n is None:
        return {}
    out = {"Path": n.path or "(root)", "Type": n.type if n.kind != "fold" else f"{n.type} ×{n.count}"}
    if n.kind != "io":
        out["Parameters (own)"] = human_count(n.params)
        out["Parameters (total)"] = (f"{human_count(n.params_total)} ({n.params_total:,})" if n.params_total >= 0
                                     else "unknown (not recorded in a GraphDef)")
        out["Trainable"] = human_count(n.trainable)
    out["Input shapes"] = format_shape(list(n.input_shapes)) or "unknown"
    out["Output shapes"] = format_shape(list(n.output_shapes)) or "unknown"
    if n.extra:
        out["Extra"] = n.extra
    if n.children:
        out["Children"] = str(len(n.children))
    return out


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
