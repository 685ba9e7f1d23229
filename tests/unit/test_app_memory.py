"""The app gives freed heap memory back to the OS after answers over 1 MiB (vizboard.app)."""

from __future__ import annotations

from fake_provider import FakeProvider

from vizboard.app import create_app
from vizboard.config import ServeConfig


def test_freed_memory_returned_after_large_answers_only(monkeypatch) -> None:
    """An answer over 1 MiB is followed by a malloc_trim once it is sent; a small one is not."""
    from flask import Response

    from vizboard.data import heap

    calls: list[int] = []
    monkeypatch.setattr(heap, "release_freed_memory", lambda: calls.append(1))
    app = create_app(ServeConfig(logdir="/fake/logdir"), FakeProvider())
    app.server.add_url_rule("/_test/big", "big", lambda: Response(b"x" * (2 << 20)))
    app.server.add_url_rule("/_test/small", "small", lambda: Response(b"x" * 1000))
    client = app.server.test_client()
    small = client.get("/_test/small")
    small.close()
    assert small.status_code == 200 and calls == []
    big = client.get("/_test/big")
    assert len(big.data) == 2 << 20
    big.close()
    assert calls == [1]
