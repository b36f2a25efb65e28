"""Small pieces the providers share: error documents, candle rows and windows, pair names."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from nemwatch.core.models import Candle
from nemwatch.core.price.base import ErrorAnswer
from nemwatch.core.price.parse import dec, field, load_json
from nemwatch.core.text import sanitize

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def error_document(provider: str, data: Any, key: str = "error") -> None:
    """Raise ``ErrorAnswer`` when ``data`` is an exchange error object like ``{"error": "..."}``."""
    if isinstance(data, dict) and key in data and data[key] not in (None, False, "", 0):
        detail = data[key] if isinstance(data[key], str) else type(data[key]).__name__
        raise ErrorAnswer(f"{provider}: error answer: {sanitize(detail, max_len=120)}")


def checked_json(body: bytes | str, what: str, provider: str) -> Any:
    """The decoded answer, once it is known not to be an error document."""
    data = load_json(body, what)
    error_document(provider, data)
    return data


def ohlcv(row: dict[str, Any], what: str) -> dict[str, Decimal]:
    """A candle's open, high, low, close and volume from the same-named fields of ``row``."""
    return {
        "open": dec(field(row, "open", what), f"{what} open"),
        "high": dec(field(row, "high", what), f"{what} high"),
        "low": dec(field(row, "low", what), f"{what} low"),
        "close": dec(field(row, "close", what), f"{what} close"),
        "volume": dec(field(row, "volume", what), f"{what} volume"),
    }


def in_window(candles: Iterable[Candle], start: datetime, end: datetime) -> list[Candle]:
    """The candles that start in [start, end), one per start (the last one seen), oldest first."""
    found: dict[datetime, Candle] = {}
    for candle in candles:
        if start <= candle.start < end:
            found[candle.start] = candle
    return [found[k] for k in sorted(found)]


def unix(when: datetime) -> int:
    return int(when.astimezone(UTC).timestamp())


def base_quote(pair: str) -> tuple[str, str]:
    """``xem_jpy`` -> (``xem``, ``jpy``)."""
    base, sep, quote = pair.partition("_")
    if not sep or not base or not quote:
        raise ValueError(f"pair must look like xem_jpy, got {pair!r}")
    return base, quote
