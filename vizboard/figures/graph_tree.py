"""The model's view tree: module tree (``logger.add_graph`` schema) -> folded ``ViewTree``, and node facts.

``build_view_tree`` folds runs of identical consecutive siblings into one "Type ×N" node;
``node_details`` lists one node's facts for the details panel. Drawing is in
``vizboard.figures.graph_elements``; what is shown (depth, expand, search) in
``vizboard.figures.graphs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ROOT_ID", "ViewNode", "ViewTree", "build_view_tree", "node_details", "human_count", "format_shape", "ancestors",
]

ROOT_ID = "m:"
"""View id of the root module (ids are ``m:<path>``, ``fold:<first>..<last>``, ``io:<input:i>``)."""

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


def ancestors(tree: ViewTree, vid: str) -> list[str]:
    """The ids above ``vid`` up to (not including) the root, nearest first."""
    out = []
    p = tree.nodes[vid].parent
    while p is not None and p != ROOT_ID:
        out.append(p)
        p = tree.nodes[p].parent
    return out
