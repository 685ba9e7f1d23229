"""torch module -> TensorBoard GraphDef (torch's own tracer) and vizboard's module tree (hooks + a TorchFunctionMode).

:func:`build` returns ``(graph_def bytes, run_metadata bytes, tree dict)``. The GraphDef is
produced by ``torch.utils.tensorboard._pytorch_graph.graph`` exactly as torch's writer
does (needs the ``tensorboard`` package; without it the GraphDef is empty and only the
tree is written). The tree (contract with the graph dashboard, version 1) comes from one
forward pass under ``torch.no_grad`` in eval mode (training mode restored afterwards):

- forward hooks give each module's input/output shapes (first call);
- data-flow edges link LEAF nodes: a leaf's output tensors are remembered by ``id``; when
  a tensor reaches another leaf (or a functional op called directly in a non-leaf's
  forward, e.g. ``torch.flatten``, ``F.relu``, ``x + y``), an edge from its producer is
  added. Such ops become child nodes ``<parent>.<op>#<k>`` of type ``aten::<op>``.
- model inputs/outputs appear in edges as ``input:<i>`` / ``output:<i>``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

__all__ = ["build", "module_tree", "onnx_graph_def", "TREE_VERSION"]

TREE_VERSION = 1
_EXTRA_MAX = 200
_OP_RENAMES = {"iadd": "add_", "isub": "sub_", "imul": "mul_", "itruediv": "div_", "radd": "add", "rsub": "rsub",
               "rmul": "mul", "truediv": "div", "rtruediv": "div", "getitem": "slice", "matmul": "matmul"}
_SKIP_OPS = {"__get__", "__set__", "size", "dim", "numel", "__len__", "__bool__", "__format__", "__repr__", "item",
             "tolist", "__iter__", "__contains__", "is_floating_point", "__hash__"}


def _tensors(x: Any, out: list[Any]) -> list[Any]:
    """Flatten tensors out of nested tuples/lists/dicts (in order)."""
    if type(x).__module__.startswith("torch") and hasattr(x, "shape") and hasattr(x, "detach"):
        out.append(x)
    elif isinstance(x, (list, tuple)):
        for e in x:
            _tensors(e, out)
    elif isinstance(x, dict):
        for e in x.values():
            _tensors(e, out)
    return out


def _shape(t: Any) -> list[int]:
    return [int(d) for d in t.shape]


def _op_name(func: Any) -> str:
    name = getattr(func, "__name__", None) or str(func)
    bare = name.strip("_")
    return _OP_RENAMES.get(bare, bare) or "op"


class _Recorder:
    """Collects shapes, op nodes and edges during one forward pass."""

    def __init__(self, model: Any) -> None:
        self.paths: dict[int, str] = {id(m): name for name, m in model.named_modules()}
        self.leaf: dict[int, bool] = {id(m): not any(True for _ in m.children()) for _, m in model.named_modules()}
        self.stack: list[tuple[str, bool]] = []
        self.producer: dict[int, str] = {}
        self.alive: list[Any] = []
        self.shapes: dict[str, tuple[list[list[int]], list[list[int]]]] = {}
        self.ops: dict[str, list[dict[str, Any]]] = {}
        self.op_count: dict[tuple[str, str], int] = {}
        self.edges: list[list[Any]] = []
        self.edge_seen: set[tuple[str, str]] = set()

    def edge(self, src: str, dst: str, shape: list[int] | None) -> None:
        if (src, dst) not in self.edge_seen:
            self.edge_seen.add((src, dst))
            self.edges.append([src, dst, shape])

    def produce(self, tensors: list[Any], path: str) -> None:
        for t in tensors:
            self.producer[id(t)] = path
            self.alive.append(t)

    def consume(self, tensors: list[Any], path: str) -> None:
        for t in tensors:
            src = self.producer.get(id(t))
            if src is not None and src != path:
                self.edge(src, path, _shape(t))

    def pre_hook(self, module: Any, args: Any, kwargs: Any) -> None:
        path = self.paths.get(id(module), "?")
        leaf = self.leaf.get(id(module), True)
        ins = _tensors((args, kwargs), [])
        if path not in self.shapes:
            self.shapes[path] = ([_shape(t) for t in ins], [])
        if leaf:
            self.consume(ins, path)
        self.stack.append((path, leaf))

    def post_hook(self, module: Any, args: Any, kwargs: Any, output: Any) -> None:
        path, leaf = self.stack.pop() if self.stack else (self.paths.get(id(module), "?"), True)
        outs = _tensors(output, [])
        ins_shapes, out_shapes = self.shapes.get(path, ([], []))
        if not out_shapes:
            self.shapes[path] = (ins_shapes, [_shape(t) for t in outs])
        if leaf:
            self.produce(outs, path)

    def on_op(self, func: Any, args: Any, kwargs: Any, out: Any) -> None:
        if not self.stack or self.stack[-1][1]:
            return  # outside the model, or inside a leaf module
        name = getattr(func, "__name__", "")
        if name in _SKIP_OPS:
            return
        outs = _tensors(out, [])
        if not outs:
            return
        ins = [t for t in _tensors((args, kwargs or {}), []) if id(t) in self.producer]
        if not ins:
            return
        parent = self.stack[-1][0]
        op = _op_name(func)
        k = self.op_count.get((parent, op), 0)
        self.op_count[(parent, op)] = k + 1
        path = f"{parent}.{op}#{k}" if parent else f"{op}#{k}"
        self.ops.setdefault(parent, []).append({
            "path": path, "name": f"{op}#{k}", "type": f"aten::{op}", "params": 0, "params_total": 0, "trainable": 0,
            "input_shapes": [_shape(t) for t in ins], "output_shapes": [_shape(t) for t in outs], "extra": "",
            "children": [],
        })
        self.consume(ins, path)
        self.produce(outs, path)


def _node(rec: _Recorder, module: Any, path: str, name: str) -> dict[str, Any]:
    params = list(module.parameters())
    try:
        extra = module.extra_repr()
    except Exception:  # noqa: BLE001 - a broken extra_repr must not break logging
        extra = ""
    ins, outs = rec.shapes.get(path, ([], []))
    children = [_node(rec, child, f"{path}.{cname}" if path else cname, cname) for cname, child in module.named_children()]
    children += rec.ops.get(path, [])
    return {
        "path": path, "name": name, "type": type(module).__name__,
        "params": sum(p.numel() for p in module.parameters(recurse=False)),
        "params_total": sum(p.numel() for p in params),
        "trainable": sum(p.numel() for p in params if p.requires_grad),
        "input_shapes": ins, "output_shapes": outs, "extra": (extra or "")[:_EXTRA_MAX], "children": children,
    }


def _to_device(x: Any, device: Any) -> Any:
    if type(x).__module__.startswith("torch") and hasattr(x, "to") and hasattr(x, "device"):
        return x.to(device) if x.device != device else x
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(e, device) for e in x)
    return x


def module_tree(model: Any, input_to_model: Any) -> dict[str, Any]:
    """vizboard's module tree (version 1) of ``model`` for one forward pass on ``input_to_model``."""
    import torch
    from torch.overrides import TorchFunctionMode

    rec = _Recorder(model)

    class _Mode(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            rec.on_op(func, args, kwargs, out)
            return out

    params = next(model.parameters(), None)
    inputs = input_to_model if isinstance(input_to_model, tuple) else (input_to_model,)
    if input_to_model is None:
        inputs = ()
    if params is not None:
        inputs = _to_device(inputs, params.device)
    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(rec.pre_hook, with_kwargs=True))
        handles.append(m.register_forward_hook(rec.post_hook, with_kwargs=True))
    was_training = {m: m.training for m in model.modules()}
    mha = getattr(torch.backends, "mha", None)
    fast = mha.get_fastpath_enabled() if mha is not None else None
    try:
        model.eval()
        if mha is not None:
            mha.set_fastpath_enabled(False)
        for i, t in enumerate(_tensors(inputs, [])):
            rec.produce([t], f"input:{i}")
        with torch.no_grad(), _Mode():
            output = model(*inputs)
        for i, t in enumerate(_tensors(output, [])):
            src = rec.producer.get(id(t))
            if src is not None:
                rec.edge(src, f"output:{i}", _shape(t))
    finally:
        for h in handles:
            h.remove()
        for m, training in was_training.items():
            m.training = training
        if mha is not None and fast is not None:
            mha.set_fastpath_enabled(fast)
    return {"version": TREE_VERSION, "root": _node(rec, model, "", ""), "edges": rec.edges}


