"""TensorBoard GraphDef (as torch's SummaryWriter.add_graph writes it) -> the module-tree schema of ``logger.add_graph``.

torch names operator nodes ``Net/Sequential[features]/Conv2d[0]/input.3`` (op
``aten::conv2d``): the scope components become modules (``Conv2d[0]`` -> name ``"0"``,
type ``"Conv2d"``; the first component is the root class), operators become leaf
children ``<module path>.<op>#<k>`` of type ``aten::...``; a module whose only content
is one operator is shown as that leaf itself. ``prim::GetAttr``, ``prim::Constant``
and list/tuple plumbing are hidden, and edges pass through them. Graph inputs/outputs
(op ``IO Node``) become ``input:i``/``output:i``; edge shapes come from ``_output_shapes``.
GraphDefs from TensorFlow/Keras (``/``-scoped names without brackets and no torch ops) keep
their node names: ``dense/MatMul`` is leaf ``MatMul`` inside module ``dense``, under a root
of type ``Graph`` (a node whose name is also a scope becomes ``<name>#op``). The bytes may
also be a TF2 trace RunMetadata or Keras model JSON (:mod:`vizboard.data.graph_blobs`).
Parameter counts are not in a GraphDef, so the ``params*`` keys are left out (unknown).
"""

from __future__ import annotations

import re
from typing import Any

from logger._pb import graph_pb2
from vizboard.data.graph_blobs import graph_blob_to_graphdef

__all__ = ["graphdef_to_module_tree", "HIDDEN_OPS"]

HIDDEN_OPS = frozenset({
    "prim::GetAttr", "prim::Constant", "prim::ListConstruct", "prim::ListUnpack",
    "prim::TupleConstruct", "prim::TupleUnpack", "Const", "NoOp",
})
"""Operator kinds that are plumbing, not computation: hidden, with edges passing through them."""

_SCOPE = re.compile(r"^(?P<type>[^\[\]]+)\[(?P<name>.*)\]$")


def _shape_list(node: graph_pb2.NodeDef) -> list[list[int] | None]:
    attr = node.attr.get("_output_shapes")
    if attr is None:
        return []
    out: list[list[int] | None] = []
    for shp in attr.list.shape:
        out.append(None if shp.unknown_rank else [int(d.size) for d in shp.dim])
    return out


def _split_input(name: str) -> tuple[str, int] | None:
    if name.startswith("^"):
        return None  # control edge: ordering only, no tensor
    head, sep, tail = name.rpartition(":")
    if sep and tail.isdigit():
        return head, int(tail)
    return name, 0


