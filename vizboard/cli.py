"""The ``vizboard`` command: ``serve`` (the dashboard), ``export`` (scalars to CSV/Parquet/JSON), ``demo``.

Import-light: building the parser imports nothing heavy; each subcommand imports its
modules when it runs (``export`` and ``demo`` add their own arguments, imported only
when that subcommand is on the command line).
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser", "EXIT_USAGE"]

EXIT_USAGE = 2
"""Exit code for a usage problem the user can fix (missing logdir, port in use, bad flag)."""


def _version() -> str:
    from vizboard import __version__

    return __version__


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0 seconds")
    return v


def _add_serve_arguments(p: argparse.ArgumentParser) -> None:
    from vizboard.config import DEFAULT_HOST, DEFAULT_PORT, parse_port

    p.add_argument("logdir", metavar="LOGDIR",
                   help="directory your SummaryWriter writes to (runs are its subdirectories), or an fsspec "
                        "URL such as s3://bucket/prefix (polled)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to bind (default {DEFAULT_HOST}: this machine only; 0.0.0.0 = every "
                        f"interface, use with --token)")
    p.add_argument("--port", type=parse_port, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--poll", action="store_true",
                   help="poll the files instead of using file-system events (network file systems)")
    p.add_argument("--reload-interval", type=_positive_float, default=None, metavar="S",
                   help="seconds between full rescans of the logdir (default: 60 while file events are "
                        "healthy, else 5; 1 with --poll, 2 remote)")
    p.add_argument("--token", default=None, metavar="T",
                   help="require this access token on every page, callback and API call "
                        "(open the printed URL once; a cookie keeps you in)")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser; subcommands named in ``argv`` get their full arguments."""
    parser = argparse.ArgumentParser(
        prog="vizboard",
        description="A live, full-resolution dashboard for TensorBoard event files written by PyTorch.",
        epilog="Example: vizboard serve runs/   then open the printed URL.",
    )
    parser.add_argument("--version", action="version", version=f"vizboard {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve the dashboard for a logdir (live)",
                           description="Serve the dashboard for LOGDIR; new data appears live.")
    _add_serve_arguments(serve)
    export = sub.add_parser("export", help="export scalars to CSV, Parquet or JSON Lines",
                            description="Export every scalar of a logdir (columns run, tag, step, "
                                        "wall_time, value).")
    if "export" in argv:
        from vizboard.export import add_export_arguments

        add_export_arguments(export)
    if _has_module("vizboard.demo"):
        demo = sub.add_parser("demo", help="train a small real PyTorch model and serve its logs live",
                              description="Run the demo training loop and serve its logdir.")
        if "demo" in argv:
            from vizboard.demo import add_demo_arguments

            add_demo_arguments(demo)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from vizboard.config import ServeConfig
    from vizboard.server import ServeError, VizboardServer

    kwargs = {"reload_interval": args.reload_interval} if args.reload_interval is not None else {}
    try:
        config = ServeConfig(logdir=args.logdir, host=args.host, port=args.port, poll=args.poll,
                             token=args.token, **kwargs)
        # this process is only the server: memory grows with data, not requests, and the first load may fork
        server = VizboardServer(config, tune_heap=True, fork_first_read=True)
        server.start()
    except (ServeError, ValueError) as exc:
        print(f"vizboard serve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    print(f"vizboard: serving {args.logdir} at {server.url}  (Ctrl+C to stop)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.token:
        print("vizboard: warning: listening beyond this machine without --token: anyone who can reach "
              "the port can read your logs", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "export":
        from vizboard.export import run_export

        return int(run_export(args))
    if args.command == "demo":
        from vizboard.demo import run_demo

        return int(run_demo(args) or 0)
    parser.print_help()
    return EXIT_USAGE
