"""Events -> alerts: pure functions, no I/O, no clock (``now`` is passed in).

Rules and their alert ids (``make_alert_id(network, rule, key, stage)``, stable across restarts):

- ``outflow``: a watched address sends at least its ``alert_outflow_micro`` (0: any send, a
  0-XEM mosaic-only transfer included), or at least a mosaic's ``alert_mosaics`` threshold of a
  listed mosaic (see ``outflow_passes``). For a multisig transaction the sender is the multisig
  account (``tx.sender``), never the cosigner who signed the wrapper (``tx.initiator``).
  Every debit is an outflow: namespace rentals and mosaic creations (their fee goes to a sink
  account), supply changes and types this version does not parse (their fee). Mosaic levies
  the sender pays are part of it: in ``amount`` when in XEM, in ``mosaics`` otherwise.
  Key: the transaction identity; one alert per stage.
- ``multisig_change`` (critical) and ``importance_transfer`` (info): a watched account's
  cosigners or minimum cosignatories change, or it (de)activates remote harvesting. Staged
  like outflows; see ``nemwatch.core.control_rules``.
- ``inflow``: opt-in per address, at least ``inflow_min_micro``. Key: the identity; one per stage.
- ``dormant_wakeup``: an address silent (no outgoing transaction) for ``dormant_days`` sends.
  One alert per transaction, whatever stage first shows it (stage ``firing``).
- ``balance_drop``: a node's balance is lower than the stored balance plus what the stored
  transfers explain (levies, fees of transactions we do not parse). Key: address and height.
- ``node``: node trouble (``firing``) and recovery (``resolved``), one pair per episode.
- ``delivery``: a delivery was dead-lettered; raised on the other sinks.

Stages of a transaction alert: ``unconfirmed`` (0 confirmations), ``confirmed`` (1 or more),
``settled`` (``settle_after`` or more, 20 by default) and ``retracted`` (it vanished in a
rollback; see ``retraction_alerts``).

Severity: ``critical`` when the address is urgent or the amount reaches the critical threshold,
``warning`` otherwise; ``info`` for inflows and recoveries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from typing import Any

from nemwatch.core.models import (
    MICRO_XEM,
    LevyCharge,
    MosaicAmount,
    MosaicDefinitionTx,
    Network,
    ProvisionNamespace,
    Transaction,
    Transfer,
    TxKind,
    format_xem,
)
from nemwatch.core.movements import CONTROL_KINDS, leaving_mosaics, movement_detail
from nemwatch.core.store.rows import TransferRow
from nemwatch.core.text import sanitize
from nemwatch.redact import redact_url, scrub, secret_parts

OUTFLOW = "outflow"
INFLOW = "inflow"
DORMANT = "dormant_wakeup"
BALANCE_DROP = "balance_drop"
NODE = "node"
DELIVERY = "delivery"
MULTISIG_CHANGE = "multisig_change"
IMPORTANCE_TRANSFER = "importance_transfer"

# the taint rules about one transaction (``core.taint_rules``) follow rollbacks like these
TAINT_TX_RULES = frozenset({"taint_move", "taint_exchange", "taint_new_account", "marker_seen", "message_flag", "taint_wakeup"})
TX_RULES = frozenset({OUTFLOW, INFLOW, DORMANT, MULTISIG_CHANGE, IMPORTANCE_TRANSFER}) | TAINT_TX_RULES
SETTLE_AFTER = 20
DEFAULT_CRITICAL_XEM = 100_000 * MICRO_XEM
_MOSAICS_SHOWN = 2

Label = tuple[str, str]  # (name, kind)


@dataclass(frozen=True, slots=True)
class WatchRule:
    """How one watched address is alerted on. Amounts are micro-XEM."""

    label: str | None = None
    urgent: bool = False
    alert_outflow_micro: int = 0  # an outflow of at least this alerts; 0: any
    alert_inflow: bool = False
    inflow_min_micro: int = 0
    dormant_days: int | None = None  # None: no dormancy alert
    critical_xem: int | None = None  # overrides RuleSettings.critical_xem for this address
    # per-mosaic outflow thresholds in the mosaic's smallest units: ((mosaic id, quantity), ...)
    alert_mosaics: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSettings:
    network: str = "mainnet"
    settle_after: int = SETTLE_AFTER
    critical_xem: int = DEFAULT_CRITICAL_XEM


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What the rules read: the watch set, known labels (address -> (name, kind)), settings."""

    watch: Mapping[str, WatchRule]
    labels: Mapping[str, Label] = field(default_factory=dict)
    settings: RuleSettings = field(default_factory=RuleSettings)

    def name(self, address: str | None) -> str | None:
        if address is None:
            return None
        rule = self.watch.get(address)
        if rule is not None and rule.label:
            return rule.label
        known = self.labels.get(address)
        return known[0] if known else None

    def critical(self, address: str, amount_micro: int) -> bool:
        rule = self.watch.get(address, WatchRule())
        threshold = rule.critical_xem if rule.critical_xem is not None else self.settings.critical_xem
        return rule.urgent or amount_micro >= threshold


