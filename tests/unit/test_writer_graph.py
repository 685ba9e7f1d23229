"""logger.graph: vizboard's module tree (paths, types, param counts, shapes, edges) and add_graph output."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from logger import graph  # noqa: E402


def _nodes(tree: dict) -> dict[str, dict]:
    out = {}

    def walk(n: dict) -> None:
        out[n["path"]] = n
        for c in n["children"]:
            walk(c)

    walk(tree["root"])
    return out


def _edges(tree: dict) -> set[tuple[str, str]]:
    return {(s, d) for s, d, _ in tree["edges"]}


def _check_params(model: nn.Module, nodes: dict) -> None:
    for path, module in model.named_modules():
        node = nodes[path]
        assert node["type"] == type(module).__name__
        assert node["params_total"] == sum(p.numel() for p in module.parameters())
        assert node["params"] == sum(p.numel() for p in module.parameters(recurse=False))
        assert node["trainable"] == sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_sequential() -> None:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model[2].weight.requires_grad_(False)
    tree = graph.module_tree(model, torch.randn(3, 4))
    assert tree["version"] == 1
    nodes = _nodes(tree)
    assert set(nodes) == {"", "0", "1", "2"}
    _check_params(model, nodes)
    assert nodes[""]["trainable"] == 58 - 16
    assert nodes["0"]["input_shapes"] == [[3, 4]] and nodes["0"]["output_shapes"] == [[3, 8]]
    assert nodes["0"]["name"] == "0" and nodes[""]["name"] == ""
    assert "in_features=4" in nodes["0"]["extra"]
    assert tree["edges"] == [["input:0", "0", [3, 4]], ["0", "1", [3, 8]], ["1", "2", [3, 8]], ["2", "output:0", [3, 2]]]
    assert model.training  # mode restored


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def test_cnn_with_flatten_op() -> None:
    model = SmallCNN()
    tree = graph.module_tree(model, torch.randn(2, 3, 8, 8))
    nodes = _nodes(tree)
    _check_params(model, nodes)
    assert nodes["flatten#0"]["type"] == "aten::flatten"
    assert nodes["flatten#0"]["output_shapes"] == [[2, 128]]
    assert _edges(tree) == {("input:0", "features.0"), ("features.0", "features.1"), ("features.1", "features.2"),
                            ("features.2", "flatten#0"), ("flatten#0", "fc"), ("fc", "output:0")}
    assert nodes["features"]["output_shapes"] == [[2, 8, 4, 4]]


class Residual(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


def test_residual_block_edges_into_the_add() -> None:
    model = Residual()
    before = model.bn1.running_mean.clone()
    tree = graph.module_tree(model, torch.randn(1, 4, 5, 5))
    nodes = _nodes(tree)
    _check_params(model, nodes)
    add = [p for p in nodes if p.startswith("add")]
    assert add == ["add#0"] and nodes["add#0"]["type"] == "aten::add"
    edges = _edges(tree)
    assert ("bn2", "add#0") in edges and ("input:0", "add#0") in edges  # the skip connection
    assert ("add#0", "relu") in edges and ("relu", "output:0") in edges
    assert ("input:0", "conv1") in edges
    assert torch.equal(model.bn1.running_mean, before)  # eval mode: no running-stat update


def test_transformer_encoder_layer() -> None:
    model = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    model.eval()
    tree = graph.module_tree(model, torch.randn(2, 5, 16))
    nodes = _nodes(tree)
    _check_params(model, nodes)
    assert nodes["self_attn"]["type"] == "MultiheadAttention"
    assert nodes["self_attn"]["input_shapes"][0] == [2, 5, 16]
    assert nodes["linear1"]["output_shapes"] == [[2, 5, 32]]
    edges = _edges(tree)
    assert ("dropout1", "add#0") in edges and ("input:0", "add#0") in edges  # residual around attention
    assert ("add#0", "norm1") in edges and ("norm1", "linear1") in edges
    assert ("norm1", "add#1") in edges and ("dropout2", "add#1") in edges  # residual around the MLP
    assert ("norm2", "output:0") in edges
    assert not model.training
    json.dumps(tree)


class Bottleneck(nn.Module):
    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * 4
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


def resnet50() -> nn.Module:
    layers, cin = [], 64
    for i, (n, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        blocks = []
        for j in range(n):
            blocks.append(Bottleneck(cin, width, 2 if (j == 0 and i > 0) else 1))
            cin = width * 4
        layers.append(nn.Sequential(*blocks))
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                         *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000))


def test_resnet50_tree_is_small_and_complete() -> None:
    model = resnet50()
    tree = graph.module_tree(model, torch.randn(1, 3, 64, 64))
    size = len(json.dumps(tree, separators=(",", ":")).encode())
    assert size < 300_000, size
    nodes = _nodes(tree)
    assert nodes[""]["params_total"] == sum(p.numel() for p in model.parameters())
    adds = [p for p in nodes if p.endswith("add#0")]
    assert len(adds) == 16
    edges = _edges(tree)
    assert ("4.0.downsample.1", "4.0.add#0") in edges and ("4.0.bn3", "4.0.add#0") in edges
    assert ("4.0.add#0", "4.0.relu") in edges


def test_build_returns_torch_graphdef() -> None:
    from tensorboard.compat.proto import config_pb2, graph_pb2

    model = SmallCNN()
    graph_def, run_metadata, tree, error = graph.build(model, torch.randn(1, 3, 8, 8))
    assert error is None
    gd = graph_pb2.GraphDef.FromString(graph_def)
    ops = {n.op for n in gd.node}
    assert {"aten::_convolution", "aten::flatten", "aten::linear"} & ops
    assert any(n.name.startswith("SmallCNN/Sequential[features]/Conv2d[0]") for n in gd.node)
    assert config_pb2.RunMetadata.FromString(run_metadata).step_stats.dev_stats[0].device == "/device:CPU:0"
    assert tree["root"]["type"] == "SmallCNN"
    with pytest.raises(TypeError, match="model"):
        graph.build(object(), None)


def test_untraceable_model_writes_the_module_tree_then_raises_as_torch(tmp_path) -> None:
    """torch's tracer rejects nn.TransformerEncoder and torch's writer raises; we write the tree, warn, then raise too."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter
    from logger._pb import event_pb2
    from logger.records import scan

    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()
    x = torch.randn(2, 5, 16)
    with pytest.warns(RuntimeWarning, match="could not trace.*use_strict_trace=False.*Tracer error"):
        graph_def, _, tree, error = graph.build(model, x)
    assert graph_def == b"" and error is not None
    assert _nodes(tree)["layers.1.linear2"]["type"] == "Linear"

    with TorchWriter(tmp_path / "torch") as tw, pytest.raises(Exception) as torch_exc:
        tw.add_graph(model, x)
    with SummaryWriter(tmp_path / "ours") as w, pytest.warns(RuntimeWarning, match="could not trace"):
        with pytest.raises(type(torch_exc.value)):
            w.add_graph(model, x)
    events = [
        event_pb2.Event.FromString(r.payload)
        for f in sorted((tmp_path / "ours").glob("*tfevents*"))
        for r in scan(f.read_bytes()).records
    ]
    assert not any(e.HasField("graph_def") for e in events)  # no empty GraphDef for TensorBoard to choke on
    trees = [v for e in events for v in e.summary.value if v.tag == "__vizboard_module_graph__"]
    assert len(trees) == 1
    assert json.loads(trees[0].tensor.string_val[0])["root"]["type"] == "TransformerEncoder"
