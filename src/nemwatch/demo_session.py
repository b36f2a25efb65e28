"""The 2018 demo as a steppable session, for a face that shows it live (the dashboard).

It sets up what ``nemwatch.demo.play`` sets up (the simulator with ``coincheck-2018`` and its
market, the engine on a temporary store, the hot wallet watched, the thief as taint source),
and also stores prices so a chart can draw them. ``step()`` advances simulated time by one
block, polls the price every few blocks and runs one engine cycle; the caller paces the steps.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from nemwatch.core.alert import Alert
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import Network, PriceTick
from nemwatch.core.nem.client import NisClient
from nemwatch.core.price.feed import PriceFeed
from nemwatch.core.price.monitor import PriceMonitor
from nemwatch.core.price.rules import PriceRules
from nemwatch.core.price.store import PriceStore
from nemwatch.core.store import Store
from nemwatch.demo import DEFAULT_FROM, DEFAULT_UNTIL, PRICE_EVERY, PRICE_RULES, _watchset, demo_taint, jst
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario_toml import load_scenario

SYNTHETIC_NOTE = "DEMO: synthetic keys stand in for the real 2018 Coincheck accounts"


@dataclass(frozen=True, slots=True)
class StepResult:
    alerts: list[Alert]
    tick: PriceTick | None
    blocks: int
    done: bool


class DemoSession:
    """Open with ``async with DemoSession.open(...)``-style use: ``await start()``, ``step()``, ``close()``."""

    def __init__(self, *, start: datetime = DEFAULT_FROM, until: datetime = DEFAULT_UNTIL,
                 state_dir: Path | None = None) -> None:
        self._stack = ExitStack()
        scenario = load_scenario("coincheck-2018")
        self.scenario = scenario
        self.until = until
        self.clock = ManualClock(max(start, scenario.start))
        self.sim = self._stack.enter_context(SimCluster.start(scenario, nodes=1, clock=self.clock, market=True))
        if state_dir is None:
            state_dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="nemwatch-demo-")))
        self.state_dir = state_dir
        db = state_dir / "nemwatch.sqlite3"
        self.store = Store.open(db, synchronous="NORMAL")
        self.price_store = PriceStore(db)
        self.monitor = self._price_monitor()
        self.client = NisClient(
            self.sim.urls, Network.MAINNET, max_rps_per_node=20, burst=20, clock=lambda: self.clock.now().timestamp()
        )
        self.watch = _watchset(self.sim, scenario)
        self.engine = Engine(
            source=self.client,
            store=self.store,
            watch=self.watch,
            settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=2, balance_check_seconds=1800,
                                    unconfirmed_poll_seconds=0, sinks=()),
            clock=self.clock.now,
            price=self.monitor.feed.price_for_alert if self.monitor else None,
            taint=demo_taint(self.sim, scenario),
        )
        self.hot_wallet = self.sim.address("coincheck-hot-wallet")
        self.thief = self.sim.address("thief-nc4")
        self.steps = 0
        self.step_seconds = float(scenario.block_interval)

    def _price_monitor(self) -> PriceMonitor | None:
        url = self.sim.market_url
        if url is None:
            return None
        feed = PriceFeed.build(
            ["zaif"], urls={"zaif": url, "zaif_chart": url}, clock=self.clock.now,
            monotonic=lambda: self.clock.now().timestamp(), stale_after=timedelta(minutes=15),
            store=self.price_store,
        )
        feed.tick_store_every = timedelta(seconds=0)  # every demo poll is a chart point
        return PriceMonitor(feed, PriceRules(list(PRICE_RULES), stale_after=feed.stale_after), history=timedelta(hours=6))

    @property
    def now(self) -> Callable[[], datetime]:
        return self.clock.now

    @property
    def done(self) -> bool:
        return self.clock.now() >= self.until

    def describe(self) -> str:
        return (
            f"{SYNTHETIC_NOTE}; simulator {self.sim.urls[0]}, {jst(self.clock.now())} to {jst(self.until)}; "
            f"hot wallet {self.hot_wallet}, thief {self.thief}"
        )

    async def start(self) -> None:
        if self.monitor is not None:
            await self.monitor.start()
        await self.engine.cycle()

    async def step(self) -> StepResult:
        """One block of simulated time: maybe a price poll, then an engine cycle."""
        if self.done:
            return StepResult([], None, 0, True)
        self.clock.advance(self.step_seconds)
        self.steps += 1
        raised: list[Alert] = []
        tick = None
        if self.monitor is not None and self.steps % PRICE_EVERY == 1:
            cycle = await self.monitor.poll()
            tick = cycle.tick
            raised += await self.engine.raise_alerts(list(cycle.alerts))
        stats = await self.engine.cycle()
        return StepResult(raised + stats.alerts, tick, stats.blocks, self.done)

    async def aclose(self) -> None:
        try:
            await self.client.aclose()
            if self.monitor is not None:
                await self.monitor.feed.aclose()
        finally:
            self.price_store.close()
            self.store.close()
            self._stack.close()


__all__ = ["SYNTHETIC_NOTE", "DemoSession", "StepResult"]
