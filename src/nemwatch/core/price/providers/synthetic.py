"""A synthetic XEM/JPY rate: XEM/BTC times BTC/JPY, the last resort when no JPY book is left.

Built from two providers (the legs), for instance Zaif ``xem_btc`` and Zaif ``btc_jpy``. The
tick is marked indicative, stamped with the older leg's time, and rounded to 4 places.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.base import Capability, Listing, PriceProvider, missing_capability
from nemwatch.core.price.providers.common import base_quote

PLACES = Decimal("0.0001")


def cross_tick(cross: PriceTick, leg: PriceTick, pair: str, source: str = "synthetic") -> PriceTick:
    """``cross`` (base/mid) times ``leg`` (mid/quote) gives base/quote."""
    return PriceTick(
        source=source,
        pair=pair,
        price=(cross.price * leg.price).quantize(PLACES, rounding=ROUND_HALF_EVEN),
        at=min(cross.at, leg.at),
        indicative=True,
    )


class SyntheticProvider:
    capabilities = frozenset({Capability.LATEST})

    def __init__(self, cross: PriceProvider, leg: PriceProvider, *, name: str = "synthetic") -> None:
        base, mid = base_quote(cross.pair)
        mid2, quote = base_quote(leg.pair)
        if mid != mid2:
            raise ValueError(f"legs {cross.pair} and {leg.pair} do not chain")
        self.cross = cross
        self.leg = leg
        self.pair = f"{base}_{quote}"
        self.name = name

    async def check_listed(self) -> Listing:
        first, second = await asyncio.gather(self.cross.check_listed(), self.leg.check_listed())
        if Listing.NOT_LISTED in (first, second):
            return Listing.NOT_LISTED
        if Listing.UNKNOWN in (first, second):
            return Listing.UNKNOWN
        return Listing.LISTED

    async def latest(self) -> PriceTick:
        first, second = await asyncio.gather(self.cross.latest(), self.leg.latest())
        return cross_tick(first, second, self.pair, self.name)

    async def trades(self) -> list[Trade]:
        raise missing_capability(self.name, Capability.TRADES)

    async def candles(self, seconds: int, start: datetime, end: datetime) -> list[Candle]:
        raise missing_capability(self.name, Capability.CANDLES)
