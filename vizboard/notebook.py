"""vizboard in notebooks: ``%load_ext vizboard`` + ``%vizboard LOGDIR``, or ``vizboard.notebook.show(logdir)``.

A call starts a :class:`~vizboard.server.VizboardServer` serving in a background thread
of this process (a free port unless ``port`` is given), or reuses the one already serving
that logdir, then shows the dashboard inline in an ``<iframe>`` with its URL printed. In
Jupyter (classic Notebook, Lab, VS Code) the iframe is displayed; anywhere else (a
terminal IPython, a script) the URL is printed instead. :func:`list` shows the servers
started this way, :func:`stop` stops them (they also stop when the kernel exits).

Remote kernels: the iframe points at ``http://127.0.0.1:PORT/`` of the *kernel's*
machine, which the browser can reach only through a tunnel: forward the port
(``ssh -L 6006:127.0.0.1:6006 host``, then ``%vizboard runs --port 6006``). Serving under a
proxy path (jupyter-server-proxy's ``/proxy/PORT/``) is not supported yet.

State: the list of servers this process started is process-wide by nature (the magic and
``show`` must find the server a previous cell started), so it is kept in one registry
object, guarded by a lock; it is the only module-level mutable object here.
"""

from __future__ import annotations

import argparse
import html
import os
import shlex
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["ServerInfo", "show", "list", "stop", "load_ipython_extension", "DEFAULT_HEIGHT"]

DEFAULT_HEIGHT = 800
"""Height of the inline dashboard, in CSS pixels."""
_builtin_list = list


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A server started from this process: its logdir (as given), real path, URL and port."""

    logdir: str
    path: str
    url: str
    port: int


class _Registry:
    """The servers this process started, by real logdir path (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.servers: dict[str, tuple[ServerInfo, Any]] = {}


_REGISTRY = _Registry()


def _key(logdir: str) -> str:
    from vizboard.data.fs import is_remote

    return logdir.rstrip("/") if is_remote(logdir) else os.path.realpath(os.path.expanduser(logdir))


def _start(logdir: str, host: str, port: int) -> ServerInfo:
    from vizboard.config import ServeConfig
    from vizboard.server import VizboardServer

    key = _key(logdir)
    with _REGISTRY.lock:
        found = _REGISTRY.servers.get(key)
        if found is not None and (port in (0, found[0].port)):
            return found[0]
        if found is not None:  # asked for another port: move it
            _stop_one(found)
            del _REGISTRY.servers[key]
        server = VizboardServer(ServeConfig(logdir=logdir, host=host, port=port)).start_background()
        info = ServerInfo(logdir, key, server.url, server.port)
        _REGISTRY.servers[key] = (info, server)
        return info


def _in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _iframe_html(url: str, height: int) -> str:
    src = html.escape(url, quote=True)
    return (f'<iframe src="{src}" title="vizboard" style="width:100%;height:{int(height)}px;border:1px solid #ddd;'
            f'border-radius:4px" loading="eager"></iframe>'
            f'<div style="font-size:12px">vizboard at <a href="{src}" target="_blank" rel="noopener">{html.escape(url)}</a>'
            f"</div>")


def show(logdir: str | os.PathLike[str], height: int = DEFAULT_HEIGHT, port: int = 0,
         host: str = "127.0.0.1") -> ServerInfo:
    """Serve ``logdir`` in the background (or reuse its server) and show the dashboard inline.

    ``height``: iframe height in CSS pixels (>= 200). ``port``: 0 picks a free one.
    ``host``: the address to bind (loopback by default). Returns the server's
    :class:`ServerInfo`. Raises ``vizboard.server.ServeError`` for a missing logdir or a
    busy port, ``ValueError`` for a bad height.
    """
    if not isinstance(height, int) or height < 200:
        raise ValueError(f"height must be an int >= 200 (CSS pixels), got {height!r}")
    info = _start(os.fspath(logdir), host, port)
    print(f"vizboard: serving {info.logdir} at {info.url}", flush=True)
    if _in_jupyter():
        from IPython.display import HTML, display

        display(HTML(_iframe_html(info.url, height)))
    return info


def list() -> list[ServerInfo]:  # noqa: A001 - the public name the issue asks for (vizboard.notebook.list)
    """The servers started by :func:`show` or ``%vizboard`` in this process, sorted by logdir."""
    with _REGISTRY.lock:
        return sorted((info for info, _ in _REGISTRY.servers.values()), key=lambda i: i.path)


def _stop_one(entry: tuple[ServerInfo, Any]) -> None:
    server = entry[1]
    server.stop()
    app = getattr(server, "app", None)
    service = app.server.extensions.get("vizboard.projector") if app is not None else None
    if service is not None:
        service.close()


def stop(which: str | os.PathLike[str] | int | None = None) -> int:
    """Stop the server of logdir or port ``which`` (all of them if None); returns how many stopped."""
    with _REGISTRY.lock:
        items = _builtin_list(_REGISTRY.servers.items())
        if which is not None:
            want = which if isinstance(which, int) else _key(os.fspath(which))
            items = [(k, e) for k, e in items if (e[0].port == want if isinstance(want, int) else k == want)]
        for k, entry in items:
            _stop_one(entry)
            del _REGISTRY.servers[k]
    return len(items)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="%vizboard", add_help=True,
                                description="Show the vizboard dashboard of LOGDIR inline (starts or reuses a server).")
    p.add_argument("logdir", metavar="LOGDIR", nargs="?", help="directory your SummaryWriter writes to")
    p.add_argument("--logdir", dest="logdir_flag", metavar="LOGDIR", help="same as the positional (TensorBoard's spelling)")
    p.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--height", type=int, default=DEFAULT_HEIGHT, help=f"iframe height in pixels (default {DEFAULT_HEIGHT})")
    p.add_argument("--stop", action="store_true", help="stop the server of LOGDIR (every server without LOGDIR)")
    p.add_argument("--list", action="store_true", help="list the servers started from this kernel")
    return p


def _magic(line: str) -> None:
    try:
        args = _parser().parse_args(shlex.split(line))
    except SystemExit:  # argparse printed the usage or the error
        return
    logdir = args.logdir or args.logdir_flag
    if args.list:
        for info in list():
            print(f"{info.url}  {info.logdir}")
        return
    if args.stop:
        print(f"vizboard: stopped {stop(logdir)} server(s)")
        return
    if not logdir:
        print("%vizboard: pass the logdir, e.g. %vizboard runs/")
        return
    from vizboard.server import ServeError

    try:
        show(logdir, height=args.height, port=args.port, host=args.host)
    except (ServeError, ValueError) as exc:
        print(f"%vizboard: error: {exc}")


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%vizboard`` line magic (called by ``%load_ext vizboard``)."""
    ipython.register_magic_function(_magic, magic_kind="line", magic_name="vizboard")
