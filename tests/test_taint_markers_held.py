"""Marker mosaics an account already holds: read from ``/account/mosaic/owned`` of watched and
tainted accounts (once when they join, then per balance-check round, a bounded number of
requests per cycle), one ``marker_seen`` per (account, marker) whichever way it was seen, and
not again after a restart. On the simulator, whose node serves owned mosaics from its ledger."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from nemwatch.core.alert import Stage
from nemwatch.core.taint_followup import Rounds
from nemwatch.core.taint_rules import MARKER_SEEN, TAINT_NEW_ACCOUNT
from nemwatch.sim import ManualClock, SimCluster
from nemwatch.sim.scenario_toml import load_scenario
from taintsim import MARKERS, follow_until, jst, taint_engine
from taintkit import T0

MIZUNASHI = MARKERS[0]


async def test_markers_held_before_watching_are_seen_once_per_account_and_marker(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    # the engine starts at 02:50 JST: the thief got its marker at 02:23, second-hop-1 at 02:43
    with SimCluster.start(load_scenario("coincheck-2018"), nodes=1, clock=ManualClock(jst(2018, 1, 26, 2, 50))) as sim:
        engine = taint_engine(sim, db)
        alerts = (await engine.cycle()).alerts
        alerts += await follow_until(engine, sim, jst(2018, 1, 26, 4, 10))
        thief, hop1 = sim.address("thief-nc4"), sim.address("second-hop-1")
        marks = [a for a in alerts if a.rule == MARKER_SEEN]
        held = {(a.address, dict(a.extra)["marker"]): a for a in marks if dict(a.extra)["via"] == "holding"}
        assert (thief, MIZUNASHI) in held and (hop1, MIZUNASHI) in held
        first = held[(thief, MIZUNASHI)]
        assert first.stage is Stage.FIRING and first.tx_hash is None and dict(first.extra)["quantity"] >= 1
        assert first.detected_at == jst(2018, 1, 26, 2, 50)  # in the first cycle: the thief is watched from the start
        pairs = [(a.address, dict(a.extra)["marker"]) for a in marks]
        assert len(pairs) == len(set(pairs))  # once per pair, held or received
        # second-hop-1 was probed as soon as the taint reached it, not a round later
        joined = next(a for a in alerts if a.rule == TAINT_NEW_ACCOUNT and a.address == hop1)
        assert held[(hop1, MIZUNASHI)].detected_at - joined.detected_at <= timedelta(minutes=2)
        owned = [r for r in sim.nodes[0].requests if r.path.startswith("/account/mosaic/owned")]
        cycles = int((jst(2018, 1, 26, 4, 10) - jst(2018, 1, 26, 2, 50)).total_seconds() // 60) + 1
        assert 0 < len(owned) <= 2 * cycles  # bounded: marker_checks_per_cycle per cycle
        await engine.source.aclose()  # type: ignore[attr-defined]
        engine.store.close()

        again = taint_engine(sim, db)  # a restart: the pairs are remembered
        more = await follow_until(again, sim, jst(2018, 1, 26, 4, 30))
        assert not [a for a in more if a.rule == MARKER_SEEN and (a.address, dict(a.extra)["marker"]) in held]
        await again.source.aclose()  # type: ignore[attr-defined]
        again.store.close()


def test_rounds_put_joiners_first_then_go_round_once_per_cadence() -> None:
    rounds = Rounds(lambda: timedelta(minutes=10), per_cycle=2)
    everyone = {"A", "B", "C"}
    assert rounds.take(T0, everyone) == ["A", "B"]  # never looked at: first, in order
    rounds.push("D")
    assert rounds.take(T0, everyone | {"D"}) == ["C", "D"]
    got = rounds.take(T0 + timedelta(minutes=1), everyone | {"D"})
    assert got == ["A", "B"]  # the first round starts at once
    assert rounds.take(T0 + timedelta(minutes=2), everyone | {"D"}) == ["C", "D"]
    assert rounds.take(T0 + timedelta(minutes=3), everyone | {"D"}) == []  # round done, next in 10 min
    rounds.push("E")
    assert rounds.take(T0 + timedelta(minutes=4), everyone | {"D", "E"}) == ["E"]
    assert rounds.take(T0 + timedelta(minutes=11), everyone | {"D", "E"}) == ["A", "B"]
    rounds.retry("B")
    assert rounds.take(T0 + timedelta(minutes=12), everyone | {"D", "E"})[0] == "B"
