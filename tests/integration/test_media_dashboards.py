"""The six media dashboards as Dash sees them: id prefixes, and callbacks driven directly on a real Store
(hidden tabs do no work, unchanged data is not redrawn, values reach the components)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from dash import Dash, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.dashboards import audio, distributions, histograms, images, pr_curves, text
from vizboard.data.ingest import load

BOARDS = (histograms, distributions, images, audio, text, pr_curves)
SHARED = {ids.SELECTED_RUNS, ids.DATA_VERSION, ids.TAB_DATA_VERSION, ids.THEME, ids.URL, ids.ACTIVE_TAB, ids.RUN_COLORS}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    torch = pytest.importorskip("torch")
    from logger import SummaryWriter

    root = tmp_path_factory.mktemp("boards")
    w = SummaryWriter(str(root / "run"))
    rng = np.random.default_rng(3)
    for s in range(5):
        w.add_histogram("h", rng.normal(size=100), s)
        w.add_image("img", rng.integers(0, 255, (3, 4, 4), dtype=np.uint8), s)
        w.add_audio("snd", torch.zeros(800), s, sample_rate=8000)
        w.add_text("note", f"step *{s}*", s)
        w.add_pr_curve("pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.6, 0.4]), s)
    w.close()
    return load(str(root))


def _ids(component: Any) -> list[Any]:
    found = []
    cid = getattr(component, "id", None)
    if cid is not None:
        found.append(cid)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            found.extend(_ids(child))
    return found


def _name(cid: Any) -> str:
    return cid["type"] if isinstance(cid, dict) else str(cid)


def _app(board, store) -> Dash:
    app = Dash(__name__)
    board.DASHBOARD.register_callbacks(app, store)
    return app


def _callback(app: Dash, output_id: str):
    for key, spec in app.callback_map.items():
        if output_id in key and "callback" in spec:
            return spec["callback"].__wrapped__
    raise KeyError(output_id)


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.ID)
def test_component_ids_carry_the_dashboard_prefix(board, store) -> None:
    prefix = f"{board.ID}-"
    assert board.DASHBOARD.id == board.ID
    for cid in _ids(board.DASHBOARD.layout()):
        assert _name(cid).startswith(prefix), cid
    app = _app(board, store)
    for spec in app.callback_map.values():
        outs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
        for out in outs:
            assert _name(out.component_id).startswith(prefix), out
        for dep in spec["inputs"] + spec["state"]:
            name = dep["id"] if not dep["id"].startswith("{") else json.loads(dep["id"])["type"]
            assert name.startswith(prefix) or name in SHARED, dep


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.ID)
def test_hidden_tab_does_no_work(board, store) -> None:
    cards = _callback(_app(board, store), f"{board.ID}-cards.children")
    n_state = {"histograms": 5, "distributions": 4, "text": 2, "pr_curves": 5}.get(board.ID, 4)
    args: list[Any] = [["run"], 1]
    if board.ID in ("histograms", "distributions"):
        args.append("light")
    args.append("scalars")  # another tab is active
    if board.ID == "histograms":
        args += ["offset", None]
    if board.ID in ("histograms", "distributions"):
        args.append(None)  # the tag filter
    with pytest.raises(PreventUpdate):
        cards(*args, *([None] * n_state))


def test_images_cards_then_unchanged_data_is_not_redrawn(store) -> None:
    app = _app(images, store)
    build = _callback(app, "images-cards.children")
    children, sig = build(["run"], 7, "images", [], [], [], None)
    assert len(children) == 1
    view = children[0].children[3].children  # the first view comes with the card
    assert view[0].children == "step 4" and view[1].src.endswith("step=4&index=0")
    assert build(["run"], 8, "images", [], [], [], sig) == (no_update, no_update)
    show = _callback(app, '"type":"images-view"')
    key = json.dumps(["run", "img"])
    out = show(2, {"type": "images-step-slider", "index": key})
    assert out[0].children == "step 2"
    assert out[1].src == "/api/blob?run=run&tag=img&step=2&index=0"
    # a user who moved the slider back keeps that position when the card is rebuilt
    children, _ = build(["run"], 9, "images", [1], [4], [{"type": "images-step-slider", "index": key}], None)
    assert children[0].children[2].value == 1


def test_audio_view_reports_rate_and_length(store) -> None:
    show = _callback(_app(audio, store), '"type":"audio-view"')
    out = show(None, {"type": "audio-step-slider", "index": json.dumps(["run", "snd"])})
    assert out[0].children == "step 4"
    assert out[1].children[1].children == "8000 Hz · 0.10 s · mono"


def test_text_cards_strip_suffix_and_list_newest_first(store) -> None:
    build = _callback(_app(text, store), "text-cards.children")
    (card,), _ = build(["run"], 1, "text", [], None)
    assert card.children[0].children == "note"
    steps = [c.to_plotly_json()["props"].get("data-step") for c in card.children[2:]]
    assert steps == ["4", "3", "2", "1", "0"]


def test_text_shows_the_newest_rows_and_says_how_many_are_hidden(store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "MAX_ROWS", 2)
    build = _callback(_app(text, store), "text-cards.children")
    (card,), _ = build(["run"], 1, "text", [], None)
    rows = card.children[2:]
    assert [r.to_plotly_json()["props"].get("data-step") for r in rows[:-1]] == ["4", "3"]
    assert rows[-1].children.startswith("3 older steps not shown")
    (card,), _ = build(["run"], 1, "text", ["all"], None)
    assert len(card.children[2:]) == 5


def test_histograms_range_follows_newest_step(store) -> None:
    update = _callback(_app(histograms, store), "histograms-step-range.min")
    lo, hi, value, box = update(["run"], 1, "histograms", [0, 3], 3, {}, None)
    assert (lo, hi, value) == (0, 4, [0, 4])
    assert box["display"] == "none"  # 5 steps: no need for a range control
    assert update(["run"], 1, "histograms", [1, 2], 4, {}, None)[2] == [1, 2]


def test_pr_curve_figure_for_the_chosen_step(store) -> None:
    draw = _callback(_app(pr_curves, store), '"type":"pr_curves-graph"')
    fig = draw(1, "dark", [0, 1, 2, 3, 4], {"type": "pr_curves-step-slider", "index": "pr"}, ["run"])
    assert fig.layout.title.text == "step 1"
    assert [t.name for t in fig.data] == ["run"]
