"""ServeConfig: the frozen settings of one `vizboard serve` (logdir, address, polling, token)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

__all__ = ["ServeConfig", "DEFAULT_PORT", "DEFAULT_HOST", "parse_port"]

DEFAULT_PORT = 6006
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything `vizboard serve` was told.

    ``logdir`` is a local path or an fsspec URL (``s3://...``); ``host``/``port`` the
    address to bind (loopback by default); ``poll`` forces polling instead of
    file-system events (remote logdirs are always polled); ``reload_interval`` is the
    full-rescan period in seconds (None: the data layer's default); ``token`` (if set) guards every route;
    ``live_interval`` is how often the page checks for new data (seconds);
    ``max_points`` caps the points per trace sent to the browser.
    """

    logdir: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    poll: bool = False
    reload_interval: float | None = None
    token: str | None = None
    live_interval: float = 0.3
    max_points: int = 1500
    title: str = "vizboard"

    def __post_init__(self) -> None:
        if not self.logdir:
            raise ValueError("logdir: must not be empty; pass the directory your SummaryWriter writes to")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port: {self.port} is not in 0..65535; pass e.g. --port 6006")
        if self.reload_interval is not None and not self.reload_interval > 0:
            raise ValueError(f"reload_interval: {self.reload_interval} must be > 0 seconds")
        if not self.live_interval > 0:
            raise ValueError(f"live_interval: {self.live_interval} must be > 0 seconds")
        if self.max_points < 10:
            raise ValueError(f"max_points: {self.max_points} must be >= 10")
        if self.token is not None and not self.token:
            raise ValueError("token: must not be empty; omit --token to serve without one")

    @property
    def url(self) -> str:
        """The URL to open (``localhost`` for a wildcard bind), with the token if any."""
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        base = f"http://{host}:{self.port}/"
        return f"{base}?token={self.token}" if self.token else base


def parse_port(text: str) -> int:
    """A TCP port from a command-line flag (0 = any free port); argparse ``type=`` for ``--port``."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"{v} is not in 0..65535")
    return v
