"""The Profile tab: torch.profiler traces (operators, step breakdown, timeline, download),
system metrics on wall time, and step timing.

Traces come only from the provider (``provider.traces()``, published by the server's trace
discovery, :mod:`vizboard.data.traces`; bytes via ``provider.read_trace``, which refuses
anything resolving outside the logdir), so this tab never walks or opens files itself. A
directory that holds only traces is shown too (named like a run: its path relative to the
logdir, ``plugins/profile`` removed). Traces of runs the Store knows are shown when the run is
selected; traces-only directories are always shown. A parsed trace is kept in a small
byte-bounded LRU (:class:`~vizboard.data.trace_cache.TraceCache`) owned by this tab's
callbacks. A trace that cannot be parsed shows a message, never an error page.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dash_table, dcc, html, no_update
from dash.exceptions import PreventUpdate

from vizboard.components import ids
from vizboard.dashboards.base import Dashboard, run_colors_of
from vizboard.data.models import Kind, ScalarSeries
from vizboard.data.profile import parse_trace
from vizboard.data.provider import DataProvider
from vizboard.data.trace_cache import TraceCache
from vizboard.data.traces import TraceFile, TraceParseError
from vizboard.figures.profile import (
    message_figure,
    operator_columns,
    operator_rows,
    step_breakdown_figure,
    step_options,
    step_timing_figure,
    system_metrics_figure,
    timeline_figure,
)

__all__ = ["DASHBOARD", "ID", "is_available"]

ID = "profile"
POLL = f"{ID}-poll"
TRACE = f"{ID}-trace"
TRACES_SECTION = f"{ID}-traces-section"
PROBLEM = f"{ID}-problem"
OPS = f"{ID}-ops"
STEPS = f"{ID}-steps"
STEP = f"{ID}-step"
TIMELINE = f"{ID}-timeline"
DOWNLOAD_BUTTON = f"{ID}-download-button"
DOWNLOAD = f"{ID}-download"
SYSTEM_SECTION = f"{ID}-system-section"
ALIGN = f"{ID}-align"
SYSTEM = f"{ID}-system"
TIMING_SECTION = f"{ID}-timing-section"
TIMING = f"{ID}-timing"
EMPTY = f"{ID}-empty"

POLL_MS = 5000
"""How often (ms) the Profile tab, while it is the active tab, looks for new trace files.

