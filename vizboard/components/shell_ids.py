"""Ids of the shell's own controls (run filter, tabs, header) that dashboards do not read.

The shared ids dashboards read are in ``vizboard.components.ids``.
"""

from __future__ import annotations

__all__ = [
    "RUN_FILTER", "RUN_CHECKLIST", "RUN_ALL", "RUN_NONE", "RUN_STATE", "RUN_COUNT", "RUN_COLOR_SINK",
    "TABS", "PAGE_PREFIX", "NO_DATA", "LIVE_INTERVAL", "LOADING", "STATUS_TEXT",
    "PROBLEMS_BUTTON", "PROBLEMS_MODAL", "PROBLEMS_BODY", "PROBLEMS_CLOSE", "THEME_TOGGLE",
    "RUNS_ROOT", "BOARD_IDS", "RUN_REQUEST_SINK", "LOADED_PAGES",
]

RUNS_ROOT = "vb-runs-root"
"""The run list's container: ``assets/scalars_page.js`` builds the filter, buttons, count and rows in it."""
BOARD_IDS = "shell-board-ids"
"""dcc.Store: the dashboard ids, in tab order (read by the clientside tab switch)."""
RUN_REQUEST_SINK = "shell-run-request-sink"
LOADED_PAGES = "shell-loaded-pages"
"""dcc.Store: the ids of the tabs whose page has been built in this browser (the first tab's from the start)."""
RUN_FILTER = "shell-run-filter"
"""The run regex input (a plain input the browser module creates; not a Dash component)."""
RUN_CHECKLIST = "shell-run-checklist"
RUN_ALL = "shell-run-all"
RUN_NONE = "shell-run-none"
RUN_STATE = "shell-run-state"
"""Legacy id (the selection state now lives in the browser module and the URL: ``run``/``run_off``/``runs``)."""
RUN_COUNT = "shell-run-count"
RUN_COLOR_SINK = "shell-run-color-sink"
"""Hidden output of the clientside callback that writes the run-colour stylesheet."""
TABS = "shell-tabs"
PAGE_PREFIX = "shell-page-"
NO_DATA = "shell-no-data"
LIVE_INTERVAL = "shell-live-interval"
LOADING = "shell-loading"
STATUS_TEXT = "shell-status-text"
PROBLEMS_BUTTON = "shell-problems-button"
PROBLEMS_MODAL = "shell-problems-modal"
PROBLEMS_BODY = "shell-problems-body"
PROBLEMS_CLOSE = "shell-problems-close"
THEME_TOGGLE = "shell-theme-toggle"
