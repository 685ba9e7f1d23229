"""The vizboard demo: a small PyTorch CNN trained on generated shapes, logging every kind of data (see ``train``)."""

from __future__ import annotations

__all__: list[str] = []
