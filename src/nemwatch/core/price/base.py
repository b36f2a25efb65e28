"""What every price provider offers, and the errors the price side raises.

A provider answers for one pair (``xem_jpy`` and the like). Each has a set of capabilities:
``latest`` (a tick), ``trades`` (recent trades with exchange ids) and ``candles`` (history).
A provider that lacks a capability (or a candle size) raises ``Unsupported`` when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Protocol, runtime_checkable

from nemwatch.core.models import Candle, PriceTick, Trade


class PriceError(Exception):
    """Base of the price side's errors."""


class ProviderError(PriceError):
    """A provider failed: transport error, HTTP error, error document, pair not offered.

    ``status`` is the HTTP status when there was one; ``retry_after`` the seconds the server
    asked us to wait (429/503 ``Retry-After``), when it said so.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.unreachable = False  # the host could not be reached at all (refused, no route, no DNS)


class ErrorAnswer(ProviderError):
    """The exchange answered, with an error document (``{"error": ...}``, a non-zero status)."""


class RateLimited(ProviderError):
    """Our own rate limit would make this call wait too long: skip the provider this time.

    Not a failure of the provider: the feed does not rest it for this.
    """


class Unsupported(ProviderError):
    """We asked for something the provider does not offer (a capability, a candle size).

    Not a failure of the provider either: the feed just asks the next one.
    """


class ParseError(ProviderError):
    """An answer did not have the shape we expect (exchange data is untrusted)."""


class Capability(str, Enum):
    LATEST = "latest"
    TRADES = "trades"
    CANDLES = "candles"


class Listing(str, Enum):
    """Whether a provider still offers its pair, as checked at start."""

    LISTED = "listed"
    NOT_LISTED = "not_listed"
    UNKNOWN = "unknown"  # the check itself failed (network, error page): try later


class HttpGet(Protocol):
    """Fetch ``url`` and return the body; raise ``ProviderError`` on any failure."""

    async def __call__(
        self, url: str, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> bytes: ...


@runtime_checkable
class PriceProvider(Protocol):
    name: str  # the source name stored with every tick: "zaif", "gmo", ...
    pair: str  # "xem_jpy"
    capabilities: frozenset[Capability]

    async def check_listed(self) -> Listing: ...

    async def latest(self) -> PriceTick: ...

    async def trades(self) -> list[Trade]: ...

    async def candles(self, seconds: int, start: datetime, end: datetime) -> list[Candle]: ...


def missing_capability(provider: str, capability: Capability) -> Unsupported:
    return Unsupported(f"{provider} does not offer {capability.value}")
