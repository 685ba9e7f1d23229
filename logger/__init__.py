"""vizboard's logger: TensorBoard-format event files from PyTorch training code, written off the training thread.

``from logger import SummaryWriter`` (drop-in for torch's) or ``logger.init(...)``,
``logger.log({...}, step=...)``, ``logger.finish()``. Importing this package is cheap:
submodules (numpy, protobuf, Pillow, torch) load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["SummaryWriter", "ArgumentError", "init", "log", "finish", "get_writer", "__version__"]

__version__ = "0.1.0"
"""The distribution's version (vizboard and logger ship together)."""

_LAZY = {"SummaryWriter": "logger.writer", "ArgumentError": "logger._convert",
         "init": "logger.api", "log": "logger.api", "finish": "logger.api",
         "get_writer": "logger.api"}

if TYPE_CHECKING:
    from logger._convert import ArgumentError
    from logger.api import finish, get_writer, init, log
    from logger.writer import SummaryWriter


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'logger' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
