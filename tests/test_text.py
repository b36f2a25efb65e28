"""The sanitizer for untrusted (chain, exchange) text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from nemwatch.core.text import BIDI, INVISIBLE, has_bidi_or_hidden, neutralize_mentions, sanitize

HOSTILE = [
    "\x1b]8;;https://evil.example/\x07CLICK\x1b]8;;\x07",
    "\x1b]0;PWNED-TITLE\x07",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1bP1$qm\x1b\\",
    "\x1b[31mred\x1b[0m",
    "\x9b31mC1 CSI",
    "\x9d0;title\x9c",
    "abc\u202edcba\u2066x\u2069",
    "zero\u200bwidth\ufeff",
    "line1\nline2\rline3\tend",
    "\x00\x01\x07\x08\x7f",
    "[ link='https://evil']x[/]",
    "[ @click=app.quit]X[/]",
]


def _clean(s: str) -> bool:
    for ch in s:
        if ch in BIDI or ch in INVISIBLE:
            return False
        if ch != " " and unicodedata.category(ch) in ("Cc", "Cf"):
            return False
    return True


def test_escape_sequences_removed_completely() -> None:
    assert sanitize("\x1b]8;;https://evil.example/\x07CLICK\x1b]8;;\x07") == "CLICK"
    assert sanitize("\x1b]0;PWNED-TITLE\x07ok") == "ok"
    assert sanitize("\x1b[31mred\x1b[0m") == "red"
    assert sanitize("\x9b31mX") == "X"
    assert sanitize("a\u202eb") == "ab"


def test_whitespace_folds_to_single_spaces() -> None:
    assert sanitize("line1\nline2\r\nline3\tend") == "line1 line2 line3 end"
    assert sanitize("a\nb", multiline=True) == "a\nb"


def test_markup_text_is_kept_literally() -> None:
    # markup is not interpreted here: it stays as text, and widgets receive it as Content/Text
    assert sanitize("[ @click=app.quit]X[/]") == "[ @click=app.quit]X[/]"


def test_corpus_clean_and_idempotent() -> None:
    for s in HOSTILE:
        out = sanitize(s)
        assert _clean(out), repr(out)
        assert sanitize(out) == out
        assert "\x1b" not in out and "\x9b" not in out


def test_length_cap() -> None:
    out = sanitize("x" * 5000, max_len=100)
    assert len(out) == 100 and out.endswith("…")


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_property_idempotent_and_clean(s: str) -> None:
    out = sanitize(s)
    assert sanitize(out) == out
    assert _clean(out)
    assert len(out) <= 1024


def test_bidi_detection_and_mentions() -> None:
    assert has_bidi_or_hidden("a\u202eb")
    assert not has_bidi_or_hidden("plain")
    assert "@" not in neutralize_mentions("hi @everyone and <@123>")
