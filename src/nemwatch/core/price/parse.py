"""Parsing helpers for untrusted exchange JSON: Decimal numbers, times, required fields.

Every failure raises ``ParseError``; nothing else escapes. Numbers are parsed with
``parse_float=Decimal`` so no float ever touches a price or an amount.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from nemwatch.core.price.base import ParseError

# Bounds that no sane XEM price, amount or time leaves; they keep hostile numbers
# (1e999999, 40-digit strings) out of Decimal arithmetic.
MAX_NUMBER = Decimal(10) ** 15
MAX_NUMBER_TEXT = 40
MIN_TIME = datetime(2009, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def _no_constants(name: str) -> Any:
    raise ParseError(f"non-finite number {name} in JSON")


def load_json(body: bytes | str, what: str) -> Any:
    """Decode JSON with Decimal numbers; NaN and Infinity are refused."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except ParseError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"{what}: not JSON ({type(exc).__name__})") from None


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ParseError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def field(obj: dict[str, Any], key: str, what: str) -> Any:
    if key not in obj or obj[key] is None:
        raise ParseError(f"{what}: missing {key!r}")
    return obj[key]


def dec(value: Any, what: str, *, positive: bool = False) -> Decimal:
    """A finite, bounded, non-negative Decimal from a JSON number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ParseError(f"{what}: expected a number, got {type(value).__name__}")
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT:
            raise ParseError(f"{what}: number text too long")
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ParseError(f"{what}: not a number") from None
    result = Decimal(value)
    if not result.is_finite() or result < 0 or result >= MAX_NUMBER:
        raise ParseError(f"{what}: number out of range")
    if positive and result == 0:
        raise ParseError(f"{what}: must be positive")
    return result


def opt_dec(value: Any, what: str) -> Decimal | None:
    return None if value is None else dec(value, what)


def _in_range(when: datetime, what: str) -> datetime:
    if not MIN_TIME <= when < MAX_TIME:
        raise ParseError(f"{what}: time out of range")
    return when


def unix_seconds(value: Any, what: str) -> datetime:
    number = dec(value, what)
    return _in_range(datetime.fromtimestamp(int(number), UTC), what)


def unix_ms(value: Any, what: str) -> datetime:
    number = int(dec(value, what))
    seconds, millis = divmod(number, 1000)
    when = datetime.fromtimestamp(seconds, UTC).replace(microsecond=millis * 1000)
    return _in_range(when, what)


def iso_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ParseError(f"{what}: expected an ISO time")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"{what}: not an ISO time") from None
    if when.tzinfo is None:
        raise ParseError(f"{what}: time without offset")
    return _in_range(when.astimezone(UTC), what)


def text(value: Any, what: str, *, max_len: int = 64) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ParseError(f"{what}: expected text")
    result = str(value)
    if not result or len(result) > max_len or not result.isprintable():
        raise ParseError(f"{what}: bad text")
    return result
