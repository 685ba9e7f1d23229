"""vizboard.data.patterns: user regexes run on a linear-time engine; clear errors for unusable patterns."""

from __future__ import annotations

import threading

import pytest

from vizboard.data.patterns import MAX_PATTERN_CHARS, PatternError, compile_pattern, compile_union, name_filter


def test_catastrophic_backtracking_pattern_returns_without_backtracking() -> None:
    """Issue 16: ``(\\w|\\w)*#`` against a 24-character tag took 9.8 s with Python's re.

    Run in a thread with a generous join deadline so a regression fails instead of hanging CI;
    Python's re needs 2**24 steps here, RE2 a few hundred.
    """
    keep = name_filter(r"(\w|\w)*#", invalid="error")
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.extend(keep("a" * k) for k in (24, 28, 32)), daemon=True)
    t.start()
    t.join(60)
    assert result == [False, False, False]
    assert keep("abc#") is True


def test_search_fullmatch_and_case() -> None:
    p = compile_pattern("loss")
    assert p.search("train/loss") and not p.fullmatch("train/loss") and p.fullmatch("loss")
    assert not compile_pattern("LOSS").search("loss")
    assert compile_pattern("LOSS", ignore_case=True).search("loss")
    assert name_filter("LOSS")("train/loss")  # interactive filters ignore case


@pytest.mark.parametrize("bad,why", [
    ("(", "missing"), ("a(?=b)", "look-around"), (r"(a)\1", "back-references"), ("a{1000}{1000}", "repetition"),
])
def test_invalid_patterns_raise_a_clear_error_naming_the_argument(bad: str, why: str) -> None:
    with pytest.raises(PatternError, match=r"--runs is not a valid regular expression") as exc:
        compile_pattern(bad, name="--runs")
    assert why in str(exc.value)
    keep = name_filter(bad)  # interactive: matched as plain text
    assert keep(f"x{bad}y") and not keep("xy")
    with pytest.raises(PatternError):
        name_filter(bad, invalid="error", name="run_re")


def test_limits_and_types() -> None:
    with pytest.raises(PatternError, match="limit"):
        compile_pattern("a" * (MAX_PATTERN_CHARS + 1), name="tags")
    with pytest.raises(PatternError, match="string"):
        compile_pattern(3, name="tags")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid"):
        name_filter("x", invalid="maybe")
    assert name_filter(None)("anything") and name_filter("")("anything")


def test_union_of_layout_patterns() -> None:
    u = compile_union(["loss/.*", "acc", "a[", "a(?=b)"])
    assert u is not None
    assert u.fullmatch("loss/train") and u.fullmatch("acc") and u.fullmatch("a[") and not u.fullmatch("accuracy")
    assert compile_union([]) is None
    big = compile_union([f"tag{i}" for i in range(500)])
    assert big is not None and big.fullmatch("tag499")
