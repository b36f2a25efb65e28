"""The engine on an in-memory chain: matching, stages, rollbacks, node episodes, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fakechain import FakeChain, transfer
from nemwatch.core.alert import Stage
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
COSIGNER = "NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M"
OTHER = "NAGJG3QFWYZ37LMI7IQPSGQNYADGSJZGJRD2DIYA"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make(tmp_path: Path, chain: FakeChain, watch: dict[str, WatchRule] | None = None, **settings: object) -> Engine:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(tmp_path / "state.sqlite3")
    ws = WatchSet(dict(watch or {HOT: WatchRule(label="hot wallet")}))
    return Engine(
        source=chain,
        store=store,
        watch=ws,
        settings=EngineSettings(**{"backfill_per_cycle": 0, "balance_checks_per_cycle": 0, **settings}),  # type: ignore[arg-type]
        clock=Clock(),
    )


def alerts(engine: Engine) -> list[tuple[str, str, str | None]]:
    return [(a.rule, a.stage.value, a.inner_hash or a.tx_hash) for a in reversed(engine.store.recent_alerts(1000))]


async def test_starts_at_the_head_and_alerts_the_next_outflow(tmp_path: Path) -> None:
    chain = FakeChain(tip=10)
    chain.txs[5] = [transfer(HOT, THIEF, 1)]  # history before the start: no alert
    chain.txs[11] = [transfer(HOT, THIEF, 10_000_000)]
    engine = make(tmp_path, chain)
    stats = await engine.cycle()
    assert stats.cursor == 10 and stats.alerts == []
    chain.tip = 11
    stats = await engine.cycle()
    assert [(a.rule, a.stage, a.amount, a.height, a.confirmations) for a in stats.alerts] == [
        ("outflow", Stage.CONFIRMED, 10_000_000, 11, 1)
    ]
    assert stats.alerts[0].counterparty == THIEF and stats.alerts[0].label == "hot wallet"


async def test_multisig_sender_is_the_multisig_account(tmp_path: Path) -> None:
    chain = FakeChain(tip=1)
    chain.txs[2] = [transfer(HOT, THIEF, 5, initiator=COSIGNER)]
    engine = make(tmp_path, chain, {COSIGNER: WatchRule(label="cosigner")})
    await engine.cycle()
    chain.tip = 2
    assert (await engine.cycle()).alerts == []  # the cosigner signed, but its funds did not move
    engine2 = make(tmp_path / "b", chain, {HOT: WatchRule(label="multisig")})
    chain.tip = 1
    await engine2.cycle()
    chain.tip = 2
    (alert,) = (await engine2.cycle()).alerts
    assert alert.address == HOT and alert.inner_hash is not None


async def test_settles_after_twenty_confirmations_once(tmp_path: Path) -> None:
    chain = FakeChain(tip=1)
    chain.txs[2] = [transfer(HOT, THIEF, 7)]
    engine = make(tmp_path, chain)
    await engine.cycle()
    for tip in range(2, 40):
        chain.tip = tip
        await engine.cycle()
    stages = [s for (_, s, _) in alerts(engine)]
    assert stages == ["confirmed", "settled"]
    settled = engine.store.recent_alerts(1)[0]
    assert settled.confirmations == 20


@pytest.mark.parametrize("depth", [1, 5, 20, 100, 359])
@pytest.mark.parametrize("fate", ["dropped", "reincluded", "replaced"])
async def test_rollbacks(tmp_path: Path, depth: int, fate: str) -> None:
    tip = 400
    chain = FakeChain(tip=tip - depth - 5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    at = tip - depth + 1  # the transfer's block, the first one the fork rewrites
    original = transfer(HOT, THIEF, 42, tag="a")
    chain.txs[at] = [original]
    chain.tip = tip
    await engine.cycle()
    before = [("outflow", "confirmed", original.identity)]
    if depth >= 20:  # already 20 deep: settled, yet NIS can still rewrite it (up to 360)
        before.append(("outflow", "settled", original.identity))
    assert alerts(engine) == before
    # the fork rewrites the last ``depth`` blocks
    chain.branch[at] = "fork"
    replacement = transfer(HOT, OTHER, 43, tag="b")
    if fate == "dropped":
        chain.txs[at] = []
    elif fate == "reincluded":
        chain.txs[at] = []
        chain.txs[tip + 1] = [original]
    else:
        chain.txs[at] = [replacement]
    chain.tip = tip + 1
    stats = await engine.cycle()
    assert stats.rollback is not None and stats.rollback.ancestor == at - 1
    after = [a for a in alerts(engine)[len(before) :] if a[1] != "settled"]  # settling is checked below
    if fate == "dropped":
        assert after == [("outflow", "retracted", original.identity)]
    elif fate == "reincluded":
        assert after == []  # no second confirmed alert, no retraction
        assert engine.store.get_transfer(original.identity).height == tip + 1  # type: ignore[union-attr]
    else:
        assert after == [("outflow", "retracted", original.identity), ("outflow", "confirmed", replacement.identity)]
    # settling follows the surviving chain only
    for extra in range(2, 25):
        chain.tip = tip + extra
        await engine.cycle()
    settled = {i for (r, s, i) in alerts(engine)[len(before) :] if s == "settled"}
    survivors = {"dropped": set(), "reincluded": {original.identity}, "replaced": {replacement.identity}}[fate]
    if depth >= 20:
        survivors.discard(original.identity)  # its settled alert was raised before the fork
    assert settled == survivors
    assert engine.store.integrity_check() == "ok"


async def test_one_trouble_and_one_recovered_alert_per_outage(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    url = chain.nodes[0]
    for i in range(30):
        chain.node_heights[url] = RuntimeError("503 Service Unavailable") if 5 <= i < 20 else chain.tip
        if i >= 20:
            chain.tip += 1
        await engine.cycle()
    rules = [(r, s) for (r, s, _) in alerts(engine)]
    # the only node down: the node alert is critical, and the watcher says it stalled
    assert rules == [("node", "firing"), ("stalled", "firing"), ("node", "resolved"), ("stalled", "resolved")]
    severities = {(a.rule, a.stage.value): a.severity.value for a in engine.store.recent_alerts(10)}
    assert severities[("node", "firing")] == "critical" and severities[("stalled", "firing")] == "critical"


async def test_unconfirmed_then_confirmed_for_urgent_addresses(tmp_path: Path) -> None:
    chain = FakeChain(tip=3)
    tx = transfer(HOT, THIEF, 100)
    engine = make(tmp_path, chain, {HOT: WatchRule(label="hot", urgent=True)}, unconfirmed_poll_seconds=0)
    await engine.cycle()
    chain.pool[HOT] = [tx]
    stats = await engine.cycle()
    assert [(a.stage, a.severity.value) for a in stats.alerts] == [(Stage.UNCONFIRMED, "critical")]
    chain.pool[HOT] = []
    chain.txs[4] = [tx]
    chain.tip = 4
    stats = await engine.cycle()
    assert [a.stage for a in stats.alerts] == [Stage.CONFIRMED]
    await engine.cycle()
    assert len(alerts(engine)) == 2


async def test_restart_resumes_from_the_cursor_without_duplicates(tmp_path: Path) -> None:
    chain = FakeChain(tip=10)
    for height in range(11, 31):
        chain.txs[height] = [transfer(HOT, THIEF, height)]
    engine = make(tmp_path, chain, max_blocks_per_cycle=5)
    await engine.cycle()
    chain.tip = 30
    await engine.cycle()  # five blocks, then "crash"
    engine.store.close()
    engine = make(tmp_path, chain, max_blocks_per_cycle=100)
    await engine.cycle()
    got = alerts(engine)
    confirmed = [i for (_, s, i) in got if s == "confirmed"]
    assert sorted(confirmed) == sorted(transfer(HOT, THIEF, h).identity for h in range(11, 31))


async def test_balance_drop_only_when_transfers_do_not_explain_it(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    chain.balances[HOT] = 1_000_000_000
    engine = make(tmp_path, chain, balance_checks_per_cycle=1, balance_check_seconds=0)
    await engine.cycle()  # first reading: the reference
    out = transfer(HOT, THIEF, 300_000_000, fee=100_000)
    chain.txs[6] = [out]
    chain.tip = 6
    chain.balances[HOT] = 1_000_000_000 - 300_000_000 - 100_000  # explained by the transfer
    await engine.cycle()
    assert [r for (r, _, _) in alerts(engine)] == ["outflow"]
    chain.tip = 7
    chain.balances[HOT] -= 5_000_000  # a levy: no transfer explains it
    stats = await engine.cycle()
    (drop,) = [a for a in stats.alerts if a.rule == "balance_drop"]
    assert drop.amount == 5_000_000 and drop.address == HOT


async def test_a_block_whose_signature_fails_is_never_believed(tmp_path: Path) -> None:
    liar, honest = "http://127.0.0.1:1", "http://127.0.0.1:2"
    chain = FakeChain(tip=5, nodes=(liar, honest))
    chain.forgers[liar] = [transfer(HOT, THIEF, 999_999, tag="invented")]
    chain.txs[6] = [transfer(HOT, THIEF, 12)]
    engine = make(tmp_path, chain)
    await engine.cycle()
    chain.tip = 6
    stats = await engine.cycle()
    # the honest node's block, not the invented one; the liar is named in a node alert
    assert [a.amount for a in stats.alerts if a.rule == "outflow"] == [12]
    (dissent,) = [a for a in stats.alerts if a.rule == "node"]
    assert dissent.node == liar and "not valid" in dissent.summary and dissent.height == 6
    chain.forgers[honest] = []  # now every node forges: nothing is believed, the cycle fails
    chain.tip = 7
    with pytest.raises(Exception, match="signature"):
        await engine.cycle()
    assert engine.store.get_cursor("chain").height == 6  # type: ignore[union-attr]


async def test_an_unconfirmed_entry_that_fails_its_signature_is_ignored(tmp_path: Path) -> None:
    from dataclasses import replace

    chain = FakeChain(tip=3)
    engine = make(tmp_path, chain, {HOT: WatchRule(label="hot", urgent=True)}, unconfirmed_poll_seconds=0)
    await engine.cycle()
    chain.pool[HOT] = [replace(transfer(HOT, THIEF, 5), signature_valid=False)]
    assert (await engine.cycle()).alerts == []
    chain.pool[HOT] = [replace(transfer(HOT, THIEF, 6), signature_valid=True)]
    assert [a.stage for a in (await engine.cycle()).alerts] == [Stage.UNCONFIRMED]