def build(model: Any, input_to_model: Any = None, verbose: bool = False,
          use_strict_trace: bool = True) -> tuple[bytes, bytes, dict[str, Any], BaseException | None]:
    """``(GraphDef bytes, RunMetadata bytes, module tree, tracer error)`` for ``model``; the GraphDef as torch writes it.

    The module tree needs only one forward pass, so it is built first and always
    returned. The GraphDef needs torch's JIT tracer (called exactly as torch's writer
    calls it, with ``use_strict_trace``), which rejects some models that run fine (e.g.
    ``nn.TransformerEncoder``: "Graphs differed across invocations"). Then the GraphDef
    is empty (``b""``), a ``RuntimeWarning`` names the tracer's error, and the error is
    returned so the writer can raise it after writing the tree (torch raises it too).
    """
    if not (type(model).__module__.startswith("torch") or hasattr(model, "named_modules")):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    tree = module_tree(model, input_to_model)
    try:
        from torch.utils.tensorboard._pytorch_graph import graph as _torch_graph
    except ImportError:  # tensorboard not installed: the module tree still works
        return b"", b"", tree, None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch.jit.trace's deprecation notice
            with contextlib.redirect_stdout(io.StringIO()):  # torch prints "Error occurs, No graph saved"
                gd, rm = _torch_graph(model, input_to_model, verbose, use_strict_trace)  # type: ignore[no-untyped-call]
    except Exception as exc:  # the tracer raises many types (TracingCheckError, RuntimeError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        hint = " (use_strict_trace=False may help)" if use_strict_trace else ""
        warnings.warn(
            f"add_graph: torch.jit.trace could not trace the model{hint}, so no TensorBoard GraphDef was written; "
            f"the module tree was (vizboard's Graphs tab draws it). Tracer error: {type(exc).__name__}: {first}",
            RuntimeWarning,
            stacklevel=3,
        )
        return b"", b"", tree, exc
    return gd.SerializeToString(), rm.SerializeToString(), tree, None


