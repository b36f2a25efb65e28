"""CoinGecko: an aggregate price (coin id ``nem``) in JPY, USD or BTC; latest, history, OHLC.

Base URL (site root) ``https://api.coingecko.com``; paths ``/api/v3/...``. Keyless use is limited to about one call a
minute; a demo key (sent as the ``x-cg-demo-api-key`` header, never in the URL) allows more.
``simple/price`` gives the latest price and its ``last_updated_at``; ``market_chart`` gives
price points (5 min for 1 day, hourly up to 90 days, daily beyond); ``ohlc`` gives candles
whose timestamp is the candle's *close* (30 min for 1-2 days, 4 h for 3-30 days, 4 days
beyond) and no volume, so its candles carry volume 0 and cannot weight a VWAP.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.base import (
    Capability,
    ErrorAnswer,
    HttpGet,
    Listing,
    ParseError,
    Unsupported,
    missing_capability,
)
from nemwatch.core.price.parse import as_dict, as_list, dec, field, load_json, unix_ms, unix_seconds
from nemwatch.core.price.providers.common import Clock, base_quote, utc_now
from nemwatch.core.text import sanitize

API_URL = "https://api.coingecko.com"
COIN_IDS = {"xem": "nem"}
OHLC_DAYS = (1, 7, 14, 30, 90, 180, 365)


def ohlc_seconds(days: int) -> int:
    if days <= 2:
        return 1800
    if days <= 30:
        return 14400
    return 4 * 86400


def _checked(body: bytes | str, what: str) -> Any:
    data = load_json(body, what)
    if isinstance(data, dict):
        status = data.get("status")
        if isinstance(status, dict) and status.get("error_code"):
            raise ErrorAnswer(f"coingecko: {what} error {sanitize(str(status.get('error_code')), max_len=12)}")
        if "error" in data:
            raise ErrorAnswer(f"coingecko: {what} error answer")
    return data


def parse_simple_price(body: bytes | str, coin: str, vs: str, pair: str, source: str = "coingecko") -> PriceTick:
    obj = as_dict(_checked(body, "simple/price"), "coingecko simple/price")
    entry = as_dict(field(obj, coin, "coingecko simple/price"), f"coingecko {coin}")
    return PriceTick(
        source=source,
        pair=pair,
        price=dec(field(entry, vs, f"coingecko {coin}"), f"coingecko {coin}.{vs}", positive=True),
        at=unix_seconds(field(entry, "last_updated_at", f"coingecko {coin}"), "coingecko last_updated_at"),
        volume_24h=None,
    )


def parse_market_chart(body: bytes | str, pair: str, source: str = "coingecko") -> list[PriceTick]:
    obj = as_dict(_checked(body, "market_chart"), "coingecko market_chart")
    ticks = []
    for i, item in enumerate(as_list(field(obj, "prices", "coingecko market_chart"), "coingecko prices")):
        row = as_list(item, f"coingecko price {i}")
        if len(row) < 2:
            raise ParseError(f"coingecko price {i}: expected [ms, price]")
        ticks.append(
            PriceTick(
                source=source,
                pair=pair,
                price=dec(row[1], f"coingecko price {i}", positive=True),
                at=unix_ms(row[0], f"coingecko price {i} time"),
            )
        )
    return ticks


def parse_ohlc(body: bytes | str, pair: str, seconds: int, source: str = "coingecko") -> list[Candle]:
    rows = as_list(_checked(body, "ohlc"), "coingecko ohlc")
    candles = []
    for i, item in enumerate(rows):
        what = f"coingecko ohlc {i}"
        row = as_list(item, what)
        if len(row) < 5:
            raise ParseError(f"{what}: expected [ms, o, h, l, c]")
        close_time = unix_ms(row[0], f"{what} time")
        candles.append(
            Candle(
                source=source,
                pair=pair,
                start=close_time - timedelta(seconds=seconds),
                seconds=seconds,
                open=dec(row[1], f"{what} open"),
                high=dec(row[2], f"{what} high"),
                low=dec(row[3], f"{what} low"),
                close=dec(row[4], f"{what} close"),
                volume=dec(0, what),
            )
        )
    return candles


class CoinGeckoProvider:
    capabilities = frozenset({Capability.LATEST, Capability.CANDLES})

    def __init__(
        self,
        http: HttpGet,
        *,
        pair: str = "xem_jpy",
        api_url: str = API_URL,
        demo_key: str | None = None,
        clock: Clock = utc_now,
        name: str = "coingecko",
    ) -> None:
        base, quote = base_quote(pair)
        if base not in COIN_IDS:
            raise ValueError(f"CoinGecko coin id unknown for {base!r}")
        self.http = http
        self.pair = pair
        self.coin = COIN_IDS[base]
        self.vs = quote
        self.api_url = api_url.rstrip("/")
        self.headers = {"x-cg-demo-api-key": demo_key} if demo_key else {}
        self.clock = clock
        self.name = name

    async def _get(self, path: str, params: dict[str, str]) -> bytes:
        return await self.http(f"{self.api_url}/api/v3{path}", params=params, headers=self.headers)

    async def check_listed(self) -> Listing:
        body = await self._get("/simple/price", {"ids": self.coin, "vs_currencies": self.vs})
        obj = _checked(body, "simple/price")
        if not isinstance(obj, dict):
            raise ParseError("coingecko simple/price: expected an object")
        entry = obj.get(self.coin)
        return Listing.LISTED if isinstance(entry, dict) and self.vs in entry else Listing.NOT_LISTED

    async def latest(self) -> PriceTick:
        params = {"ids": self.coin, "vs_currencies": self.vs, "include_last_updated_at": "true"}
        return parse_simple_price(await self._get("/simple/price", params), self.coin, self.vs, self.pair, self.name)

    async def history(self, days: int) -> list[PriceTick]:
        """Price points of the last ``days`` days (granularity chosen by CoinGecko)."""
        params = {"vs_currency": self.vs, "days": str(days)}
        return parse_market_chart(await self._get(f"/coins/{self.coin}/market_chart", params), self.pair, self.name)

    async def trades(self) -> list[Trade]:
        raise missing_capability(self.name, Capability.TRADES)

    async def candles(self, seconds: int, start: datetime, end: datetime) -> list[Candle]:
        """OHLC candles of ``seconds`` (1800, 14400 or 345600) reaching back to ``start``."""
        reach = (self.clock() - start).total_seconds() / 86400
        days = next((d for d in OHLC_DAYS if d >= reach and ohlc_seconds(d) == seconds), None)
        if days is None:
            raise Unsupported(f"{self.name}: no {seconds}s candles reaching back {reach:.1f} days")
        params = {"vs_currency": self.vs, "days": str(days)}
        candles = parse_ohlc(await self._get(f"/coins/{self.coin}/ohlc", params), self.pair, seconds, self.name)
        return [c for c in candles if start <= c.start < end]
