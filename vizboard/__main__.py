"""``python -m vizboard``: the command line (see ``vizboard.cli``)."""

from __future__ import annotations

import sys

from vizboard.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