# -- stages -------------------------------------------------------------------------------


def confirmations(height: int | None, tip: int | None) -> int:
    """Confirmations of a transaction at ``height`` when the chain is at ``tip`` (0: unconfirmed)."""
    if height is None or tip is None or tip < height:
        return 0
    return tip - height + 1


def stage_for(confs: int, settle_after: int = SETTLE_AFTER) -> Stage:
    if confs <= 0:
        return Stage.UNCONFIRMED
    if confs >= settle_after:
        return Stage.SETTLED
    return Stage.CONFIRMED


# -- text ---------------------------------------------------------------------------------


def grouped_xem(micro: int) -> str:
    """Micro-XEM with thousands separators: 100000000000000 -> '100,000,000.000000'."""
    whole, _, frac = format_xem(micro).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{frac}"


def short(address: str) -> str:
    return address[:6] + "…"


def _who(address: str, ctx: RuleContext) -> str:
    name = ctx.name(address)
    return f"{name} ({short(address)})" if name else short(address)


def _mosaic_text(mosaics: tuple[MosaicAmount, ...]) -> str:
    parts = [f" + {m.id} ×{m.quantity:,}" for m in mosaics[:_MOSAICS_SHOWN]]
    rest = len(mosaics) - _MOSAICS_SHOWN
    if rest > 0:
        parts.append(f" + {rest} more mosaic{'s' if rest > 1 else ''}")
    return "".join(parts)


def _stage_text(stage: Stage, confs: int | None) -> str:
    if stage in (Stage.CONFIRMED, Stage.SETTLED) and confs is not None:
        return f"[{stage.value}, {confs} conf]"
    return f"[{stage.value}]"


# -- transactions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the rules need of a transaction, from a parsed model or a stored row."""

    identity: str
    hash: str
    inner_hash: str | None
    height: int | None
    sender: str
    initiator: str | None
    fee: int
    timestamp: datetime
    recipient: str | None  # where the moved XEM goes; None when nothing moves
    xem: int
    mosaics: tuple[MosaicAmount, ...]
    message: str | None
    message_type: str | None
    kind: str = TxKind.TRANSFER.value
    detail: tuple[tuple[str, Any], ...] = ()
    levies: tuple[LevyCharge, ...] = ()

    @property
    def levy_xem(self) -> int:
        return sum(levy.quantity for levy in self.levies if levy.mosaic_id == "nem:xem")

    @property
    def leaving_xem(self) -> int:
        """The XEM that leaves the sender besides the fee: moved plus XEM levies."""
        return self.xem + self.levy_xem

    @property
    def leaving_mosaics(self) -> tuple[MosaicAmount, ...]:
        return leaving_mosaics(self.mosaics, self.levies)


Subject = Transaction | TransferRow


def _facts(tx: Subject, network: str = "mainnet") -> _Facts:
    if isinstance(tx, TransferRow):
        return _Facts(
            tx.identity, tx.hash, tx.inner_hash, tx.height, tx.sender, tx.initiator, tx.fee, tx.tx_time,
            tx.recipient or None, tx.xem, tx.mosaics, sanitize(tx.message) or None, tx.message_type,
            tx.kind, tx.detail, tx.levies,
        )
    recipient: str | None = None
    xem, mosaics = 0, ()
    message = message_type = None
    if isinstance(tx, Transfer):
        recipient, xem, mosaics = tx.recipient, tx.xem, tx.mosaics
        if tx.message is not None:
            message, message_type = sanitize(tx.message.text) or None, tx.message.type.value
    elif isinstance(tx, ProvisionNamespace):
        recipient, xem = tx.rental_fee_sink, tx.rental_fee
    elif isinstance(tx, MosaicDefinitionTx):
        recipient, xem = tx.creation_fee_sink, tx.creation_fee
    return _Facts(
        tx.identity, tx.hash, tx.inner_hash, tx.height, tx.sender, tx.initiator, tx.fee, tx.timestamp,
        recipient, xem, mosaics, message, message_type, tx.kind.value, movement_detail(tx, Network(network)),
    )


