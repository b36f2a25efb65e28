"""The simulator's XEM/JPY market: deterministic trades along a price path, served in the
shapes of Zaif, GMO Coin, Coincheck and CoinGecko so every price provider can point at it.

Trades follow the scenario's price path (linear interpolation between its points) with a
small deterministic noise; a market built on candles (``sim.candles.CandlePath``, e.g. Zaif's
real 2018 XEM/JPY half-hours) follows each candle's open, extremes and close instead, keeps
every trade inside the candle's range and scales trade sizes by the candle's relative range
(the candles have no volume, so sizes are synthetic); trade ``i`` happens in the ``i``-th slot of ``60 / trades_per_minute``
seconds after the path's start, at a seeded offset inside its slot, so the whole trade tape is
a pure function of (path, rate, seed) and "now" only decides how much of it is visible. Trade
ids increase with time; times are whole seconds (as Zaif reports them).

``Market.handle(method, path, query)`` answers a request (``(status, headers, body)``) or
returns None when the path is not a market path, so a node server can mount it; ``MarketServer``
serves it alone on 127.0.0.1. ``Market.vwap(start, end)`` is the ground truth for tests.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from nemwatch.core.models import Trade
from nemwatch.sim.candles import CandlePath

Response = tuple[int, dict[str, str], bytes]
TRADES_LIMIT = 150
PLACES = Decimal("0.0001")
STATS_BUCKET = 3600  # seconds: the window statistics cache whole hours
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROVIDERS = ("zaif", "gmo", "coincheck", "coingecko")
ZAIF_RESOLUTIONS = {"1": 60, "5": 300, "15": 900, "30": 1800, "60": 3600, "240": 14400,
                    "480": 28800, "720": 43200, "D": 86400, "W": 604800}
GMO_INTERVALS = {"1min": 60, "5min": 300, "10min": 600, "15min": 900, "30min": 1800, "1hour": 3600,
                 "4hour": 14400, "8hour": 28800, "12hour": 43200, "1day": 86400, "1week": 604800}
USD_JPY = Decimal("110")
XEM_SUPPLY = Decimal(8_999_999_999)


def encode(value: Any) -> str:
    """JSON text with Decimals written as plain numbers (exchanges send numbers, not strings)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(encode(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot encode {type(value).__name__}")


def _iso_ms(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


def _floor(when: datetime, seconds: int) -> datetime:
    return when - (when - EPOCH) % timedelta(seconds=seconds)


class Market:
    def __init__(
        self,
        path: Sequence[tuple[datetime, Decimal]],
        trades_per_minute: int,
        clock: Callable[[], datetime] | Any,
        *,
        seed: str = "nemwatch-market",
        trade_xem: tuple[Decimal, Decimal] = (Decimal(100), Decimal(10_000)),
        noise_pct: Decimal = Decimal("0.5"),
        pair: str = "xem_jpy",
        btc_jpy: Decimal = Decimal(1_200_000),
        first_trade_id: int = 80_000_000,
        candles: CandlePath | None = None,
    ) -> None:
        if not path and candles is not None:
            path = candles.points()
        if not path:
            raise ValueError("a market needs a price path")
        if trades_per_minute <= 0:
            raise ValueError("a market needs trades_per_minute > 0")
        self.path = sorted((when.astimezone(UTC), Decimal(price)) for when, price in path)
        self.start = self.path[0][0]
        self.trades_per_minute = trades_per_minute
        self.slot_us = 60_000_000 // trades_per_minute
        self.clock: Callable[[], datetime] = clock.now if hasattr(clock, "now") else clock
        self.seed = seed
        self.trade_xem = (Decimal(trade_xem[0]), Decimal(trade_xem[1]))
        self.noise = Decimal(noise_pct) / 100
        self.pair = pair
        self.coin, self.quote = pair.split("_", 1)
        self.btc_jpy = Decimal(btc_jpy)
        self.first_trade_id = first_trade_id
        self.candles = candles
        self.listed = True  # False: every venue answers as if XEM were delisted
        self.outages: set[str] = set()  # venues answering 503 (names in PROVIDERS)
        self.requests: dict[str, int] = dict.fromkeys(PROVIDERS, 0)
        self._lock = threading.Lock()
        self._trade = lru_cache(maxsize=200_000)(self._make_trade)
        self._hours: dict[datetime, _Stats | None] = {}  # figures of whole past hours (see _window_stats)

    @classmethod
    def from_scenario(cls, scenario: Any, clock: Callable[[], datetime] | Any, **kwargs: Any) -> Market:
        """The market of a scenario (its ``price_path``, trade rate and trade sizes)."""
        kwargs.setdefault("seed", f"{scenario.seed}-market")
        kwargs.setdefault("trade_xem", scenario.price_trade_xem)
        name = getattr(scenario, "price_candles", None)
        if name:
            kwargs.setdefault("candles", CandlePath.shipped(name))
        return cls(scenario.price_path, scenario.price_trades_per_minute, clock, **kwargs)

    # -- the tape ------------------------------------------------------------------------
    def path_price(self, when: datetime) -> Decimal:
        """The price path at ``when``: through the candles when there are some, else linear
        between points; flat beyond the ends."""
        if self.candles is not None:
            return self.candles.price(when)
        points = self.path
        if when <= points[0][0]:
            return points[0][1]
        for (t0, p0), (t1, p1) in zip(points, points[1:], strict=False):
            if when <= t1:
                share = Decimal((when - t0) // timedelta(microseconds=1)) / Decimal((t1 - t0) // timedelta(microseconds=1))
                return p0 + (p1 - p0) * share
        return points[-1][1]

    def _digest(self, i: int) -> bytes:
        return hashlib.sha256(f"{self.seed}|{i}".encode()).digest()

    def _exact_time(self, i: int) -> datetime:
        h = int.from_bytes(self._digest(i)[:8], "big")
        return self.start + timedelta(microseconds=i * self.slot_us + h % self.slot_us)

    def _make_trade(self, i: int) -> Trade:
        digest = self._digest(i)
        exact = self._exact_time(i)
        u = Decimal(int.from_bytes(digest[8:12], "big") % 20001 - 10000) / 10000  # [-1, 1]
        price = (self.path_price(exact) * (1 + self.noise * u)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
        v = Decimal(int.from_bytes(digest[12:16], "big") % 1_000_000) / 1_000_000  # [0, 1)
        lo, hi = self.trade_xem
        size = lo + (hi - lo) * v * v
        if self.candles is not None:
            price = self.candles.clamp(exact, price)
            size *= self.candles.size_weight(exact)
        amount = max(Decimal("0.1"), size.quantize(Decimal("0.1"), rounding=ROUND_DOWN))
        if self.candles is None:
            amount = max(lo, amount)
        side = "bid" if digest[16] & 1 else "ask"
        return Trade(
            source="zaif",
            pair=self.pair,
            trade_id=str(self.first_trade_id + i),
            price=price,
            amount=amount,
            at=exact.replace(microsecond=0),
            side=side,
        )

    def trade(self, i: int) -> Trade:
        return self._trade(i)

    def _count_until(self, when: datetime) -> int:
        """How many trades have happened at or before ``when``."""
        if when < self.start:
            return 0
        k = (when - self.start) // timedelta(microseconds=self.slot_us)
        return k + (1 if self._exact_time(k) <= when else 0)

    def visible(self, now: datetime | None = None) -> int:
        return self._count_until(now or self.clock())

    def trades_between(self, start: datetime, end: datetime, now: datetime | None = None) -> list[Trade]:
        """All trades with ``start <= at < end`` (whole-second times) that happened by now."""
        upto = min(self.visible(now), self._count_until(end) + 1)
        first = max(0, self._count_until(start - timedelta(seconds=1)) - 1)
        return [t for t in (self.trade(i) for i in range(first, upto)) if start <= t.at < end]

    def vwap(self, start: datetime, end: datetime) -> Decimal:
        """sum(price * amount) / sum(amount) over ``start <= at < end``: the ground truth."""
        trades = self.trades_between(start, end, now=end + timedelta(days=1))
        volume = sum((t.amount for t in trades), Decimal(0))
        if volume == 0:
            raise ValueError("no trades in the window")
        return sum((t.price * t.amount for t in trades), Decimal(0)) / volume

    def last_trade(self, now: datetime) -> Trade | None:
        n = self.visible(now)
        return self.trade(n - 1) if n else None

    def last_price(self, now: datetime) -> Decimal:
        last = self.last_trade(now)
        return last.price if last else self.path_price(now).quantize(PLACES)

    def _window_stats(self, start: datetime, end: datetime, now: datetime) -> dict[str, Decimal] | None:
        """open, high, low, close, volume and average of the trades in [start, end) seen by now.

        Whole hours inside the window that are over by ``now`` come from ``_hour_stats`` (the
        tape is a pure function of time, so an hour's figures never change); the edges are
        summed trade by trade. Decimal sums are exact, so the result is the same either way."""
        seen = min(end, now + timedelta(seconds=1))
        first_hour = _floor(start, STATS_BUCKET) + (timedelta(0) if _floor(start, STATS_BUCKET) == start
                                                      else timedelta(seconds=STATS_BUCKET))
        last_hour = _floor(seen, STATS_BUCKET)  # hours [first_hour, last_hour) lie inside the window
        parts: list[_Stats | None] = []
        if first_hour >= last_hour or last_hour > now:
            parts.append(_Stats.of(self.trades_between(start, end, now)))
        else:
            parts.append(_Stats.of(self.trades_between(start, first_hour, now)))
            hour = first_hour
            while hour < last_hour:
                parts.append(self._hour_stats(hour))
                hour += timedelta(seconds=STATS_BUCKET)
            parts.append(_Stats.of(self.trades_between(last_hour, end, now)))
        total = _Stats.combine(parts)
        if total is None:
            return None
        return {
            "open": total.open,
            "high": total.high,
            "low": total.low,
            "close": total.close,
            "volume": total.volume,
            "average": total.notional / total.volume,
        }

    def _hour_stats(self, hour: datetime) -> _Stats | None:
        with self._lock:
            if hour in self._hours:
                return self._hours[hour]
        end = hour + timedelta(seconds=STATS_BUCKET)
        stats = _Stats.of(self.trades_between(hour, end, now=end))
        with self._lock:
            self._hours[hour] = stats
        return stats

    def _candles(self, seconds: int, start: datetime, end: datetime, now: datetime) -> list[tuple[datetime, dict[str, Decimal]]]:
        """Candles of ``seconds`` starting in [start, end) and begun by now; empty ones left out."""
        out = []
        trades = self.trades_between(_floor(start, seconds), min(end + timedelta(seconds=seconds), now + timedelta(seconds=1)), now)
        buckets: dict[datetime, list[Trade]] = {}
        for t in trades:
            buckets.setdefault(_floor(t.at, seconds), []).append(t)
        for bucket_start in sorted(buckets):
            if not start <= bucket_start < end:
                continue
            group = buckets[bucket_start]
            volume = sum((t.amount for t in group), Decimal(0))
            notional = sum((t.price * t.amount for t in group), Decimal(0))
            out.append((bucket_start, {
                "open": group[0].price,
                "high": max(t.price for t in group),
                "low": min(t.price for t in group),
                "close": group[-1].price,
                "volume": volume,
                "average": (notional / volume).quantize(Decimal("0.00000001")),
            }))
        return out

    def quote_in(self, vs: str, now: datetime) -> Decimal | None:
        price = self.last_price(now)
        if vs == self.quote:
            return price
        if vs == "usd":
            return (price / USD_JPY).quantize(Decimal("0.000001"))
        if vs == "btc":
            return (price / self.btc_jpy).quantize(Decimal("0.00000001"))
        return None

    # -- HTTP ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str]) -> Response | None:
        """Answer a market request, or None when ``path`` is not one of ours."""
        venue = _venue(path)
        if venue is None:
            return None
        with self._lock:
            self.requests[venue] += 1
        if method != "GET":
            return _json(405, {"error": "method not allowed"})
        if venue in self.outages:
            return 503, {"content-type": "text/plain", "retry-after": "1"}, b"service unavailable"
        now = self.clock()
        try:
            if venue == "zaif":
                return self._zaif(path, query, now)
            if venue == "gmo":
                return self._gmo(path, query, now)
            if venue == "coincheck":
                return self._coincheck(path, now)
            return self._coingecko(path, query, now)
        except (ValueError, KeyError):
            return _json(400, {"error": "bad request"})

    # Zaif
    def _zaif_pair_ticker(self, pair: str, now: datetime) -> dict[str, Decimal] | None:
        """The ticker of a pair Zaif quotes here: ours, XEM/BTC (derived) and BTC/JPY (fixed)."""
        if pair == self.pair:
            return self._zaif_ticker(now)
        if pair == "btc_jpy":
            last = self.btc_jpy
            return {"last": last, "high": last, "low": last, "vwap": last, "volume": Decimal(1000),
                    "bid": last - 5, "ask": last + 5}
        if pair == f"{self.coin}_btc":
            last = (self.last_price(now) / self.btc_jpy).quantize(Decimal("0.00000001"))
            return {"last": last, "high": last, "low": last, "vwap": last, "volume": Decimal(0),
                    "bid": last, "ask": last}
        return None

    def _zaif(self, path: str, query: dict[str, str], now: datetime) -> Response:
        if path.startswith("/zaif_chart_api/v1/history"):
            return self._zaif_chart(query, now)
        parts = path.strip("/").split("/")  # api 1 <what> <pair>
        if len(parts) != 4:
            return _json(404, {"error": "not found"})
        what, pair = parts[2], parts[3]
        ticker = self._zaif_pair_ticker(pair, now)
        if ticker is None or (pair.startswith(self.coin) and not self.listed):
            return _json(200, {"error": "unsupported currency_pair"})
        if what == "currency_pairs":
            return _json(200, [_zaif_pair_info(pair)])
        if what == "ticker":
            return _json(200, ticker)
        if what == "last_price":
            return _json(200, {"last_price": ticker["last"]})
        if what == "trades" and pair == self.pair:
            n = self.visible(now)
            rows = [self.trade(i) for i in range(n - 1, max(-1, n - 1 - TRADES_LIMIT), -1)]
            return _json(200, [
                {"date": int((t.at - EPOCH).total_seconds()), "price": t.price, "amount": t.amount,
                 "tid": int(t.trade_id), "currency_pair": t.pair, "trade_type": t.side}
                for t in rows
            ])
        return _json(404, {"error": "not found"})

    def _zaif_ticker(self, now: datetime) -> dict[str, Decimal]:
        last = self.last_price(now)
        stats = self._window_stats(now - timedelta(hours=24), now + timedelta(seconds=1), now)
        spread = (last * Decimal("0.001")).quantize(PLACES)
        return {
            "last": last,
            "high": stats["high"] if stats else last,
            "low": stats["low"] if stats else last,
            "vwap": stats["average"].quantize(PLACES) if stats else last,
            "volume": stats["volume"] if stats else Decimal(0),
            "bid": last - spread,
            "ask": last + spread,
        }

    def _zaif_chart(self, query: dict[str, str], now: datetime) -> Response:
        if query.get("symbol", "").lower() != self.pair or not self.listed:
            return _double(200, {"error": "unsupported symbol"})
        seconds = ZAIF_RESOLUTIONS[query["resolution"]]
        start = datetime.fromtimestamp(int(query["from"]), UTC)
        end = datetime.fromtimestamp(int(query["to"]), UTC) + timedelta(seconds=1)  # "to" inclusive
        rows = [
            {"time": _ms(at), "open": c["open"], "high": c["high"], "low": c["low"], "close": c["close"],
             "volume": c["volume"], "average": c["average"]}
            for at, c in self._candles(seconds, _floor(start, seconds), end, now)
        ]
        return _double(200, {"ohlc_data": rows, "data_count": len(rows)})

    # GMO Coin
    def _gmo(self, path: str, query: dict[str, str], now: datetime) -> Response:
        symbol = self.coin.upper()
        asked = query.get("symbol")
        if path == "/public/v1/symbols":
            rows = [{"symbol": "BTC", "minOrderSize": "0.0001", "maxOrderSize": "5", "sizeStep": "0.0001",
                     "tickSize": "1", "takerFee": "0.0005", "makerFee": "-0.0001"}]
            if self.listed:
                rows.append({"symbol": symbol, "minOrderSize": "1", "maxOrderSize": "100000", "sizeStep": "1",
                             "tickSize": "0.001", "takerFee": "0", "makerFee": "0"})
            return _gmo_ok(rows, now)
        if asked is not None and (asked != symbol or not self.listed):
            return _json(200, {"status": 5, "messages": [{"message_code": "ERR-5106",
                                                          "message_string": "Invalid request parameter."}],
                               "responsetime": _iso_ms(now)})
        if path == "/public/v1/ticker":
            t = self._zaif_ticker(now)
            row = {k: format(t[k], "f") for k in ("ask", "bid", "high", "last", "low", "volume")}
            row |= {"symbol": symbol, "timestamp": _iso_ms(now)}
            return _gmo_ok([row], now)
        if path == "/public/v1/klines":
            seconds = GMO_INTERVALS[query["interval"]]
            day = query["date"]
            # a business day starts at 06:00 JST, 21:00 UTC the day before; years likewise
            if len(day) == 8:
                start = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC) - timedelta(hours=3)
                stop = start + timedelta(days=1)
            else:
                start = datetime(int(day), 1, 1, tzinfo=UTC) - timedelta(hours=3)
                stop = datetime(int(day) + 1, 1, 1, tzinfo=UTC) - timedelta(hours=3)
            rows = [
                {"openTime": str(_ms(at)), "open": format(c["open"], "f"), "high": format(c["high"], "f"),
                 "low": format(c["low"], "f"), "close": format(c["close"], "f"), "volume": format(c["volume"], "f")}
                for at, c in self._candles(seconds, start, stop, now)
            ]
            return _gmo_ok(rows, now)
        return _json(404, {"status": 5, "messages": [{"message_code": "ERR-404", "message_string": "Not found"}]})

    # Coincheck
    def _coincheck(self, path: str, now: datetime) -> Response:
        if path == f"/api/rate/{self.pair}" and self.listed:
            rate = (self.last_price(now) * Decimal("1.01")).quantize(Decimal("0.001"))
            return _json(200, {"rate": format(rate, "f")})
        return _json(404, {"success": False, "error": "pair not found"})

    # CoinGecko
    def _coingecko(self, path: str, query: dict[str, str], now: datetime) -> Response:
        if path == "/api/v3/simple/price":
            ids = query.get("ids", "").split(",")
            if "nem" not in ids or not self.listed:
                return _json(200, {})
            entry: dict[str, Any] = {}
            for vs in query.get("vs_currencies", "").split(","):
                value = self.quote_in(vs.strip(), now)
                if value is not None:
                    entry[vs.strip()] = value
            if query.get("include_last_updated_at") == "true":
                entry["last_updated_at"] = int((_floor(now, 60) - EPOCH).total_seconds())
            return _json(200, {"nem": entry})
        if not path.startswith("/api/v3/coins/nem/") or not self.listed:
            return _json(404, {"error": "coin not found"})
        vs = query["vs_currency"]
        days = int(query["days"])
        if self.quote_in(vs, now) is None or days <= 0:
            return _json(400, {"error": "invalid vs_currency"})
        factor = self.quote_in(vs, now) / self.last_price(now)  # type: ignore[operator]
        if path.endswith("/market_chart"):
            step = 300 if days <= 1 else (3600 if days <= 90 else 86400)
            at, points = _floor(now - timedelta(days=days), step) + timedelta(seconds=step), []
            while at <= now:
                points.append((at, (self.last_price(at) * factor).quantize(Decimal("0.00000001"))))
                at += timedelta(seconds=step)
            daily = Decimal(86_400_000_000 // self.slot_us) * (self.trade_xem[0] + self.trade_xem[1]) / 3
            return _json(200, {
                "prices": [[_ms(t), p] for t, p in points],
                "market_caps": [[_ms(t), (p * XEM_SUPPLY).quantize(Decimal(1))] for t, p in points],
                "total_volumes": [[_ms(t), (p * daily).quantize(Decimal(1))] for t, p in points],
            })
        if path.endswith("/ohlc"):
            seconds = 1800 if days <= 2 else (14400 if days <= 30 else 345600)
            rows = []
            for at, c in self._candles(seconds, now - timedelta(days=days), now, now):
                close_at = at + timedelta(seconds=seconds)
                if close_at <= now:
                    rows.append([_ms(close_at)] + [(c[k] * factor).quantize(Decimal("0.00000001"))
                                                   for k in ("open", "high", "low", "close")])
            return _json(200, rows)
        return _json(404, {"error": "not found"})


@dataclass(frozen=True, slots=True)
class _Stats:
    """The figures of a run of consecutive trades (``None`` parts are empty runs)."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    notional: Decimal

    @staticmethod
    def of(trades: Sequence[Trade]) -> _Stats | None:
        if not trades:
            return None
        return _Stats(
            trades[0].price,
            max(t.price for t in trades),
            min(t.price for t in trades),
            trades[-1].price,
            sum((t.amount for t in trades), Decimal(0)),
            sum((t.price * t.amount for t in trades), Decimal(0)),
        )

    @staticmethod
    def combine(parts: Sequence[_Stats | None]) -> _Stats | None:
        """The figures of the runs one after another, in time order."""
        present = [p for p in parts if p is not None]
        if not present:
            return None
        return _Stats(
            present[0].open,
            max(p.high for p in present),
            min(p.low for p in present),
            present[-1].close,
            sum((p.volume for p in present), Decimal(0)),
            sum((p.notional for p in present), Decimal(0)),
        )


def _venue(path: str) -> str | None:
    if path.startswith("/api/1/") or path.startswith("/zaif_chart_api/"):
        return "zaif"
    if path.startswith("/public/v1/"):
        return "gmo"
    if path.startswith("/api/rate/") or path == "/api/exchange_status":
        return "coincheck"
    if path.startswith("/api/v3/"):
        return "coingecko"
    return None


def _json(status: int, data: Any) -> Response:
    return status, {"content-type": "application/json"}, encode(data).encode()


def _double(status: int, data: Any) -> Response:
    """Zaif's chart API: a JSON string holding the JSON document."""
    return status, {"content-type": "application/json"}, json.dumps(encode(data)).encode()


def _gmo_ok(data: Any, now: datetime) -> Response:
    return _json(200, {"status": 0, "data": data, "responsetime": _iso_ms(now)})


def _zaif_pair_info(pair: str) -> dict[str, Any]:
    base, quote = pair.split("_", 1)
    return {
        "name": f"{base.upper()}/{quote.upper()}", "title": f"{base.upper()}/{quote.upper()}",
        "currency_pair": pair, "description": f"{base.upper()} traded in {quote.upper()}",
        "is_token": False, "event_number": 0, "seq": 0,
        "item_unit_min": Decimal("0.1"), "item_unit_step": Decimal("0.1"), "item_japanese": base.upper(),
        "aux_unit_min": Decimal("0.0001"), "aux_unit_step": Decimal("0.0001"), "aux_unit_point": 4,
        "aux_japanese": quote.upper(),
    }


class MarketServer:
    """The market alone on 127.0.0.1 (port 0 picks a free one), in a background thread."""

    def __init__(self, market: Market, host: str = "127.0.0.1", port: int = 0) -> None:
        self.market = market

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                answer = market.handle("GET", parts.path, dict(parse_qsl(parts.query)))
                status, headers, body = answer or (404, {"content-type": "text/plain"}, b"not found")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MarketServer:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="market", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MarketServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
