"""The Graphs and HParams tabs' data adapters on an in-memory provider: sources, bad graphs, best metric values."""

from __future__ import annotations

from fake_provider import FakeProvider

from vizboard.dashboards import graphs as gd
from vizboard.dashboards import hparams as hd
from vizboard.data.models import GraphData, HParamsData, HParamsSession, Kind

TREE = {"version": 1, "root": {"path": "", "name": "", "type": "Net", "children": [
    {"path": "fc", "name": "fc", "type": "Linear", "params": 4, "params_total": 4, "children": []}]},
    "edges": [["input:0", "fc", [1, 2]], ["fc", "output:0", [1, 2]]]}


def test_module_tree_wins_and_graphdef_is_the_fallback() -> None:
    p = FakeProvider()
    p.set_graph(GraphData("both", None, TREE))
    tree, source = gd.load_view_tree(p, "both")
    assert source == "module tree" and "m:fc" in tree.nodes
    assert gd.load_view_tree(p, "missing") == (None, "Run 'missing' has no graph.")
    assert gd.load_view_tree(p, None)[0] is None


def test_bad_graphs_give_a_message_not_an_exception() -> None:
    p = FakeProvider()
    ref = p.add_blob("bad", "__run_graph__", 0, b"\xff\xff\xff", kind=Kind.GRAPHS)
    p.set_graph(GraphData("bad", ref, None))
    tree, message = gd.load_view_tree(p, "bad")
    assert tree is None and "could not be decoded" in message
    p.set_graph(GraphData("odd", None, {"version": 1, "nodes": []}))
    tree, message = gd.load_view_tree(p, "odd")
    assert tree is None and "root" in message


def test_best_metric_values_read_the_full_series_and_group_runs() -> None:
    p = FakeProvider()
    p.add_scalars("s1", "loss", [0, 1, 2], [3.0, 1.0, 2.0])
    p.add_scalars("s1/eval", "acc", [0, 1], [0.4, 0.9])  # metric "eval/acc": tag acc of run <session>/eval
    data = HParamsData(("lr",), ("loss", "eval/acc"), (HParamsSession("s1", "s1", {"lr": 0.1}, {"loss": 2.0}),))
    assert hd.metric_values(p, data, "min") == {("s1", "loss"): 1.0, ("s1", "eval/acc"): 0.4}
    assert hd.metric_values(p, data, "max") == {("s1", "loss"): 3.0, ("s1", "eval/acc"): 0.9}
    assert hd.metric_values(p, data, "last")[("s1", "loss")] == 2.0