def _tx_alert(
    f: _Facts,
    *,
    rule: str,
    stage: Stage,
    severity: Severity,
    address: str,
    counterparty: str | None,
    confs: int | None,
    summary: str,
    ctx: RuleContext,
    now: datetime,
    node: str | None,
) -> Alert:
    extra: list[tuple[str, Any]] = []
    if f.kind != TxKind.TRANSFER.value:
        extra.append(("tx_kind", f.kind))
    extra.extend(f.detail)
    if f.levies:
        extra.append(("levies", [
            {"id": c.mosaic_id, "quantity": c.quantity, "recipient": c.recipient, "on": c.levied_on} for c in f.levies
        ]))
    return Alert(
        alert_id=make_alert_id(ctx.settings.network, rule, f.identity, stage),
        rule=rule,
        stage=stage,
        severity=severity,
        detected_at=now,
        summary=summary,
        address=address,
        label=ctx.name(address),
        counterparty=counterparty,
        counterparty_label=ctx.name(counterparty),
        amount=f.leaving_xem,
        fee=f.fee,
        mosaics=f.leaving_mosaics,
        tx_hash=f.hash,
        inner_hash=f.inner_hash,
        height=f.height,
        confirmations=confs,
        tx_time=f.timestamp,
        message=f.message,
        message_type=f.message_type,
        node=redact_url(node) if node else None,
        extra=tuple(extra),
    )


def outflow_passes(rule: WatchRule, xem: int, mosaics: tuple[MosaicAmount, ...]) -> bool:
    """Does an outflow of ``xem`` micro-XEM and ``mosaics`` reach ``rule``'s thresholds?

    XEM that leaves counts against ``alert_outflow_micro``; a mosaic listed in ``alert_mosaics``
    against its own threshold; an unlisted mosaic, or a debit that moves nothing but its fee,
    alerts only when ``alert_outflow_micro`` is 0 (any outflow)."""
    anything = rule.alert_outflow_micro == 0
    if xem > 0 and xem >= rule.alert_outflow_micro:
        return True
    thresholds = dict(rule.alert_mosaics)
    for mosaic in mosaics:
        limit = thresholds.get(mosaic.id)
        if limit is None:
            if anything:
                return True
        elif mosaic.quantity >= limit:
            return True
    return anything and xem == 0 and not mosaics


_KIND_TEXT = {
    TxKind.PROVISION_NAMESPACE.value: "namespace rental",
    TxKind.MOSAIC_DEFINITION.value: "mosaic creation",
    TxKind.MOSAIC_SUPPLY_CHANGE.value: "mosaic supply change",
    TxKind.UNKNOWN.value: "transaction",
}


def _kind_text(f: _Facts) -> str:
    label = _KIND_TEXT.get(f.kind)
    if label is None:
        return ""
    detail = dict(f.detail)
    what = detail.get("namespace") or detail.get("mosaic") or (f"type {detail['type']}" if "type" in detail else "")
    change = detail.get("supply_change")
    if change is not None:
        what = f"{what} {change:+,}"
    return f" ({label}{' ' + str(what) if what else ''}, fee {grouped_xem(f.fee)} XEM)"


def _levy_text(f: _Facts) -> str:
    return f" incl. levy {grouped_xem(f.levy_xem)} XEM" if f.levy_xem else ""


def outflow_alert(
    tx: Subject, ctx: RuleContext, *, stage: Stage, confs: int | None, now: datetime, node: str | None = None
) -> Alert | None:
    """An outflow from a watched sender at or above its threshold, else None."""
    f = _facts(tx, ctx.settings.network)
    rule = ctx.watch.get(f.sender)
    if rule is None or f.kind in CONTROL_KINDS:
        return None
    if not outflow_passes(rule, f.leaving_xem, f.leaving_mosaics):
        return None
    cosigner = f" (multisig, cosigner {short(f.initiator)})" if f.initiator else ""
    to = f" to {_who(f.recipient, ctx)}" if f.recipient else ""
    summary = (
        f"OUTFLOW {grouped_xem(f.leaving_xem)} XEM{_levy_text(f)}{_mosaic_text(f.leaving_mosaics)} "
        f"from {_who(f.sender, ctx)}{to}{_kind_text(f)}{cosigner} {_stage_text(stage, confs)}"
    )
    severity = Severity.CRITICAL if ctx.critical(f.sender, f.leaving_xem) else Severity.WARNING
    return _tx_alert(
        f, rule=OUTFLOW, stage=stage, severity=severity, address=f.sender, counterparty=f.recipient,
        confs=confs, summary=summary, ctx=ctx, now=now, node=node,
    )


