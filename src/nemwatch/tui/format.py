"""Display helpers: every string from the chain or an exchange becomes a ``rich.text.Text``
built from sanitized text (never markup); amounts, ages and directions get a glyph and a sign,
never colour alone."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from rich.text import Text

from nemwatch.core.alert import Severity
from nemwatch.core.models import format_xem
from nemwatch.core.nem.address import pretty
from nemwatch.core.text import sanitize

SEVERITY_GLYPH = {Severity.CRITICAL: "✖", Severity.WARNING: "▲", Severity.INFO: "●"}
SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
SEVERITY_WORD = {Severity.CRITICAL: "CRIT", Severity.WARNING: "WARN", Severity.INFO: "info"}
UP, DOWN, QUIET = "▲", "▼", "·"


def safe(text: str | None, style: str = "", *, max_len: int = 1024) -> Text:
    """Untrusted text as a literal Text (sanitized; markup characters stay characters)."""
    return Text(sanitize(text or "", max_len=max_len), style=style, no_wrap=True, overflow="ellipsis")


def address_text(address: str, *, short: bool = False) -> Text:
    form = pretty(address)
    return Text(form[:13] + "…" if short else form, no_wrap=True)


def xem(micro: int | None, *, signed: bool = False) -> str:
    """Whole XEM with thousands separators from 1,000 XEM on, else six decimals."""
    if micro is None:
        return "—"
    sign = ("+" if micro > 0 else "−" if micro < 0 else "") if signed else ("-" if micro < 0 else "")
    value = abs(micro)
    if value >= 1_000 * 1_000_000:
        return f"{sign}{value // 1_000_000:,}"
    return sign + format_xem(value)


def compact(value: Decimal | int, unit: str = "") -> str:
    """1234 -> 1,234; 523000000 -> 523.0M; 49423500000 -> 49.42B (the detail view shows it whole)."""
    n = Decimal(value)
    for size, suffix in ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M")):
        if abs(n) >= size:
            digits = 2 if abs(n) < size * 100 else 1
            return f"{unit}{n / size:,.{digits}f}{suffix}"
    return f"{unit}{n:,.0f}"


def short_xem(micro: int | None) -> str:
    return "—" if micro is None else compact(Decimal(micro) / 1_000_000) if micro >= 10**12 else xem(micro)


def full_xem(micro: int | None) -> str:
    if micro is None:
        return "—"
    whole, _, frac = format_xem(abs(micro)).partition(".")
    return f"{'-' if micro < 0 else ''}{int(whole):,}.{frac} XEM"


def jpy(value: Decimal | None) -> str:
    return "—" if value is None else f"¥{value:,.0f}"


def age(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "0s"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def when(moment: datetime | None, tz: tzinfo, *, seconds: bool = False) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(tz).strftime("%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M")


def direction(outgoing: bool, micro: int) -> Text:
    """▼ −amount in red for money leaving, ▲ +amount in green for money arriving."""
    if outgoing:
        return Text(f"{DOWN} {xem(-micro, signed=True)}", style="red", no_wrap=True)
    return Text(f"{UP} {xem(micro, signed=True)}", style="green", no_wrap=True)


def severity_text(severity: Severity) -> Text:
    return Text(f"{SEVERITY_GLYPH[severity]} {SEVERITY_WORD[severity]}", style=SEVERITY_STYLE[severity], no_wrap=True)