Everything else refreshes on ``ids.TAB_DATA_VERSION``; trace files are not event files, so a trace that
appears does not change the data version. The poll is disabled while another tab is active."""
MAX_OPERATOR_ROWS = 2000

_SHOW: dict[str, str] = {}
_HIDE = {"display": "none"}
_ROW = {"display": "flex", "gap": "12px", "alignItems": "center", "flexWrap": "wrap", "margin": "6px 0"}


def _is_system(tag: str) -> bool:
    return tag.startswith("system/")


def _is_timing(tag: str) -> bool:
    return tag.startswith("time/")


def is_available(provider: DataProvider) -> bool:
    """Shown when any run has ``system/*`` or ``time/*`` scalars, or the provider lists a trace.

    The shell asks on every data-version change; ``provider.traces()`` is a published
    snapshot, so this walks nothing (local and remote logdirs alike).
    """
    if any(_is_system(t.tag) or _is_timing(t.tag) for t in provider.tags(Kind.SCALARS)):
        return True
    return bool(_traces(provider))


def _traces(provider: DataProvider) -> list[TraceFile]:
    """The provider's traces (none from a provider without trace discovery)."""
    traces = getattr(provider, "traces", None)
    return list(traces()) if traces is not None else []


def layout() -> html.Div:
    """Trace picker, problem line, step breakdown, timeline, operator table; system metrics; step timing."""
    table = dash_table.DataTable(
        id=OPS, columns=operator_columns(False), data=[],
        sort_action="native", filter_action="native", page_action="native", page_size=20,
        sort_by=[{"column_id": "total_cpu_ms", "direction": "desc"}],
        style_table={"overflowX": "auto"}, style_cell={"fontFamily": "monospace", "fontSize": "12px",
                                                        "textAlign": "left", "maxWidth": "520px",
                                                        "overflow": "hidden", "textOverflow": "ellipsis"},
    )
    return html.Div(id=f"{ID}-root", children=[
        dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),  # enabled only while the tab is active
        html.P("Nothing to profile yet: record a torch.profiler trace with "
               "tensorboard_trace_handler(<run dir>/plugins/profile), or pass system_metrics=True "
               "to SummaryWriter, or time phases with writer.timer('forward').",
               id=EMPTY, style=_HIDE),
        html.Section(id=TRACES_SECTION, style=_HIDE, children=[
            html.H3("torch.profiler traces"),
            html.Div(style=_ROW, children=[
                html.Label("Trace", htmlFor=TRACE),
                dcc.Dropdown(id=TRACE, options=[], clearable=False, style={"minWidth": "420px", "flex": "1"}),
                html.Button("Download trace", id=DOWNLOAD_BUTTON, n_clicks=0),
                dcc.Download(id=DOWNLOAD),
            ]),
            html.Div(id=PROBLEM, role="alert", className=f"{ID}-problem",
                     style={"color": "#c62828", "whiteSpace": "pre-wrap"}),
            html.H4("Time per step"),
            dcc.Graph(id=STEPS, config={"displaylogo": False}),
            html.Div(style=_ROW, children=[
                html.Label("Timeline of step", htmlFor=STEP),
                dcc.Dropdown(id=STEP, options=[], clearable=False, style={"minWidth": "160px"}),
            ]),
            dcc.Graph(id=TIMELINE, config={"displaylogo": False}),
            html.H4("Operators"),
            table,
        ]),
        html.Section(id=SYSTEM_SECTION, style=_HIDE, children=[
            html.H3("System metrics"),
            html.Div(style=_ROW, children=[
                html.Label("Line up with", htmlFor=ALIGN),
                dcc.Dropdown(id=ALIGN, options=[], placeholder="a training curve (optional)",
                             style={"minWidth": "320px"}),
            ]),
            dcc.Graph(id=SYSTEM, config={"displaylogo": False}),
        ]),
        html.Section(id=TIMING_SECTION, style=_HIDE, children=[
            html.H3("Step timing"),
            dcc.Graph(id=TIMING, config={"displaylogo": False}),
        ]),
    ])


def _visible_traces(provider: DataProvider, selected: list[str] | None) -> list[TraceFile]:
    traces = _traces(provider)
    if selected is None:
        return traces
    known = {r.name for r in provider.runs()}
    chosen = set(selected)
    return [t for t in traces if t.run in chosen or t.run not in known]


def _series(provider: DataProvider, runs: list[str] | None, want: Any) -> list[ScalarSeries]:
    out = []
    for info in provider.tags(Kind.SCALARS, runs):
        if want(info.tag):
            s = provider.scalars(info.run, info.tag)
            if s is not None and len(s):
                out.append(s)
    return out


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Wire the tab; the parsed-trace cache lives in this closure (one per app)."""
    cache = TraceCache(max_entries=4)

    def lookup(path: str | None) -> TraceFile | None:
        if not path:
            return None
        for t in _traces(provider):  # only traces the provider lists (inside the logdir)
            if t.path == path:
                return t
        return None

    def parsed(path: str | None):
        trace = lookup(path)
        if trace is None:
            raise TraceParseError(f"the trace {path} is no longer in the logdir")
        return cache.get(trace, lambda t: parse_trace(provider.read_trace(t), t))

    app.clientside_callback(
        f"function(active) {{ return active !== {ID!r}; }}",
        Output(POLL, "disabled"), Input(ids.ACTIVE_TAB, "data"),
    )

    @app.callback(
        Output(TRACE, "options"), Output(TRACE, "value"), Output(TRACES_SECTION, "style"),
        Input(ids.ACTIVE_TAB, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.SELECTED_RUNS, "data"),
        Input(POLL, "n_intervals"), State(TRACE, "value"), State(TRACE, "options"),
    )
    def list_traces(active: str | None, _v: Any, selected: list[str] | None, _n: Any,
                    current: str | None, old_options: list | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        traces = _visible_traces(provider, selected)
        options = [{"label": t.label, "value": t.path} for t in traces]
        if not options:
            return [], None, _HIDE
        values = [o["value"] for o in options]
        value = current if current in values else values[-1]
        if options == old_options and value == current:
            return no_update, no_update, _SHOW
        return options, value, _SHOW

    @app.callback(
        Output(OPS, "data"), Output(OPS, "columns"), Output(STEPS, "figure"), Output(STEP, "options"),
        Output(STEP, "value"), Output(PROBLEM, "children"),
        Input(TRACE, "value"), Input(ids.THEME, "data"), State(STEP, "value"),
    )
    def show_trace(path: str | None, theme: str | None, step_value: Any) -> tuple:
        theme = theme or "light"
        if not path:
            raise PreventUpdate
        try:
            tr = parsed(path)
        except TraceParseError as exc:
            msg = f"Cannot show this trace: {exc}"
            return [], no_update, message_figure("trace not readable", theme), [], None, msg
        step_opts, value = step_options(tr.steps, step_value)
        problems = "; ".join(tr.warnings)
        return (operator_rows(tr.operators, MAX_OPERATOR_ROWS), operator_columns(tr.operators.has_device),
                step_breakdown_figure(tr.steps, theme), step_opts, value, problems)

    @app.callback(
        Output(TIMELINE, "figure"),
        Input(STEP, "value"), Input(ids.THEME, "data"), Input(TRACE, "value"),
    )
    def show_timeline(step_pos: Any, theme: str | None, path: str | None) -> Any:
        theme = theme or "light"
        if not path or step_pos is None:
            raise PreventUpdate
        try:
            tr = parsed(path)
        except TraceParseError:
            return message_figure("trace not readable", theme)
        pos = int(step_pos)
        return timeline_figure(tr, pos if pos >= 0 else None, theme)

    @app.callback(
        Output(DOWNLOAD, "data"),
        Input(DOWNLOAD_BUTTON, "n_clicks"), State(TRACE, "value"), prevent_initial_call=True,
    )
    def download(n: int | None, path: str | None) -> Any:
        trace = lookup(path)
        if not n or trace is None:
            raise PreventUpdate
        try:
            data = provider.read_trace(trace)
        except TraceParseError:
            raise PreventUpdate from None
        name = trace.path.replace("\\", "/").rsplit("/", 1)[-1]
        return dcc.send_bytes(data, name)

    @app.callback(
        Output(SYSTEM, "figure"), Output(SYSTEM_SECTION, "style"), Output(ALIGN, "options"),
        Output(TIMING, "figure"), Output(TIMING_SECTION, "style"), Output(EMPTY, "style"),
        Input(ids.ACTIVE_TAB, "data"), Input(ids.TAB_DATA_VERSION, "data"), Input(ids.SELECTED_RUNS, "data"),
        Input(ids.THEME, "data"), Input(ALIGN, "value"), Input(TRACES_SECTION, "style"),
    )
    def show_metrics(active: str | None, _v: Any, selected: list[str] | None, theme: str | None,
                     align: str | None, traces_style: dict | None) -> tuple:
        if active != ID:
            raise PreventUpdate
        theme = theme or "light"
        runs = list(selected) if selected is not None else None
        system = _series(provider, runs, _is_system)
        timing = _series(provider, runs, _is_timing)
        align_tags = sorted({t.tag for t in provider.tags(Kind.SCALARS, runs)
                             if not _is_system(t.tag) and not _is_timing(t.tag)})
        aligned = _series(provider, runs, lambda tag: tag == align) if align in align_tags else []
        colors = run_colors_of(provider)
        sys_fig = system_metrics_figure(system, aligned, theme, colors_by_run=colors) if system else no_update
        time_fig = step_timing_figure(timing, theme, colors_by_run=colors) if timing else no_update
        has_traces = traces_style is not None and traces_style.get("display") != "none"
        nothing = not system and not timing and not has_traces
        return (sys_fig, _SHOW if system else _HIDE, [{"label": t, "value": t} for t in align_tags],
                time_fig, _SHOW if timing else _HIDE, _SHOW if nothing else _HIDE)


DASHBOARD = Dashboard(
    id=ID, title="Profile", kinds=(Kind.SCALARS,), layout=layout, register_callbacks=register_callbacks,
    is_available=is_available,
)
