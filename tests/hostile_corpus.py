"""A deterministic corpus of hostile chain text for the dashboard (and anything else that shows it).

``corpus()`` returns well over 1,000 strings built from atoms of every family an attacker can put
in a transfer message, a label, a mosaic name or an exchange's answer: complete and broken escape
sequences (CSI, OSC 0/2/7/8/52/1337, DCS, APC, PM, SOS, 7-bit and 8-bit), every C0 and C1
control, DEL, the bidi overrides and isolates, zero-width characters, Rich/Textual markup
including the forms that slip past ``rich.markup.escape()`` / ``textual.markup.escape()``
(leading space, upper case, ``$variables``, nested and unbalanced brackets, backslash games,
``@click`` and ``link``), invalid UTF-8 decoded as the codec decodes hex payloads
(``errors="replace"``), and payloads of 1 KB and more.

``LEAK_BYTES`` / ``LEAK_CHARS`` are what must never reach a terminal from this corpus: each
injected sequence carries a distinctive payload, so finding one in the raw bytes a dashboard
wrote is proof of a leak (the driver's own output never contains them).
"""

from __future__ import annotations

import random

from nemwatch.core.text import BIDI, INVISIBLE

ESC = "\x1b"
BEL = "\x07"
ST = "\x1b\\"

ESCAPES: tuple[str, ...] = (
    # CSI: colours, screen and cursor control, reports the terminal would answer (DSR, title)
    f"{ESC}[31mRED{ESC}[0m",
    f"{ESC}[2J{ESC}[H",
    f"{ESC}[6n",
    f"{ESC}[21t",
    f"{ESC}[8;1;1t",
    f"{ESC}[?1049l",
    f"{ESC}[?1000l{ESC}[?1003l",
    f"{ESC}[1;1H{ESC}[KFAKE STATUS",
    f"{ESC}[38;2;255;0;0mTRUE{ESC}[m",
    f"{ESC}[999D{ESC}[1A",
    f"{ESC}[",  # cut short
    # OSC: title, hyperlink, clipboard, cwd, iTerm2 file, each terminator
    f"{ESC}]0;PWN-title{BEL}",
    f"{ESC}]2;PWN-title2{ST}",
    f"{ESC}]8;;https://evil.example/pwn{BEL}CLICK ME{ESC}]8;;{BEL}",
    f"{ESC}]8;;http://evil.example/pwn{ST}link{ESC}]8;;{ST}",
    f"{ESC}]52;c;UFdOLWNsaXBib2FyZA=={BEL}",
    f"{ESC}]52;p;UFdO{ST}",
    f"{ESC}]7;file://evil.example/PWN{BEL}",
    f"{ESC}]1337;File=name=UFdO;inline=1:UFdO{BEL}",
    f"{ESC}]4;1;rgb:ff/00/00{BEL}",
    f"{ESC}]0;PWN-unterminated",
    # DCS / SOS / PM / APC
    f"{ESC}P1$qmPWN{ST}",
    f"{ESC}P+q544e{ST}",
    f"{ESC}XPWN-sos{ST}",
    f"{ESC}^PWN-pm{ST}",
    f"{ESC}_PWN-apc{ST}",
    f"{ESC}_Gf=100;PWN{ST}",  # kitty graphics
    # 8-bit (C1) introducers
    "\x9b31mC1-CSI",
    "\x9d0;PWN-c1-title\x9c",
    "\x9d8;;https://evil.example/c1\x9cC1LINK\x9d8;;\x9c",
    "\x90PWN-c1-dcs\x9c",
    "\x98PWN-c1-sos\x9c",
    "\x9ePWN-c1-pm\x9c",
    "\x9fPWN-c1-apc\x9c",
    # two-character and lone ESC
    f"{ESC}c",  # full reset
    f"{ESC}7{ESC}8",
    f"{ESC}(0lqk{ESC}(B",
    f"{ESC}#8",
    f"{ESC}",
)

CONTROLS: tuple[str, ...] = (
    *(chr(c) for c in range(0x00, 0x20)),
    "\x7f",
    *(chr(c) for c in range(0x80, 0xA0)),
    "\r\nFAKE LINE",
    "\rOVERWRITE",
    "\b\b\b\bBACK",
)

UNICODE_TRICKS: tuple[str, ...] = (
    *(f"abc{ch}def" for ch in sorted(BIDI)),
    *(f"zero{ch}width" for ch in sorted(INVISIBLE)),
    "pay \u202eNC4C6PSUW5CLTDT5SXAG\u202c now",
    "\u2067NC3BI3\u2069 trust",
    "\u2028line sep\u2029para sep",
    "\U000e0041tag\U000e007f",  # tag characters (Cf)
    "\ud800lone surrogate",
    "\ue000private use",
)

