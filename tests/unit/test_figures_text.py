"""Markdown sanitising (raw HTML, event handlers, javascript: links) and text tensor layout."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vizboard.figures.text import display_tag, safe_url, sanitize_markdown, text_view


def test_script_tag_is_escaped() -> None:
    out = sanitize_markdown("hi <script>alert(1)</script> there")
    assert "<script" not in out and "&lt;script>" in out


def test_onerror_attribute_cannot_form_a_tag() -> None:
    out = sanitize_markdown('<img src=x onerror="alert(1)">\n\n<div onclick=x>y</div>')
    assert "<" not in out
    assert "&lt;img src=x onerror" in out


@pytest.mark.parametrize("link", [
    "[click](javascript:alert(1))",
    "[click](JavaScript:alert(1))",
    "[click]( javascript:alert(1) \"t\")",
    "[click](<javascript:alert(1)>)",
    "[click](java&#115;cript:alert(1))",
    "[click](jav\tascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "![img](javascript:alert(1))",
])
def test_unsafe_inline_links_lose_their_destination(link: str) -> None:
    out = sanitize_markdown(f"before {link} after")
    assert "script:" not in out.lower().replace("&#115;", "s") and "data:" not in out
    assert "](" not in out  # no link left at all: the text stays, unclickable
    text = "img" if link.startswith("!") else "click"
    assert out == f"before {text} after"


@pytest.mark.parametrize("link", ["[click](ftp://host/file)", "[click](java%0ascript:alert(1))", "[click](foo:bar)",
                                  "[click](dir/file:1)"])
def test_links_the_renderer_would_void_are_unlinked(link: str) -> None:
    """Issue 16: dcc.Markdown turns targets it does not allow into javascript:void(0), an empty link."""
    assert sanitize_markdown(f"before {link} after") == "before click after"


def test_an_undelimitable_unsafe_link_leaves_no_link_at_all() -> None:
    import mistune
    out = sanitize_markdown("[a [b](https://ok) c](javascript:x)")
    assert "javascript" not in out and "(#)" not in out
    html_out = mistune.create_markdown(escape=False)(out)
    assert html_out.count("<a ") == 1 and 'href="https://ok"' in html_out


def test_unsafe_reference_definition_is_dropped() -> None:
    out = sanitize_markdown("[x][a]\n\n[a]: javascript:alert(1)\n[b]: https://ok\n")
    assert "javascript" not in out and out.startswith("[x][a]") and "[b]: https://ok" in out


def test_nested_and_escaped_brackets() -> None:
    assert sanitize_markdown("[[a](javascript:1)](https://x)") == "[a](https://x)"
    assert sanitize_markdown(r"[a \] b](javascript:1)") == r"a \] b"
    assert sanitize_markdown("x [a](https://ok) y [b](javascript:1)") == "x [a](https://ok) y b"


def test_autolink_with_javascript_is_text() -> None:
    assert sanitize_markdown("<javascript:alert(1)>") == "&lt;javascript:alert(1)>"


@pytest.mark.parametrize("link", ["[a](https://example.com/x_(y))", "[a](/rel/path)", "[a](#frag)",
                                  "[a](mailto:me@example.com)", "[a](http://x.org \"title\")",
                                  "[a](tel:+100)", "[a](page?x=a:b)"])
def test_safe_links_are_kept(link: str) -> None:
    assert sanitize_markdown(link) == link


def test_fence_regions_follow_commonmark() -> None:
    # a longer closing fence closes the block: what follows is prose again
    assert sanitize_markdown("```\n<b>\n````\n<script>") == "```\n<b>\n````\n&lt;script>"
    # a backtick in a backtick fence's info string: not a fence
    assert sanitize_markdown("```a`b\n<script>\n```") == "```a`b\n&lt;script>\n```"
    # a fence inside a list item may end with the item: escaped, the safe side
    assert sanitize_markdown("- a\n  ```\n<script>\n") == "- a\n  ```\n&lt;script>\n"
    # tilde fences and an unclosed fence running to the end
    assert sanitize_markdown("~~~py\n<x>\n") == "~~~py\n<x>\n"


def test_line_endings_are_the_renderers() -> None:
    assert sanitize_markdown("```\r\n<b>\r\n```\r<script>") == "```\n<b>\n```\n&lt;script>"
    assert sanitize_markdown("x\u2028```\n<script>") == "x\u2028```\n&lt;script>"


def test_code_spans_are_single_line_whole_runs() -> None:
    assert sanitize_markdown("`<a>`") == "`<a>`"
    assert sanitize_markdown("``<a>``") == "``<a>``"
    assert sanitize_markdown("`<a>\n<b>`") == "`&lt;a>\n&lt;b>`"
    assert sanitize_markdown("\\`<script>`") == "\\`&lt;script>`"
    assert sanitize_markdown("<script>```\n<script>`") == "&lt;script>```\n&lt;script>`"


def test_code_is_left_verbatim() -> None:
    md = "use `a < b` here\n\n```html\n<b>bold</b>\n```\n\nbut <b>not</b> here"
    out = sanitize_markdown(md)
    assert "`a < b`" in out and "\n<b>bold</b>\n" in out
    assert out.endswith("but &lt;b>not&lt;/b> here")


def test_markdown_survives() -> None:
    md = "# Title\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n**bold** _it_"
    assert sanitize_markdown(md) == md


def test_safe_url() -> None:
    assert safe_url("https://x") and safe_url("relative") and safe_url("#a")
    assert not safe_url("javascript:x") and not safe_url("  JAVASCRIPT:x")
    assert not safe_url("java\x00script:x") and not safe_url("&#106;avascript:x")


def test_rejects_non_str() -> None:
    with pytest.raises(TypeError, match="text must be str"):
        sanitize_markdown(b"x")  # type: ignore[arg-type]


def test_text_view_ranks() -> None:
    v0 = text_view(np.array("**hi** <b>"))
    assert v0.markdown == "**hi** &lt;b>" and v0.rows == ()
    v1 = text_view(np.array(["a", "<i>b</i>"]))
    assert v1.markdown is None and v1.rows == (("a",), ("&lt;i>b&lt;/i>",))
    v2 = text_view(np.array([["a", "b"], ["c", "d"]]))
    assert v2.rows == (("a", "b"), ("c", "d")) and not v2.warning
    v3 = text_view(np.array([[["a", "b"]], [["c", "d"]]]))
    assert v3.rows == (("a", "b"),) and "Warning" in v3.warning


def test_text_view_decodes_bytes() -> None:
    assert text_view(np.array([b"caf\xc3\xa9"], dtype=object)).rows == (("café",),)


def test_display_tag() -> None:
    assert display_tag("notes/text_summary") == "notes"
    assert display_tag("notes") == "notes"
    assert display_tag("/text_summary") == "/text_summary"
    assert display_tag("notes/text_summary", "My notes") == "My notes"
    assert display_tag("notes/text_summary", "notes/text_summary") == "notes"


_TOKENS = ["<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>", "[", "]", "(", ")",
           "](", "javascript:", "JaVaScRiPt:", "&#106;", "\\", "`", "```\n", "````\n", "~~~\n", "\n", " ", "x", "!",
           "<", ">", "data:", "[r]: ", "https://ok", "<javascript:y>", "\t", "*", "|", "- ", "> ", "    ", "1. ",
           "\\`", "``", "<!--", "-->", "<![CDATA[", "<?", "</div>", "\r", "\r\n", "\u2028", "\x0c", "\x00",
           "ftp:", "%0a", "tel:", "?", "#"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=30))
def test_rendered_output_never_has_live_html_or_script_links(tokens: list[str]) -> None:
    import mistune
    # A renderer that passes raw HTML through (escape=False): only our escaping stands in the way.
    render = mistune.create_markdown(escape=False, plugins=["table", "url"])
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, attrs))

    Collect().feed(render(sanitize_markdown("".join(tokens))))
    for tag, attrs in tags:
        assert tag not in ("script", "iframe", "object", "embed", "style"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src"):
                assert safe_url(value or ""), (tag, name, value)


@pytest.mark.parametrize(
    "text",
    [
        "`<script>```\n`<img src=x onerror=alert(1)>`",  # CommonMark pairs the first ` with the next line's
        "# `x\n`a` <img src=x onerror=alert(1)> `",  # pairing depends on the block split: keep nothing verbatim
        "| `a | <img src=x onerror=alert(1)>` |\n|---|---|",  # GFM splits table cells inside backticks
        "https://ok``<script>``",  # an extended autolink swallows the opening backticks (found by hypothesis)
        "mail x``@example.com ``<img src=x onerror=alert(1)>``",  # GFM email autolinks may hold backticks
    ],
)
def test_ambiguous_code_spans_are_escaped(text: str) -> None:
    out = sanitize_markdown(text)
    assert "<img" not in out and "<script" not in out


def test_unambiguous_code_span_keeps_its_text() -> None:
    assert sanitize_markdown("use `List<int>` here, not <b>") == "use `List<int>` here, not &lt;b>"
