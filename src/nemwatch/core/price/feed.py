"""The price feed: providers in fallback order, each rate-limited and rested after failures.

``latest()`` asks the providers in order and keeps the first good tick; a provider that
fails (transport, HTTP 429/5xx, error document, malformed answer) is rested with exponential
backoff (or as long as ``Retry-After`` asks) and skipped meanwhile; a provider found not to
list the pair at start is skipped for good. Every tick carries its source and time; the
status says how old the current price is and whether it is stale.

``poll_trades()`` stores new trades (de-duplicated by trade id) and records which span is now
known without gaps; ``fill_history()`` stores candles so a chart is never empty at start.

The clock (wall time, UTC), the monotonic clock (rate limits, rests) and sleep are injected;
all providers share one ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from nemwatch.core.models import Candle, PriceTick, Trade
from nemwatch.core.price.base import Capability, Listing, PriceError, PriceProvider, RateLimited, Unsupported
from nemwatch.core.price.http import HttpPolicy
from nemwatch.core.price.providers.common import utc_now
from nemwatch.core.price.sources import DEFAULT_SOURCES, Clock, Monotonic, Sleep, build_providers, check_names
from nemwatch.core.price.status import FeedStatus, ProviderState
from nemwatch.core.price.store import TRADES_KIND, PriceStore, candle_kind
from nemwatch.core.price.valuation import Valuer, is_fresh
from nemwatch.core.retry import backoff_delay

log = logging.getLogger("nemwatch.price")

# most trades one call returns (a full batch may hide older ones)
TRADE_BATCH_LIMITS: dict[str, int] = {"zaif": 150}


def _second(when: datetime) -> datetime:
    return when.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class TradePoll:
    source: str | None
    fetched: int
    new: int
    covered_from: datetime | None  # start of the gap-free span this poll extended
    gap: bool  # the batch did not reach back to the previous poll: trades may be missing


@dataclass(frozen=True, slots=True)
class HistoryFill:
    source: str | None
    seconds: int
    candles: tuple[Candle, ...] = field(default=())


class PriceFeed:
    def __init__(
        self,
        providers: Sequence[PriceProvider],
        *,
        stale_after: timedelta = timedelta(minutes=5),
        store: PriceStore | None = None,
        clock: Clock = utc_now,
        monotonic: Monotonic = time.monotonic,
        backoff_base: float = 5.0,
        backoff_cap: float = 600.0,
        trade_batch_limits: Mapping[str, int] = TRADE_BATCH_LIMITS,
        tick_store_every: timedelta = timedelta(seconds=60),
        client: httpx.AsyncClient | None = None,
        own_client: bool = False,
    ) -> None:
        if not providers:
            raise ValueError("a price feed needs at least one provider")
        pairs = {p.pair for p in providers}
        if len(pairs) != 1:
            raise ValueError(f"providers disagree on the pair: {sorted(pairs)}")
        self.providers = list(providers)
        self.pair = pairs.pop()
        self.stale_after = stale_after
        self.store = store
        self.clock = clock
        self.monotonic = monotonic
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.trade_batch_limits = dict(trade_batch_limits)
        self.tick_store_every = tick_store_every
        self._stored: dict[str, PriceTick] = {}
        self.state = {p.name: ProviderState(p.name) for p in self.providers}
        self.current: PriceTick | None = store.latest_tick(self.pair) if store is not None else None
        self.valuer = Valuer(lambda: self.current, stale_after)
        self._client = client
        self._own_client = own_client

    # -- construction --------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        sources: Sequence[str] = DEFAULT_SOURCES,
        *,
        client: httpx.AsyncClient | None = None,
        pair: str = "xem_jpy",
        urls: Mapping[str, str | None] | None = None,
        coingecko_demo_key: str | None = None,
        stale_after: timedelta = timedelta(minutes=5),
        store: PriceStore | None = None,
        clock: Clock = utc_now,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        http_policy: HttpPolicy = HttpPolicy(),
        backoff_base: float = 5.0,
        backoff_cap: float = 600.0,
    ) -> PriceFeed:
        """A feed over the named sources, in order, from plain arguments.

        ``urls`` overrides base URLs by key (``zaif``, ``zaif_chart``, ``gmo``, ``coincheck``,
        ``coingecko``); each is a site root as in ``[price.urls]`` (``https://api.zaif.jp``,
        ``https://zaif.jp``, ``https://api.coin.z.com``, ``https://coincheck.com``,
        ``https://api.coingecko.com``); the providers add the API paths.
        """
        check_names(sources, urls)  # before a client exists that would need closing
        own = client is None
        shared = client or httpx.AsyncClient(headers={"user-agent": "nemwatch"})
        providers = build_providers(
            sources, shared, pair=pair, urls=urls, coingecko_demo_key=coingecko_demo_key, clock=clock,
            monotonic=monotonic, sleep=sleep, rate_limits=rate_limits, http_policy=http_policy,
        )
        return cls(
            providers, stale_after=stale_after, store=store, clock=clock, monotonic=monotonic,
            backoff_base=backoff_base, backoff_cap=backoff_cap, client=shared, own_client=own,
        )

    @classmethod
    def from_config(cls, price: Any, **kwargs: Any) -> PriceFeed:
        """A feed from the config's ``[price]`` section (sources, urls, demo key, staleness).

        Keyword arguments (client, store, clock, sleep ...) pass through to ``build``.
        """
        urls = getattr(price, "urls", None)
        if urls is not None and not isinstance(urls, Mapping):
            urls = urls.model_dump() if hasattr(urls, "model_dump") else dict(vars(urls))
        stale = getattr(price, "stale_after_seconds", None)
        kwargs.setdefault("stale_after", timedelta(seconds=float(stale)) if stale else timedelta(minutes=5))
        key = getattr(price, "coingecko_demo_key", None)
        if key is not None and hasattr(key, "get_secret_value"):
            key = key.get_secret_value()
        sources = list(getattr(price, "sources", DEFAULT_SOURCES))
        if not sources:
            raise ValueError("price is off: [price] sources is empty")
        return cls.build(sources, urls={k: str(v) for k, v in (urls or {}).items() if v}, coingecko_demo_key=key or None, **kwargs)

    async def aclose(self) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> PriceFeed:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- provider health -----------------------------------------------------------------
    def _ok(self, provider: PriceProvider) -> None:
        st = self.state[provider.name]
        st.failures, st.rest_until, st.last_error, st.last_ok = 0, 0.0, None, self.clock()

    def _failed(self, provider: PriceProvider, error: PriceError) -> None:
        st = self.state[provider.name]
        # the error names its provider first ("zaif: ..."); the log line names it already
        reason = str(error).removeprefix(f"{provider.name}: ") or type(error).__name__
        st.last_error = reason
        if isinstance(error, (RateLimited, Unsupported)):
            return
        st.failures += 1
        rest = backoff_delay(st.failures, initial=self.backoff_base, maximum=self.backoff_cap)
        retry_after = getattr(error, "retry_after", None) or 0.0
        st.rest_until = self.monotonic() + max(rest, retry_after)
        log.warning("price source %s failed (%d in a row): %s", provider.name, st.failures, reason)

    def usable(self, capability: Capability) -> list[PriceProvider]:
        """Providers offering ``capability``, in order, not delisted and not resting."""
        now = self.monotonic()
        return [
            p
            for p in self.providers
            if capability in p.capabilities
            and self.state[p.name].listing is not Listing.NOT_LISTED
            and not self.state[p.name].resting(now)
        ]

    async def check_listings(self) -> dict[str, Listing]:
        """Ask each provider whether it still lists the pair; unlisted ones are skipped."""
        results: dict[str, Listing] = {}
        for provider in self.providers:
            try:
                listing = await provider.check_listed()
            except PriceError as exc:
                self._failed(provider, exc)
                listing = Listing.UNKNOWN
            else:
                self._ok(provider)
            self.state[provider.name].listing = listing
            if listing is Listing.NOT_LISTED:
                log.warning("price source %s does not list %s: skipped", provider.name, self.pair)
            results[provider.name] = listing
        return results

    # -- latest price --------------------------------------------------------------------
    async def latest(self) -> PriceTick | None:
        """The first good tick in fallback order, stored and kept as ``current``; None if all fail."""
        for provider in self.usable(Capability.LATEST):
            try:
                tick = await provider.latest()
            except PriceError as exc:
                self._failed(provider, exc)
                continue
            self._ok(provider)
            self.current = tick
            self._store_tick(tick)
            return tick
        return None

    def _store_tick(self, tick: PriceTick) -> None:
        """Store a tick when the price moved or ``tick_store_every`` has passed for its source."""
        if self.store is None:
            return
        last = self._stored.get(tick.source)
        if last is None or last.price != tick.price or tick.at - last.at >= self.tick_store_every:
            self.store.add_tick(tick)
            self._stored[tick.source] = tick

    def status(self, now: datetime | None = None) -> FeedStatus:
        return FeedStatus(
            now=now or self.clock(),
            tick=self.current,
            stale_after=self.stale_after,
            providers=tuple(ProviderState(**vars(s)) for s in self.state.values()),
            mono_now=self.monotonic(),
        )

    def is_stale(self, now: datetime | None = None) -> bool:
        return not is_fresh(self.current, now or self.clock(), self.stale_after)

    def price_for_alert(self, now: datetime | None = None) -> tuple[Decimal | None, str | None]:
        return self.valuer.price_for_alert(now or self.clock())

    # -- trades --------------------------------------------------------------------------
    async def poll_trades(self, source: str | None = None) -> TradePoll:
        """Fetch recent trades from ``source`` (or the first provider with trades) and store them."""
        candidates = [p for p in self.usable(Capability.TRADES) if source is None or p.name == source]
        for provider in candidates:
            fetched_at = self.clock()
            try:
                trades = await provider.trades()
            except PriceError as exc:
                self._failed(provider, exc)
                continue
            self._ok(provider)
            return self._record_trades(provider.name, trades, fetched_at)
        return TradePoll(source=None, fetched=0, new=0, covered_from=None, gap=False)

    def _record_trades(self, source: str, trades: list[Trade], fetched_at: datetime) -> TradePoll:
        if self.store is None:
            return TradePoll(source, len(trades), len(trades), None, gap=False)
        previous = self.store.coverage(source, self.pair, TRADES_KIND)
        new = self.store.add_trades(trades)
        end = _second(fetched_at)  # trades in the current second may still come
        limit = self.trade_batch_limits.get(source)
        if not trades:
            start = previous[-1][1] if previous else end
        elif limit is not None and len(trades) >= limit:
            # a full batch: trades in its oldest second may be cut off
            start = min(t.at for t in trades) + timedelta(seconds=1)
        else:
            # a short batch is everything the exchange has: it joins any earlier span
            start = min([min(t.at for t in trades), *(b for _, b in previous[-1:])])
        gap = bool(previous) and start > previous[-1][1]
        self.store.add_coverage(source, self.pair, TRADES_KIND, start, end)
        return TradePoll(source, len(trades), new, start if start < end else None, gap)

    # -- history -------------------------------------------------------------------------
    async def fill_history(
        self, seconds: int, start: datetime, end: datetime, source: str | None = None
    ) -> HistoryFill:
        """Candles of ``seconds`` over [start, end) from the first provider that has some."""
        for provider in self.usable(Capability.CANDLES):
            if source is not None and provider.name != source:
                continue
            try:
                candles = await provider.candles(seconds, start, end)
            except PriceError as exc:
                self._failed(provider, exc)
                continue
            self._ok(provider)
            if not candles:
                continue
            if self.store is not None:
                self.store.add_candles(candles)
                now = self.clock()
                done_until = min(end, now - (now - candles[0].start) % timedelta(seconds=seconds))
                lo = max(start, candles[0].start) if candles[0].start > start + timedelta(seconds=seconds) else start
                self.store.add_coverage(provider.name, self.pair, candle_kind(seconds), lo, done_until)
            return HistoryFill(provider.name, seconds, tuple(candles))
        return HistoryFill(None, seconds)
