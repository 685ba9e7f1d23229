"""The Dashboard record: what one tab contributes to the app (layout, callbacks, when shown)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dash import Dash
from dash.development.base_component import Component

from vizboard.components.run_selector import run_colors_of
from vizboard.components.url_state import UrlParam
from vizboard.data.models import Kind
from vizboard.data.provider import DataProvider

__all__ = ["Dashboard", "run_colors_of"]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One tab of the app.

    ``id`` is URL-safe and unique (``scalars``, ``images``, ...); it names the tab in
    the URL and prefixes every component id the dashboard creates (``f"{id}-..."``),
    so dashboards never collide. ``kinds`` are the data kinds the tab draws: the
    shell hides the tab while the provider has no tag of those kinds, unless
    ``is_available`` is given, which then decides. ``layout()`` builds the tab's
    static component tree (no data access: data arrives through callbacks).
    ``url_params()`` lists the controls the tab keeps in the URL. ``stores()`` lists the components
    the shell mounts from the first paint, outside the tab's page: every tab but the first is built
    in the browser only when it is first opened (its page is empty until then), so what the URL
    writes before that (e.g. a tab's pins Store) lives here, not in ``layout()``.
    ``register_callbacks(app, provider)`` attaches the tab's callbacks; they read
    shared state from the ids in ``vizboard.components.ids``.
    """

    id: str
    title: str
    kinds: tuple[Kind, ...]
    layout: Callable[[], Component]
    register_callbacks: Callable[[Dash, DataProvider], None]
    is_available: Callable[[DataProvider], bool] | None = None
    url_params: Callable[[], list[UrlParam]] | None = None
    """The tab's controls kept in the URL (registered by the shell with the ``tab=`` parameter)."""
    stores: Callable[[], list[Component]] | None = None
    """Components mounted in the shell from the start, even while the tab's page is not built yet."""
    full_plotly: bool = False
    """The tab draws trace types outside plotly.js's basic bundle (scatter, bar, pie), e.g.
    parcoords or scatter3d: the browser loads the full bundle before it asks for the tab's page."""
    lazy_suites: tuple[str, ...] = ()
    """Namespaces of Dash component suites only this tab renders (e.g. ``dash_cytoscape``): the
    index page does not run their bundles; the browser loads them before it asks for the tab's page."""

    def available(self, provider: DataProvider) -> bool:
        """Whether the tab has anything to show for ``provider``'s current data."""
        if self.is_available is not None:
            return self.is_available(provider)
        return any(provider.tags(kind) for kind in self.kinds)