MARKUP: tuple[str, ...] = (
    "[ @click=app.quit]CLICK[/]",
    "[@click=app.quit]CLICK[/]",
    "[@click=app.bell]BELL[/]",
    "[@click=screen.dismiss]X[/]",
    "[@click=app.toggle_pause()]P[/]",
    '[@click="app.quit"]Q[/]',
    "[ @click=app.export]E[/ ]",
    "[link=https://evil.example/pwn]LINK[/link]",
    "[ link='https://evil.example/pwn']LINK[/]",
    "[Link=https://evil.example/pwn]LINK[/Link]",
    '[link="javascript:alert(1)"]js[/link]',
    "[B]bold[/B]",
    "[$accent]var[/]",
    "$accent $text [$variable]",
    "[b]unclosed bold",
    "[/evil] closing nothing",
    "hello [/evil] world",
    "[/]",
    "[[b]]double[/b]]",
    "[b][i]nested[/b][/i]",
    "[type=x, v={'a[0]'}]",
    "[a[b]c]",
    "[[[[[[[[",
    "]]]]]]]]",
    "[",
    "]",
    "[]",
    "\\[b]escaped[/b]",
    "\\\\[b]double backslash[/b]",
    "\\\\\\[b]triple[/b]",
    "[b]\\[/b]",
    "\\",
    "[on red]bg[/on red]",
    "[blink reverse]blink[/]",
    "[#ff0000]hex[/]",
    "[rgb(255,0,0)]rgb[/]",
    "[bold red on white]x[/]",
    "[@click=app.quit][link=https://evil.example/pwn]both[/link][/]",
    "[ b ]space[ /b ]",
    "[:smile:] :warning: :cross_mark:",
    "{0} {name} %s %(x)s",
)

INVALID_UTF8: tuple[bytes, ...] = (
    b"\xff\xfe\xfd",
    b"\xc0\x80overlong NUL",
    b"\xe0\x80\xafoverlong slash",
    b"\xed\xa0\x80surrogate",
    b"\xf4\x90\x80\x80above max",
    b"\x80\x81continuations",
    b"\xc3",
    b"caf\xc3",
    b"\xc2\x9b31mC1 CSI as UTF-8",
    b"\xc2\x9d0;PWN-utf8-c1\xc2\x9c",
    b"\x1b]52;c;UFdO\x07raw bytes",
    b"\x1b[31m\xffmixed\x1b[0m",
    b"\xe2\x80\xaeRLO as bytes",
    b"\xe2\x80\x8bZWSP as bytes",
)

FILLERS: tuple[str, ...] = (
    "refund", "send XEM to NDAOWUL2GIIBQHJDCMRMRRMBS2NZ3UHG6XLGJUBW", "OK", "コインチェック", "返金",
    "привет", "مرحبا", "👍🏽", "e\u0301", "ﬁ", "Ⅻ", "",
)

LEAK_BYTES: tuple[bytes, ...] = (
    b"\x1b]52;", b"\x1b]8;;http", b"\x1b]8;;javascript", b"\x1b]0;", b"\x1b]2;", b"\x1b]7;", b"\x1b]1337;",
    b"\x1b]4;", b"\x1bP", b"\x1bX", b"\x1b^", b"\x1b_", b"\x1bc", b"\x1b[6n", b"\x1b[21t", b"\x1b[8;1;1t",
    b"PWN", b"UFdO",
)
LEAK_CHARS: frozenset[str] = frozenset(
    {chr(c) for c in range(0x80, 0xA0)} | BIDI | INVISIBLE | {"\u2028", "\u2029", "\ue000"}
)


def decoded(raw: bytes) -> str:
    """Bytes as the codec turns a hex message payload into text."""
    return raw.decode("utf-8", errors="replace")


def atoms() -> list[str]:
    """Every single hostile piece, alone (about 240)."""
    return [*ESCAPES, *CONTROLS, *UNICODE_TRICKS, *MARKUP, *(decoded(b) for b in INVALID_UTF8)]


def corpus(size: int = 1200, *, seed: int = 2018) -> list[str]:
    """``size`` hostile strings (every atom alone first, then deterministic mixtures, and one in
    twenty-five a payload of 1 KB to 4 KB)."""
    rng = random.Random(seed)
    pieces = atoms()
    out = list(pieces)
    while len(out) < size:
        n = len(out)
        if n % 25 == 0:
            parts: list[str] = []
            goal = rng.choice((1024, 1500, 2048, 4096))
            while sum(map(len, parts)) < goal:
                parts.append(rng.choice(pieces))
                parts.append(rng.choice(FILLERS))
            out.append("".join(parts))
            continue
        k = rng.randint(2, 5)
        mix = [rng.choice(pieces) for _ in range(k)]
        for i in range(len(mix) - 1, 0, -1):
            if rng.random() < 0.5:
                mix.insert(i, rng.choice(FILLERS))
        out.append(" ".join(mix) if n % 2 else "".join(mix))
    return out[:size]


def markup_heavy(texts: list[str]) -> list[str]:
    """The strings that could turn into actions or links if parsed as markup."""
    return [t for t in texts if "@click" in t or "link" in t.lower() or "[" in t]
