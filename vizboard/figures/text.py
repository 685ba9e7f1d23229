"""Text summaries: Markdown sanitising (no raw HTML, no script links) and the table layout of a value."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SAFE_SCHEMES",
    "TEXT_SUFFIX",
    "TextView",
    "display_tag",
    "sanitize_markdown",
    "safe_url",
    "text_view",
]

SAFE_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})
"""URL schemes a rendered link or image may use; anything else (javascript:, data:, ftp:, ...) is dropped.

Exactly the schemes ``dcc.Markdown`` (react-markdown's URI transformer) keeps: a link it would
rewrite to ``javascript:void(0)`` must be unlinked here instead, or it renders as an empty link."""

TEXT_SUFFIX = "/text_summary"
"""torch's and tensorboardX's ``add_text`` append this to the tag."""

_FENCE_OPEN = re.compile(r"^(`{3,})[^`\n]*$|^(~{3,})[^\n]*$")
_REF_DEF = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.M)
_CONTROL = re.compile(r"[\x00-\x20\x7f\\]+")
_WARNING = (
    "**Warning:** this text summary has {rank} dimensions; only 2-D tables are "
    "supported, so the first 2-D slice is shown."
)


def display_tag(tag: str, display_name: str = "") -> str:
    """The tag as shown: ``display_name`` if the writer gave one, else ``tag`` without ``/text_summary``."""
    if display_name and display_name != tag:
        return display_name
    if tag.endswith(TEXT_SUFFIX) and len(tag) > len(TEXT_SUFFIX):
        return tag[: -len(TEXT_SUFFIX)]
    return tag


def safe_url(url: str) -> bool:
    """Whether a Markdown link destination is safe to make clickable.

    Relative URLs and ``#fragments`` are safe; absolute ones only with a scheme in
    ``SAFE_SCHEMES``. Entities, escapes, whitespace and control characters are
    removed first, so ``java&#115;cript:`` or ``jav\\tascript:`` are caught.
    """
    u = url.strip()
    if u.startswith("<") and u.endswith(">"):
        u = u[1:-1]
    for _ in range(3):  # nested entity encodings such as &amp;#106;
        u = html.unescape(u)
    if not _renderer_keeps(u):
        return False
    u = _CONTROL.sub("", u).lower()
    m = re.match(r"^([a-z][a-z0-9+.\-]*):", u)
    if m is None:
        return not u.startswith("&")
    return m.group(1) in SAFE_SCHEMES


def _renderer_keeps(url: str) -> bool:
    """Whether dcc.Markdown keeps ``url`` (decoded) as the link target rather than voiding it.

    Its rule: a URL starting with ``#`` or ``/``, or without ``:``, or whose ``:`` comes after
    a ``?`` or ``#``, is relative; otherwise the text before ``:`` must be a scheme it allows.
    """
    u = url.strip()
    if not u or u[0] in "#/":
        return True
    colon = u.find(":")
    if colon < 0 or u[:colon].lower() in SAFE_SCHEMES:
        return True
    q, h = u.find("?"), u.find("#")
    return (q != -1 and colon > q) or (h != -1 and colon > h)


def _link_dest_end(text: str, start: int) -> int:
    """Index just past the destination (and optional title) of a link starting at ``start`` (after ``(``)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return i
            depth -= 1
        elif c == "\n" and text[i - 1 : i] == "\n":
            break
        i += 1
    return -1


def _link_open(text: str, close: int, floor: int) -> int:
    """Index of the ``[`` that the ``]`` at ``close`` ends (brackets balanced, escapes skipped), or -1."""
    depth = 0
    i = close - 1
    while i >= floor:
        c = text[i]
        escaped = i > 0 and text[i - 1] == "\\"
        if c == "]" and not escaped:
            depth += 1
        elif c == "[" and not escaped:
            if depth == 0:
                return i
            depth -= 1
        i -= 1
    return -1


def _neutralise_links(text: str) -> str:
    """Unlink every link or image whose destination is unsafe, keeping its text.

    ``[text](javascript:...)`` becomes ``text`` (``![alt](...)`` becomes ``alt``); a
    reference definition with an unsafe destination is removed, so references to it
    stay plain text. If the link text cannot be delimited, the destination is removed and
    the ``]`` escaped, so no link (not even an empty one) can form.
    """
    out: list[str] = []
    pos = 0
    while True:
        k = text.find("](", pos)
        if k < 0:
            break
        end = _link_dest_end(text, k + 2)
        if end < 0:
            out.append(text[pos : k + 2])
            pos = k + 2
            continue
        inner = text[k + 2 : end]
        dest = inner.strip().split(None, 1)[0] if inner.strip() else ""
        # The whole inside is checked too: "jav\tascript:" is not one destination,
        # but some renderer might still join it.
        if dest and not (safe_url(dest) and safe_url(inner)):
            j = _link_open(text, k, pos)
            if j >= 0:
                lead = j - 1 if j > pos and text[j - 1] == "!" else j
                out.append(text[pos:lead] + text[j + 1 : k])
            else:
                out.append(text[pos:k] + "\\]")
        else:
            out.append(text[pos : end + 1])
        pos = end + 1
    out.append(text[pos:])
    text = "".join(out)
    return _REF_DEF.sub(lambda m: m.group(0) if safe_url(m.group(2)) else "", text)


def _verbatim_code_spans(text: str) -> list[tuple[int, int]]:
    """Code spans of a prose chunk whose text may be kept verbatim, as (start, end) offsets.

    Backtick runs are paired as CommonMark pairs them (an opening run of length n is
    closed by the next run of exactly n; an unmatched run is literal). A renderer pairs
    runs within one block only, and blocks split at line ends, so the pairing is
    renderer-independent only when no span crosses a line: otherwise no span is kept.
    Nor when a backslash precedes a backtick (escape rules), and a span holding ``|``
    is not kept (GFM table rows split cells on it, even inside backticks). Nor where the
    chunk holds anything a renderer may autolink (``://``, ``www.``, ``@``): an extended
    autolink such as ``https://ok``<script>``...`` swallows the opening backticks, so
    the "code" after them would be raw HTML.
    """
    if "\\`" in text or any(mark in text for mark in ("://", "www.", "@")):
        return []
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        start, end = runs[i]
        width = end - start
        close = next((k for k in range(i + 1, len(runs)) if runs[k][1] - runs[k][0] == width), None)
        if close is None:
            i += 1
            continue
        spans.append((start, runs[close][1]))
        i = close + 1
    if any("\n" in text[a:b] for a, b in spans):
        return []
    return [(a, b) for a, b in spans if "|" not in text[a:b]]


def _escape_prose(text: str) -> str:
    """Escape raw HTML (every ``<``) and neutralise unsafe links in Markdown prose.

    Code spans that every CommonMark renderer reads alike keep their text
    (see ``_verbatim_code_spans``); any other backtick text is escaped like prose.
    """
    pieces: list[str] = []
    pos = 0
    for start, end in _verbatim_code_spans(text):
        pieces.append(_escape_plain(text[pos:start]))
        pieces.append(text[start:end])
        pos = end
    pieces.append(_escape_plain(text[pos:]))
    return "".join(pieces)


def _escape_plain(text: str) -> str:
    return _neutralise_links(text).replace("<", "&lt;")


def _split_fences(text: str) -> list[tuple[bool, str]]:
    """Split into (is_code, chunk): fenced code blocks opened at column 0 (so never inside
    a list or quote) and closed as CommonMark closes them, or at the end; the rest is prose."""
    chunks: list[tuple[bool, str]] = []
    prose: list[str] = []
    code: list[str] = []
    close: re.Pattern[str] | None = None
    for line in re.findall(r"[^\n]*\n|[^\n]+$", text):  # only "\n" ends a line (see sanitize_markdown)
        bare = line.rstrip("\n")
        if close is None:
            m = _FENCE_OPEN.match(bare)
            if m is None:
                prose.append(line)
                continue
            if prose:
                chunks.append((False, "".join(prose)))
                prose = []
            run = m.group(1) or m.group(2)
            close = re.compile(r"^ {0,3}" + re.escape(run[0]) + "{" + str(len(run)) + r",}[ \t]*$")
            code.append(line)
        else:
            code.append(line)
            if close.match(bare):
                chunks.append((True, "".join(code)))
                code, close = [], None
    if code:
        chunks.append((True, "".join(code)))
    if prose:
        chunks.append((False, "".join(prose)))
    return chunks


def sanitize_markdown(text: str) -> str:
    """Markdown with every raw HTML tag shown as text and every unsafe link made harmless.

    Every ``<`` outside code becomes ``&lt;``, so no HTML tag or autolink can start
    (``<script>`` or ``<img onerror=...>`` display literally, never run; ``>`` stays,
    for block quotes). Links and images whose scheme is not in ``SAFE_SCHEMES`` are
    unlinked (their text stays). Code keeps its text verbatim where it is certainly
    code: fenced blocks opened at column 0 and single-line code spans; elsewhere
    (e.g. code inside list items) a ``<`` shows as ``&lt;``, the safe side. Apply before
    handing the text to ``dcc.Markdown`` (which must not use ``dangerously_allow_html``).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    # Markdown's line endings are \n, \r\n and \r: make them one, so our idea of a line is the renderer's.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(chunk if is_code else _escape_prose(chunk) for is_code, chunk in _split_fences(text))


@dataclass(frozen=True, slots=True)
class TextView:
    """How one text value is shown: ``markdown`` (rank 0) or ``rows`` of Markdown cells.

    Every string is already sanitised. ``warning`` (Markdown) is set when a rank > 2
    tensor was cut to its first 2-D slice.
    """

    markdown: str | None
    rows: tuple[tuple[str, ...], ...]
    warning: str = ""


def _as_str(v: object) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def text_view(data: np.ndarray) -> TextView:
    """Lay out a text tensor as TensorBoard does: rank 0 -> Markdown; rank 1 -> one
    column; rank 2 -> a table; rank > 2 -> the first 2-D slice plus a warning.
    Each cell is sanitised Markdown."""
    arr = np.asarray(data, dtype=object)
    if arr.ndim == 0:
        return TextView(markdown=sanitize_markdown(_as_str(arr.item())), rows=())
    warning = ""
    if arr.ndim > 2:
        warning = _WARNING.format(rank=arr.ndim)
        arr = arr[(0,) * (arr.ndim - 2)]
    if arr.ndim == 1:
        arr = arr[:, None]
    rows = tuple(tuple(sanitize_markdown(_as_str(c)) for c in row) for row in arr)
    return TextView(markdown=None, rows=rows, warning=warning)
