"""The taint watch inside the running engine, on the simulator: the coincheck-2018 theft
window (the 11 transfers, the nine second hops followed in the block of their hop, a restart
that keeps them), a chain of hops inside one block, and a rollback that un-taints."""

from __future__ import annotations

from pathlib import Path

from nemwatch.core.alert import Stage
from nemwatch.core.events import TaintChanged
from nemwatch.core.models import MICRO_XEM
from nemwatch.core.taint.inputs import MODELS, Model, TaintSource
from nemwatch.core.taint_rules import TAINT_MOVE, TAINT_NEW_ACCOUNT
from nemwatch.core.taintwatch import TaintSettings
from nemwatch.sim import ManualClock, ScenarioBuilder, SimCluster
from nemwatch.sim.scenario_toml import load_scenario
from simfixtures import START
from taintsim import follow_until, jst, taint_engine

X = MICRO_XEM


async def test_coincheck_theft_window_followed_and_kept_across_a_restart(tmp_path: Path) -> None:
    scenario = load_scenario("coincheck-2018")
    db = tmp_path / "state.sqlite3"
    with SimCluster.start(scenario, nodes=1, clock=ManualClock(jst(2018, 1, 25, 23, 58))) as sim:
        engine = taint_engine(sim, db)
        await engine.cycle()
        alerts = await follow_until(engine, sim, jst(2018, 1, 26, 8, 30))
        thief = sim.address("thief-nc4")
        seeds = [a for a in alerts if a.rule == TAINT_MOVE and dict(a.extra)["taint"]["seeded"]]
        assert len(seeds) == 11 and sum(a.amount for a in seeds) == 526_300_010 * X
        news = {a.address: a for a in alerts if a.rule == TAINT_NEW_ACCOUNT}
        hops = [sim.address(f"second-hop-{i}") for i in range(1, 10)]
        for address in hops:
            taint = dict(news[address].extra)["taint"]
            assert taint["tag_lag_blocks"] == 0 and taint["hop"] == 1 and taint["source"] == thief
            assert address in engine.watch
        assert engine.taint is not None and engine.taint.tracker.check_conservation() == ()
        before = {a.address: a.tainted_micro(Model.FIFO) for a in engine.taint.accounts()}
        picture = engine.taint.picture()
        await engine.source.aclose()  # type: ignore[attr-defined]
        engine.store.close()

        again = taint_engine(sim, db)  # a restart: same store, a fresh taint watch
        assert again.taint is not None
        assert all(address in again.watch for address in hops) and thief in again.watch
        assert {a.address: a.tainted_micro(Model.FIFO) for a in again.taint.accounts()} == before
        assert again.taint.picture() == picture
        more = await follow_until(again, sim, jst(2018, 1, 26, 8, 40))
        assert not [a for a in more if a.rule == TAINT_NEW_ACCOUNT and a.address in hops]  # not news again
        await again.source.aclose()  # type: ignore[attr-defined]
        again.store.close()


def _chain_scenario():  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("taint-chain", START, block_interval=60)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("thief", "thief")
    for name in ("a", "b", "c"):
        b.account(name, "intermediate")
    b.transfer(70, "hot", "thief", xem=5_000_000)
    # one block: thief -> a -> b (b spends what a got a few transactions earlier)
    b.transfer(190, "thief", "a", xem=2_000_000)
    b.transfer(191, "a", "b", xem=1_500_000)
    b.transfer(310, "thief", "c", xem=1_000_000, deadline_seconds=86_400)
    return b.build()


async def test_a_chain_of_hops_inside_one_block_is_followed_in_that_block(tmp_path: Path) -> None:
    with SimCluster.start(_chain_scenario(), nodes=1, clock=ManualClock(START)) as sim:
        src = TaintSource(sim.address("thief"), START, "thief", sim.address("hot"))
        engine = taint_engine(sim, tmp_path / "s.db", TaintSettings(sources=(src,)))
        events: list[object] = []
        engine.subscribe(events.append)
        await engine.cycle()
        alerts = await follow_until(engine, sim, START.replace(minute=START.minute + 4))
        news = {a.address: a for a in alerts if a.rule == TAINT_NEW_ACCOUNT}
        a, b = sim.address("a"), sim.address("b")
        assert news[a].height == news[b].height  # both in the block that carried both hops
        assert dict(news[b].extra)["taint"]["hop"] == 2 and dict(news[b].extra)["taint"]["tag_lag_blocks"] == 0
        assert a in engine.watch and b in engine.watch
        assert engine.store.get_transfer(news[b].tx_hash) is not None  # matched and stored in that block
        changed = [e for e in events if isinstance(e, TaintChanged) and e.new_accounts]
        assert any({a, b} <= set(e.new_accounts) and e.height == news[b].height for e in changed)
        await engine.source.aclose()  # type: ignore[attr-defined]
        engine.store.close()


async def test_a_rollback_untaints_the_retracted_hop(tmp_path: Path) -> None:
    with SimCluster.start(_chain_scenario(), nodes=1, clock=ManualClock(START)) as sim:
        src = TaintSource(sim.address("thief"), START, "thief", sim.address("hot"))
        engine = taint_engine(sim, tmp_path / "s.db", TaintSettings(sources=(src,)))
        await engine.cycle()
        alerts = await follow_until(engine, sim, START.replace(minute=START.minute + 7))
        c = sim.address("c")
        hop = next(a for a in alerts if a.rule == TAINT_NEW_ACCOUNT and a.address == c)
        assert engine.taint is not None and engine.taint.account(c) is not None and c in engine.watch
        sim.rollback(sim.chain.height - hop.height + 1, "drop", hashes=[hop.tx_hash])
        more = await follow_until(engine, sim, START.replace(minute=START.minute + 9))
        assert engine.taint.account(c) is None and c not in engine.watch  # un-tainted, no longer followed
        retracted = {a.rule for a in more if a.stage is Stage.RETRACTED and a.tx_hash == hop.tx_hash}
        assert {TAINT_MOVE, TAINT_NEW_ACCOUNT} <= retracted
        assert engine.taint.tracker.check_conservation() == ()
        rows = {r.address for r in engine.taint.tables.accounts()}
        assert c not in rows and sim.address("a") in rows
        for p in engine.taint.picture():
            assert p.seeded_micro == 5_000_000 * X
            if p.model in (Model.HAIRCUT, Model.FIFO):
                assert p.at_rest_micro + p.left_micro + p.burned_micro == p.seeded_micro
        assert len(MODELS) == 5
        await engine.source.aclose()  # type: ignore[attr-defined]
        engine.store.close()
