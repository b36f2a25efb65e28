"""The engine with its taint watch on the simulator: the coincheck-2018 scenario's accounts as
sources, victims and labels, the way the demo and ``nemwatch watch`` wire it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import Network
from nemwatch.core.nem.client import NisClient
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.taint.inputs import Model, TaintSource, Thresholds
from nemwatch.core.taint.markers import marker_set
from nemwatch.core.taintwatch import TaintSettings, TaintWatch
from nemwatch.core.watchset import WatchSet
from nemwatch.sim.cluster import SimCluster
from test_engine_sim import VirtualTime

JST = timedelta(hours=9)
THEFT_START = datetime(2018, 1, 26, 0, 2, 13, tzinfo=UTC) - JST
MARKERS = (
    "mizunashi.coincheck_stolen_funds_do_not_accept_trades:owner_of_this_account_is_hacker",
    "ts:warning_dont_accept_stolen_funds",
)
EXCHANGES = ("exchange-jp-central", "exchange-overseas-central", "exchange-overseas-cold")


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - JST  # type: ignore[misc]


def coincheck_settings(addr: object, *, thresholds: Thresholds | None = None, model: Model = Model.FIFO) -> TaintSettings:
    """The thief as taint source with the hot wallet as victim, exchanges labelled; ``addr``
    maps a scenario label to its address (``sim.address`` or the identity for label streams)."""
    a = addr  # type: ignore[assignment]
    return TaintSettings(
        sources=(TaintSource(a("thief-nc4"), THEFT_START, "thief (NC4)", a("coincheck-hot-wallet")),),  # type: ignore[operator]
        thresholds=thresholds or Thresholds(),
        model=model,
        markers=marker_set(MARKERS),
        exchanges=frozenset(a(x) for x in EXCHANGES),  # type: ignore[operator]
    )


def taint_engine(sim: SimCluster, db: Path, settings: TaintSettings | None = None) -> Engine:
    vt = VirtualTime(sim)
    client = NisClient(sim.urls, Network.MAINNET, max_rps_per_node=20, burst=20, clock=vt, sleep=vt.sleep)
    ws = WatchSet()
    if "coincheck-hot-wallet" in sim.compiled.keys:
        ws.add(sim.address("coincheck-hot-wallet"), WatchRule(label="Coincheck hot wallet", urgent=True))
        for x in EXCHANGES:
            ws.labels[sim.address(x)] = (x, "exchange")
        for i in range(1, 10):
            ws.labels[sim.address(f"second-hop-{i}")] = (f"second-hop-{i}", "thief")
    return Engine(
        source=client,
        store=Store.open(db, synchronous="NORMAL"),
        watch=ws,
        settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0, unconfirmed_poll_seconds=0),
        clock=lambda: sim.clock.now(),
        taint=TaintWatch(settings or coincheck_settings(sim.address)),
    )


async def follow_until(engine: Engine, sim: SimCluster, until: datetime, step: float = 60.0) -> list:
    """Advance the simulator a block at a time to ``until``, one engine cycle per block."""
    alerts = []
    while sim.clock.now() < until:
        sim.advance(step)
        stats = await engine.cycle()
        alerts += stats.alerts
    return alerts
