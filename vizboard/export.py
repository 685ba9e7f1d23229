"""Scalar export: ``read_scalars`` (pandas), ``export_scalars`` (CSV, Parquet, JSON Lines), the CLI glue.

One table for every scalar series of a logdir, with columns ``run`` (str), ``tag`` (str),
``step`` (int64), ``wall_time`` (float64, seconds since the epoch) and ``value`` (float64;
float32 values as logged, widened exactly), sorted by run, tag and step. NaN and ±inf
values are exported, never dropped.

Formats:

* ``csv`` — header ``run,tag,step,wall_time,value``; run and tag always in double
  quotes (RFC 4180, ``"`` doubled); floats in shortest round-trip form (``0.1``,
  ``1e-7``, ``100``), non-finite values as ``nan``, ``inf``, ``-inf`` (which pandas,
  numpy and ``float()`` read back).
* ``parquet`` — one file, columns typed as above (strings dictionary-encoded).
* ``json`` — JSON Lines (one object per line, ``{"run": ..., "tag": ..., "step": ...,
  "wall_time": ..., "value": ...}``), so a huge export streams and every line is valid
  JSON; read with ``pandas.read_json(path, lines=True)``. Numbers in shortest round-trip
  form (an integral float may appear as ``100``); non-finite values are TensorBoard's
  strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

Export streams series by series (batched through Arrow, whose C++ writers format the
numbers), so memory holds about one series or batch at a time (up to a million rows per
Parquet row group), never the whole table. Files are written to a
temporary name beside the target and renamed when complete (the writers and the output
target are in ``vizboard.export_formats``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from vizboard.data.models import Kind, ScalarSeries, TagInfo
from vizboard.data.patterns import name_filter
from vizboard.data.provider import DataProvider
from vizboard.data.serialize import COLUMNS
from vizboard.export_formats import FORMATS, WRITERS, format_for, output

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "FORMATS",
    "read_scalars",
    "iter_scalars",
    "export_scalars",
    "add_export_arguments",
    "run_export",
]





# --------------------------------------------------------------------------- selecting series


def _matcher(pattern: str | Sequence[str] | None, name: str) -> Callable[[str], bool]:
    if pattern is None:
        return lambda _s: True
    if isinstance(pattern, str):
        return name_filter(pattern, ignore_case=False, invalid="error", name=name)  # linear time (RE2)
    names = list(pattern)
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"{name} must be a regular expression or a list of exact names (got {pattern!r})")
    wanted = frozenset(names)
    return lambda s: s in wanted


def _selected(provider: DataProvider, runs: Any, tags: Any) -> list[TagInfo]:
    """The scalar series matching the filters, sorted by (run, tag)."""
    keep_run, keep_tag = _matcher(runs, "runs"), _matcher(tags, "tags")
    infos = [t for t in provider.tags(Kind.SCALARS) if keep_run(t.run) and keep_tag(t.tag)]
    return sorted(infos, key=lambda t: (t.run, t.tag))


def iter_scalars(
    provider: DataProvider, runs: str | Sequence[str] | None = None, tags: str | Sequence[str] | None = None
) -> Iterator[ScalarSeries]:
    """Every scalar series of ``provider`` matching ``runs``/``tags``, sorted by (run, tag).

    ``runs`` and ``tags`` are regular expressions (searched anywhere, RE2 syntax: linear time, no look-around) or lists
    of exact names; None selects all. Each series is sorted by step.
    """
    for info in _selected(provider, runs, tags):
        series = provider.scalars(info.run, info.tag)
        if series is not None and len(series):
            yield _by_step(series)


def _by_step(s: ScalarSeries) -> ScalarSeries:
    step = s.step
    if step.shape[0] < 2 or bool(np.all(step[1:] >= step[:-1])):
        return s
    order = np.argsort(step, kind="stable")
    return ScalarSeries(s.run, s.tag, step[order], s.wall_time[order], s.value[order], s.version)


@contextmanager
def _opened(logdir: str | os.PathLike[str] | DataProvider, progress: bool = False) -> Iterator[DataProvider]:
    """A provider for ``logdir``: the object itself if it is one, else a one-shot load
    (with a bytes-read progress bar on stderr if ``progress`` and stderr is a terminal)."""
    if not isinstance(logdir, (str, os.PathLike)):  # a provider (export needs only tags() and scalars())
        yield logdir
        return
    path = os.fspath(logdir)
    if "://" not in path:
        if not os.path.exists(path):
            raise FileNotFoundError(f"logdir {path!r} does not exist (pass the directory your runs write to)")
        if not os.path.isdir(path):
            raise NotADirectoryError(f"logdir {path!r} is not a directory")
    if progress and sys.stderr.isatty():
        store = _load_with_progress(path)
    else:
        from vizboard.data import load

        store = load(path)
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def _load_with_progress(path: str) -> DataProvider:
    """``vizboard.data.load(path)``, run on a thread we own and join, while the calling
    thread draws the store's bytes-read progress."""
    import threading

    from tqdm import tqdm

    from vizboard.data import Ingestor, Store

    store = Store(path)
    failure: list[BaseException] = []

    def work() -> None:
        try:
            Ingestor(store, watch=False).run_once()
        except BaseException as e:  # handed to the caller below
            failure.append(e)

    worker = threading.Thread(target=work, name="vizboard-export-load", daemon=True)
    bar = tqdm(total=0, unit="B", unit_scale=True, desc="load", file=sys.stderr, leave=False)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
            st = store.status()
            bar.total = max(st.bytes_total, st.bytes_read)
            bar.n = st.bytes_read
            bar.refresh()
    finally:
        worker.join()
        bar.close()
    if failure:
        raise failure[0]
    return store


