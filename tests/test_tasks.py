"""The watcher's tasks on an in-memory chain: bounded pool checks, spread balance rounds, backfill
that never holds up a block, and delivery that starts as soon as a block is committed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fakechain import FakeChain, transfer
from nemwatch.core.alert import Stage
from nemwatch.core.models import Transaction
from nemwatch.core.rules import WatchRule
from test_engine import HOT, THIEF, make

from common_addresses import addresses


@dataclass
class CountingChain(FakeChain):
    pool_reads: list[str] = field(default_factory=list)

    async def unconfirmed(self, address: str) -> Sequence[Transaction]:
        self.pool_reads.append(address)
        return await super().unconfirmed(address)


async def test_pool_checks_are_bounded_per_pass_and_cover_every_urgent_address(tmp_path: Path) -> None:
    urgent = addresses(25)
    chain = CountingChain(tip=3)
    watch = {a: WatchRule(label=f"u{i}", urgent=True) for i, a in enumerate(urgent)}
    engine = make(tmp_path, chain, watch, unconfirmed_poll_seconds=0, pool_checks_per_pass=10)
    await engine.cycle()
    assert len(chain.pool_reads) == 10
    await engine.cycle()
    await engine.cycle()
    assert len(chain.pool_reads) == 30 and set(chain.pool_reads) == set(urgent)  # 3 passes cover all 25
    late = urgent[-1]
    chain.pool[late] = [transfer(late, THIEF, 7)]
    for _ in range(3):
        await engine.cycle()
    assert [a.stage for a in engine.store.recent_alerts(10) if a.address == late] == [Stage.UNCONFIRMED]


async def test_one_urgent_address_is_read_every_pass(tmp_path: Path) -> None:
    chain = CountingChain(tip=3)
    engine = make(tmp_path, chain, {HOT: WatchRule(label="hot", urgent=True)}, unconfirmed_poll_seconds=0)
    for _ in range(3):
        await engine.cycle()
    assert chain.pool_reads == [HOT, HOT, HOT]
