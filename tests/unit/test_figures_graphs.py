"""Graphs tab builders: folding, depth, edge aggregation, search, GraphDef scopes, layered layout."""

from __future__ import annotations

import pytest

from vizboard.figures import graphs as gf
from vizboard.figures.graph_layout import layered_layout

torch = pytest.importorskip("torch")

from graph_models import ResNet50, module_tree, transformer  # noqa: E402


def _node(path: str, typ: str, children=(), params: int = 0, extra: str = "") -> dict:
    total = params + sum(c["params_total"] for c in children)
    return {"path": path, "name": path.rsplit(".", 1)[-1] if path else "", "type": typ, "params": params,
            "params_total": total, "trainable": total, "input_shapes": [[1, 4]], "output_shapes": [[1, 4]],
            "extra": extra, "children": list(children)}


def _block(path: str) -> dict:
    return _node(path, "Block", [_node(f"{path}.fc", "Linear", params=20, extra="in=4, out=4"),
                                 _node(f"{path}.act", "ReLU"), _node(f"{path}.act2", "ReLU")])


@pytest.fixture(scope="module")
def hand_tree() -> dict:
    """input -> stem -> 3 identical blocks -> head -> output, with a skip edge stem -> head."""
    blocks = [_block(f"body.{i}") for i in range(3)]
    root = _node("", "Net", [_node("stem", "Linear", params=20), _node("body", "Sequential", blocks),
                             _node("head", "Linear", params=5)])
    chain = ["input:0", "stem"] + [f"body.{i}.{p}" for i in range(3) for p in ("fc", "act")] + ["head", "output:0"]
    edges = [[a, b, [1, 4]] for a, b in zip(chain, chain[1:])] + [["stem", "head", [1, 4]], ["stem", "head", [1, 4]]]
    return {"version": 1, "root": root, "edges": edges}


@pytest.fixture(scope="module")
def resnet_tree() -> dict:
    return module_tree(ResNet50().eval(), torch.zeros(1, 3, 32, 32))


@pytest.fixture(scope="module")
def transformer_tree() -> dict:
    return module_tree(transformer().eval(), torch.zeros(2, 5, 8))


def _drawn_nodes(elements: list[dict]) -> dict[str, dict]:
    return {e["data"]["id"]: e for e in elements if "source" not in e["data"]}


def _edges(elements: list[dict]) -> list[tuple[str, str]]:
    return [(e["data"]["source"], e["data"]["target"]) for e in elements if "source" in e["data"]]


def test_repeated_blocks_fold_into_one_node(hand_tree: dict) -> None:
    tree = gf.build_view_tree(hand_tree)
    fold = tree.nodes["fold:body.0..2"]
    assert (fold.kind, fold.type, fold.count) == ("fold", "Block", 3)
    assert fold.children == ("m:body.0", "m:body.1", "m:body.2")
    assert fold.params_total == 3 * 20
    assert tree.nodes["m:body"].children == ("fold:body.0..2",)
    # leaves never fold, even when identical and adjacent
    assert [n.id for n in tree.nodes.values() if n.kind == "fold"] == ["fold:body.0..2"]


def test_resnet_and_transformer_fold_like_their_architecture(resnet_tree: dict, transformer_tree: dict) -> None:
    res = gf.build_view_tree(resnet_tree)
    folds = {n.id: (n.type, n.count) for n in res.nodes.values() if n.kind == "fold"}
    # the first block of each stage has a downsample branch, the others are identical (3-4-6-3)
    assert folds == {"fold:layer1.1..2": ("Bottleneck", 2), "fold:layer2.1..3": ("Bottleneck", 3),
                     "fold:layer3.1..5": ("Bottleneck", 5), "fold:layer4.1..2": ("Bottleneck", 2)}
    tx = gf.build_view_tree(transformer_tree)
    (fold,) = [n for n in tx.nodes.values() if n.kind == "fold"]
    assert (fold.type, fold.count) == ("TransformerEncoderLayer", 12)
    elements, _, _ = gf.graph_elements(tx, gf.reveal(tx, set(), [fold.id]))
    assert "TransformerEncoderLayer ×12" in _drawn_nodes(elements)[fold.id]["data"]["label"]


def test_collapse_to_depth(hand_tree: dict, resnet_tree: dict) -> None:
    tree = gf.build_view_tree(hand_tree)
    assert gf.expanded_for_depth(tree, 1) == set()
    assert set(gf.visible_nodes(tree, set())) == {"io:input:0", "m:stem", "m:body", "m:head", "io:output:0"}
    assert gf.expanded_for_depth(tree, 2) == {"m:body"}
    assert "fold:body.0..2" in gf.visible_nodes(tree, {"m:body"})
    res = gf.build_view_tree(resnet_tree)
    depth = gf.auto_depth(res, 60)
    shown = gf.visible_nodes(res, gf.expanded_for_depth(res, depth))
    assert len(shown) <= 60
    assert len(gf.visible_nodes(res, gf.expanded_for_depth(res, depth + 1))) > 60 or depth == res.max_depth