def inflow_alert(
    tx: Subject, ctx: RuleContext, *, stage: Stage, confs: int | None, now: datetime, node: str | None = None
) -> Alert | None:
    """An inflow to a watched recipient that opted in, at or above its minimum, else None."""
    f = _facts(tx, ctx.settings.network)
    if f.recipient is None or f.recipient == f.sender:
        return None
    rule = ctx.watch.get(f.recipient)
    if rule is None or not rule.alert_inflow or f.xem < rule.inflow_min_micro:
        return None
    summary = (
        f"INFLOW {grouped_xem(f.xem)} XEM{_mosaic_text(f.mosaics)} to {_who(f.recipient, ctx)} "
        f"from {_who(f.sender, ctx)} {_stage_text(stage, confs)}"
    )
    return _tx_alert(
        f, rule=INFLOW, stage=stage, severity=Severity.INFO, address=f.recipient, counterparty=f.sender,
        confs=confs, summary=summary, ctx=ctx, now=now, node=node,
    )


def dormant_alert(
    tx: Subject,
    ctx: RuleContext,
    *,
    last_activity: datetime | None,
    stage: Stage,
    confs: int | None,
    now: datetime,
    node: str | None = None,
) -> Alert | None:
    """A watched sender silent for its ``dormant_days`` moves (``last_activity`` = its previous
    outgoing transaction, before this one). One alert per transaction: the id ignores the stage."""
    f = _facts(tx, ctx.settings.network)
    rule = ctx.watch.get(f.sender)
    if rule is None or rule.dormant_days is None or last_activity is None:
        return None
    if stage not in (Stage.UNCONFIRMED, Stage.CONFIRMED, Stage.SETTLED):
        return None
    silent = f.timestamp - last_activity
    if silent.days < rule.dormant_days:
        return None
    to = f" to {_who(f.recipient, ctx)}" if f.recipient else ""
    summary = (
        f"DORMANT WAKE-UP {_who(f.sender, ctx)} moved after {silent.days:,} days silent: "
        f"{grouped_xem(f.xem)} XEM{_mosaic_text(f.mosaics)}{to} {_stage_text(stage, confs)}"
    )
    severity = Severity.CRITICAL if ctx.critical(f.sender, f.xem) else Severity.WARNING
    return _tx_alert(
        f, rule=DORMANT, stage=Stage.FIRING, severity=severity, address=f.sender,
        counterparty=f.recipient or f.sender, confs=confs, summary=summary, ctx=ctx, now=now, node=node,
    )


def transaction_alerts(
    tx: Subject,
    ctx: RuleContext,
    *,
    confs: int,
    now: datetime,
    last_activity: Mapping[str, datetime] | None = None,
    node: str | None = None,
) -> list[Alert]:
    """Every alert one transaction causes at its current number of confirmations.

    ``tx`` is a parsed transaction or a stored ``TransferRow`` (the engine re-evaluates stored
    transfers as they reach ``settle_after`` confirmations without re-reading their block).
    ``last_activity`` maps an address to its previous outgoing transaction's time.
    """
    stage = stage_for(confs, ctx.settings.settle_after)
    shown = confs if stage is not Stage.UNCONFIRMED else None
    out = [
        outflow_alert(tx, ctx, stage=stage, confs=shown, now=now, node=node),
        inflow_alert(tx, ctx, stage=stage, confs=shown, now=now, node=node),
        dormant_alert(
            tx, ctx, last_activity=(last_activity or {}).get(tx.sender), stage=stage, confs=shown, now=now,
            node=node,
        ),
    ]
    from nemwatch.core.control_rules import control_alerts  # the control rules build on this module

    out.extend(control_alerts(tx, ctx, stage=stage, confs=shown, now=now, node=node))
    return [a for a in out if a is not None]


_STAGE_SUFFIX = re.compile(r" \[[^\[\]]*\]$")


def retraction_alerts(previous: Iterable[Alert], *, network: str, now: datetime) -> list[Alert]:
    """The ``retracted`` alerts for a transaction that vanished in a rollback, built from the
    alerts already raised about it (``Store.alerts_for_identity``, oldest first): one per rule
    whose latest alert is not a retraction (a re-inclusion after a retraction is live again;
    ``core.reorg`` gives each inclusion its own ``alert_id``)."""
    latest: dict[str, Alert] = {}
    retracted: set[str] = set()
    for alert in previous:
        if alert.rule not in TX_RULES:
            continue
        if alert.stage is Stage.RETRACTED:
            retracted.add(alert.rule)
        else:
            latest[alert.rule] = alert
            retracted.discard(alert.rule)
    out = []
    for rule, alert in latest.items():
        if rule in retracted:
            continue
        identity = alert.inner_hash or alert.tx_hash
        if identity is None:
            continue
        body = _STAGE_SUFFIX.sub("", alert.summary)
        out.append(
            replace(
                alert,
                alert_id=make_alert_id(network, rule, identity, Stage.RETRACTED),
                stage=Stage.RETRACTED,
                detected_at=now,
                confirmations=None,
                summary=f"RETRACTED {body} [retracted]",
            )
        )
    return out


