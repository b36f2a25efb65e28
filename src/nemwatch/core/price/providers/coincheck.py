"""Coincheck: the sales-desk reference rate ``GET /api/rate/{pair}`` -> ``{"rate": "..."}``.

XEM trades on Coincheck's sales desk, not on its order book, so the rate is a dealer quote,
not a trade price: every tick is marked ``indicative``. The answer carries no time; a tick is
stamped with the time it was received. Base URL (site root) ``https://coincheck.com``.
"""

from __future__ import annotations

from datetime import datetime

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.base import Capability, ErrorAnswer, HttpGet, Listing, ProviderError, missing_capability
from nemwatch.core.price.parse import as_dict, dec, field
from nemwatch.core.price.providers.common import Clock, checked_json, utc_now

API_URL = "https://coincheck.com"


def parse_rate(body: bytes | str, pair: str, at: datetime, source: str = "coincheck") -> PriceTick:
    data = checked_json(body, "coincheck rate", source)
    if isinstance(data, dict) and data.get("success") is False:
        raise ErrorAnswer(f"{source}: rate answered success=false")
    obj = as_dict(data, "coincheck rate")
    price = dec(field(obj, "rate", "coincheck rate"), "coincheck rate", positive=True)
    return PriceTick(source=source, pair=pair, price=price, at=at, indicative=True)


class CoincheckProvider:
    capabilities = frozenset({Capability.LATEST})

    def __init__(
        self,
        http: HttpGet,
        *,
        pair: str = "xem_jpy",
        api_url: str = API_URL,
        clock: Clock = utc_now,
        name: str = "coincheck",
    ) -> None:
        self.http = http
        self.pair = pair
        self.api_url = api_url.rstrip("/")
        self.clock = clock
        self.name = name

    async def check_listed(self) -> Listing:
        """Listed when the rate answers with a price; an error answer means it is not."""
        try:
            await self.latest()
        except ErrorAnswer:
            return Listing.NOT_LISTED
        except ProviderError as exc:
            if exc.status == 404:
                return Listing.NOT_LISTED
            raise
        return Listing.LISTED

    async def latest(self) -> PriceTick:
        body = await self.http(f"{self.api_url}/api/rate/{self.pair}")
        return parse_rate(body, self.pair, self.clock(), self.name)

    async def trades(self) -> list[Trade]:
        raise missing_capability(self.name, Capability.TRADES)

    async def candles(self, seconds: int, start: datetime, end: datetime) -> list[Candle]:
        raise missing_capability(self.name, Capability.CANDLES)
