"""Image helpers: blob URLs (escaping), steps, multi-image grouping, slider positions, CSS filter."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from vizboard.data.models import BlobRef
from vizboard.figures.images import blob_url, image_filter, items_at, steps_of


def _ref(step: int, index: int = 0, run: str = "r", tag: str = "t") -> BlobRef:
    return BlobRef(run=run, tag=tag, step=step, wall_time=0.0, file="/f", offset=0, length=1, index=index)


def test_blob_url_escapes_every_field() -> None:
    url = blob_url(_ref(7, 2, run="a b/c&d", tag="img/x?y=#z"))
    parts = urlsplit(url)
    assert parts.path == "/api/blob"
    assert parse_qs(parts.query) == {"run": ["a b/c&d"], "tag": ["img/x?y=#z"], "step": ["7"], "index": ["2"]}


def test_blob_url_prefix() -> None:
    assert blob_url(_ref(1), prefix="/vb/").startswith("/vb/api/blob?")


def test_steps_and_items() -> None:
    refs = [_ref(0, 1), _ref(0, 0), _ref(5), _ref(3), _ref(0, 2)]
    assert steps_of(refs) == [0, 3, 5]
    assert [r.index for r in items_at(refs, 0)] == [0, 1, 2]
    assert items_at(refs, 4) == []


def test_image_filter() -> None:
    assert image_filter() == "brightness(1) contrast(1)"
    assert image_filter(1.5, 0.25) == "brightness(1.5) contrast(0.25)"
    with pytest.raises(ValueError, match="brightness"):
        image_filter(-1, 1)