def graphdef_to_module_tree(graph_def: bytes | graph_pb2.GraphDef) -> dict[str, Any]:
    """Build ``{"version": 1, "root": NODE, "edges": [...]}`` from a serialized (or parsed) GraphDef.

    Bytes may also be a TF2 trace RunMetadata or Keras JSON. Raises ValueError if they hold no graph.
    """
    g = graph_blob_to_graphdef(bytes(graph_def)) if isinstance(graph_def, (bytes, bytearray, memoryview)) else graph_def
    by_name = {n.name: n for n in g.node}
    torch_style = any(n.op == "IO Node" or n.op.startswith(("aten::", "prim::", "onnx::")) for n in g.node)
    root_type = ""
    if torch_style:
        for n in g.node:
            if n.op != "IO Node" and "/" in n.name:
                root_type = n.name.split("/", 1)[0]
                break
    scope_paths = set() if torch_style else {".".join(n.name.split("/")[:i]) for n in g.node
                                             for i in range(1, n.name.count("/") + 1)}

    modules: dict[str, dict[str, Any]] = {}
    root = modules[""] = _node("", "", root_type or "Graph")
    order: dict[str, list[str]] = {"": []}

    def module_for(scopes: list[str]) -> str:
        path = ""
        for comp in scopes:
            m = _SCOPE.match(comp)
            name, typ = (m.group("name"), m.group("type")) if m else (comp, comp)
            child = f"{path}.{name}" if path else name
            if child not in modules:
                modules[child] = _node(child, name, typ)
                order[path].append(child)
                order[child] = []
            path = child
        return path

    leaf_of: dict[str, str] = {}  # NodeDef name -> leaf path
    out_shapes: dict[str, list[list[int] | None]] = {}
    ios = {"input": 0, "output": 0}
    counters: dict[tuple[str, str], int] = {}
    for n in g.node:
        if n.op in HIDDEN_OPS:
            continue
        shapes = _shape_list(n)
        if n.op == "IO Node":
            kind = "output" if n.name.startswith("output") else "input"
            leaf_of[n.name] = f"{kind}:{ios[kind]}"
            ios[kind] += 1
            out_shapes[n.name] = shapes
            continue
        parts = n.name.split("/")
        scopes = parts[1:-1] if root_type and parts[0] == root_type else parts[:-1]
        parent = module_for(scopes)
        if torch_style:
            short = n.op.split("::")[-1] or "op"
            k = counters.get((parent, short), 0)
            counters[(parent, short)] = k + 1
            label = f"{short}#{k}"
        else:  # TensorFlow names are unique: keep them
            label = parts[-1] or n.op or "op"
            if (f"{parent}.{label}" if parent else label) in scope_paths:
                label += "#op"
        path = f"{parent}.{label}" if parent else label
        modules[path] = _node(path, label, n.op or "op")
        modules[path]["output_shapes"] = [s for s in shapes if s is not None]
        order[parent].append(path)
        order[path] = []
        leaf_of[n.name] = path
        out_shapes[n.name] = shapes

    # Resolve inputs through hidden nodes to visible producers (memoised; cycles guarded).
    memo: dict[str, list[tuple[str, int]]] = {}

    def producers(name: str, port: int, seen: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
        if name in leaf_of:
            return [(name, port)]
        if name in memo:
            return memo[name]
        node = by_name.get(name)
        if node is None or name in seen:
            return []  # torch references module objects that are not emitted
        res: list[tuple[str, int]] = []
        for inp in node.input:
            sp = _split_input(inp)
            if sp:
                res.extend(producers(sp[0], sp[1], seen | {name}))
        memo[name] = res
        return res

    edges: list[list[Any]] = []
    seen_edges: set[tuple[str, str]] = set()
    for n in g.node:
        if n.name not in leaf_of:
            continue
        dst = leaf_of[n.name]
        for inp in n.input:
            sp = _split_input(inp)
            if not sp:
                continue
            for src_name, port in producers(*sp):
                src = leaf_of[src_name]
                if src == dst or (src, dst) in seen_edges:
                    continue
                seen_edges.add((src, dst))
                shapes = out_shapes.get(src_name) or []
                shape = shapes[port] if port < len(shapes) else None
                edges.append([src, dst, shape])
                if not dst.startswith(("input:", "output:")):
                    ins = modules[dst]["input_shapes"]
                    if shape is not None and shape not in ins:
                        ins.append(shape)

    # A module holding exactly one operator and nothing else becomes that operator's leaf.
    rename: dict[str, str] = {}
    for path in list(order):
        kids = order.get(path, [])
        if torch_style and path and len(kids) == 1 and not order.get(kids[0]) and "#" in kids[0].rsplit(".", 1)[-1]:
            op = modules.pop(kids[0])
            order[path] = []
            mod = modules[path]
            mod["extra"] = op["type"]
            mod["input_shapes"], mod["output_shapes"] = op["input_shapes"], op["output_shapes"]
            rename[kids[0]] = path
    edges = [[rename.get(s, s), rename.get(d, d), shp] for s, d, shp in edges]
    _fill_module_shapes(modules, order, edges)

    def build(path: str) -> dict[str, Any]:
        node = modules[path]
        node["children"] = [build(c) for c in order.get(path, []) if c in modules]
        return node

    build("")
    return {"version": 1, "root": root, "edges": edges, "source": "graph_def"}


def _node(path: str, name: str, typ: str) -> dict[str, Any]:
    return {"path": path, "name": name, "type": typ, "input_shapes": [], "output_shapes": [], "extra": "", "children": []}


def _fill_module_shapes(modules: dict[str, dict[str, Any]], order: dict[str, list[str]], edges: list[list[Any]]) -> None:
    """Give every module with children the shapes of the edges crossing its boundary."""
    def ancestors(path: str) -> list[str]:
        out = []
        while "." in path:
            path = path.rsplit(".", 1)[0]
            out.append(path)
        return out

    for src, dst, shape in edges:
        if shape is None:
            continue
        sa = set(ancestors(src)) if not src.startswith("input:") else set()
        da = set(ancestors(dst)) if not dst.startswith("output:") else set()
        for a in da - sa:
            if a in modules and order.get(a) and shape not in modules[a]["input_shapes"]:
                modules[a]["input_shapes"].append(shape)
        for a in sa - da:
            if a in modules and order.get(a) and shape not in modules[a]["output_shapes"]:
                modules[a]["output_shapes"].append(shape)
