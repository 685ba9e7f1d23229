"""Graphs written by TensorFlow/Keras (fixtures made by tests/fixtures/tf_graphs/make_fixtures.py with TF 2.21 / Keras 3.15).

The Keras callback's conceptual model graph and TF2 ``trace_export`` graphs are found by the
store, summarised by ``/api/graph`` (no 404) and drawn by the Graphs tab; TF node names are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from vizboard.api import register_api
from vizboard.dashboards.graphs import load_view_tree
from vizboard.data import load
from vizboard.data.graph_blobs import graph_blob_to_graphdef, keras_json_to_graphdef
from vizboard.figures.graphdef_tree import graphdef_to_module_tree

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf_graphs"


@pytest.fixture(scope="module")
def store():
    return load(str(FIXTURES))


def tree_of(store, run: str) -> dict:
    g = store.graph(run)
    assert g is not None and g.graph_def is not None, f"{run} has no graph"
    return graphdef_to_module_tree(store.read_blob(g.graph_def))


def nodes(tree: dict) -> dict[str, dict]:
    out, stack = {}, [tree["root"]]
    while stack:
        n = stack.pop()
        out[n["path"]] = n
        stack.extend(n["children"])
    return out


def test_keras_sequential_model_graph(store):
    tree = tree_of(store, "keras/seq_model/train")
    got = {p: n["type"] for p, n in nodes(tree).items()}
    assert got == {"": "Graph", "seq_model": "seq_model", "seq_model.input_layer": "InputLayer",
                   "seq_model.hidden": "Dense", "seq_model.out": "Dense"}
    assert [e[:2] for e in tree["edges"]] == [["seq_model.input_layer", "seq_model.hidden"],
                                              ["seq_model.hidden", "seq_model.out"]]


def test_keras_functional_model_graph_follows_inbound_layers(store):
    tree = tree_of(store, "keras/func_model/train")
    edges = sorted(tuple(e[:2]) for e in tree["edges"])
    assert edges == [("func_model.branch_a", "func_model.merge"), ("func_model.branch_b", "func_model.merge"),
                     ("func_model.features", "func_model.branch_a"), ("func_model.features", "func_model.branch_b"),
                     ("func_model.merge", "func_model.head")]
    assert nodes(tree)["func_model.merge"]["type"] == "Concatenate"


def test_trace_export_graph_keeps_tf_node_names(store):
    tree = tree_of(store, "trace")
    ns = nodes(tree)
    assert tree["root"]["type"] == "Graph" and tree["root"]["name"] == ""
    assert ns["loss_in"]["type"] == "_Arg" and ns["scale"]["type"] == "_Arg"  # not Placeholder#0 / _Arg#1
    assert ns["loss.Square"]["type"] == "Square" and ns["loss.Mean"]["type"] == "Mean"
    assert ["loss_in", "loss.Square", [3]] in tree["edges"]


@pytest.mark.parametrize("run", ["keras/seq_model/train", "keras/func_model/train", "trace"])
def test_graphs_tab_and_api_show_every_tf_graph(store, run):
    view, source = load_view_tree(store, run)
    assert view is not None, source
    server = Flask("t")
    register_api(server, store)
    resp = server.test_client().get(f"/api/graph?run={run}")
    assert resp.status_code == 200
    summary = json.loads(resp.data)["graph_def"]
    assert "error" not in summary and summary["num_nodes"] >= 3


def test_keras2_json_layout_and_nested_models():
    """Keras 2 wrote inbound_nodes as [[[name, node, tensor, kwargs]]]; a nested model gets its own scope."""
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        {"class_name": "Dense", "config": {"name": "d1"}}, {"class_name": "Dense", "config": {"name": "d2"}}]}}
    cfg = {"class_name": "Functional", "config": {"name": "outer", "layers": [
        {"class_name": "InputLayer", "config": {"name": "input_1"}, "inbound_nodes": []},
        {**inner, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
        {"class_name": "Dense", "config": {"name": "head"}, "inbound_nodes": [[["inner", 1, 0, {}]]]}]}}
    gd = keras_json_to_graphdef(cfg)
    assert [(n.name, n.op, list(n.input)) for n in gd.node] == [
        ("outer/input_1", "InputLayer", []), ("outer/inner/d1", "Dense", ["outer/input_1"]),
        ("outer/inner/d2", "Dense", ["outer/inner/d1"]), ("outer/head", "Dense", ["outer/inner/d2"])]
    assert graph_blob_to_graphdef(json.dumps(cfg).encode()) == gd
    with pytest.raises(ValueError, match="Keras"):
        graph_blob_to_graphdef(b'{"not": "a model"}')
