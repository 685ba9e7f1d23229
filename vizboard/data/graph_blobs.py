"""Graph records of every writer -> one TensorBoard GraphDef: ``graph_def`` events, TF2 trace RunMetadata, Keras model JSON.

Three kinds of bytes reach the Graphs tab (event-format.md §4):

- a ``GraphDef`` (``Event.graph_def``: torch's ``add_graph``, TF1, ``MetaGraphDef``'s graph);
- a ``RunMetadata`` (plugin ``graph_run_metadata_graph``: TF2 ``tf.summary.trace_export``);
  its graph is the union of every function graph's ``pre_optimization_graph``, nodes
  merged by name, as TensorBoard combines them;
- a Keras model config as JSON (plugin ``graph_keras_model``: the Keras TensorBoard
  callback's ``write_graph=True``, Keras 2 and 3 layouts): each layer becomes a node
  ``<model>/<layer>`` whose op is the layer class and whose inputs are its inbound
  layers (the previous layer in a ``Sequential``); nested models nest their scopes.

:func:`graph_blob_to_graphdef` tells them apart by content, so callers need not know
which plugin wrote the bytes.
"""

from __future__ import annotations

import json
from typing import Any

from logger._pb import graph_pb2, run_metadata_pb2

__all__ = ["graph_blob_to_graphdef", "keras_json_to_graphdef", "run_metadata_graph"]


def graph_blob_to_graphdef(raw: bytes) -> graph_pb2.GraphDef:
    """The GraphDef held by ``raw`` (a GraphDef, a trace RunMetadata or Keras JSON); ValueError if none."""
    raw = bytes(raw)
    head = raw[:64].lstrip()
    if head.startswith(b"{"):
        try:
            config = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"graph record looks like JSON but does not parse: {exc}") from None
        return keras_json_to_graphdef(config)
    traced = run_metadata_graph(raw)
    if traced is not None:
        return traced
    g = graph_pb2.GraphDef()
    try:
        g.ParseFromString(raw)
    except Exception as exc:  # protobuf's DecodeError
        raise ValueError(f"graph record is not a serialized GraphDef: {exc}") from exc
    return g


def run_metadata_graph(raw: bytes) -> graph_pb2.GraphDef | None:
    """The merged pre-optimization function graphs of a RunMetadata, or None if ``raw`` holds none."""
    rm = run_metadata_pb2.RunMetadata()
    try:
        rm.ParseFromString(raw)
    except Exception:  # noqa: BLE001 - not a RunMetadata: the caller tries GraphDef
        return None
    graphs = [fg.pre_optimization_graph for fg in rm.function_graphs if len(fg.pre_optimization_graph.node)]
    if not graphs:
        graphs = [g for g in rm.partition_graphs if len(g.node)]
    if not graphs or any(not n.name or not n.op for g in graphs for n in g.node):
        return None
    out = graph_pb2.GraphDef()
    seen: set[str] = set()
    for g in graphs:
        for node in g.node:
            if node.name not in seen:
                seen.add(node.name)
                out.node.append(node)
        if g.HasField("versions") and not out.HasField("versions"):
            out.versions.CopyFrom(g.versions)
    return out


def _history(obj: Any, out: list[str]) -> list[str]:
    """Names of the layers feeding an inbound node (Keras 3 ``keras_history`` or Keras 2 ``[name, i, j, {}]``)."""
    if isinstance(obj, dict):
        hist = obj.get("keras_history") if "keras_history" in obj else obj.get("config", {}).get("keras_history") \
            if isinstance(obj.get("config"), dict) else None
        if isinstance(hist, list) and hist and isinstance(hist[0], str):
            out.append(hist[0])
            return out
        for v in obj.values():
            _history(v, out)
    elif isinstance(obj, list):
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int) and isinstance(obj[2], int):
            out.append(obj[0])
        else:
            for v in obj:
                _history(v, out)
    return out


def _layers(config: dict[str, Any], scope: str, nodes: list[graph_pb2.NodeDef]) -> tuple[str, str]:
    """Append the nodes of a model ``config`` (``{"class_name", "config": {"layers"...}}``) under ``scope``.

    Returns (first node, last node) names so an enclosing model can wire the nested model.
    """
    body: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    layers: list[Any] = body["layers"] if isinstance(body.get("layers"), list) else []
    sequential = config.get("class_name") == "Sequential" or not any(
        isinstance(layer, dict) and layer.get("inbound_nodes") for layer in layers)
    names: dict[str, str] = {}
    ends: dict[str, tuple[str, str]] = {}
    prev = ""
    first = ""
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        cfg: dict[str, Any] = layer["config"] if isinstance(layer.get("config"), dict) else {}
        lname = str(cfg.get("name") or layer.get("name") or f"layer_{len(nodes)}")
        path = f"{scope}/{lname}" if scope else lname
        names[lname] = path
        if isinstance(cfg.get("layers"), list):  # a nested model: its own scope
            ends[lname] = _layers(layer, path, nodes)
            entry = ends[lname][0]
        else:
            node = graph_pb2.NodeDef(name=path, op=str(layer.get("class_name") or "Layer"))
            nodes.append(node)
            entry = path
        inputs = [] if sequential else _history(layer.get("inbound_nodes", []), [])
        target = next((n for n in nodes if n.name == entry), None)
        if target is not None:
            if sequential and prev:
                target.input.append(prev)
            for src in inputs:
                if src in names and names[src] != path:
                    target.input.append(ends[src][1] if src in ends else names[src])
        prev = ends[lname][1] if lname in ends else path
        first = first or entry
    return first, prev


def keras_json_to_graphdef(config: Any) -> graph_pb2.GraphDef:
    """A GraphDef of a Keras model config (``model.to_json()`` / the callback's ``keras`` tag); ValueError if not one."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError("Keras graph JSON must be an object with a 'config' object (model.to_json())")
    name = str(config["config"].get("name") or config.get("class_name") or "model")
    nodes: list[graph_pb2.NodeDef] = []
    _layers(config, name, nodes)
    if not nodes:
        raise ValueError("Keras graph JSON has no layers")
    return graph_pb2.GraphDef(node=nodes)