# -- balances -----------------------------------------------------------------------------


class _Movement(Protocol):
    sender: str
    recipient: str
    xem: int
    fee: int


def explained_change(address: str, transfers: Iterable[_Movement]) -> int:
    """How much the given transfers change ``address``'s balance (micro-XEM, signed)."""
    delta = 0
    for t in transfers:
        if t.sender == address:
            delta -= t.xem + t.fee + getattr(t, "levy_xem", 0)
        if t.recipient == address:
            delta += t.xem
    return delta


def balance_drop_alert(
    address: str,
    ctx: RuleContext,
    *,
    previous_balance: int,
    explained: int,
    node_balance: int,
    node_height: int,
    now: datetime,
    tolerance: int = 0,
    node: str | None = None,
) -> Alert | None:
    """Alert when ``node_balance`` is lower than ``previous_balance + explained`` by more than
    ``tolerance``: XEM left the account in ways the stored transfers do not show."""
    expected = previous_balance + explained
    missing = expected - node_balance
    if missing <= tolerance:
        return None
    summary = (
        f"BALANCE DROP {_who(address, ctx)} holds {grouped_xem(missing)} XEM less than its transfers "
        f"explain ({grouped_xem(node_balance)} XEM at height {node_height:,})"
    )
    return Alert(
        alert_id=make_alert_id(ctx.settings.network, BALANCE_DROP, f"{address}@{node_height}", Stage.FIRING),
        rule=BALANCE_DROP,
        stage=Stage.FIRING,
        severity=Severity.CRITICAL if ctx.critical(address, missing) else Severity.WARNING,
        detected_at=now,
        summary=summary,
        address=address,
        label=ctx.name(address),
        amount=missing,
        height=node_height,
        node=redact_url(node) if node else None,
        extra=(("expected_balance_xem", format_xem(expected)), ("node_balance_xem", format_xem(node_balance))),
    )


# -- nodes and deliveries -----------------------------------------------------------------


class _Transition(Protocol):
    url: str
    kind: str  # "trouble" | "recovered"
    detail: str
    episode: int


def node_alert(transition: _Transition, *, network: str, now: datetime) -> Alert:
    """A node-trouble episode's start (``firing``) or end (``resolved``), from
    ``nemwatch.core.head.HeadTracker.transitions``."""
    trouble = transition.kind == "trouble"
    stage = Stage.FIRING if trouble else Stage.RESOLVED
    shown = redact_url(transition.url)
    detail = sanitize(scrub(transition.detail, secret_parts(transition.url)), max_len=200)
    state = getattr(getattr(transition, "state", None), "value", None)
    if trouble:
        summary = f"NODE TROUBLE {shown}: {state + ', ' if state else ''}{detail}"
    else:
        summary = f"NODE RECOVERED {shown}"
    return Alert(
        alert_id=make_alert_id(network, NODE, f"{transition.url}#{transition.episode}", stage),
        rule=NODE,
        stage=stage,
        severity=Severity.WARNING if trouble else Severity.INFO,
        detected_at=now,
        summary=summary,
        node=shown,
        extra=(("episode", transition.episode), ("detail", detail)),
    )


def delivery_alert(failed: Alert, sink: str, error: str, *, network: str, now: datetime) -> Alert:
    """"Delivery broken": ``failed`` was dead-lettered on ``sink`` (a redacted sink name) with
    ``error`` (redacted). Raised on the other sinks."""
    reason = sanitize(error, max_len=300)
    return Alert(
        alert_id=make_alert_id(network, DELIVERY, f"{failed.alert_id}|{sink}", Stage.FIRING),
        rule=DELIVERY,
        stage=Stage.FIRING,
        severity=Severity.CRITICAL,
        detected_at=now,
        summary=f"DELIVERY BROKEN {sink}: {reason}; undelivered: {failed.summary}",
        address=failed.address,
        label=failed.label,
        extra=(("failed_alert_id", failed.alert_id), ("sink", sink), ("error", reason)),
    )
