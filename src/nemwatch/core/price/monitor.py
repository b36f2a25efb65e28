"""One price cycle for the headless mode and the dashboard: latest tick, new trades,
retention, the VWAPs the rules need, and the price alerts.

``PriceMonitor.start()`` checks listings, fills the candle history (so charts and move rules
have data at once) and primes the rules from what is stored; ``poll()`` runs one cycle and
extends the candle history once per candle, so the rolling VWAP always has a covered basis.
Pass ``feed.price_for_alert`` to the engine as its price lookup so every alert line carries
``amount_jpy`` (null when no fresh price), and hand ``PriceCycle.alerts`` to
``Engine.raise_alerts``. Set ``publish`` (e.g. ``engine.bus.publish``) and every poll is
published as a ``PriceTicked`` event for the faces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from nemwatch.core.alert import Alert
from nemwatch.core.events import PriceTicked
from nemwatch.core.models import PriceTick
from nemwatch.core.price.base import Capability, Listing
from nemwatch.core.price.feed import HistoryFill, PriceFeed, TradePoll
from nemwatch.core.price.status import FeedStatus
from nemwatch.core.price.rules import PriceObservation, PriceRule, PriceRules
from nemwatch.core.price.store import Retention
from nemwatch.core.price.vwap import VwapResult
from nemwatch.core.price.window import window_vwap

HISTORY_SIZES = (300, 1800, 14400)  # candle sizes tried in turn to fill the chart
MIN_VWAP_COVERAGE = Decimal("0.9")  # a VWAP drives cross_vwap rules only when this much is known


@dataclass(frozen=True, slots=True)
class StartReport:
    listings: dict[str, Listing]
    history: HistoryFill


@dataclass(frozen=True, slots=True)
class PriceCycle:
    now: datetime
    tick: PriceTick | None  # this cycle's answer (None when every provider failed)
    status: FeedStatus
    trades: TradePoll
    vwap_24h: VwapResult | None
    alerts: tuple[Alert, ...] = field(default=())


class PriceMonitor:
    def __init__(
        self,
        feed: PriceFeed,
        rules: PriceRules | None = None,
        *,
        retention: Retention | None = None,
        history: timedelta = timedelta(hours=24),
        publish: Callable[[PriceTicked], None] | None = None,
    ) -> None:
        self.feed = feed
        self.publish = publish
        self.rules = rules or PriceRules([], stale_after=feed.stale_after)
        self.retention = retention
        self.history = history
        self._candles: tuple[str, int, datetime] | None = None  # source, size, filled until

    @classmethod
    def from_config(cls, price: Any, *, network: str = "mainnet", **feed_kwargs: Any) -> PriceMonitor:
        """Feed, rules and retention from the config's ``[price]`` section."""
        feed = PriceFeed.from_config(price, **feed_kwargs)
        rules = PriceRules(
            [PriceRule.from_config(a) for a in getattr(price, "alerts", ())],
            network=network,
            stale_after=feed.stale_after,
        )
        days = getattr(price, "retention_days", None)
        keep = timedelta(days=int(days)) if days else None
        return cls(feed, rules, retention=Retention(ticks=keep, trades=keep, candles=keep) if keep else None)

    @property
    def trade_sources(self) -> list[str]:
        return [p.name for p in self.feed.providers if Capability.TRADES in p.capabilities]

    async def start(self) -> StartReport:
        listings = await self.feed.check_listings()
        now = self.feed.clock()
        fill = HistoryFill(None, 0)
        for seconds in HISTORY_SIZES:
            fill = await self.feed.fill_history(seconds, now - self.history, now)
            if fill.source is not None:
                break
        if fill.source is not None:
            self._candles = (fill.source, fill.seconds, now)
        self._prime(now, fill)
        return StartReport(listings, fill)

    async def _extend_history(self, now: datetime) -> None:
        """Fetch the candles since the last fill (the last one again: it may have grown)."""
        if self._candles is None:
            return
        source, seconds, until = self._candles
        if now - until < timedelta(seconds=seconds):
            return
        start = until - timedelta(seconds=seconds)
        fill = await self.feed.fill_history(seconds, start, now, source=source)
        if fill.source is not None:
            self._candles = (source, seconds, now)

    def _prime(self, now: datetime, fill: HistoryFill) -> None:
        points = [(c.start + timedelta(seconds=c.seconds), c.close) for c in fill.candles]
        store = self.feed.store
        if store is not None:
            points += [(t.at, t.price) for t in store.ticks(self.feed.pair, now - self.history, now)]
        self.rules.prime(points)

    def vwap(self, window: timedelta, now: datetime) -> VwapResult | None:
        """The stored-data VWAP of the last ``window``: trades sources first, then the current one."""
        store = self.feed.store
        if store is None:
            return None
        current = self.feed.current.source if self.feed.current else None
        sources: Iterable[str] = dict.fromkeys([*self.trade_sources, *([current] if current else [])])
        results = [r for s in sources if (r := window_vwap(store, s, self.feed.pair, now - window, now))]
        return max(results, key=lambda r: r.covered, default=None)

    async def poll(self) -> PriceCycle:
        tick = await self.feed.latest()
        trades = await self.feed.poll_trades()
        now = self.feed.clock()
        await self._extend_history(now)
        if self.feed.store is not None and self.retention is not None:
            self.feed.store.prune(now, self.retention)
        results = {minutes: self.vwap(timedelta(minutes=minutes), now) for minutes in {1440, *self.rules.vwap_windows()}}
        vwaps = {
            minutes: r.vwap
            for minutes, r in results.items()
            if r is not None and r.vwap is not None and r.coverage_ratio >= MIN_VWAP_COVERAGE
        }
        status = self.feed.status(now)
        observation = PriceObservation(
            now=now, tick=self.feed.current, vwaps=vwaps, all_down=tick is None and status.all_down
        )
        alerts = tuple(self.rules.evaluate(observation))
        cycle = PriceCycle(now, tick, status, trades, results[1440], alerts)
        if self.publish is not None:
            day = results[1440]
            self.publish(PriceTicked(tick, self.feed.current, status.stale, day.vwap if day else None, now))
        return cycle
