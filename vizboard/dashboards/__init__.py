"""The registry of tabs, in display order: one module path per line, each exporting ``DASHBOARD``.

To add a tab, append one line ``"vizboard.dashboards.<name>",`` to ``DASHBOARD_MODULES``;
the module defines ``DASHBOARD = Dashboard(...)`` (see ``vizboard.dashboards.base``).
Modules are imported when the app is built, not when this package is imported.
"""

from __future__ import annotations

import importlib

from vizboard.dashboards.base import Dashboard

__all__ = ["DASHBOARD_MODULES", "registry"]

DASHBOARD_MODULES: tuple[str, ...] = (
    "vizboard.dashboards.scalars",
    "vizboard.dashboards.runs",
    "vizboard.dashboards.histograms",
    "vizboard.dashboards.distributions",
    "vizboard.dashboards.images",
    "vizboard.dashboards.audio",
    "vizboard.dashboards.text",
    "vizboard.dashboards.pr_curves",
    "vizboard.dashboards.graphs",
    "vizboard.dashboards.hparams",
    "vizboard.dashboards.profile",
    "vizboard.dashboards.projector",
)


def registry() -> tuple[Dashboard, ...]:
    """The Dashboard record of every registered tab, in order (ids must be unique)."""
    boards = tuple(importlib.import_module(name).DASHBOARD for name in DASHBOARD_MODULES)
    seen: set[str] = set()
    for b in boards:
        if b.id in seen:
            raise ValueError(f"DASHBOARD_MODULES: two tabs share the id {b.id!r}; ids must be unique")
        seen.add(b.id)
    return boards
