"""Sanitizer for untrusted text (transfer messages, node names, exchange strings).

Chain text is written by attackers. Before it reaches a terminal, a log, a JSON line or a
notification it passes through ``sanitize``: complete escape sequences (CSI, OSC, DCS, SOS,
PM, APC) are dropped, then lone ESC, C0 and C1 controls and DEL, bidi controls, zero-width and
every other format (Cf) character. Tabs and newlines fold to one space in single-line text.
The result is idempotent: ``sanitize(sanitize(s)) == sanitize(s)``.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_MAX_LEN = 1024

_ESCAPE_SEQ = re.compile(
    r"\x1b(?:"
    r"\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL/ST
    r"|[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS SOS PM APC ... ST
    r"|[ -/]*[0-~]?"  # two-char and nF sequences, or a lone ESC
    r")"
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x9c\x1b]*(?:\x07|\x9c|\x1b\\)?"  # 8-bit OSC DCS SOS PM APC
)

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad")
_FOLD = frozenset("\t\n\r\x0b\x0c\u2028\u2029\x85")


def _keep(ch: str) -> bool:
    if ch in BIDI or ch in INVISIBLE:
        return False
    cat = unicodedata.category(ch)
    return cat not in ("Cc", "Cf", "Cs", "Co", "Cn") or ch == " "


def sanitize(text: str | None, *, max_len: int = DEFAULT_MAX_LEN, multiline: bool = False) -> str:
    """Return ``text`` safe to show in a terminal or send to a sink."""
    if not text:
        return ""
    out = _ESCAPE_SEQ.sub("", text)
    chars: list[str] = []
    for ch in out:
        if ch in _FOLD:
            if multiline and ch == "\n":
                chars.append("\n")
            elif not chars or chars[-1] != " ":
                chars.append(" ")
            continue
        if _keep(ch):
            chars.append(ch)
    result = "".join(chars)
    if len(result) > max_len:
        result = result[: max_len - 1] + "…"
    return result


def has_bidi_or_hidden(text: str) -> bool:
    """True when ``text`` holds characters a display could use to deceive (bidi, zero-width)."""
    return any(ch in BIDI or ch in INVISIBLE for ch in text)


def neutralize_mentions(text: str) -> str:
    """Break chat mentions (@everyone, @here, <@id>) so a notification pings nobody."""
    return text.replace("@", "\uff20")
