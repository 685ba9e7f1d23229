"""GraphDef name scopes -> module tree, on real graphs from torch's tracer (as SummaryWriter.add_graph writes them)."""

from __future__ import annotations

import pytest

from vizboard.figures import graphs as gf
from vizboard.figures.graphdef_tree import graphdef_to_module_tree

torch = pytest.importorskip("torch")
pytorch_graph = pytest.importorskip("torch.utils.tensorboard._pytorch_graph")

from graph_models import ResNet50  # noqa: E402

nn = torch.nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        self.head = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


def _walk(node: dict):
    yield node
    for c in node["children"]:
        yield from _walk(c)


@pytest.fixture(scope="module")
def net_tree() -> dict:
    graph_def, _ = pytorch_graph.graph(Net(), (torch.zeros(1, 3, 8, 8),))
    return graphdef_to_module_tree(graph_def.SerializeToString())


def test_scopes_become_modules_with_name_and_type(net_tree: dict) -> None:
    root = net_tree["root"]
    assert (root["path"], root["type"]) == ("", "Net")
    by_path = {n["path"]: n for n in _walk(root)}
    assert by_path["features"]["type"] == "Sequential"
    assert (by_path["features.0"]["name"], by_path["features.0"]["type"]) == ("0", "Conv2d")
    # a module holding a single operator is that operator's leaf
    assert by_path["features.0"]["children"] == [] and by_path["features.0"]["extra"] == "aten::_convolution"
    assert by_path["features.0"]["output_shapes"] == [[1, 8, 6, 6]]
    # an operator called directly in the root's forward is a leaf child of the root
    assert by_path["flatten#0"]["type"] == "aten::flatten"
    types = {n["type"] for n in _walk(root)}
    assert not types & {"prim::GetAttr", "prim::Constant", "prim::ListConstruct"}
    assert "params_total" not in by_path["features.0"]  # unknown in a GraphDef


def test_edges_follow_the_data_flow_with_shapes(net_tree: dict) -> None:
    edges = {(s, d): shape for s, d, shape in net_tree["edges"]}
    assert edges[("input:0", "features.0")] == [1, 3, 8, 8]
    assert edges[("features.0", "features.1")] == [1, 8, 6, 6]
    assert ("features.1", "flatten#0") in edges and ("flatten#0", "head") in edges
    assert edges[("head", "output:0")] == [1, 10]
    paths = {n["path"] for n in _walk(net_tree["root"])} | {"input:0", "output:0"}
    assert all(s in paths and d in paths for s, d in edges)


def test_resnet_graphdef_gives_the_same_view_as_the_module_tree() -> None:
    graph_def, _ = pytorch_graph.graph(ResNet50().eval(), (torch.zeros(1, 3, 32, 32),))
    tree = gf.build_view_tree(graphdef_to_module_tree(graph_def.SerializeToString()))
    folds = {n.id for n in tree.nodes.values() if n.kind == "fold"}
    assert folds == {"fold:layer1.1..2", "fold:layer2.1..3", "fold:layer3.1..5", "fold:layer4.1..2"}
    assert tree.nodes["m:layer1.0.downsample.0"].type == "Conv2d"
    assert "unknown" in gf.node_details(tree, "m:conv1")["Parameters (total)"]
    elements, _, _ = gf.graph_elements(tree, gf.expanded_for_depth(tree, gf.auto_depth(tree)))
    edges = [(e["data"]["source"], e["data"]["target"]) for e in elements if "source" in e["data"]]
    assert ("io:input:0", "m:conv1") in edges and len(edges) == len(set(edges))


def test_bad_bytes_raise_value_error() -> None:
    with pytest.raises(ValueError, match="GraphDef"):
        graphdef_to_module_tree(b"\xff\xff\xff")
