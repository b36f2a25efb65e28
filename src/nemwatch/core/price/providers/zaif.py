"""Zaif: public API v1 (ticker, trades, currency_pairs) and the chart history API.

Base URLs (site roots, as in ``[price.urls]``): ``https://api.zaif.jp`` for ``/api/1/...`` and
``https://zaif.jp`` for ``/zaif_chart_api/v1/history``. The pair goes in the path. ``trades`` returns the latest 150 trades at most, newest first, with no
paging: poll often enough and de-duplicate by ``tid``. The chart API answers a JSON string
that itself holds JSON (decode twice); candle ``time`` is the candle's start in milliseconds.
The ticker carries no time: a tick is stamped with the time it was received.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.base import Capability, HttpGet, Listing, ParseError, Unsupported
from nemwatch.core.price.parse import as_dict, as_list, dec, field, load_json, opt_dec, text, unix_ms, unix_seconds
from nemwatch.core.price.providers.common import Clock, checked_json, error_document, in_window, ohlcv, unix, utc_now

API_URL = "https://api.zaif.jp"
CHART_URL = "https://zaif.jp"

# candle seconds -> the chart API's resolution parameter
RESOLUTIONS: dict[int, str] = {
    60: "1",
    300: "5",
    900: "15",
    1800: "30",
    3600: "60",
    14400: "240",
    28800: "480",
    43200: "720",
    86400: "D",
    604800: "W",
}


def parse_ticker(body: bytes | str, pair: str, at: datetime, source: str = "zaif") -> PriceTick:
    data = checked_json(body, "zaif ticker", source)
    obj = as_dict(data, "zaif ticker")
    return PriceTick(
        source=source,
        pair=pair,
        price=dec(field(obj, "last", "zaif ticker"), "zaif ticker last", positive=True),
        at=at,
        bid=opt_dec(obj.get("bid"), "zaif ticker bid"),
        ask=opt_dec(obj.get("ask"), "zaif ticker ask"),
        volume_24h=opt_dec(obj.get("volume"), "zaif ticker volume"),
        vwap_24h=opt_dec(obj.get("vwap"), "zaif ticker vwap"),
    )


def parse_trades(body: bytes | str, pair: str, source: str = "zaif") -> list[Trade]:
    data = checked_json(body, "zaif trades", source)
    trades = []
    for i, item in enumerate(as_list(data, "zaif trades")):
        what = f"zaif trade {i}"
        obj = as_dict(item, what)
        item_pair = obj.get("currency_pair", pair)
        if item_pair != pair:
            raise ParseError(f"{what}: pair {text(item_pair, what)!r}, asked for {pair!r}")
        side = obj.get("trade_type")
        if side not in (None, "bid", "ask"):
            raise ParseError(f"{what}: unknown trade_type")
        trades.append(
            Trade(
                source=source,
                pair=pair,
                trade_id=text(field(obj, "tid", what), f"{what} tid"),
                price=dec(field(obj, "price", what), f"{what} price", positive=True),
                amount=dec(field(obj, "amount", what), f"{what} amount", positive=True),
                at=unix_seconds(field(obj, "date", what), f"{what} date"),
                side=side,
            )
        )
    return trades


def parse_currency_pairs(body: bytes | str, pair: str) -> bool:
    """True when the answer lists ``pair``; an error document means it is not offered."""
    data = load_json(body, "zaif currency_pairs")
    if isinstance(data, dict) and "error" in data:
        return False
    for i, item in enumerate(as_list(data, "zaif currency_pairs")):
        if as_dict(item, f"zaif currency_pair {i}").get("currency_pair") == pair:
            return True
    return False


def _decode_chart(body: bytes | str) -> dict[str, Any]:
    data = load_json(body, "zaif chart")
    if isinstance(data, str):  # the usual double encoding
        data = load_json(data, "zaif chart (inner)")
    error_document("zaif", data)
    return as_dict(data, "zaif chart")


def parse_chart(body: bytes | str, pair: str, seconds: int, source: str = "zaif") -> list[Candle]:
    obj = _decode_chart(body)
    rows = as_list(field(obj, "ohlc_data", "zaif chart"), "zaif chart ohlc_data")
    candles = []
    for i, item in enumerate(rows):
        what = f"zaif candle {i}"
        row = as_dict(item, what)
        candles.append(
            Candle(
                source=source,
                pair=pair,
                start=unix_ms(field(row, "time", what), f"{what} time"),
                seconds=seconds,
                **ohlcv(row, what),
                average=opt_dec(row.get("average"), f"{what} average"),
            )
        )
    return candles


class ZaifProvider:
    capabilities = frozenset({Capability.LATEST, Capability.TRADES, Capability.CANDLES})

    def __init__(
        self,
        http: HttpGet,
        *,
        pair: str = "xem_jpy",
        api_url: str = API_URL,
        chart_url: str = CHART_URL,
        clock: Clock = utc_now,
        name: str = "zaif",
        max_candles_per_request: int = 1000,
    ) -> None:
        self.http = http
        self.pair = pair
        self.api_url = api_url.rstrip("/")
        self.chart_url = chart_url.rstrip("/")
        self.clock = clock
        self.name = name
        self.max_candles_per_request = max_candles_per_request

    async def check_listed(self) -> Listing:
        body = await self.http(f"{self.api_url}/api/1/currency_pairs/{self.pair}")
        return Listing.LISTED if parse_currency_pairs(body, self.pair) else Listing.NOT_LISTED

    async def latest(self) -> PriceTick:
        body = await self.http(f"{self.api_url}/api/1/ticker/{self.pair}")
        return parse_ticker(body, self.pair, self.clock(), self.name)

    async def trades(self) -> list[Trade]:
        body = await self.http(f"{self.api_url}/api/1/trades/{self.pair}")
        return parse_trades(body, self.pair, self.name)

    async def candles(self, seconds: int, start: datetime, end: datetime) -> list[Candle]:
        resolution = RESOLUTIONS.get(seconds)
        if resolution is None:
            raise Unsupported(f"{self.name}: no {seconds}s candles (have {sorted(RESOLUTIONS)})")
        symbol = self.pair.upper()
        candles: list[Candle] = []
        chunk = timedelta(seconds=seconds * self.max_candles_per_request)
        cursor = start
        while cursor < end:
            stop = min(end, cursor + chunk)
            params = {"symbol": symbol, "resolution": resolution, "from": str(unix(cursor)), "to": str(unix(stop))}
            body = await self.http(f"{self.chart_url}/zaif_chart_api/v1/history", params=params)
            candles.extend(parse_chart(body, self.pair, seconds, self.name))
            cursor = stop
        return in_window(candles, start, end)
