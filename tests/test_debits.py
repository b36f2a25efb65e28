"""Every debit, not only transfers: namespace rentals, mosaic creations and supply changes are
stored as movements that settle and retract like transfers; multisig modifications and
importance transfers have alerts of their own; levies are part of what leaves."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from fakechain import T0, FakeChain, h, transfer
from nemwatch.core.alert import Severity, Stage
from nemwatch.core.engine import Engine
from nemwatch.core.models import (
    MICRO_XEM,
    CosignatoryModification,
    ImportanceTransfer,
    MosaicAmount,
    MosaicDefinitionTx,
    MosaicLevy,
    MosaicSupplyChange,
    MultisigModification,
    ProvisionNamespace,
    Transaction,
)
from nemwatch.core.rules import WatchRule, explained_change
from nemwatch.core.store import TransferStatus
from test_engine import HOT, OTHER, THIEF, alerts, make

SINK = "NAMESPACEWH4MKFMBCVFERDPOOP4FK7MTBXDPZZA"
LEVY_SINK = "NBMOSAICOD4F54EE5CDMR23CCBGOAM2XSIUX6TRS"
# a real key pair from the NIS reference: this public key derives to COSIGNER_ADDRESS
COSIGNER_KEY = "051beb2871a4dad21bb8b241a49837442a46a5628fc0c3951ae322121508a4a1"
COSIGNER_ADDRESS = "NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M"


def base(tag: str, sender: str = HOT, fee: int = 150_000) -> dict[str, Any]:
    return {
        "hash": h("debit", tag), "inner_hash": None, "height": None, "meta_id": None, "sender": sender,
        "sender_public_key": "00" * 32, "initiator": None, "fee": fee, "nem_timestamp": 0, "timestamp": T0,
        "deadline": 0, "version": 1, "signature": None,
    }


def rental(tag: str = "ns") -> ProvisionNamespace:
    return ProvisionNamespace(**base(tag), rental_fee_sink=SINK, rental_fee=100 * MICRO_XEM, new_part="loot")


def supply(tag: str = "supply") -> MosaicSupplyChange:
    return MosaicSupplyChange(**base(tag), mosaic_id="loot:coin", supply_type=1, delta=1_000)


def takeover(tag: str = "msig") -> MultisigModification:
    return MultisigModification(
        **base(tag, fee=500_000), modifications=(CosignatoryModification(1, COSIGNER_KEY),), min_cosignatories_change=1
    )


def lines(engine: Engine) -> list[dict[str, Any]]:
    """The JSON lines a receiver sees, oldest first."""
    return [json.loads(a.to_json_line()) for a in reversed(engine.store.recent_alerts(1000))]


async def run_to(engine: Engine, chain: FakeChain, tip: int) -> None:
    while chain.tip < tip:
        chain.tip += 1
        await engine.cycle()


async def test_a_namespace_rental_is_stored_settles_and_a_fork_retracts_it(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    tx = rental()
    chain.txs[6] = [tx]
    await run_to(engine, chain, 6)
    row = engine.store.get_transfer(tx.identity)
    assert row is not None and (row.kind, row.recipient, row.xem, row.fee) == (
        "provision_namespace", SINK, 100 * MICRO_XEM, 150_000)
    assert row.detail == (("namespace", "loot"),)
    [line] = lines(engine)
    assert (line["rule"], line["stage"], line["amount_xem"], line["counterparty"], line["tx_kind"]) == (
        "outflow", "confirmed", "100.000000", SINK, "provision_namespace")
    assert "namespace rental loot" in line["summary"]
    await run_to(engine, chain, 30)
    assert alerts(engine) == [("outflow", "confirmed", tx.identity), ("outflow", "settled", tx.identity)]
    # a fork that orphans it: the receiver's last word on it is "retracted", not "confirmed"
    chain.branch[6] = "fork"
    chain.txs[6] = []
    chain.tip = 31
    await engine.cycle()
    assert [(x["rule"], x["stage"]) for x in lines(engine)] == [
        ("outflow", "confirmed"), ("outflow", "settled"), ("outflow", "retracted")]
    stored = engine.store.get_transfer(tx.identity)
    assert stored is not None and stored.status is TransferStatus.RETRACTED


async def test_a_supply_change_debits_its_fee_and_is_explained_in_the_balance(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    chain.txs[6] = [supply(), rental()]
    await run_to(engine, chain, 6)
    summaries = {x["tx_kind"]: x for x in lines(engine)}
    change = summaries["mosaic_supply_change"]
    assert (change["rule"], change["amount_xem"], change["fee_xem"], change["counterparty"]) == (
        "outflow", "0.000000", "0.150000", None)
    assert change["supply_change"] == 1000 and "mosaic supply change loot:coin +1,000" in change["summary"]
    moved = engine.store.transfers_of(HOT)
    assert sorted(r.kind for r in moved) == ["mosaic_supply_change", "provision_namespace"]
    # what the balance check explains: 100 XEM rent plus two fees
    assert explained_change(HOT, moved) == -(100 * MICRO_XEM + 2 * 150_000)
    # a threshold above zero leaves fee-only debits alone
    quiet = make(tmp_path / "quiet", FakeChain(tip=5, txs={6: [supply("q")]}), {HOT: WatchRule(alert_outflow_micro=1)})
    await quiet.cycle()
    quiet.source.tip = 6  # type: ignore[attr-defined]
    await quiet.cycle()
    assert alerts(quiet) == [] and quiet.store.get_transfer(h("debit", "q")) is not None


async def test_a_multisig_takeover_is_critical_with_the_cosigners(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)  # not urgent, no critical threshold: still critical
    await engine.cycle()
    tx = takeover()
    chain.txs[6] = [tx]
    await run_to(engine, chain, 6)
    [line] = lines(engine)
    assert (line["rule"], line["stage"], line["severity"]) == ("multisig_change", "confirmed", "critical")
    assert line["cosigners_added"] == [COSIGNER_ADDRESS] and line["cosigners_removed"] == []
    assert line["min_cosignatories_change"] == 1
    assert line["summary"].startswith("MULTISIG CHANGE on hot wallet (NC3BI3…): cosigners added NAX3EP…")
    assert "min cosignatories +1" in line["summary"]
    row = engine.store.get_transfer(tx.identity)
    assert row is not None and row.kind == "multisig_modification" and row.fee == 500_000
    await run_to(engine, chain, 25)
    assert [s for (_, s, _) in alerts(engine)] == ["confirmed", "settled"]
    chain.branch[6] = "fork"
    chain.txs[6] = []
    chain.tip = 26
    await engine.cycle()
    assert alerts(engine)[-1] == ("multisig_change", "retracted", tx.identity)


async def test_an_importance_transfer_is_info_and_not_an_outflow(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    tx = ImportanceTransfer(**base("imp"), mode=1, remote_public_key=COSIGNER_KEY)
    chain.txs[6] = [tx]
    await run_to(engine, chain, 6)
    [line] = lines(engine)
    assert (line["rule"], line["severity"], line["mode"], line["remote"]) == (
        "importance_transfer", "info", "activate", COSIGNER_ADDRESS)
    assert "activates remote harvesting with NAX3EP…" in line["summary"]


async def test_unconfirmed_debits_alert_before_their_block(tmp_path: Path) -> None:
    chain = FakeChain(tip=3)
    engine = make(tmp_path, chain, {HOT: WatchRule(label="hot", urgent=True)}, unconfirmed_poll_seconds=0)
    await engine.cycle()
    pending: list[Transaction] = [takeover("u1"), rental("u2")]
    chain.pool[HOT] = pending  # type: ignore[assignment]
    stats = await engine.cycle()
    assert sorted((a.rule, a.stage) for a in stats.alerts) == [
        ("multisig_change", Stage.UNCONFIRMED), ("outflow", Stage.UNCONFIRMED)]
    assert {r.kind for r in engine.store.unconfirmed_transfers()} == {"multisig_modification", "provision_namespace"}
    chain.pool[HOT] = []
    chain.txs[4] = pending  # type: ignore[assignment]
    chain.tip = 4
    stats = await engine.cycle()
    assert sorted((a.rule, a.stage) for a in stats.alerts) == [
        ("multisig_change", Stage.CONFIRMED), ("outflow", Stage.CONFIRMED)]
    assert engine.store.unconfirmed_transfers() == []


def levy_definition(tag: str, mosaic: str, levy: MosaicLevy) -> MosaicDefinitionTx:
    return MosaicDefinitionTx(
        **base(tag, sender=OTHER), creator=OTHER, mosaic_id=mosaic, properties=(("divisibility", "2"),), levy=levy,
        creation_fee_sink=SINK, creation_fee=10 * MICRO_XEM,
    )


async def test_levies_leave_the_account_and_show_in_the_alert(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)
    engine = make(tmp_path, chain)
    await engine.cycle()
    # definitions created by someone else are learned from the blocks
    chain.txs[6] = [
        levy_definition("d1", "loot:coin", MosaicLevy(1, LEVY_SINK, "nem:xem", 2 * MICRO_XEM)),
        levy_definition("d2", "loot:gem", MosaicLevy(2, LEVY_SINK, "loot:fee", 150)),  # 1.5 %
    ]
    send = replace(
        transfer(HOT, THIEF, 0, tag="levied"),
        amount=MICRO_XEM, xem=5 * MICRO_XEM,
        mosaics=(MosaicAmount("loot", "coin", 7), MosaicAmount("loot", "gem", 10_000)),
    )
    chain.txs[7] = [send]
    await run_to(engine, chain, 7)
    [line] = [x for x in lines(engine) if x["rule"] == "outflow"]
    assert line["amount_xem"] == "7.000000"  # 5 moved + 2 absolute XEM levy
    assert line["mosaics"] == [
        {"id": "loot:coin", "quantity": 7}, {"id": "loot:gem", "quantity": 10_000}, {"id": "loot:fee", "quantity": 150}]
    assert {(x["id"], x["quantity"], x["recipient"]) for x in line["levies"]} == {
        ("nem:xem", 2 * MICRO_XEM, LEVY_SINK), ("loot:fee", 150, LEVY_SINK)}
    assert "incl. levy 2.000000 XEM" in line["summary"]
    row = engine.store.get_transfer(send.identity)
    assert row is not None and row.levy_xem == 2 * MICRO_XEM
    assert explained_change(HOT, [row]) == -(5 * MICRO_XEM + 2 * MICRO_XEM + row.fee)
    # the definitions survive a restart
    assert engine.store.mosaic_definition("loot:gem") is not None


class DefinitionNode(FakeChain):
    """A chain that also serves ``/namespace/mosaic/definition/page`` (one page)."""

    asked: list[str]

    async def mosaic_definitions(self, namespace: str, *, after_id: int | None = None) -> list[Any]:
        from nemwatch.core.store.mosaics import MosaicDefinitionRow

        self.asked.append(namespace)
        if after_id is not None:
            return []
        return [(9, MosaicDefinitionRow("old:token", 0, MosaicLevy(1, LEVY_SINK, "nem:xem", 3 * MICRO_XEM)))]


async def test_a_levy_defined_before_the_watcher_started_is_asked_of_a_node(tmp_path: Path) -> None:
    chain = DefinitionNode(tip=5)
    chain.asked = []
    engine = make(tmp_path, chain, {HOT: WatchRule(label="hot", alert_outflow_micro=1, alert_mosaics=(("old:token", 100),))})
    await engine.cycle()
    mosaic_only = replace(transfer(HOT, THIEF, 0, tag="old"), amount=MICRO_XEM, xem=0, mosaics=(MosaicAmount("old", "token", 1),))
    chain.txs[6] = [mosaic_only]
    await run_to(engine, chain, 6)
    assert chain.asked == ["old"]
    # 1 old:token is below its threshold of 100, but its levy takes 3 XEM: above alert_outflow_xem
    [line] = lines(engine)
    assert (line["amount_xem"], line["severity"]) == ("3.000000", "warning")
    assert "levy_unknown" not in line


async def test_an_unknown_levy_is_said_so(tmp_path: Path) -> None:
    chain = FakeChain(tip=5)  # a source that cannot serve definitions
    engine = make(tmp_path, chain)
    await engine.cycle()
    chain.txs[6] = [replace(transfer(HOT, THIEF, 0, tag="u"), amount=MICRO_XEM, mosaics=(MosaicAmount("x", "y", 5),))]
    await run_to(engine, chain, 6)
    [line] = lines(engine)
    assert line["levy_unknown"] == ["x:y"] and line["severity"] == Severity.WARNING.value
