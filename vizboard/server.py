"""VizboardServer: owns the WSGI server and the ingest threads of one `vizboard serve`.

``VizboardServer(config).start()`` checks the logdir and binds the port (raising
:class:`ServeError` with a one-line fix for a missing logdir or a port in use, before
anything heavy is imported), starts the ingest threads, and only then imports Dash and
builds the app, so the first load runs while the web stack is being built (about 1 s of
imports and layout: DESIGN.md §5's start-up budget); serving begins before the first load
has finished (the header and ``/api/status`` show its progress). ``serve_forever()``
handles requests until ``stop()`` (from another thread or a signal), which shuts the
server down and joins every thread. Connections that arrive while the app is being built
wait in the listen backlog.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from vizboard.config import ServeConfig
from vizboard.data.provider import DataProvider

if TYPE_CHECKING:
    from dash import Dash
    from werkzeug.serving import BaseWSGIServer

__all__ = ["ServeError", "VizboardServer", "check_logdir"]


class ServeError(Exception):
    """A startup problem the user can fix; ``str()`` is one line naming the flag/argument and the fix."""


def check_logdir(logdir: str) -> None:
    """Raise :class:`ServeError` if a local ``logdir`` does not exist (remote URLs pass through)."""
    from vizboard.data.fs import is_remote

    if is_remote(logdir):
        return
    path = logdir[len("file://"):] if logdir.startswith("file://") else logdir
    path = os.path.expanduser(path)
    if not os.path.exists(path):
        raise ServeError(f"LOGDIR {logdir!r} does not exist: pass the directory your SummaryWriter writes to "
                         f"(e.g. vizboard serve runs/)")
    if not os.path.isdir(path):
        raise ServeError(f"LOGDIR {logdir!r} is a file, not a directory: pass the directory that holds "
                         f"the event files")


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or :class:`ServeError` naming the flag and the fix."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"--host {host}: cannot resolve it ({exc.strerror}); pass an address of this machine, "
                         f"e.g. --host 127.0.0.1") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"--port {port}: {host}:{port} is already in use; pass a free port, "
                             f"e.g. --port {port + 1}") from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"--port {port}: binding {host}:{port} is not permitted (privileged port); "
                             f"pass a port above 1023, e.g. --port 6006") from None
        raise ServeError(f"--host {host}: cannot listen there ({exc.strerror or exc}); pass an address of "
                         f"this machine, e.g. --host 127.0.0.1") from None
    return sock


class _RefuseIPython:
    """A meta-path finder that makes ``import IPython`` fail (see :func:`_without_ipython`)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "IPython" or name.startswith("IPython."):
            raise ImportError("vizboard serve: IPython is not needed outside a notebook")
        return None


@contextlib.contextmanager
def _without_ipython() -> Iterator[None]:
    """While Dash is imported outside a notebook, refuse IPython.

    Dash imports IPython (and requests) at import time for its Jupyter support when they are
    installed, as they are on most ML machines: ~0.45 s of a command-line start-up spent on
    a feature a server process never uses. Inside a notebook IPython is already imported, so
    this changes nothing there; a failed import leaves nothing behind in ``sys.modules``.
    """
    if "IPython" in sys.modules:
        yield
        return
    finder = _RefuseIPython()
    sys.meta_path.insert(0, finder)  # type: ignore[arg-type]
    try:
        yield
    finally:
        sys.meta_path.remove(finder)  # type: ignore[arg-type]


