"""Rules: events -> alerts (outflow, inflow, dormancy, balance drop, node, delivery)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from nemwatch.core.alert import Severity, Stage, make_alert_id
from nemwatch.core.head import NodeState, Transition
from nemwatch.core.models import (
    MICRO_XEM,
    ImportanceTransfer,
    Message,
    MessageType,
    MosaicAmount,
    ProvisionNamespace,
    Transfer,
)
from nemwatch.core.rules import (
    RuleContext,
    RuleSettings,
    WatchRule,
    balance_drop_alert,
    confirmations,
    delivery_alert,
    explained_change,
    grouped_xem,
    node_alert,
    retraction_alerts,
    stage_for,
    transaction_alerts,
)

HOT = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
COSIGNER = "NDEFDEFDEFDEFDEFDEFDEFDEFDEFDEFDEFDEFDEF"
COLD = "NCOLDCOLDCOLDCOLDCOLDCOLDCOLDCOLDCOLDCOL"
TX_TIME = datetime(2018, 1, 25, 15, 2, 13, tzinfo=UTC)
NOW = TX_TIME + timedelta(seconds=40)


def transfer(
    *,
    sender: str = HOT,
    recipient: str = THIEF,
    xem: int = 100_000_000 * MICRO_XEM,
    fee: int = 1_000_000,
    height: int | None = 1_500_000,
    mosaics: tuple[MosaicAmount, ...] = (),
    initiator: str | None = None,
    message: Message | None = None,
    tx_hash: str = "aa" * 32,
    inner: str | None = None,
) -> Transfer:
    return Transfer(
        hash=tx_hash, inner_hash=inner, height=height, meta_id=None, sender=sender,
        sender_public_key="11" * 32, initiator=initiator, fee=fee, nem_timestamp=0, timestamp=TX_TIME,
        deadline=0, version=2, signature=None, recipient=recipient, amount=xem, xem=xem, mosaics=mosaics,
        message=message,
    )


def ctx(**rules: WatchRule) -> RuleContext:
    watch = {HOT: WatchRule(label="hot wallet", urgent=True)}
    for key, rule in rules.items():
        watch[{"hot": HOT, "cold": COLD, "thief": THIEF}[key]] = rule
    return RuleContext(watch=watch, labels={THIEF: ("thief", "hacker")})


def test_stages_from_confirmations() -> None:
    assert confirmations(None, 100) == 0
    assert confirmations(100, 100) == 1
    assert confirmations(81, 100) == 20
    assert confirmations(101, 100) == 0
    assert stage_for(0) is Stage.UNCONFIRMED
    assert stage_for(1) is Stage.CONFIRMED
    assert stage_for(19) is Stage.CONFIRMED
    assert stage_for(20) is Stage.SETTLED
    assert stage_for(5, settle_after=5) is Stage.SETTLED


def test_outflow_alert_fields_and_summary() -> None:
    msg = Message(MessageType.PLAIN, b"", "thanks \x1b[31m@everyone\u202e")
    [alert] = transaction_alerts(transfer(message=msg), ctx(), confs=1, now=NOW)
    assert alert.rule == "outflow"
    assert alert.stage is Stage.CONFIRMED
    assert alert.severity is Severity.CRITICAL  # urgent address
    assert (alert.address, alert.label, alert.counterparty, alert.counterparty_label) == (HOT, "hot wallet", THIEF, "thief")
    assert (alert.amount, alert.fee, alert.height, alert.confirmations) == (100_000_000 * MICRO_XEM, 1_000_000, 1_500_000, 1)
    assert alert.tx_time == TX_TIME and alert.detected_at == NOW
    assert alert.message == "thanks @everyone"
    assert alert.message_type == "plain"
    assert alert.summary == "OUTFLOW 100,000,000.000000 XEM from hot wallet (NC3BI3…) to thief (NC4C6P…) [confirmed, 1 conf]"
    assert alert.alert_id == make_alert_id("mainnet", "outflow", "aa" * 32, Stage.CONFIRMED)


def test_alert_ids_are_stable_and_differ_by_stage() -> None:
    tx = transfer()
    ids = {}
    for confs in (0, 1, 5, 20, 25):
        [a] = transaction_alerts(tx, ctx(), confs=confs, now=NOW + timedelta(minutes=confs))
        ids.setdefault(a.stage, set()).add(a.alert_id)
    assert {s: len(v) for s, v in ids.items()} == {Stage.UNCONFIRMED: 1, Stage.CONFIRMED: 1, Stage.SETTLED: 1}
    assert len(set().union(*ids.values())) == 3
    # the same transaction on another network is another alert
    other = RuleContext(watch=ctx().watch, settings=RuleSettings(network="testnet"))
    [t] = transaction_alerts(tx, other, confs=1, now=NOW)
    assert t.alert_id not in ids[Stage.CONFIRMED]
    [u] = transaction_alerts(replace(tx, height=None), ctx(), confs=0, now=NOW)
    assert u.summary.endswith("[unconfirmed]") and u.confirmations is None


def test_multisig_sender_is_the_multisig_account_never_the_cosigner() -> None:
    tx = transfer(initiator=COSIGNER, tx_hash="bb" * 32, inner="cc" * 32, fee=3 * 150_000)
    rules = RuleContext(watch={HOT: WatchRule(label="hot wallet"), COSIGNER: WatchRule(label="cosigner")})
    [alert] = transaction_alerts(tx, rules, confs=1, now=NOW)
    assert alert.address == HOT
    assert alert.fee == 450_000
    assert (alert.tx_hash, alert.inner_hash) == ("bb" * 32, "cc" * 32)
    assert alert.alert_id == make_alert_id("mainnet", "outflow", "cc" * 32, Stage.CONFIRMED)
    assert "cosigner NDEFDE…" in alert.summary
    # watching only the cosigner: its signature moves none of its funds
    only_cosigner = RuleContext(watch={COSIGNER: WatchRule(label="cosigner")})
    assert transaction_alerts(tx, only_cosigner, confs=1, now=NOW) == []


def test_outflow_threshold() -> None:
    rules = ctx(hot=WatchRule(label="hot wallet", alert_outflow_micro=1_000 * MICRO_XEM))
    assert transaction_alerts(transfer(xem=999_999_999), rules, confs=1, now=NOW) == []
    [a] = transaction_alerts(transfer(xem=1_000 * MICRO_XEM), rules, confs=1, now=NOW)
    assert a.amount == 1_000 * MICRO_XEM
    assert a.severity is Severity.WARNING  # not urgent, below the critical threshold
    big = ctx(hot=WatchRule(label="hot wallet", critical_xem=500 * MICRO_XEM))
    assert transaction_alerts(transfer(xem=600 * MICRO_XEM), big, confs=1, now=NOW)[0].severity is Severity.CRITICAL


def test_zero_xem_mosaic_only_send_alerts_with_the_default_threshold() -> None:
    marker = MosaicAmount("mizunashi", "coincheck_stolen_funds_do_not_accept_trades", 1)
    [a] = transaction_alerts(transfer(xem=0, mosaics=(marker,)), ctx(), confs=1, now=NOW)
    assert a.amount == 0
    assert a.mosaics == (marker,)
    assert "OUTFLOW 0.000000 XEM + mizunashi:coincheck_stolen_funds_do_not_accept_trades ×1 from" in a.summary
    priced = ctx(hot=WatchRule(alert_outflow_micro=1))
    assert transaction_alerts(transfer(xem=0, mosaics=(marker,)), priced, confs=1, now=NOW) == []


def test_namespace_rental_is_an_outflow_but_importance_transfer_is_not() -> None:
    ns = ProvisionNamespace(
        hash="dd" * 32, inner_hash=None, height=10, meta_id=None, sender=HOT, sender_public_key="11" * 32,
        initiator=None, fee=150_000, nem_timestamp=0, timestamp=TX_TIME, deadline=0, version=1, signature=None,
        rental_fee_sink="NAMESPACEWHALE", rental_fee=100 * MICRO_XEM, new_part="x",
    )
    [a] = transaction_alerts(ns, ctx(), confs=1, now=NOW)
    assert (a.amount, a.counterparty) == (100 * MICRO_XEM, "NAMESPACEWHALE")
    it = ImportanceTransfer(
        hash="ee" * 32, inner_hash=None, height=10, meta_id=None, sender=HOT, sender_public_key="11" * 32,
        initiator=None, fee=150_000, nem_timestamp=0, timestamp=TX_TIME, deadline=0, version=1, signature=None,
    )
    # not an outflow: it has a rule of its own (info), see test_control_rules
    assert [a.rule for a in transaction_alerts(it, ctx(), confs=1, now=NOW)] == ["importance_transfer"]


def test_inflow_is_opt_in_with_a_minimum() -> None:
    tx = transfer(sender=THIEF, recipient=COLD, xem=50 * MICRO_XEM)
    assert transaction_alerts(tx, ctx(cold=WatchRule(label="cold")), confs=1, now=NOW) == []
    rules = ctx(cold=WatchRule(label="cold", alert_inflow=True, inflow_min_micro=10 * MICRO_XEM))
    [a] = transaction_alerts(tx, rules, confs=1, now=NOW)
    assert (a.rule, a.severity, a.address, a.counterparty) == ("inflow", Severity.INFO, COLD, THIEF)
    assert a.summary == "INFLOW 50.000000 XEM to cold (NCOLDC…) from thief (NC4C6P…) [confirmed, 1 conf]"
    assert transaction_alerts(replace(tx, xem=9 * MICRO_XEM), rules, confs=1, now=NOW) == []


def test_transfer_between_two_watched_addresses_gives_outflow_and_inflow() -> None:
    rules = ctx(cold=WatchRule(label="cold", alert_inflow=True))
    alerts = transaction_alerts(transfer(recipient=COLD), rules, confs=1, now=NOW)
    assert [a.rule for a in alerts] == ["outflow", "inflow"]
    assert len({a.alert_id for a in alerts}) == 2
    # sending to itself is not an inflow
    self_send = ctx(hot=WatchRule(label="hot", alert_inflow=True))
    assert [a.rule for a in transaction_alerts(transfer(recipient=HOT), self_send, confs=1, now=NOW)] == ["outflow"]


def test_dormant_wakeup() -> None:
    rules = ctx(hot=WatchRule(label="hot wallet", alert_outflow_micro=10**15, dormant_days=180))
    tx = transfer(xem=5 * MICRO_XEM)
    recent = {HOT: TX_TIME - timedelta(days=179)}
    assert transaction_alerts(tx, rules, confs=0, now=NOW, last_activity=recent) == []
    assert transaction_alerts(tx, rules, confs=0, now=NOW) == []  # no history: nothing to compare
    long_ago = {HOT: TX_TIME - timedelta(days=400)}
    [pending] = transaction_alerts(tx, rules, confs=0, now=NOW, last_activity=long_ago)
    [confirmed] = transaction_alerts(tx, rules, confs=1, now=NOW, last_activity=long_ago)
    assert pending.rule == "dormant_wakeup"
    assert pending.alert_id == confirmed.alert_id  # one alert per transaction, not per stage
    assert "moved after 400 days silent" in pending.summary
    # rules combine: the same send past the outflow threshold also raises the outflow
    both = ctx(hot=WatchRule(label="hot wallet", dormant_days=180))
    assert [a.rule for a in transaction_alerts(tx, both, confs=1, now=NOW, last_activity=long_ago)] == [
        "outflow",
        "dormant_wakeup",
    ]


def test_retraction_alerts_follow_the_rules_that_alerted() -> None:
    rules = ctx(cold=WatchRule(label="cold", alert_inflow=True))
    tx = transfer(recipient=COLD)
    earlier = transaction_alerts(tx, rules, confs=0, now=NOW) + transaction_alerts(tx, rules, confs=3, now=NOW)
    later = NOW + timedelta(minutes=5)
    retracted = retraction_alerts(earlier, network="mainnet", now=later)
    assert sorted(a.rule for a in retracted) == ["inflow", "outflow"]
    out = next(a for a in retracted if a.rule == "outflow")
    assert out.stage is Stage.RETRACTED
    assert out.alert_id == make_alert_id("mainnet", "outflow", tx.identity, Stage.RETRACTED)
    assert out.detected_at == later
    assert out.summary == "RETRACTED OUTFLOW 100,000,000.000000 XEM from hot wallet (NC3BI3…) to cold (NCOLDC…) [retracted]"
    assert retraction_alerts(earlier + retracted, network="mainnet", now=later) == []


def test_balance_drop_beyond_what_transfers_explain() -> None:
    rows = [
        transfer(sender=HOT, recipient=THIEF, xem=10 * MICRO_XEM, fee=100_000),
        transfer(sender=THIEF, recipient=HOT, xem=3 * MICRO_XEM, fee=50_000),
        transfer(sender=HOT, recipient=HOT, xem=7 * MICRO_XEM, fee=200_000),
    ]
    explained = explained_change(HOT, rows)
    assert explained == -10 * MICRO_XEM - 100_000 + 3 * MICRO_XEM - 200_000
    start = 1_000 * MICRO_XEM
    ok = balance_drop_alert(
        HOT, ctx(), previous_balance=start, explained=explained, node_balance=start + explained, node_height=9, now=NOW
    )
    assert ok is None
    richer = balance_drop_alert(
        HOT, ctx(), previous_balance=start, explained=explained, node_balance=start, node_height=9, now=NOW
    )
    assert richer is None  # harvest fees or unparsed inflows are not a drop
    levy = 2 * MICRO_XEM
    drop = balance_drop_alert(
        HOT, ctx(), previous_balance=start, explained=explained, node_balance=start + explained - levy,
        node_height=9, now=NOW,
    )
    assert drop is not None
    assert (drop.rule, drop.stage, drop.amount, drop.severity) == ("balance_drop", Stage.FIRING, levy, Severity.CRITICAL)
    assert drop.alert_id == make_alert_id("mainnet", "balance_drop", f"{HOT}@9", Stage.FIRING)
    assert "2.000000 XEM less than its transfers explain" in drop.summary
    tolerant = balance_drop_alert(
        HOT, ctx(), previous_balance=start, explained=explained, node_balance=start + explained - levy,
        node_height=9, now=NOW, tolerance=levy,
    )
    assert tolerant is None


def test_node_alerts_one_pair_per_episode() -> None:
    url = "http://user:hunter2secret@node.example:7890"
    trouble = Transition(url, "trouble", NodeState.DOWN, f"ConnectError: {url} refused", 3)
    fired = node_alert(trouble, network="mainnet", now=NOW)
    recovered = node_alert(Transition(url, "recovered", NodeState.OK, "ok", 3), network="mainnet", now=NOW)
    again = node_alert(trouble, network="mainnet", now=NOW + timedelta(hours=1))
    assert (fired.stage, fired.severity) == (Stage.FIRING, Severity.WARNING)
    assert (recovered.stage, recovered.severity) == (Stage.RESOLVED, Severity.INFO)
    assert fired.alert_id == again.alert_id != recovered.alert_id
    next_episode = node_alert(replace(trouble, episode=4), network="mainnet", now=NOW)
    assert next_episode.alert_id != fired.alert_id
    assert "hunter2secret" not in fired.to_json_line()
    assert fired.summary.startswith("NODE TROUBLE http://user:<secret>@node.example:7890: down, ConnectError")


def test_delivery_alert() -> None:
    [failed] = transaction_alerts(transfer(), ctx(), confs=1, now=NOW)
    broken = delivery_alert(failed, "webhook+https://hooks.example/<secret>", "HTTP 400", network="mainnet", now=NOW)
    assert (broken.rule, broken.severity, broken.stage) == ("delivery", Severity.CRITICAL, Stage.FIRING)
    data = broken.to_json_dict()
    assert data["failed_alert_id"] == failed.alert_id
    assert data["sink"] == "webhook+https://hooks.example/<secret>"
    assert broken.summary.startswith("DELIVERY BROKEN webhook+https://hooks.example/<secret>: HTTP 400; undelivered: OUTFLOW")


def test_grouped_xem() -> None:
    assert grouped_xem(0) == "0.000000"
    assert grouped_xem(1_234_567_890_123) == "1,234,567.890123"
    assert grouped_xem(-5_000_000_000) == "-5,000.000000"


def test_a_stored_transfer_row_gives_the_same_alerts_as_the_parsed_transfer() -> None:
    from nemwatch.core.store import TransferRow, TransferStatus

    msg = Message(MessageType.PLAIN, b"", "ref 42 \u202egnp.exe")
    tx = transfer(initiator=COSIGNER, tx_hash="bb" * 32, inner="cc" * 32, message=msg,
                  mosaics=(MosaicAmount("a", "b", 2),))
    row = TransferRow.from_transfer(tx, TransferStatus.CONFIRMED, NOW)
    rules = ctx(cold=WatchRule(label="cold", alert_inflow=True), thief=WatchRule(alert_inflow=True))
    last = {HOT: TX_TIME - timedelta(days=500)}
    rules = RuleContext(
        watch={**rules.watch, HOT: WatchRule(label="hot wallet", dormant_days=30)}, labels=rules.labels
    )
    from_model = transaction_alerts(tx, rules, confs=20, now=NOW, last_activity=last)
    from_row = transaction_alerts(row, rules, confs=20, now=NOW, last_activity=last)
    assert [a.rule for a in from_model] == ["outflow", "inflow", "dormant_wakeup"]
    assert from_row == from_model
    assert from_row[0].stage is Stage.SETTLED
    assert from_row[0].message == "ref 42 gnp.exe"
