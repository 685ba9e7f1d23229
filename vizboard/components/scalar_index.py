"""Which cards the Scalars tab shows: tags grouped into sections, merged charts and custom layouts.

Pure logic over ``TagInfo`` and ``ChartLayout`` lists (no Dash). A card is one of:
a plain tag (one line per selected run), an ``add_scalars`` chart (every tag whose
``TagInfo.chart`` names it, one line per (run, tag)), or a custom-scalars layout chart
(every tag fully matching one of its regular expressions, across the selected runs),
shown in a "Custom: <category>" section listed first. Sections are named by the text
before the first ``/`` of the card's title.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vizboard.data.lru import ByteLRU
from vizboard.data.models import ChartLayout, Kind, TagInfo
from vizboard.data.patterns import compile_union, name_filter
from vizboard.data.provider import DataProvider

__all__ = ["CardSpec", "Section", "build_sections", "compile_filter", "short_id", "ScalarIndex"]

OPEN_SECTIONS = 3
"""Sections open by default (the rest start collapsed so 500 tags stay light)."""


def short_id(text: str) -> str:
    """A short, stable, id-safe hash of ``text`` (for Dash component ids)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CardSpec:
    """One chart: its title, and the (run, tag) series drawn on it (label per line)."""

    key: str
    title: str
    kind: str  # "tag", "chart" or "layout"
    lines: tuple[tuple[str, str, str], ...]  # (run, tag, label)


@dataclass(frozen=True, slots=True)
class Section:
    """A collapsible group of cards."""

    name: str
    key: str
    cards: tuple[CardSpec, ...]
    open_by_default: bool


def compile_filter(pattern: str | None) -> Callable[[str], bool]:
    """A predicate for a user's regex (searched anywhere, case-insensitive); an invalid regex matches as plain text.

    Runs on RE2 (:func:`vizboard.data.patterns.name_filter`): linear time, so no filter a user
    types can stall the server (issue 16).
    """
    return name_filter(pattern, ignore_case=True, invalid="literal", name="filter")


def _section_of(title: str) -> str:
    return title.split("/", 1)[0] if "/" in title else title


def build_sections(
    tags: Sequence[TagInfo],
    layouts: Sequence[ChartLayout],
    selected_runs: Sequence[str],
    tag_filter: str | None = None,
) -> list[Section]:
    """Group the scalar ``tags`` of ``selected_runs`` into sections of cards (see module doc)."""
    selected = set(selected_runs)
    keep = compile_filter(tag_filter)
    scalar = [t for t in tags if t.kind == Kind.SCALARS and t.run in selected]
    charts = {t.chart for t in scalar if t.chart}
    sections: list[Section] = []

    # Custom-scalars layouts (regex tags across runs), merged by category.
    by_category: OrderedDict[str, list[CardSpec]] = OrderedDict()
    closed: dict[str, bool] = {}
    seen_titles: set[tuple[str, str]] = set()
    for lay in layouts:
        if lay.title in charts or (lay.category, lay.title) in seen_titles:
            continue  # add_scalars groups are drawn from TagInfo.chart; duplicates skipped
        seen_titles.add((lay.category, lay.title))
        if not keep(lay.title):
            continue
        # margin charts: the value, lower and upper tags (exact names) are drawn as lines
        patterns = list(lay.tags) + [re.escape(v) for m in lay.margin for v in m]
        rx = compile_union(patterns, name="custom scalars layout")  # RE2: linear time
        lines = tuple((t.run, t.tag, f"{t.run}: {t.tag}") for t in scalar if rx is not None and rx.fullmatch(t.tag))
        cat = lay.category or "Custom"
        by_category.setdefault(cat, []).append(
            CardSpec(short_id(f"layout\0{lay.category}\0{lay.title}"), lay.title, "layout", lines))
        closed[cat] = closed.get(cat, False) or lay.closed
    for cat, cards in by_category.items():
        name = f"Custom: {cat}"
        sections.append(Section(name, short_id("section\0" + name), tuple(cards), not closed[cat]))

    # Plain tags and add_scalars charts, grouped by prefix.
    cards_by_title: dict[str, tuple[str, list[tuple[str, str, str]]]] = {}
    for t in scalar:
        if t.chart:
            title, kind = t.chart, "chart"
            suffix = t.tag[len(t.chart) + 1:] if t.tag.startswith(t.chart + "/") else t.tag
            label = suffix if len(selected) == 1 else f"{t.run}: {suffix}"
        else:
            title, kind, label = t.tag, "tag", t.run
        if not keep(title):
            continue
        entry = cards_by_title.setdefault(f"{kind}\0{title}", (title, []))
        entry[1].append((t.run, t.tag, label))
    grouped: dict[str, list[CardSpec]] = {}
    for key in sorted(cards_by_title, key=lambda k: cards_by_title[k][0]):
        title, lines = cards_by_title[key]
        kind = key.split("\0", 1)[0]
        grouped.setdefault(_section_of(title), []).append(CardSpec(short_id(key), title, kind, tuple(lines)))
    for name in sorted(grouped):
        sections.append(Section(name, short_id("section\0" + name), tuple(grouped[name]), True))

    # Only the first few sections start open.
    return [
        Section(s.name, s.key, s.cards, s.open_by_default and i < OPEN_SECTIONS) for i, s in enumerate(sections)
    ]


class ScalarIndex:
    """Caches :func:`build_sections` per (data version, selected runs, tag filter) for one provider.

    The cache is bounded in bytes (``max_bytes``, default 16 MiB, estimated by
    :func:`vizboard.data.lru.approx_nbytes`), not entries: a selection of 10,000 runs weighs
    what it holds (issue 16).
    """

    def __init__(self, provider: DataProvider, max_bytes: int = 16 << 20) -> None:
        self._provider = provider
        self._cache: ByteLRU[list[Section]] = ByteLRU(max_bytes)

    @property
    def cache_bytes(self) -> int:
        """Estimated bytes the cache holds."""
        return self._cache.nbytes

    def sections(self, selected_runs: Sequence[str], tag_filter: str | None) -> list[Section]:
        """The current sections (recomputed only when the provider's version changed)."""
        version = self._provider.version()
        key = (version, tuple(selected_runs), tag_filter or "")
        found, hit = self._cache.get(key)
        if found and hit is not None:
            return hit
        result = build_sections(
            self._provider.tags(Kind.SCALARS, list(selected_runs)),
            self._provider.chart_layouts(), selected_runs, tag_filter)
        self._cache.put(key, result)
        return result

    def section(self, key: str, selected_runs: Sequence[str], tag_filter: str | None) -> Section | None:
        """The section with ``key``, or None if it no longer exists."""
        return next((s for s in self.sections(selected_runs, tag_filter) if s.key == key), None)

    def card(self, key: str, selected_runs: Sequence[str], tag_filter: str | None) -> CardSpec | None:
        """The card with ``key``, or None."""
        for s in self.sections(selected_runs, tag_filter):
            for c in s.cards:
                if c.key == key:
                    return c
        return None
