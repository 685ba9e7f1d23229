"""vizboard: a live TensorBoard-format dashboard for PyTorch; this module is the public read API.

Importing ``vizboard`` is cheap: it loads neither Dash/Plotly nor pandas. ``read_scalars``
imports what it needs when called.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from vizboard.data.provider import DataProvider

__all__ = ["read_scalars", "load_ipython_extension", "__version__"]

__version__ = "0.1.0"
"""The package version (kept equal to ``pyproject.toml``'s by a test)."""


def read_scalars(
    logdir: str | os.PathLike[str] | DataProvider,
    runs: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every scalar of ``logdir`` as a pandas DataFrame, sorted by run, tag, step.

    Columns ``run`` (str), ``tag`` (str), ``step`` (int64), ``wall_time`` (float64,
    seconds since the epoch) and ``value`` (float64; NaN and ±inf kept as logged).
    ``runs``/``tags``: a regular expression (matched with ``re.search``) or a list of
    exact names; None selects all. ``logdir``: a directory or fsspec URL (read once),
    or an already loaded ``DataProvider``. Raises FileNotFoundError if it does not exist.

    >>> df = vizboard.read_scalars("runs", tags="loss")  # doctest: +SKIP
    """
    from vizboard.export import read_scalars as _read_scalars

    return _read_scalars(logdir, runs=runs, tags=tags)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext vizboard``: register the ``%vizboard LOGDIR`` magic (see ``vizboard.notebook``).

    Imports nothing heavy until the magic runs.
    """
    from vizboard.notebook import load_ipython_extension as _load

    _load(ipython)
