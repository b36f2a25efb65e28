"""The taint watch on the whole coincheck-2018 scenario, fed block by block through the engine's
own block path (no node: ``taintblocks``): the theft seeds the thief, the nine second hops are
followed, the decoy taints nobody under the defaults but does under pure poison, deposits at
exchanges alert with their tag, and every model's books balance."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemwatch.core.alert import Severity, Stage
from nemwatch.core.models import MICRO_XEM
from nemwatch.core.taint.inputs import CONSERVING, MODELS, Model, Thresholds
from nemwatch.core.taint_rules import TAINT_EXCHANGE, TAINT_MOVE, TAINT_NEW_ACCOUNT
from simfixtures import coincheck
from taintblocks import Fed, feed
from taintsim import coincheck_settings, jst

X = MICRO_XEM
SECOND_HOPS = [f"second-hop-{i}" for i in range(1, 10)]
BYSTANDERS = [f"bystander-{i}" for i in range(1, 10)]


def addr(label: str) -> str:
    return coincheck().address(label)


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Fed:
    f = feed(tmp_path_factory.mktemp("cc"), coincheck_settings(addr))
    yield f
    f.close()


def test_526300010_xem_reach_the_thief_in_11_transfers(fed: Fed) -> None:
    seeds = [a for a in fed.rule(TAINT_MOVE) if dict(a.extra)["taint"]["seeded"]]
    assert len(seeds) == 11
    assert sum(a.amount for a in seeds) == 526_300_010 * X
    assert {a.counterparty for a in seeds} == {addr("thief-nc4")}
    assert all(a.severity is Severity.CRITICAL for a in seeds)
    thief = fed.engine.taint.account(addr("thief-nc4"))
    assert thief is not None and thief.of(Model.FIFO).hop == 0


def test_the_nine_second_hops_are_tainted_after_the_thiefs_outflows(fed: Fed) -> None:
    news = {a.address: a for a in fed.rule(TAINT_NEW_ACCOUNT)}
    outflows = {}  # the thief's first outflow to each account
    for a in sorted(fed.rule(TAINT_MOVE), key=lambda a: a.height or 0):
        if a.address == addr("thief-nc4"):
            outflows.setdefault(a.counterparty, a)
    for label in SECOND_HOPS:
        a = addr(label)
        new, hop = news[a], outflows[a]
        taint = dict(new.extra)["taint"]
        assert taint["hop"] == 1 and taint["source"] == addr("thief-nc4")
        assert taint["tag_lag_blocks"] == 0 and new.height == hop.height  # marked in the block of the hop
        assert new.tx_hash == hop.tx_hash and a in fed.engine.watch  # auto-followed
        assert jst(2018, 1, 26, 2, 57) <= hop.tx_time <= jst(2018, 1, 26, 4, 0)


def test_the_decoy_does_not_taint_bystanders_under_the_defaults(fed: Fed) -> None:
    decoys = [a for a in fed.rule(TAINT_MOVE) if a.counterparty in {addr(b) for b in BYSTANDERS} and a.amount]
    assert len(decoys) == 11 and all(a.amount == 100 * X for a in decoys)
    for alert in decoys:  # shown tainted on the transfer, but the taint stops there
        taint = dict(alert.extra)["taint"]
        assert set(taint["left"]) == {m.value for m in MODELS} and alert.severity is Severity.INFO
    for b in BYSTANDERS:
        assert fed.engine.taint.account(addr(b)) is None and addr(b) not in fed.engine.watch


def test_the_decoy_taints_bystanders_under_pure_poison(tmp_path: Path) -> None:
    settings = coincheck_settings(addr, thresholds=Thresholds.none(), model=Model.POISON)
    f = feed(tmp_path, settings, until=jst(2018, 1, 31))
    try:
        tainted = [b for b in BYSTANDERS if (acc := f.engine.taint.account(addr(b))) and acc.of(Model.POISON)]
        assert len(tainted) >= 9
        assert all(addr(b) in f.engine.watch for b in tainted)
    finally:
        f.close()


def test_an_exchange_arrival_alerts_critical_with_its_deposit_tag(fed: Fed) -> None:
    arrivals = fed.rule(TAINT_EXCHANGE)
    assert arrivals
    first = min(arrivals, key=lambda a: a.height)
    assert first.severity is Severity.CRITICAL and first.stage is Stage.CONFIRMED
    assert first.counterparty == addr("exchange-jp-central")
    assert dict(first.extra)["deposit_tag"] == "306484590" == first.message
    line = first.to_json_dict()
    assert line["deposit_tag"] == "306484590" and line["taint"]["model"] == "fifo"
    assert int(line["taint"]["tainted_xem"]["fifo"].split(".")[0]) > 0
    assert all(dict(a.extra)["deposit_tag"] for a in arrivals)
    assert not [a for a in fed.rule(TAINT_MOVE) if a.counterparty in fed.engine.taint.settings.exchanges]


def test_conservation_holds_for_every_model(fed: Fed) -> None:
    assert fed.engine.taint.tracker.check_conservation() == ()
    assert not fed.rule("conservation")
    for p in fed.engine.taint.picture():
        accounted = p.at_rest_micro + p.at_exchanges_micro + p.left_other_micro + p.burned_micro
        if p.model in CONSERVING:
            assert accounted == p.seeded_micro
        elif p.model is Model.POISON:
            assert accounted == p.seeded_micro + p.absorbed_micro
        elif p.model is Model.CLEAN_FIRST:
            assert accounted <= p.seeded_micro
        else:
            assert accounted >= p.seeded_micro
        assert p.seeded_micro == 526_300_010 * X
        assert p.at_exchanges_micro > 0
