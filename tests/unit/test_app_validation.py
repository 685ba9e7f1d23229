"""Callback validation, done here rather than in each browser: every plain-string id a callback names
is in the app's validation layout (the shell with every page built), for every tab's callbacks; the
initial layout holds only the shell and the first tab's page (the others are built when first opened)."""

from __future__ import annotations

from typing import Any

from fake_provider import FakeProvider

from vizboard.app import create_app
from vizboard.config import ServeConfig
from vizboard.dashboards import registry


def _layout_ids(component: Any, out: set[str]) -> set[str]:
    if isinstance(component, (list, tuple)):
        for c in component:
            _layout_ids(c, out)
    elif hasattr(component, "to_plotly_json"):
        cid = getattr(component, "id", None)
        if isinstance(cid, str):
            out.add(cid)
        for name in getattr(component, "_prop_names", ()):
            value = getattr(component, name, None)
            if hasattr(value, "to_plotly_json") or isinstance(value, (list, tuple)):
                _layout_ids(value, out)
    return out


def _output_ids(key: str) -> list[str]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [p.rsplit(".", 1)[0] for p in parts]


def test_validation_on_and_every_callback_id_is_in_the_validation_layout() -> None:
    app = create_app(ServeConfig(logdir="/fake/logdir"), FakeProvider())
    in_layout = _layout_ids(app.validation_layout, set())
    prefixes = {b.id for b in registry()}
    assert {i.split("-", 1)[0] for i in in_layout} >= prefixes  # every tab's layout is in the shell
    missing = []
    for key, cb in app.callback_map.items():
        names = _output_ids(key) + [d["id"] for d in cb["inputs"] + cb["state"]]
        missing += [(n, key) for n in names if isinstance(n, str) and not n.startswith("{") and n not in in_layout]
    assert not missing, missing
    assert len(app.callback_map) > 30  # the tabs' callbacks were all registered and checked


def test_initial_layout_builds_only_the_first_page() -> None:
    """Hidden tabs' pages are empty until opened; what the URL writes (pins stores) is in the shell."""
    app = create_app(ServeConfig(logdir="/fake/logdir"), FakeProvider())
    boards = registry()
    initial, full = _layout_ids(app.layout(), set()), _layout_ids(app.validation_layout, set())
    first = boards[0].id
    assert any(i.startswith(first + "-") for i in initial)  # the Scalars controls are there at once
    for b in boards[1:]:
        own = {i for i in full if i.startswith(b.id + "-")}
        stores = {c.id for c in (b.stores() if b.stores else [])}
        assert own, b.id
        assert own & initial == stores, (b.id, sorted(own & initial))
    assert {"histograms-pins", "distributions-pins", "images-pins"} <= initial  # the URL writes them on load
    assert len(initial) < len(full) / 2


def test_index_page_does_not_ship_the_validation_layout() -> None:
    app = create_app(ServeConfig(logdir="/fake/logdir"), FakeProvider())
    html = app.server.test_client().get("/").get_data(as_text=True)
    assert "validation_layout" not in html
    assert "projector-run" in str(app.validation_layout.to_plotly_json()) and "projector-run" not in html

