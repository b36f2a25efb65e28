"""The unconfirmed pool past NIS's cap of 25: a busy hot wallet still gets its early warning,
even for a withdrawal whose signer dated it back so that it sorts below the deposits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nemwatch.core.alert import Stage
from nemwatch.core.models import Network, Transfer
from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.poolpages import pool_request, short_id
from nemwatch.core.rules import WatchRule
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder
from test_engine_sim import VirtualTime, engine_for

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)
DEPOSITS = 30


def busy_wallet():  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("busy-pool", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("thief", "thief")
    for i in range(DEPOSITS):
        b.account(f"user{i}", "user", xem=1_000)
    # the withdrawal is the oldest entry of the pool (its time stamp is the signer's choice) ...
    b.transfer(121, "hot", "thief", xem=5_000_000)
    # ... and 30 deposits, all newer, fill the 25 places of /account/unconfirmedTransactions
    for i in range(DEPOSITS):
        b.transfer(122 + i, f"user{i}", "hot", xem=1)
    return b.build()


def test_short_ids_are_the_first_eight_bytes_big_endian_signed() -> None:
    assert short_id("00" * 7 + "01" + "ff" * 24) == 1
    assert short_id("ff" * 8 + "00" * 24) == -1
    assert short_id("80" + "00" * 31) == -(2**63)
    body = pool_request(["ab" * 32, "ab" * 32], challenge=b"\x01" * 64)
    assert body == {"challenge": {"data": "01" * 64}, "entity": {"hashShortIds": [{"hashShortId": short_id("ab" * 32)}]}}


async def test_a_withdrawal_below_25_deposits_still_alerts_unconfirmed(tmp_path: Path) -> None:
    with SimCluster.start(busy_wallet(), nodes=1, clock=ManualClock(START)) as sim:
        hot, thief = sim.address("hot"), sim.address("thief")
        engine = engine_for(sim, tmp_path, {hot: WatchRule(label="hot wallet", urgent=True)}, nodes=1)
        await engine.cycle()
        sim.advance(160)  # every transaction announced, the next block (at 180 s) not yet made
        vt = VirtualTime(sim)
        async with NisClient(sim.urls, Network.MAINNET, clock=vt, sleep=vt.sleep) as client:
            capped = await client.unconfirmed(hot)
            paged = await client.unconfirmed_pool(hot)
        withdrawals = [t for t in paged if isinstance(t, Transfer) and t.sender == hot]
        # the node's capped answer: 25 deposits, the withdrawal left out
        assert len(capped) == 25 and all(t.sender != hot for t in capped)
        # paged past the cap: the whole pool of the account, every entry once, signatures checked
        assert len(paged) == DEPOSITS + 1 and len({t.hash for t in paged}) == DEPOSITS + 1
        assert [(w.recipient, w.xem, w.signature_valid) for w in withdrawals] == [(thief, 5_000_000 * 10**6, True)]
        stats = await engine.cycle()
        early = [a for a in stats.alerts if a.rule == "outflow"]
        assert [(a.stage, a.counterparty, a.severity.value) for a in early] == [(Stage.UNCONFIRMED, thief, "critical")]
        sim.advance(60)
        stats = await engine.cycle()
        late = [a for a in stats.alerts if a.rule == "outflow"]
        assert [(a.stage, a.tx_hash) for a in late] == [(Stage.CONFIRMED, early[0].tx_hash)]
        assert late[0].detected_at > early[0].detected_at
        await engine.source.aclose()  # type: ignore[attr-defined]


async def test_a_node_serves_mosaic_definitions_with_their_levy(tmp_path: Path) -> None:
    b = ScenarioBuilder("definitions", START, block_interval=60)
    b.account("issuer", "user", xem=1_000)
    b.mosaic("loot:coin", owner="issuer", supply=1_000, divisibility=2)
    b.mosaic("loot:gem", owner="issuer", supply=5)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START)) as sim:
        vt = VirtualTime(sim)
        async with NisClient(sim.urls, Network.MAINNET, clock=vt, sleep=vt.sleep) as client:
            page = await client.mosaic_definitions("loot")
            assert [(row.mosaic_id, row.divisibility, row.levy) for _, row in page] == [
                ("loot:gem", 0, None), ("loot:coin", 2, None)]  # newest first, no levy
            older = await client.mosaic_definitions("loot", after_id=page[0][0])
            assert [row.mosaic_id for _, row in older] == ["loot:coin"]  # the id is exclusive
            assert await client.mosaic_definitions("other") == ()
