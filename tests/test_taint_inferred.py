"""Exchanges and relays no label names, inferred from the stored history of the accounts the
taint reaches: on coincheck-2018 without its exchange labels (with the central-wallet
thresholds its single-relay wallets meet), and on a hand-made history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from nemwatch.core.alert import Severity
from nemwatch.core.models import MICRO_XEM, Block, Message, MessageType, Transfer
from nemwatch.core.rules import WatchRule
from nemwatch.core.taint.exchanges import CentralWalletThresholds
from nemwatch.core.taint.inputs import Model, TaintSource
from nemwatch.core.taint_rules import TAINT_EXCHANGE
from nemwatch.core.taintwatch import TaintSettings
from nemwatch.core.watchset import WatchSet
from simfixtures import coincheck
from taintblocks import scenario_blocks
from taintkit import T0
from taintnode import run_blocks
from taintsim import EXCHANGES, coincheck_settings

X = MICRO_XEM
RELAXED = CentralWalletThresholds(min_tagged_senders=1)  # one relay feeds each wallet in the reconstruction


def addr(label: str) -> str:
    return coincheck().address(label)


def _watch(*, labels: bool) -> WatchSet:
    ws = WatchSet({addr("coincheck-hot-wallet"): WatchRule(label="Coincheck hot wallet", urgent=True)})
    if labels:
        for x in EXCHANGES:
            ws.labels[addr(x)] = (x, "exchange")
    return ws


async def test_coincheck_exchange_wallets_are_inferred_and_their_tainted_deposits_alert(tmp_path: Path) -> None:
    (tmp_path / "labelled").mkdir()
    labelled = await run_blocks(tmp_path / "labelled", scenario_blocks(), coincheck_settings(addr), _watch(labels=True))
    try:
        expected = {a.tx_hash for a in labelled.rule(TAINT_EXCHANGE)
                    if a.counterparty in {addr("exchange-jp-central"), addr("exchange-overseas-central")}}
        labelled_fifo = {p.model: p for p in labelled.engine.taint.picture()}[Model.FIFO]
    finally:
        labelled.close()
    settings = TaintSettings(
        sources=coincheck_settings(addr).sources, markers=frozenset(), central_wallet=RELAXED,
    )
    (tmp_path / "inferred").mkdir()
    run = await run_blocks(tmp_path / "inferred", scenario_blocks(), settings, _watch(labels=False))
    try:
        taint = run.engine.taint
        assert taint is not None
        inferred = {a: r.kind for a, r in taint.inferred.items()}
        assert inferred.get(addr("exchange-jp-central")) == "exchange"
        assert inferred.get(addr("exchange-overseas-central")) == "exchange"
        assert addr("exchange-jp-central") in taint.settings.exchanges  # taint stops there now
        assert addr("exchange-jp-central") not in run.engine.watch  # no longer followed
        assert run.engine.watch.labels[addr("exchange-jp-central")] == ("inferred exchange", "exchange")
        arrivals = run.rule(TAINT_EXCHANGE)
        assert {a.tx_hash for a in arrivals} == expected  # every tainted deposit, also those before the inference
        for a in arrivals:
            extra = dict(a.extra)
            assert extra["inferred"] is True and a.severity is Severity.WARNING and extra["deposit_tag"]
            assert extra["evidence"]["tagged_inflows"] >= 5 and extra["evidence"]["tagged_senders"] >= 1
        line = arrivals[0].to_json_dict()
        assert line["inferred"] is True and "INFERRED EXCHANGE" in line["summary"]
        fifo = {p.model: p for p in taint.picture()}[Model.FIFO]
        assert fifo.at_exchanges_micro > 0
        assert fifo.at_exchanges_micro <= labelled_fifo.at_exchanges_micro  # the cold wallet is no exchange here
        kinds = {r.kind for r in taint.tables.inferred()}
        assert "exchange" in kinds  # kept for restarts
    finally:
        run.close()


def _transfer(n: int, sender: str, recipient: str, xem: int, minutes: int, message: str | None = None) -> Transfer:
    return Transfer(
        hash=f"{n:064x}", inner_hash=None, height=100 + minutes, meta_id=None, sender=sender, sender_public_key="00" * 32,
        initiator=None, fee=50_000, nem_timestamp=0, timestamp=T0 + timedelta(minutes=minutes), deadline=0, version=1,
        signature=None, recipient=recipient, amount=xem * X, xem=xem * X,
        message=None if message is None else Message(MessageType.PLAIN, message.encode(), message),
    )


def _blocks(transfers: list[Transfer]) -> list[Block]:
    by_height: dict[int, list[Transfer]] = {}
    for t in transfers:
        by_height.setdefault(t.height or 0, []).append(t)
    return [
        Block(h, 0, T0 + timedelta(minutes=h - 100), "00" * 32, "", "", "", 1, 0, tuple(txs))
        for h, txs in sorted(by_height.items())
    ]


async def test_a_hand_made_wallet_with_tagged_deposits_from_many_users_is_an_inferred_exchange(tmp_path: Path) -> None:
    txs = [_transfer(1, "VICTIM", "THIEF", 50_000, 1)]
    # a wallet that many users pay with a numeric tag; the thief's mule pays it too, with a tag
    txs += [_transfer(10 + i, f"USER{i}", "WALLET", 500 + i, 2 + i, str(700_100 + i)) for i in range(8)]
    txs.append(_transfer(30, "THIEF", "MULE", 20_000, 20))
    txs.append(_transfer(31, "MULE", "WALLET", 19_000, 22, "700999"))  # taint reaches the wallet
    txs.append(_transfer(32, "WALLET", "USER3", 5_000, 40))  # a user's withdrawal: must not be followed
    txs.append(_transfer(33, "MULE", "WALLET", 900, 60, "700999"))
    blocks = _blocks(sorted(txs, key=lambda t: t.height or 0))
    settings = TaintSettings(sources=(TaintSource("THIEF", T0, "thief", "VICTIM"),))
    initial = {f"USER{i}": 10_000 * X for i in range(8)} | {"VICTIM": 100_000 * X}
    run = await run_blocks(tmp_path, blocks, settings, WatchSet(), initial=initial)
    try:
        taint = run.engine.taint
        assert taint is not None and taint.inferred["WALLET"].kind == "exchange"
        assert taint.account("WALLET") is None and taint.account("USER3") is None  # taint stops at the wallet
        assert "WALLET" not in run.engine.watch and "USER3" not in run.engine.watch
        arrivals = {a.tx_hash: a for a in run.rule(TAINT_EXCHANGE)}
        assert set(arrivals) == {f"{31:064x}", f"{33:064x}"}
        first = dict(arrivals[f"{31:064x}"].extra)
        assert first["deposit_tag"] == "700999" and first["inferred"] is True
        assert first["evidence"]["distinct_senders"] == 9 and first["evidence"]["tagged_senders"] == 9
        fifo = {p.model: p for p in taint.picture()}[Model.FIFO]
        assert fifo.at_exchanges_micro == 19_900 * X and taint.tracker.check_conservation() == ()
        assert taint.account("MULE") is not None  # a relay at most: still followed
        assert "MULE" not in taint.inferred or taint.inferred["MULE"].kind == "relay"
    finally:
        run.close()


async def test_a_labelled_exchange_arrival_says_it_is_not_inferred(tmp_path: Path) -> None:
    f = await run_blocks(tmp_path, scenario_blocks(), coincheck_settings(addr), _watch(labels=True))
    try:
        arrivals = f.rule(TAINT_EXCHANGE)
        assert arrivals and all(dict(a.extra)["inferred"] is False and a.severity is Severity.CRITICAL for a in arrivals)
        assert all(dict(a.extra)["evidence"] is None for a in arrivals)
        assert f.engine.taint is not None and not f.engine.taint.inferred.get(addr("exchange-jp-central"))
        assert not f.rule("conservation")  # the whole scenario, balances checked: the books balance
    finally:
        f.close()