def onnx_graph_def(path: Any, wall_time: float) -> bytes:
    """Serialized ``Event{graph_def}`` for the ONNX model file ``path``, with the nodes torch's ``add_onnx_graph`` writes.

    Graph inputs and outputs become ``Variable`` nodes (``dtype`` = ONNX element type,
    ``shape``); each ONNX node becomes a node named after its first output, ``op`` = its
    ``op_type``, with its attributes as one ``parameters`` string. Needs the ``onnx`` package.
    """
    import os

    from logger._pb import event_pb2, graph_pb2, tensor_shape_pb2

    try:
        import onnx
    except ImportError:
        raise ImportError("add_onnx_graph reads .onnx files with the onnx package: pip install onnx") from None
    if not os.path.isfile(os.fspath(path)):
        raise FileNotFoundError(f"add_onnx_graph: prototxt must be the path of an .onnx model file; {path!r} is not a file")
    g = onnx.load(os.fspath(path)).graph
    nodes = []
    for io_node in [*g.input, *g.output]:
        tt = io_node.type.tensor_type
        shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d.dim_value)
                                                       for d in tt.shape.dim])
        nodes.append(graph_pb2.NodeDef(name=io_node.name, op="Variable", attr={
            "dtype": graph_pb2.AttrValue(type=tt.elem_type), "shape": graph_pb2.AttrValue(shape=shape)}))
    for node in g.node:
        params = ", ".join(" = ".join(str(f[1]) for f in a.ListFields()) for a in node.attribute)
        nodes.append(graph_pb2.NodeDef(name=node.output[0], op=node.op_type, input=list(node.input),
                                       attr={"parameters": graph_pb2.AttrValue(s=params.encode("utf-8"))}))
    gd = graph_pb2.GraphDef(node=nodes, versions=graph_pb2.VersionDef(producer=22))
    data: bytes = event_pb2.Event(wall_time=wall_time, graph_def=gd.SerializeToString()).SerializeToString()
    return data
