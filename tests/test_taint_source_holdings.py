"""A taint source's own tainted holdings reach the read side: after the coincheck-2018 theft
window the thief's watchlist row, address facts and flow root show its tainted XEM under every
model, from the engine's store and from a read-only one; the hot wallet (the victim) holds none."""

from __future__ import annotations

from pathlib import Path

from nemwatch.core.models import MICRO_XEM
from nemwatch.core.query import ReadModel
from nemwatch.core.store import Store
from nemwatch.core.store.taint import TaintTables
from nemwatch.core.taint.inputs import MODELS
from nemwatch.sim import ManualClock, SimCluster
from nemwatch.sim.scenario_toml import load_scenario
from taintsim import follow_until, jst, taint_engine


async def test_the_thief_shows_its_tainted_xem_under_every_model(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    with SimCluster.start(load_scenario("coincheck-2018"), nodes=1, clock=ManualClock(jst(2018, 1, 25, 23, 58))) as sim:
        engine = taint_engine(sim, db)
        await engine.cycle()
        await follow_until(engine, sim, jst(2018, 1, 26, 8, 30))
        thief, hot = sim.address("thief-nc4"), sim.address("coincheck-hot-wallet")
        assert engine.taint is not None
        acc = engine.taint.tracker.account(thief)
        assert acc is not None
        expected = {m.value: acc.tainted_micro(m) for m in MODELS}
        assert all(v > 1_000_000 * MICRO_XEM for v in expected.values()), expected  # what it kept after the hops
        reader = Store.open_readonly(db)
        try:
            for store in (engine.store, reader):
                read = ReadModel(store, watch=engine.watch, taint_sources=[(thief, "thief (NC4)")])
                assert read.taint_of(thief) == expected
                assert read.taint_of(hot) is None
                for model in MODELS:
                    read.taint_model = model.value
                    rows = {a.address: a for a in read.watched(with_moves=False)}
                    assert rows[thief].taint_micro == expected[model.value]
                    assert rows[hot].taint_micro is None
                    root = next(n for n in read.taint_flow() if n.address == thief)
                    assert root.amount_micro == expected[model.value]
        finally:
            reader.close()
        await engine.source.aclose()  # type: ignore[attr-defined]
        engine.store.close()


def test_a_rewind_forgets_holdings_above_the_fork(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    tables = TaintTables(store)
    with store.transaction():
        tables.set_source_holdings("NTHIEF", (5, 4, 3, 2, 1), 10)
        tables.set_source_holdings("NOTHER", (1, 1, 1, 1, 1), 20)
        tables.rewind(15)
    assert tables.source_holdings() == {"NTHIEF": (5, 4, 3, 2, 1)}
    store.close()
