"""Small pieces the providers share: error documents, time windows, pair names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nemwatch.core.price.base import ErrorAnswer
from nemwatch.core.text import sanitize

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def error_document(provider: str, data: Any, key: str = "error") -> None:
    """Raise ``ErrorAnswer`` when ``data`` is an exchange error object like ``{"error": "..."}``."""
    if isinstance(data, dict) and key in data and data[key] not in (None, False, "", 0):
        detail = data[key] if isinstance(data[key], str) else type(data[key]).__name__
        raise ErrorAnswer(f"{provider}: error answer: {sanitize(detail, max_len=120)}")


def unix(when: datetime) -> int:
    return int(when.astimezone(UTC).timestamp())


def base_quote(pair: str) -> tuple[str, str]:
    """``xem_jpy`` -> (``xem``, ``jpy``)."""
    base, sep, quote = pair.partition("_")
    if not sep or not base or not quote:
        raise ValueError(f"pair must look like xem_jpy, got {pair!r}")
    return base, quote