class VizboardServer:
    """The running server: a Store kept fresh by an Ingestor, the trace index (both threads owned
    here), the Dash app over ``served(store)``, a threaded WSGI server."""

    def __init__(self, config: ServeConfig, provider: DataProvider | None = None, ingestor: Any = None,
                 tune_heap: bool = False, fork_first_read: bool = False) -> None:
        """``fork_first_read``: a forked child does the first load's discovery and small-file reads while
        this process imports Dash and builds the app (:mod:`vizboard.data.first_read`; only when this
        object creates the Ingestor). ``tune_heap``: this process is only a server (``vizboard serve``, not a notebook kernel), so
        tune glibc's allocator for it (:mod:`vizboard.data.heap`): 2 arenas from the start, eager
        return of freed memory once the first load is done (set by the ingest thread before it
        reports the load done, so every request after the load sees the tuned heap)."""
        self.config = config
        self._tune_heap = tune_heap
        self._fork_first_read = fork_first_read
        self._provider = provider
        self._ingestor = ingestor
        self._owns_ingestor = False
        self._traces: Any = None
        self.app: Dash | None = None
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._warm: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def provider(self) -> DataProvider:
        """The data provider being served (``served(store)``: the Store plus traces and batch reads)."""
        assert self._provider is not None, "call start() first"
        return self._provider

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        assert self._httpd is not None, "call start() first"
        return int(self._httpd.port)

    @property
    def url(self) -> str:
        """The URL to open (with the token, if any)."""
        from dataclasses import replace

        return replace(self.config, port=self.port).url

    def start(self) -> VizboardServer:
        """Check the logdir, bind the port, start ingesting, build the app; returns at once (not serving yet).

        The order matters for start-up time: the bind fails fast (no Dash import before a
        port-in-use error), and the first load starts before the ~1 s of Dash imports and
        layout building, so the two overlap instead of adding up.
        """
        self._stopping.clear()
        if self._provider is None:
            check_logdir(self.config.logdir)
        sock = _bind(self.config.host, self.config.port)
        if self._tune_heap:
            from vizboard.data.heap import limit_malloc_arenas

            limit_malloc_arenas()  # before any thread of ours exists
        try:
            self._start_ingest()
            from werkzeug.serving import make_server

            with _without_ipython():
                from vizboard.app import create_app

            self.app = create_app(self.config, self.provider)
            self._httpd = make_server(self.config.host, sock.getsockname()[1], self.app.server, threaded=True,
                                      fd=sock.fileno())
        except BaseException:
            self.stop()
            raise
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        self._warm = threading.Thread(target=self._warm_up, name="vizboard-warm-up", daemon=True)
        self._warm.start()
        return self

    def _warm_up(self) -> None:
        """Build the server-side chart themes once the first load is done (it would only slow the load
        down before; the browser-drawn Scalars page needs none of it)."""
        ingestor = self._ingestor if self._owns_ingestor else None
        while ingestor is not None and not self._stopping.is_set():
            if ingestor.wait_until_loaded(0.2):
                break
        if self._stopping.is_set():
            return
        from vizboard.figures.scalars import warm_up

        warm_up()

    def _start_ingest(self) -> None:
        """Create (unless given) and start the Store's Ingestor and the trace index."""
        if self._provider is None:
            from vizboard.data import Ingestor, Store

            store = Store(self.config.logdir)
            eager: Callable[[], object] | None = None
            if self._tune_heap:  # in the ingest thread, before the load is reported done (heap.py)
                from vizboard.data.heap import return_freed_memory_eagerly

                eager = return_freed_memory_eagerly
            self._ingestor = Ingestor(store, poll=self.config.poll, reload_interval=self.config.reload_interval,
                                      on_first_load=eager, fork_first_read=self._fork_first_read)
            self._owns_ingestor = True
            self._provider = store
        if not hasattr(self._provider, "traces"):
            from vizboard.data.served import served
            from vizboard.data.traces import TraceIndex

            self._traces = TraceIndex(self._provider.logdir, interval=max(self.config.reload_interval or 5.0, 2.0))
            self._provider = served(self._provider, self._traces)
        if self._ingestor is not None and self._owns_ingestor:
            self._ingestor.start()
        if self._traces is not None:
            loaded = self._ingestor.wait_until_loaded if self._ingestor is not None else None
            self._traces.start(after=loaded)  # its first walk of the run directories waits for the first load

    def serve_forever(self) -> None:
        """Handle requests in this thread until :meth:`stop` is called."""
        assert self._httpd is not None, "call start() first"
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._httpd.serve_forever(poll_interval=0.2)

    def start_background(self) -> VizboardServer:
        """:meth:`start`, then serve in a thread this object owns (tests, notebooks)."""
        self.start()
        self._thread = threading.Thread(target=self.serve_forever, name="vizboard-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and ingesting; joins the threads this object started."""
        self._stopping.set()
        if self._warm is not None:
            self._warm.join(10)
            self._warm = None
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join(10)
                self._thread = None
            self._httpd.server_close()
            self._httpd = None
        if self._ingestor is not None and self._owns_ingestor:
            self._ingestor.stop()
        if self._traces is not None:
            self._traces.stop()

    def __enter__(self) -> VizboardServer:
        return self.start_background()

    def __exit__(self, *exc: object) -> None:
        self.stop()
