"""Profile tab wiring without a browser: availability rule, trace visibility per selected runs, layout ids."""

from __future__ import annotations

import json
from pathlib import Path

from dash import Dash
from fake_provider import FakeProvider

from vizboard.dashboards import profile
from vizboard.dashboards.profile import DASHBOARD, _visible_traces, is_available

TRACE = {"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1, "ts": 1.0, "dur": 2.0}]}


TRACE_BYTES = json.dumps(TRACE).encode()


def test_hidden_without_traces_or_metrics(tmp_path: Path) -> None:
    p = FakeProvider(str(tmp_path))
    p.add_scalars("run", "loss", [0, 1], [1.0, 0.5])
    assert not is_available(p)
    assert not DASHBOARD.available(p)


def test_shown_for_system_or_timing_scalars(tmp_path: Path) -> None:
    p = FakeProvider(str(tmp_path))
    p.add_scalars("run", "system/cpu_percent", [0], [3.0])
    assert is_available(p)
    q = FakeProvider(str(tmp_path))
    q.add_scalars("run", "time/forward", [0], [0.1])
    assert is_available(q)


def test_shown_for_a_traces_only_logdir(tmp_path: Path) -> None:
    p = FakeProvider(str(tmp_path))
    assert not is_available(p)
    p.add_trace("job", "h_1.5.pt.trace.json", TRACE_BYTES)
    assert is_available(p)


def test_the_tab_reads_only_the_provider(tmp_path: Path) -> None:
    """A trace file on disk that the provider does not list is not shown (no walking in Dash threads)."""
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "h_1.5.pt.trace.json").write_bytes(TRACE_BYTES)
    assert not is_available(FakeProvider(str(tmp_path)))
    assert _visible_traces(FakeProvider(str(tmp_path)), None) == []


def test_traces_follow_run_selection_but_traces_only_dirs_always_show(tmp_path: Path) -> None:
    p = FakeProvider(str(tmp_path))
    p.add_trace("a", "h_1.5.pt.trace.json", TRACE_BYTES)
    p.add_trace("b", "h_1.6.pt.trace.json", TRACE_BYTES, subdir="")
    p.add_trace("lonely", "h_1.7.pt.trace.json", TRACE_BYTES, subdir="")
    p.add_scalars("a", "loss", [0], [1.0])
    p.add_scalars("b", "loss", [0], [1.0])
    assert [t.run for t in _visible_traces(p, None)] == ["a", "b", "lonely"]
    assert [t.run for t in _visible_traces(p, ["b"])] == ["b", "lonely"]
    assert [t.run for t in _visible_traces(p, [])] == ["lonely"]


def test_layout_ids_are_prefixed_and_callbacks_register(tmp_path: Path) -> None:
    found: list[str] = []

    def walk(c) -> None:
        cid = getattr(c, "id", None)
        if isinstance(cid, str):
            found.append(cid)
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            if hasattr(k, "to_plotly_json"):
                walk(k)

    walk(DASHBOARD.layout())
    assert found and all(i.startswith(f"{profile.ID}-") for i in found)
    assert len(found) == len(set(found))
    app = Dash(__name__, suppress_callback_exceptions=True)
    DASHBOARD.register_callbacks(app, FakeProvider(str(tmp_path)))
    outputs = " ".join(app.callback_map)
    for cid in (profile.OPS, profile.TIMELINE, profile.DOWNLOAD, profile.SYSTEM, profile.TRACE):
        assert cid in outputs


def test_remote_logdir_availability_comes_from_the_provider() -> None:
    p = FakeProvider("memory://nowhere/logdir")
    assert not is_available(p)
    p.add_scalars("run", "time/step", [0], [0.1])
    assert is_available(p)
    q = FakeProvider("memory://nowhere/logdir")
    q.add_trace("run", "h_1.5.pt.trace.json", TRACE_BYTES)
    assert is_available(q)


def _callback(app: Dash, output: str):
    (spec,) = [s for k, s in app.callback_map.items() if output in k]
    return spec["callback"].__wrapped__


def test_download_and_show_go_through_the_provider(tmp_path: Path) -> None:
    p = FakeProvider(str(tmp_path))
    t = p.add_trace("run", "h_1.5.pt.trace.json", TRACE_BYTES)
    app = Dash(__name__, suppress_callback_exceptions=True)
    DASHBOARD.register_callbacks(app, p)
    got = _callback(app, f"{profile.DOWNLOAD}.data")(1, t.path)
    assert got["filename"] == "h_1.5.pt.trace.json"
    import base64

    assert base64.b64decode(got["content"]) == TRACE_BYTES
    rows = _callback(app, f"{profile.OPS}.data")(t.path, "light", None)[0]
    assert [r["name"] for r in rows] == ["aten::mm"]
    # a path the provider does not list is never read
    from dash.exceptions import PreventUpdate

    try:
        _callback(app, f"{profile.DOWNLOAD}.data")(1, str(tmp_path / "x.pt.trace.json"))
        raise AssertionError("an unlisted path was served")
    except PreventUpdate:
        pass


def test_trace_poll_runs_only_while_the_profile_tab_is_active(tmp_path: Path) -> None:
    """Trace files do not change the data version, so a slow poll finds them, but only on this tab."""
    from dash import dcc

    from vizboard.components import ids

    def find(c, cid):
        if getattr(c, "id", None) == cid:
            return c
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            hit = find(k, cid) if hasattr(k, "to_plotly_json") else None
            if hit is not None:
                return hit
        return None

    poll = find(DASHBOARD.layout(), profile.POLL)
    assert isinstance(poll, dcc.Interval) and poll.disabled is True  # off until the tab is shown
    app = Dash(__name__, suppress_callback_exceptions=True)
    DASHBOARD.register_callbacks(app, FakeProvider(str(tmp_path)))
    (spec,) = [s for k, s in app.callback_map.items() if k == f"{profile.POLL}.disabled"]
    assert [i["id"] for i in spec["inputs"]] == [ids.ACTIVE_TAB]
    assert "callback" not in spec  # clientside: switching tabs costs no request
    # every server-side callback on the poll also waits for the active tab
    for key, s in app.callback_map.items():
        if any(i["id"] == profile.POLL for i in s["inputs"]):
            assert any(i["id"] == ids.ACTIVE_TAB for i in s["inputs"]), key
