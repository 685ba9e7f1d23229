"""Ids of the shell's own controls (run filter, tabs, header) that dashboards do not read.

The shared ids dashboards read are in ``vizboard.components.ids``.
"""

from __future__ import annotations

__all__ = [
    "RUN_FILTER", "RUN_CHECKLIST", "RUN_ALL", "RUN_NONE", "RUN_STATE", "RUN_COUNT", "RUN_COLOR_SINK",
    "TABS", "PAGE_PREFIX", "NO_DATA", "LIVE_INTERVAL", "LOADING", "STATUS_TEXT",
    "PROBLEMS_BUTTON", "PROBLEMS_MODAL", "PROBLEMS_BODY", "PROBLEMS_CLOSE", "THEME_TOGGLE",
]

RUN_FILTER = "shell-run-filter"
RUN_CHECKLIST = "shell-run-checklist"
RUN_ALL = "shell-run-all"
RUN_NONE = "shell-run-none"
RUN_STATE = "shell-run-state"
"""dcc.Store: ``{"mode": "all", "off": [...]}`` (new runs appear ticked) or ``{"mode": "list", "on": [...]}``."""
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
