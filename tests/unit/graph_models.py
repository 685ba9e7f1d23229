"""Test models (a ResNet-50-like net, a 12-layer transformer) and a forward-hook module-tree generator.

``module_tree(model, x)`` follows logger.add_graph's module-tree schema so the Graphs
tab's builders can be tested on real torch structure before (and independently of)
the logger's own implementation. A helper module (no tests; named without ``test_`` so
pytest does not collect it).
"""

from __future__ import annotations

from typing import Any

import torch

nn = torch.nn


class Bottleneck(nn.Module):
    """torchvision's ResNet Bottleneck, transcribed (torchvision is not installed)."""

    def __init__(self, cin: int, width: int, stride: int = 1) -> None:
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=False)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + idt)


class ResNet50(nn.Module):
    """ResNet-50's module structure (3-4-6-3 Bottleneck stages) with small widths, for speed."""

    def __init__(self, base: int = 4, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = base, []
        for i, (n, w) in enumerate(zip((3, 4, 6, 3), (base, base * 2, base * 4, base * 8))):
            blocks = [Bottleneck(cin, w, 1 if i == 0 else 2)]
            blocks += [Bottleneck(w * 4, w) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = w * 4
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def transformer(layers: int = 12):
    """A small encoder stack: Linear embedding + ``layers`` identical TransformerEncoderLayers + head."""
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    return nn.Sequential(nn.Linear(8, 16), nn.TransformerEncoder(layer, layers, enable_nested_tensor=False),
                         nn.Linear(16, 4))


def module_tree(model: Any, *inputs: Any) -> dict[str, Any]:
    """The module-tree dict (schema of logger.add_graph) of one forward pass, via hooks and a function mode."""
    from torch.overrides import TorchFunctionMode

    names = {m: n for n, m in model.named_modules()}
    nodes: dict[str, dict[str, Any]] = {}
    for m, path in names.items():
        own = sum(p.numel() for p in m.parameters(recurse=False))
        nodes[path] = {"path": path, "name": path.rsplit(".", 1)[-1] if path else "", "type": type(m).__name__,
                       "params": own, "params_total": sum(p.numel() for p in m.parameters()),
                       "trainable": sum(p.numel() for p in m.parameters() if p.requires_grad),
                       "input_shapes": [], "output_shapes": [], "extra": m.extra_repr(), "children": []}
    for m, path in names.items():
        for c in m.children():
            nodes[path]["children"].append(nodes[names[c]])
    producer: dict[int, str] = {id(t): f"input:{i}" for i, t in enumerate(inputs)}
    alive: list[Any] = list(inputs)  # keeps every seen tensor alive so that ids are never reused
    edges: list[list[Any]] = []
    stack: list[Any] = []
    ops: dict[str, int] = {}

    def tensors(v: Any) -> list[Any]:
        if isinstance(v, torch.Tensor):
            return [v]
        if isinstance(v, (list, tuple)):
            return [t for x in v for t in tensors(x)]
        if isinstance(v, dict):
            return [t for x in v.values() for t in tensors(x)]
        return []

    def consume(path: str, args: Any) -> None:
        for t in tensors(args):
            src = producer.get(id(t))
            if src is not None and src != path and [src, path, list(t.shape)] not in edges:
                edges.append([src, path, list(t.shape)])

    def pre(m, args, kwargs):
        stack.append(m)
        path = names[m]
        nodes[path]["input_shapes"] = [list(t.shape) for t in tensors((args, kwargs))]
        if not any(True for _ in m.children()):
            consume(path, (args, kwargs))

    def post(m, args, kwargs, out):
        stack.pop()
        path = names[m]
        nodes[path]["output_shapes"] = [list(t.shape) for t in tensors(out)]
        if not any(True for _ in m.children()):
            for t in tensors(out):
                producer[id(t)] = path
                alive.append(t)

    class Ops(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if stack and any(True for _ in stack[-1].children()):
                ins = [t for t in tensors((args, kwargs)) if id(t) in producer]
                outs = tensors(out)
                if ins and outs and all(id(t) not in producer for t in outs):
                    parent = names[stack[-1]]
                    short = getattr(func, "__name__", "op").strip("_")
                    k = ops.get(f"{parent}.{short}", 0)
                    ops[f"{parent}.{short}"] = k + 1
                    path = f"{parent}.{short}#{k}" if parent else f"{short}#{k}"
                    nodes[path] = {"path": path, "name": f"{short}#{k}", "type": f"aten::{short}", "params": 0,
                                   "params_total": 0, "trainable": 0, "input_shapes": [list(t.shape) for t in ins],
                                   "output_shapes": [list(t.shape) for t in outs], "extra": "", "children": []}
                    nodes[parent]["children"].append(nodes[path])
                    consume(path, ins)
                    for t in outs:
                        producer[id(t)] = path
                        alive.append(t)
            return out

    handles = [m.register_forward_pre_hook(pre, with_kwargs=True) for m in names]
    handles += [m.register_forward_hook(post, with_kwargs=True) for m in names]
    try:
        with torch.no_grad(), Ops():
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
    for i, t in enumerate(tensors(out)):
        consume(f"output:{i}", [t])
    return {"version": 1, "root": nodes[""], "edges": edges}
