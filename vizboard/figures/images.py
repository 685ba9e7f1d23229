"""Image tab helpers: blob URLs, grouping a series' items by step, and the CSS of the view controls."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from vizboard.data.models import BlobRef

__all__ = ["BLOB_ROUTE", "blob_url", "steps_of", "items_at", "image_filter"]

BLOB_ROUTE = "/api/blob"
"""The server route that serves a blob's bytes (``?run=&tag=&step=&index=``)."""


def blob_url(ref: BlobRef, prefix: str = "") -> str:
    """The URL of ``ref``'s bytes on the blob route (``prefix`` = the app's URL path prefix)."""
    query = urlencode({"run": ref.run, "tag": ref.tag, "step": int(ref.step), "index": int(ref.index)})
    return f"{prefix.rstrip('/')}{BLOB_ROUTE}?{query}"


def steps_of(refs: Sequence[BlobRef]) -> list[int]:
    """The distinct steps of ``refs`` in increasing order (every logged step)."""
    return sorted({int(r.step) for r in refs})


def items_at(refs: Sequence[BlobRef], step: int) -> list[BlobRef]:
    """The items logged at ``step`` (several for a TF 2.x multi-image tensor), by index."""
    return sorted((r for r in refs if int(r.step) == step), key=lambda r: r.index)


def image_filter(brightness: float = 1.0, contrast: float = 1.0) -> str:
    """The CSS ``filter`` for the brightness and contrast factors (1.0 = unchanged)."""
    for name, v in (("brightness", brightness), ("contrast", contrast)):
        if not (0.0 <= float(v) <= 10.0):
            raise ValueError(f"{name} must be within [0, 10], got {v}")
    return f"brightness({float(brightness):g}) contrast({float(contrast):g})"
