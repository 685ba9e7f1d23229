"""The Graphs tab's state machine (vizboard.figures.graphs.next_view): depth, tap to expand and
collapse, superseded requests, search reveal and focus, view reset; pure, no Dash."""

from __future__ import annotations

from vizboard.figures import graphs as gf


def _node(path: str, typ: str, children=()) -> dict:
    return {"path": path, "name": path.rsplit(".", 1)[-1] if path else "", "type": typ, "params": 1,
            "params_total": 1 + len(children), "trainable": 1, "input_shapes": [[1, 4]],
            "output_shapes": [[1, 4]], "extra": "", "children": list(children)}


def _tree(n_blocks: int = 2) -> gf.ViewTree:
    """Net -> stem, body (n distinct blocks, each fc + act), head."""
    blocks = [_node(f"body.b{i}", f"Block{i}", [_node(f"body.b{i}.fc", "Linear"), _node(f"body.b{i}.act", "ReLU")])
              for i in range(n_blocks)]
    root = _node("", "Net", [_node("stem", "Linear"), _node("body", "Sequential", blocks), _node("head", "Linear")])
    return gf.build_view_tree({"version": 1, "root": root, "edges": [["stem", "head", [1, 4]]]})


def _step(tree: gf.ViewTree, prev: gf.GraphView | None, **kw) -> gf.GraphView:
    args = {"key": prev.key if prev else None, "expanded": prev.expanded if prev else None,
            "depth": prev.depth if prev else None, "tap": None, "query": None, "zoom_now": None}
    args.update(kw)
    return gf.next_view(tree, "run", "module tree", **args)


def test_first_view_picks_the_deepest_depth_within_the_limit_and_resets_the_view() -> None:
    tree = _tree()
    v = _step(tree, None)
    assert v.depth == tree.max_depth and "m:body" in v.expanded
    assert v.zoom is not None and v.pan is not None and v.pan["y"] == 20
    assert v.info.startswith(f"{sum(1 for e in v.elements if 'source' not in e['data'])} nodes shown")
    small = gf.next_view(
        tree, "run", "GraphDef", key=None, expanded=None, depth=None, tap=None, query=None, zoom_now=None,
        max_visible=4)
    assert small.depth == 1 and small.expanded == [] and small.info.endswith("from the GraphDef")


def test_tap_expands_then_collapses_with_everything_below_and_keeps_the_view() -> None:
    tree = _tree()
    v1 = _step(tree, None, max_visible=4)
    v2 = _step(tree, v1, tap={"id": "m:body", "timeStamp": 1}, max_visible=4)
    assert v2.expanded == ["m:body"] and (v2.zoom, v2.pan) == (None, None)
    v3 = _step(tree, v2, tap={"id": "m:body.b0", "timeStamp": 2})
    assert v3.expanded == ["m:body", "m:body.b0"]
    v4 = _step(tree, v3, tap={"id": "m:body", "timeStamp": 3})
    assert v4.expanded == []  # collapsing body also folds b0 below it
    # the same tap seen again (another input changed) is not applied twice
    assert _step(tree, v4, tap={"id": "m:body", "timeStamp": 3}).expanded == []
    # tapping a leaf changes nothing
    assert _step(tree, v4, tap={"id": "m:stem", "timeStamp": 4}).expanded == []


def test_a_superseded_request_still_applies_its_pending_tap() -> None:
    tree = _tree()
    v1 = _step(tree, None, max_visible=4)
    # the answer to an earlier request was dropped: the key still holds v1's, the tap is new
    v2 = gf.next_view(tree, "run", "module tree", key=v1.key, expanded=v1.expanded, depth=v1.depth,
                      tap={"id": "m:body", "timeStamp": 9}, query="head", zoom_now=1.0, max_visible=4)
    assert "m:body" in v2.expanded and v2.matches == 1


def test_depth_change_and_new_run_reset() -> None:
    tree = _tree()
    v1 = _step(tree, None)
    v2 = _step(tree, v1, depth=1)
    assert v2.depth == 1 and v2.expanded == [] and v2.zoom is not None
    other = gf.next_view(tree, "other-run", "module tree", key=v2.key, expanded=v2.expanded, depth=1, tap=None,
                         query=None, zoom_now=None)
    assert other.depth == tree.max_depth  # a new tree picks its own depth


def test_search_reveals_few_matches_and_centres_the_first() -> None:
    tree = _tree()
    v1 = _step(tree, None, max_visible=4)
    v2 = _step(tree, v1, query="b1.act", zoom_now=0.5)
    assert {"m:body", "m:body.b1"} <= set(v2.expanded) and v2.matches == 1
    assert v2.zoom == 0.8 and v2.pan is not None  # focused on the match, zoomed to a readable scale
    assert v2.info.endswith("· 1 match")
    # the same query again (e.g. a tap) does not re-centre
    v3 = _step(tree, v2, query="b1.act", tap={"id": "m:body.b0", "timeStamp": 5})
    assert (v3.zoom, v3.pan) == (None, None) and "m:body.b0" in v3.expanded
    # more matches than the reveal limit only highlight
    many = _step(tree, v1, query="body", reveal_limit=2)
    assert many.expanded == v1.expanded and many.matches > 2 and many.info.endswith("matches")


def test_collapse_and_initial_view() -> None:
    tree = _tree()
    assert gf.collapse(tree, {"m:body", "m:body.b0", "m:stem"}, "m:body") == {"m:stem"}
    zoom, pan = gf.initial_view(2000.0)
    assert zoom == 0.43 and pan == {"x": 20.0, "y": 20}
    assert gf.initial_view(100.0) == (1.0, {"x": 400.0, "y": 20})