def test_edges_aggregate_across_collapsed_groups(hand_tree: dict) -> None:
    tree = gf.build_view_tree(hand_tree)
    collapsed, _, _ = gf.graph_elements(tree, set())
    edges = _edges(collapsed)
    assert len(edges) == len(set(edges)), "aggregated edges are deduplicated"
    assert all(a != b for a, b in edges), "edges inside a collapsed group are not drawn as self-loops"
    assert set(edges) == {("io:input:0", "m:stem"), ("m:stem", "m:body"), ("m:body", "m:head"),
                          ("m:stem", "m:head"), ("m:head", "io:output:0")}
    label = {(e["data"]["source"], e["data"]["target"]): e["data"]["label"] for e in collapsed if "source" in e["data"]}
    assert label[("m:stem", "m:body")] == "1×4"
    # opening the body and its fold reaches the leaves; edges now target real blocks
    opened, _, _ = gf.graph_elements(tree, {"m:body", "fold:body.0..2", "m:body.1"})
    nodes = _drawn_nodes(opened)
    assert nodes["m:body.1"]["classes"].split()[1] == "group"
    assert nodes["m:body.1.fc"]["data"]["parent"] == "m:body.1"
    assert nodes["m:body.0"]["data"]["parent"] == "fold:body.0..2"
    assert ("m:body.0", "m:body.1.fc") in _edges(opened) and ("m:body.1.act", "m:body.2") in _edges(opened)


def test_elements_have_positions_inside_their_groups(resnet_tree: dict) -> None:
    tree = gf.build_view_tree(resnet_tree)
    expanded = gf.expanded_for_depth(tree, 3)
    elements, width, height = gf.graph_elements(tree, expanded)
    nodes = _drawn_nodes(elements)
    for el in nodes.values():
        if "group" in el["classes"].split():
            assert "position" not in el  # compound boxes are sized by cytoscape from their children
        else:
            x, y = el["position"]["x"], el["position"]["y"]
            assert 0 <= x <= width + 1 and 0 <= y <= height
    ids_ = set(nodes)
    assert all(a in ids_ and b in ids_ for a, b in _edges(elements))


def test_search_highlights_and_reveals(resnet_tree: dict) -> None:
    tree = gf.build_view_tree(resnet_tree)
    matches = gf.search(tree, "layer3.4.conv2")
    assert matches == ["m:layer3.4.conv2"]
    collapsed, _, _ = gf.graph_elements(tree, set(), matches)
    assert "match-inside" in _drawn_nodes(collapsed)["m:layer3"]["classes"]
    opened = gf.reveal(tree, set(), matches)
    assert {"m:layer3", "fold:layer3.1..5", "m:layer3.4"} <= opened
    elements, _, _ = gf.graph_elements(tree, opened, matches)
    assert "match" in _drawn_nodes(elements)["m:layer3.4.conv2"]["classes"].split()
    assert gf.search(tree, "  ") == []


def test_node_details_are_human_readable(resnet_tree: dict) -> None:
    tree = gf.build_view_tree(resnet_tree)
    facts = gf.node_details(tree, "m:conv1")
    assert facts["Type"] == "Conv2d"
    assert facts["Parameters (total)"].startswith("588")
    assert facts["Input shapes"] == "1×3×32×32" and facts["Output shapes"] == "1×4×16×16"
    assert "kernel_size=(7, 7)" in facts["Extra"]
    assert gf.human_count(1_234_567) == "1.2M" and gf.human_count(25_600) == "25.6K" and gf.human_count(512) == "512"
    assert gf.human_count(-1) == "unknown"
    assert gf.node_details(tree, "m:nope") == {}


def test_malformed_tree_raises_a_clear_error() -> None:
    with pytest.raises(ValueError, match="root"):
        gf.build_view_tree({"version": 1})
    with pytest.raises(ValueError, match="path"):
        gf.build_view_tree({"root": {"type": "Net", "children": []}})


def test_layout_layers_point_down_and_do_not_overlap() -> None:
    nodes = ["in", "a", "b", "c", "d", "out"]
    edges = [("in", "a"), ("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"), ("d", "out"), ("d", "a")]  # one cycle
    lo = layered_layout(nodes, edges)
    ys = [lo.positions[n][1] for n in nodes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys), "a chain takes one distinct layer per node, top to bottom"
    assert lo.bends[("a", "c")], "the long edge a->c is routed around b"
    wide = layered_layout([f"n{i}" for i in range(6)] + ["sink"], [(f"n{i}", "sink") for i in range(6)],
                          {f"n{i}": (100.0, 30.0) for i in range(6)})
    xs = sorted(wide.positions[f"n{i}"][0] for i in range(6))
    assert all(b - a >= 100 for a, b in zip(xs, xs[1:])), "nodes of one layer do not overlap"
    assert wide.positions["sink"][1] > wide.positions["n0"][1]


def test_layout_scales_linearly_by_construction() -> None:
    """A 3,000-node chain with skip connections lays out (sizes stay sane); speed itself is for bench/."""
    n = 3000
    nodes = [str(i) for i in range(n)]
    edges = [(str(i), str(i + 1)) for i in range(n - 1)] + [(str(i), str(i + 3)) for i in range(0, n - 3, 3)]
    lo = layered_layout(nodes, edges)
    assert max(lo.layers.values()) == n - 1
    assert lo.width < 400  # skip edges need one dummy column, not one per edge
    with pytest.raises(ValueError, match="missing"):
        layered_layout(["a"], [("a", "b")])
