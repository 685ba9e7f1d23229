"""Helpers shared by the test suites (import them: ``from tests.conftest import free_port, http_get, wait_json``).

Before this module each suite carried its own copy of ``free_port`` and of an HTTP GET/poll loop.
Plain functions, no fixtures: importing them has no side effects.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = ["free_port", "http_get", "wait_json"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (bind to port 0, read it, close)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of a GET; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def wait_json(url: str, pred: Callable[[Any], bool], timeout: float = 30.0,
              headers: dict[str, str] | None = None) -> Any:
    """Poll ``url`` every 50 ms until it answers 200 with JSON satisfying ``pred``; else AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            status, body, _ = http_get(url, headers)
        except OSError:
            status, body = 0, b""
        if status == 200:
            last = json.loads(body)
            if pred(last):
                return last
        time.sleep(0.05)
    raise AssertionError(f"condition not met on {url} within {timeout} s; last: {str(last)[:300]}")
