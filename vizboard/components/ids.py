"""Ids of the shell's shared components, which every dashboard's callbacks may read.

The shell (``vizboard.app``) creates these once; dashboards use them as ``Input`` or
``State`` and never create components with these ids themselves.
"""

from __future__ import annotations

__all__ = ["SELECTED_RUNS", "DATA_VERSION", "TAB_DATA_VERSION", "THEME", "URL", "ACTIVE_TAB", "RUN_COLORS",
           "RUN_SELECTION_REQUEST"]

SELECTED_RUNS = "shell-selected-runs"
"""dcc.Store, ``data``: list[str] of the run names ticked in the run selector."""

DATA_VERSION = "shell-data-version"
"""dcc.Store, ``data``: int, the provider's ``version()``; changes only when data changed."""

TAB_DATA_VERSION = "shell-tab-data-version"
"""dcc.Store, ``data``: ``DATA_VERSION`` as the server-drawn tabs see it: it follows
``DATA_VERSION`` only while such a tab is shown (and catches up when one is opened), so
live data costs no hidden tab's callback while the browser-drawn Scalars page is open.
Server-drawn tabs take this as their Input, never ``DATA_VERSION``."""

THEME = "shell-theme"
"""dcc.Store, ``data``: ``"light"`` or ``"dark"`` (follows the OS until the user picks)."""

URL = "shell-url"
"""dcc.Location: the view state lives in its query string (see ``vizboard.components.url_state``)."""

ACTIVE_TAB = "shell-active-tab"
"""dcc.Store, ``data``: the id of the visible dashboard; hidden tabs skip their work."""

RUN_COLORS = "shell-run-colors"
"""dcc.Store, ``data``: dict run name -> CSS colour by run order (``vizboard.figures.theme.run_color_map``), set by the page."""

RUN_SELECTION_REQUEST = "shell-run-selection-request"
"""dcc.Store, ``data``: list[str] or None. A tab writes run names here to make the run
selector select exactly those runs (e.g. rows ticked in the HParams table); an empty
list or None leaves the selector as it is. Only one tab may write it (Dash allows one
output per property): today that is HParams."""
