"""User-supplied regular expressions (run/tag filters, ``?run_re=``, export ``--runs/--tags``) on a linear-time engine.

Python's ``re`` backtracks: ``(\\w|\\w)*#`` against a 24-character tag takes seconds and holds the
GIL, stalling every client. Patterns typed by users therefore compile with RE2
(``google-re2``), whose matching time is linear in the input, with a bounded compile
memory and a bounded pattern length. RE2 has no look-around and no back-references; such a
pattern gets a :class:`PatternError` saying so (or, for the interactive filters that accept
anything, is matched as plain text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MAX_PATTERN_CHARS", "PatternError", "SafePattern", "compile_pattern", "name_filter", "compile_union"]

MAX_PATTERN_CHARS = 1000
"""Longest accepted pattern, in characters."""

_MAX_MEM = 8 << 20  # bytes RE2 may use to compile one pattern


class PatternError(ValueError):
    """A pattern that cannot be used; the message names the argument, the problem and the fix."""


class SafePattern:
    """A compiled linear-time regular expression: ``search`` / ``fullmatch`` return bools."""

    __slots__ = ("pattern", "_rx")

    def __init__(self, pattern: str, rx: Any) -> None:
        self.pattern = pattern
        self._rx = rx

    def search(self, text: str) -> bool:
        """True if the pattern matches anywhere in ``text``."""
        return self._rx.search(text) is not None

    def fullmatch(self, text: str) -> bool:
        """True if the pattern matches all of ``text``."""
        return self._rx.fullmatch(text) is not None

    def __repr__(self) -> str:
        return f"SafePattern({self.pattern!r})"


def _re2() -> Any:
    try:
        import re2
    except ImportError as exc:  # pragma: no cover - google-re2 is in the server extra
        raise PatternError("regular-expression filters need google-re2: pip install 'vizboard[server]'") from exc
    return re2


def compile_pattern(pattern: str, *, ignore_case: bool = False, name: str = "pattern") -> SafePattern:
    """Compile ``pattern`` (Python/RE2 syntax) for linear-time matching.

    ``name`` is the argument's name used in error messages (e.g. ``"--runs"``). Raises
    :class:`PatternError` for a non-string, an over-long pattern (more than
    :data:`MAX_PATTERN_CHARS` characters) or one RE2 rejects (syntax errors, look-around,
    back-references, repetition too large).
    """
    if not isinstance(pattern, str):
        raise PatternError(f"{name} must be a regular expression string, got {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"{name} is {len(pattern)} characters long; the limit is {MAX_PATTERN_CHARS}")
    return _compile(pattern, ignore_case, name, _MAX_MEM)


def _compile(pattern: str, ignore_case: bool, name: str, max_mem: int) -> SafePattern:
    re2 = _re2()
    opts = re2.Options()
    opts.case_sensitive = not ignore_case
    opts.log_errors = False
    opts.max_mem = max_mem
    try:
        rx = re2.compile(pattern, opts)
    except Exception as exc:  # re2.error; the engine reports bytes
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        hint = ""
        if "perl operator" in detail or "backreference" in detail or "escape sequence" in detail:
            hint = " (look-around and back-references are not supported: filters use a linear-time engine)"
        raise PatternError(f"{name} is not a valid regular expression ({pattern!r}: {detail}){hint}") from None
    return SafePattern(pattern, rx)


def name_filter(pattern: str | None, *, ignore_case: bool = True, invalid: str = "literal",
                name: str = "filter") -> Callable[[str], bool]:
    """A predicate ``keep(text)`` for a user's filter, searched anywhere in the text.

    Empty/None keeps everything. An unusable pattern is matched as plain text with
    ``invalid="literal"`` (the interactive run/tag boxes: typing ``[`` must not fail), or raises
    :class:`PatternError` with ``invalid="error"`` (``?run_re=`` in an API, ``export --runs``).
    """
    if invalid not in ("literal", "error"):
        raise ValueError(f"invalid must be 'literal' or 'error', got {invalid!r}")
    if not pattern:
        return lambda _s: True
    try:
        rx = compile_pattern(pattern, ignore_case=ignore_case, name=name)
    except PatternError:
        if invalid == "error":
            raise
        literal = _re2().escape(pattern[:MAX_PATTERN_CHARS])
        rx = compile_pattern(literal, ignore_case=ignore_case, name=name)
    return rx.search


def compile_union(patterns: list[str], *, name: str = "tags") -> SafePattern | None:
    """One pattern matching any of ``patterns`` (each a regex, or plain text if unusable); None if empty.

    For custom-scalars layouts, whose tag lists are regexes written by training code (the
    union itself may exceed :data:`MAX_PATTERN_CHARS`; each part may not).
    """
    parts = []
    for p in patterns:
        try:
            compile_pattern(p, name=name)
            parts.append(f"(?:{p})")
        except PatternError:
            parts.append(_re2().escape(p))
    return _compile("|".join(parts), False, name, _MAX_MEM * 8) if parts else None
