"""Opening balances of tracked accounts and conservation against the node's balances, on the
coincheck-2018 stream fed through the engine with a node that answers balances and histories:
a normal run learns every opening and raises no conservation alert; a hop hidden from the block
stream (the node still has it) raises one for the account whose outflow went missing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from nemwatch.core.models import MICRO_XEM, Transfer
from nemwatch.core.rules import WatchRule
from nemwatch.core.taint.inputs import Model, Movement, TaintSource, Thresholds
from nemwatch.core.taint.tracker import TaintTracker
from nemwatch.core.taint_rules import CONSERVATION
from nemwatch.core.watchset import WatchSet
from simfixtures import coincheck
from taintblocks import scenario_blocks
from taintkit import T0
from taintnode import run_blocks
from taintsim import EXCHANGES, coincheck_settings, jst

X = MICRO_XEM
UNTIL = jst(2018, 1, 27, 12, 0)


def addr(label: str) -> str:
    return coincheck().address(label)


def watch() -> WatchSet:
    ws = WatchSet({addr("coincheck-hot-wallet"): WatchRule(label="Coincheck hot wallet", urgent=True)})
    for x in EXCHANGES:
        ws.labels[addr(x)] = (x, "exchange")
    return ws


def initial() -> dict[str, int]:
    """The scenario's balances before its first block (the node's genesis state)."""
    return {addr(a.label): a.balance for a in coincheck().scenario.accounts if a.balance}


def _first_outflow_of(label: str) -> Transfer:
    who = addr(label)
    for block in scenario_blocks(UNTIL):
        for tx in block.transactions:
            if isinstance(tx, Transfer) and tx.sender == who and tx.xem > 0:
                return tx
    raise AssertionError(f"{label} sends nothing before {UNTIL}")


async def test_a_normal_run_learns_openings_and_raises_no_conservation_alert(tmp_path: Path) -> None:
    run = await run_blocks(tmp_path, scenario_blocks(UNTIL), coincheck_settings(addr), watch(), initial=initial())
    try:
        taint = run.engine.taint
        assert taint is not None
        assert not run.rule(CONSERVATION), [a.summary for a in run.rule(CONSERVATION)]
        openings = taint.followup.openings
        thief, hop = addr("thief-nc4"), addr("second-hop-9")
        assert openings[thief].micro == 0  # a source: its balance before its first block
        assert openings[hop].origin == "history" and openings[hop].micro == 0
        checked = {a for kind, a in run.node.reads if kind == "account"}
        assert hop in checked and thief in checked
        for address in openings:  # the tracker's balances are the node's
            info = await run.node.account(address)
            acc = taint.account(address)
            assert acc is None or acc.balance_micro == info.balance
        assert taint.tracker.check_conservation() == ()
        assert {o.address for o in taint.tables.openings()} == set(openings)  # kept for restarts
    finally:
        run.close()


async def test_a_hop_hidden_from_the_stream_raises_a_conservation_alert(tmp_path: Path) -> None:
    hidden = _first_outflow_of("second-hop-9")
    run = await run_blocks(
        tmp_path, scenario_blocks(UNTIL), coincheck_settings(addr), watch(), hide={hidden.identity}, initial=initial(),
    )
    try:
        alerts = run.rule(CONSERVATION)
        assert alerts, "the missed hop went unnoticed"
        alert = alerts[0]
        taint = dict(alert.extra)["taint"]
        assert alert.address == addr("second-hop-9") and taint["violation"] == "balance_mismatch"
        # the tracker thinks the account still holds what left it unseen (plus its fee)
        missing = int(taint["expected_xem"].replace(".", "")) - int(taint["actual_xem"].replace(".", ""))
        assert missing == hidden.xem + hidden.fee
        assert {a.address for a in alerts} == {addr("second-hop-9")}
    finally:
        run.close()


def test_an_opening_restated_late_folds_again_as_if_known_from_the_start() -> None:
    src = TaintSource("S", T0, "thief", "V")
    at = lambda h: T0 + timedelta(minutes=h)  # noqa: E731
    stream = [
        Movement(1, 0, "m1", "V", "S", 1_000 * X, 0, at(1)),
        Movement(2, 0, "m2", "S", "A", 600 * X, 0, at(2)),  # A held 400 XEM before (not seen)
        Movement(3, 0, "m3", "A", "B", 500 * X, 0, at(3)),
    ]
    late = TaintTracker([src], Thresholds(min_micro=0), checkpoint_every=1)
    for mv in stream:
        late.apply_block(mv.height, [mv], at=mv.timestamp)
    acc = late.account("A")
    assert acc is not None and acc.tainted_micro(Model.FIFO) == 100 * X  # 600 tainted in, 500 out: taint first
    assert late.restate("A", 2, 400 * X)
    known = TaintTracker([src], Thresholds(min_micro=0), checkpoint_every=1)
    for mv in stream:
        known.apply_block(mv.height, [mv], at=mv.timestamp, balances_micro={"A": 400 * X} if mv.height == 2 else None)
    assert late.account("A") == known.account("A") and late.totals() == known.totals()
    fixed = late.account("A")
    assert fixed is not None and fixed.balance_micro == 500 * X and fixed.balance_known
    assert fixed.tainted_micro(Model.FIFO) == 500 * X  # the 400 clean XEM left first
    assert late.check_conservation() == ()
