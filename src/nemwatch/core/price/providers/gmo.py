"""GMO Coin public API: ticker, klines and symbols for spot XEM (quoted in JPY).

Base URL (site root) ``https://api.coin.z.com``; paths ``/public/v1/...``. Every answer is ``{"status": 0, "data": ...}``;
a non-zero status is an error (maintenance and the like). All numbers are strings. Klines
come one business day per request for intervals up to an hour (``date=YYYYMMDD``, the day
starting at 06:00 JST, i.e. 21:00 UTC the day before, from 2021-04-15 on) and one year per
request for longer ones (``date=YYYY``). GMO's public trades carry no trade id, so they are
not used: trade de-duplication needs one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
from nemwatch.core.price.parse import as_dict, as_list, dec, field, iso_time, load_json, opt_dec, unix_ms
from nemwatch.core.price.providers.common import Clock, base_quote, in_window, ohlcv, utc_now

API_URL = "https://api.coin.z.com"

INTERVALS: dict[int, str] = {
    60: "1min",
    300: "5min",
    600: "10min",
    900: "15min",
    1800: "30min",
    3600: "1hour",
    14400: "4hour",
    28800: "8hour",
    43200: "12hour",
    86400: "1day",
    604800: "1week",
}
DAILY_LIMIT_SECONDS = 3600  # intervals up to this are asked per business day
FIRST_INTRADAY_DAY = date(2021, 4, 15)
DAY_SHIFT = timedelta(hours=3)  # 21:00 UTC (06:00 JST) + 3 h = the next UTC midnight


def _payload(body: bytes | str, what: str) -> Any:
    obj = as_dict(load_json(body, what), what)
    status = field(obj, "status", what)
    if status != 0:
        raise ErrorAnswer(f"gmo: {what} answered status {status if isinstance(status, int) else '?'}")
    return field(obj, "data", what)


def parse_ticker(body: bytes | str, symbol: str, pair: str, source: str = "gmo") -> PriceTick:
    rows = as_list(_payload(body, "gmo ticker"), "gmo ticker data")
    for i, item in enumerate(rows):
        what = f"gmo ticker {i}"
        row = as_dict(item, what)
        if row.get("symbol") != symbol:
            continue
        return PriceTick(
            source=source,
            pair=pair,
            price=dec(field(row, "last", what), f"{what} last", positive=True),
            at=iso_time(field(row, "timestamp", what), f"{what} timestamp"),
            bid=opt_dec(row.get("bid"), f"{what} bid"),
            ask=opt_dec(row.get("ask"), f"{what} ask"),
            volume_24h=opt_dec(row.get("volume"), f"{what} volume"),
        )
    raise ParseError(f"gmo ticker: no row for {symbol}")


def parse_klines(body: bytes | str, pair: str, seconds: int, source: str = "gmo") -> list[Candle]:
    rows = as_list(_payload(body, "gmo klines"), "gmo klines data")
    candles = []
    for i, item in enumerate(rows):
        what = f"gmo kline {i}"
        row = as_dict(item, what)
        candles.append(
            Candle(
                source=source,
                pair=pair,
                start=unix_ms(field(row, "openTime", what), f"{what} openTime"),
                seconds=seconds,
                **ohlcv(row, what),
            )
        )
    return candles


def parse_symbols(body: bytes | str, symbol: str) -> bool:
    rows = as_list(_payload(body, "gmo symbols"), "gmo symbols data")
    return any(as_dict(item, f"gmo symbol {i}").get("symbol") == symbol for i, item in enumerate(rows))


def business_day(when: datetime) -> date:
    """The GMO kline day that holds ``when`` (days roll over at 06:00 JST)."""
    return (when.astimezone(UTC) + DAY_SHIFT).date()


def kline_dates(
    seconds: int, start: datetime, end: datetime, first_day: date | None = FIRST_INTRADAY_DAY
) -> list[str]:
    """The ``date`` parameters that cover [start, end) for candles of ``seconds``.

    Intraday days before ``first_day`` (GMO serves none before 2021-04-15) are not asked for.
    """
    last = end - timedelta(microseconds=1)
    if seconds <= DAILY_LIMIT_SECONDS:
        day, stop = business_day(start), business_day(last)
        if first_day is not None:
            day = max(day, first_day)
        out = []
        while day <= stop:
            out.append(day.strftime("%Y%m%d"))
            day += timedelta(days=1)
        return out
    return [str(year) for year in range(business_day(start).year, business_day(last).year + 1)]


class GmoProvider:
    capabilities = frozenset({Capability.LATEST, Capability.CANDLES})

    def __init__(
        self,
        http: HttpGet,
        *,
        pair: str = "xem_jpy",
        api_url: str = API_URL,
        clock: Clock = utc_now,
        name: str = "gmo",
        first_intraday_day: date | None = FIRST_INTRADAY_DAY,
    ) -> None:
        base, quote = base_quote(pair)
        if quote != "jpy":
            raise ValueError("GMO Coin spot symbols are quoted in JPY")
        self.http = http
        self.pair = pair
        self.symbol = base.upper()
        self.api_url = api_url.rstrip("/")
        self.clock = clock
        self.name = name
        self.first_intraday_day = first_intraday_day

    async def check_listed(self) -> Listing:
        body = await self.http(f"{self.api_url}/public/v1/symbols")
        return Listing.LISTED if parse_symbols(body, self.symbol) else Listing.NOT_LISTED

    async def latest(self) -> PriceTick:
        body = await self.http(f"{self.api_url}/public/v1/ticker", params={"symbol": self.symbol})
        return parse_ticker(body, self.symbol, self.pair, self.name)

    async def trades(self) -> list[Trade]:
        raise missing_capability(self.name, Capability.TRADES)

    async def candles(self, seconds: int, start: datetime, end: datetime) -> list[Candle]:
        interval = INTERVALS.get(seconds)
        if interval is None:
            raise Unsupported(f"{self.name}: no {seconds}s candles (have {sorted(INTERVALS)})")
        candles: list[Candle] = []
        for day in kline_dates(seconds, start, end, self.first_intraday_day):
            params = {"symbol": self.symbol, "interval": interval, "date": day}
            body = await self.http(f"{self.api_url}/public/v1/klines", params=params)
            candles.extend(parse_klines(body, self.pair, seconds, self.name))
        return in_window(candles, start, end)
