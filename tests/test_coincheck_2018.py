"""The 2018 theft replayed: with the hot wallet watched, every one of the 11 outflows alerts,
amounts exact, the first within one block of its inclusion, and (the wallet being urgent) each
one first from the unconfirmed pool, before its block.

The watcher polls every few seconds; a poll only one block apart (the old version of this test)
sees every transfer already in its block, because the simulator, like NIS, puts a transaction
in the first block after it is announced, so no pool alert could ever fire. Here the quiet hours
advance a block at a time and the minutes around each outflow at the watcher's 5 s poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from nemwatch.core.alert import Stage
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.models import MICRO_XEM, Network
from nemwatch.core.nem.client import NisClient
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario_toml import load_scenario
from test_engine_sim import VirtualTime

JST = timedelta(hours=9)
POLL_SECONDS = 5
# the minutes (JST) in which the hot wallet's 11 outflows are announced
BUSY = [(datetime(2018, 1, 26, h, m, tzinfo=UTC) - JST, datetime(2018, 1, 26, h2, m2, tzinfo=UTC) - JST)
        for (h, m, h2, m2) in ((0, 1, 0, 11), (3, 34, 3, 37), (4, 32, 4, 35), (8, 25, 8, 28))]
EXPECTED_XEM = [10] + [100_000_000] * 5 + [20_000_000, 3_000_000, 1_500_000, 1_000_000, 800_000]


async def test_all_eleven_hot_wallet_outflows(tmp_path: Path) -> None:
    scenario = load_scenario("coincheck-2018")
    assert sum(EXPECTED_XEM) == 526_300_010
    with SimCluster.start(scenario, nodes=1, clock=ManualClock(scenario.start)) as sim:
        hot = sim.address("coincheck-hot-wallet")
        thief = sim.address("thief-nc4")
        # the client keeps simulated time too: its rate limit and breakers follow the chain clock
        vt = VirtualTime(sim)  # the client's waits pass in simulated time, not real time
        client = NisClient(sim.urls, Network.MAINNET, max_rps_per_node=20, burst=20, clock=vt, sleep=vt.sleep)
        engine = Engine(
            source=client,
            store=Store.open(tmp_path / "state.sqlite3", synchronous="NORMAL"),  # no fsync per cycle: a test
            watch=WatchSet({hot: WatchRule(label="Coincheck hot wallet", urgent=True)}, labels={thief: ("thief", "thief")}),
            settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0, unconfirmed_poll_seconds=0),
            clock=lambda: sim.clock.now(),
        )
        await engine.cycle()
        until = datetime(2018, 1, 26, 8, 40, tzinfo=UTC) - JST
        confirmed = []
        unconfirmed = []
        while sim.clock.now() < until:
            now = sim.clock.now()
            sim.advance(POLL_SECONDS if any(a <= now < b for a, b in BUSY) else 60)
            stats = await engine.cycle()
            for alert in stats.alerts:
                if alert.rule != "outflow":
                    continue
                if alert.stage is Stage.CONFIRMED:
                    confirmed.append((alert, stats.head))
                elif alert.stage is Stage.UNCONFIRMED:
                    unconfirmed.append(alert)
        await client.aclose()
    amounts = [a.amount for a, _ in sorted(confirmed, key=lambda p: (p[0].height, p[0].tx_time))]
    assert len(confirmed) == 11
    assert sorted(amounts) == sorted(x * MICRO_XEM for x in EXPECTED_XEM)
    assert sum(amounts) == 526_300_010 * MICRO_XEM
    for alert, head in confirmed:
        assert alert.counterparty == thief and alert.counterparty_label == "thief"
        assert head - alert.height <= 1  # alerted within one block of its inclusion
    first = min(confirmed, key=lambda p: p[0].tx_time)[0]
    assert first.amount == 10 * MICRO_XEM
    assert first.tx_time.astimezone(UTC) + JST >= datetime(2018, 1, 26, 0, 2, tzinfo=UTC)
    # urgent: every outflow alerted from the unconfirmed pool first, before its block
    assert len(unconfirmed) == 11
    assert {a.tx_hash for a in unconfirmed} == {a.tx_hash for a, _ in confirmed}
    early = {a.tx_hash: a for a in unconfirmed}
    for alert, _ in confirmed:
        first = early[alert.tx_hash]
        assert first.detected_at < alert.detected_at
        assert first.amount == alert.amount and first.severity.value == "critical"
        assert (alert.detected_at - first.detected_at).total_seconds() <= 65  # within about one block