# --------------------------------------------------------------------------- pandas


def read_scalars(
    logdir: str | os.PathLike[str] | DataProvider,
    runs: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every scalar of ``logdir`` as a pandas DataFrame.

    Columns ``run`` (str), ``tag`` (str), ``step`` (int64), ``wall_time`` (float64,
    seconds since the epoch), ``value`` (float64, NaN/±inf kept), sorted by run, tag,
    step. ``runs``/``tags``: a regular expression (searched, RE2 syntax) or a list of exact
    names. ``logdir`` is a path or fsspec URL (loaded once), or an already loaded
    ``DataProvider``. Raises FileNotFoundError for a missing logdir.
    """
    import pandas as pd

    with _opened(logdir) as provider:
        parts = list(iter_scalars(provider, runs, tags))
    counts = np.array([len(s) for s in parts], dtype=np.int64)
    names = np.empty(len(parts), dtype=object)
    names[:] = [s.run for s in parts]
    tag_names = np.empty(len(parts), dtype=object)
    tag_names[:] = [s.tag for s in parts]

    def cat(attr: str, dtype: Any) -> np.ndarray:
        if not parts:
            return np.empty(0, dtype=dtype)
        return np.concatenate([np.asarray(getattr(s, attr), dtype=dtype) for s in parts])

    return pd.DataFrame(
        {
            "run": pd.Series(np.repeat(names, counts), dtype=str),
            "tag": pd.Series(np.repeat(tag_names, counts), dtype=str),
            "step": cat("step", np.int64),
            "wall_time": cat("wall_time", np.float64),
            "value": cat("value", np.float64),
        },
        columns=list(COLUMNS),
    )


def export_scalars(
    logdir: str | os.PathLike[str] | DataProvider,
    out: str | os.PathLike[str] | IO[Any] = "-",
    fmt: str | None = None,
    runs: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
    progress: bool = True,
) -> int:
    """Write every scalar of ``logdir`` (filtered by ``runs``/``tags``) to ``out``; return rows written.

    ``out``: a file path, ``"-"`` for stdout, or an open stream (text for csv/json,
    binary for parquet). ``fmt``: ``"csv"``, ``"parquet"`` or ``"json"`` (JSON Lines; see
    the module docstring); None picks it from the file suffix (``.parquet``/``.pq``,
    ``.json``/``.jsonl``/``.ndjson``, else csv). ``runs``/``tags`` as in
    :func:`read_scalars`. ``progress`` shows a bar on stderr when it is a terminal.
    Raises FileNotFoundError (missing logdir or output directory), ValueError (unknown
    format, bad filter), PermissionError (unwritable output).
    """
    fmt = format_for(out, fmt)
    binary = fmt == "parquet"
    # The output is checked (and its temporary file created) before a possibly long load.
    with output(out, binary) as f, _opened(logdir, progress) as provider:
        infos = _selected(provider, runs, tags)
        total = sum(i.num_points for i in infos)
        with _progress(total, progress) as bar:
            writer: Any = WRITERS[fmt](f)
            rows = 0
            for info in infos:
                series = provider.scalars(info.run, info.tag)
                if series is None or not len(series):
                    continue
                writer.write(_by_step(series))
                rows += len(series)
                bar.update(len(series))
            writer.close()
    return rows


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Any]:
    show = enabled and total > 0 and sys.stderr.isatty()
    if not show:
        yield _NoBar()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="pt", unit_scale=True, desc="export", file=sys.stderr, leave=False)
    try:
        yield bar
    finally:
        bar.close()


class _NoBar:
    def update(self, n: int) -> None:
        pass


# --------------------------------------------------------------------------- CLI glue


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``vizboard export`` arguments to ``parser`` (use with :func:`run_export`)."""
    parser.add_argument("logdir", help="directory (or fsspec URL) holding the runs' event files")
    parser.add_argument(
        "--format", "-f", dest="format", choices=FORMATS, default=None,
        help="csv, parquet, or json (JSON Lines: one object per line); default: from the -o "
        "suffix (.parquet, .json/.jsonl), else csv",
    )
    parser.add_argument("-o", "--output", default="-", help="output file (default: - for stdout)")
    parser.add_argument("--runs", default=None, metavar="REGEX", help="only runs whose name matches (RE2 regex, searched)")
    parser.add_argument("--tags", default=None, metavar="REGEX", help="only tags that match (searched; RE2 syntax, linear time)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar on stderr")


def run_export(args: argparse.Namespace) -> int:
    """Run ``vizboard export`` from parsed arguments; returns the exit code (0, or 2 on error)."""
    try:
        rows = export_scalars(
            args.logdir, args.output, fmt=args.format, runs=args.runs, tags=args.tags,
            progress=getattr(args, "progress", True),
        )
    except BrokenPipeError:  # e.g. `vizboard export LOGDIR | head`: the reader left
        sys.stderr.close()
        return 1
    except (OSError, ValueError) as e:
        print(f"vizboard export: error: {e}", file=sys.stderr)
        return 2
    if args.output != "-":
        print(f"vizboard export: wrote {rows} rows to {args.output}", file=sys.stderr)
    return 0
