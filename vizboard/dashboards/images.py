"""The Images tab: per (tag, run), the image(s) at a step chosen with a keyboard-friendly slider."""

from __future__ import annotations

from dash import Dash, Input, Output, State, dcc, html

from vizboard.components.card_grid import card_style, grid_style
from vizboard.components.card_pins import pins_param, pins_store
from vizboard.components.histogram_cards import tag_filter_input
from vizboard.components.step_slider import register_step_cards, step_at, step_label
from vizboard.dashboards.base import Dashboard
from vizboard.data.models import BlobRef, Kind
from vizboard.data.provider import DataProvider
from vizboard.figures.images import blob_url, image_filter, items_at, steps_of

__all__ = ["DASHBOARD", "ID"]

ID = "images"
CARDS = f"{ID}-cards"
SIGNATURE = f"{ID}-signature"
BRIGHTNESS = f"{ID}-brightness"
CONTRAST = f"{ID}-contrast"
ACTUAL_SIZE = f"{ID}-actual-size"
RESET = f"{ID}-reset"
SLIDER = f"{ID}-step-slider"
VIEW = f"{ID}-view"
PINNED = f"{ID}-pinned"

_CARD_STYLE = card_style("8px", overflow="auto")
_GRID_STYLE = grid_style(320, alignItems="start")
_PIXELATED_MAX_WIDTH = 256
_IMG_STYLE = {"filter": "var(--images-filter, none)", "width": "var(--images-width, 100%)",
              "maxWidth": "var(--images-max-width, 100%)", "height": "auto", "display": "block",
              "margin": "4px 0"}


def _img_style(width: int) -> dict[str, str]:
    # Small images (e.g. 28x28 digits) are scaled up: keep their pixels crisp.
    if 0 < width <= _PIXELATED_MAX_WIDTH:
        return {**_IMG_STYLE, "imageRendering": "pixelated"}
    return _IMG_STYLE


def _cards_style(brightness: float = 1.0, contrast: float = 1.0, actual: bool = False) -> dict[str, str]:
    return {**_GRID_STYLE, "--images-filter": image_filter(brightness, contrast),
            "--images-width": "auto" if actual else "100%",
            "--images-max-width": "none" if actual else "100%"}


def layout() -> html.Div:
    """Brightness, contrast and actual-size controls above the grid of image cards."""
    slider = {"min": 0, "max": 3, "step": 0.05, "value": 1, "marks": {0: "0", 1: "1", 2: "2", 3: "3"},
              "updatemode": "drag", "allow_direct_input": False}
    return html.Div(id=f"{ID}-root", children=[
        html.Div(style={"display": "flex", "gap": "24px", "alignItems": "center", "flexWrap": "wrap",
                        "marginBottom": "8px"}, children=[
            tag_filter_input(ID),
            html.Div(style={"width": "220px"}, children=[html.Label("Brightness", htmlFor=BRIGHTNESS),
                                                         dcc.Slider(id=BRIGHTNESS, **slider)]),
            html.Div(style={"width": "220px"}, children=[html.Label("Contrast", htmlFor=CONTRAST),
                                                         dcc.Slider(id=CONTRAST, **slider)]),
            html.Button("Reset", id=RESET, n_clicks=0),
            dcc.Checklist(id=ACTUAL_SIZE, options=[{"label": " Show actual image size", "value": "actual"}],
                          value=[]),
        ]),
        dcc.Store(id=SIGNATURE), dcc.Store(id=f"{ID}-pin-signature"),
        html.Div(id=PINNED, style={"marginBottom": "10px"}),
        html.Div(id=CARDS, style=_cards_style()),
    ])


def _view(refs: list[BlobRef], tag: str, position: int | None) -> list:
    """The step label and image(s) at slider ``position`` (the newest step if None)."""
    steps = steps_of(refs)
    if not steps:
        return [html.P("no images")]
    step = step_at(steps, position)
    items = items_at(refs, step)
    out: list = [html.Div(f"step {step_label(step)}" + (f" · {len(items)} images" if len(items) > 1 else ""),
                          className=f"{ID}-step", style={"fontSize": "12px"})]
    for ref in items:
        size = f"{ref.width}×{ref.height}" if ref.width and ref.height else ""
        out.append(html.Img(src=blob_url(ref), alt=f"{tag} step {step} #{ref.index}",
                            title=" ".join(x for x in (f"step {step}", f"#{ref.index}", size) if x),
                            className=f"{ID}-img", style=_img_style(ref.width)))
    return out


def register_callbacks(app: Dash, provider: DataProvider) -> None:
    """Build a card per (tag, run); each card's slider picks the step shown; CSS filter clientside."""

    app.clientside_callback(
        """
        function(b, c, actual, style, pinnedStyle) {
            const on = Array.isArray(actual) && actual.indexOf("actual") >= 0;
            const vars = {
                "--images-filter": "brightness(" + b + ") contrast(" + c + ")",
                "--images-width": on ? "auto" : "100%",
                "--images-max-width": on ? "none" : "100%"
            };
            return [Object.assign({}, style || {}, vars), Object.assign({}, pinnedStyle || {}, vars)];
        }
        """,
        Output(CARDS, "style"), Output(PINNED, "style"),
        Input(BRIGHTNESS, "value"), Input(CONTRAST, "value"), Input(ACTUAL_SIZE, "value"),
        State(CARDS, "style"), State(PINNED, "style"),
    )
    app.clientside_callback(
        "function(n) { return [1, 1]; }",
        Output(BRIGHTNESS, "value"), Output(CONTRAST, "value"),
        Input(RESET, "n_clicks"), prevent_initial_call=True,
    )

    register_step_cards(app, provider, prefix=ID, kind=Kind.IMAGES, view=_view, card_style=_CARD_STYLE,
                        empty="No images in the selected runs.", pinnable=True)


DASHBOARD = Dashboard(
    id=ID, title="Images", kinds=(Kind.IMAGES,), layout=layout, register_callbacks=register_callbacks,
    url_params=lambda: [pins_param(ID)], stores=lambda: [pins_store(ID)],
)
