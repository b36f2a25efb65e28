"""Taint alerts: pure builders, no I/O, no clock (``now`` is passed in).

Rules (``rule`` of the JSON line) and their keys (``make_alert_id(network, rule, key, stage)``):

- ``taint_move``: a transfer carried tainted XEM under some model (or seeded it at a source:
  the theft itself, ``"seeded": true``). Key: the transaction identity.
- ``taint_exchange`` (critical): tainted XEM arrived at an account labelled ``exchange``; the
  deposit tag of the message (the user id an exchange can freeze) is in ``deposit_tag``. Key:
  the identity. Such a transfer raises this instead of ``taint_move``. At an exchange inferred
  from its history (no label): ``warning``, ``inferred: true`` and the ``evidence``.
- ``taint_new_account``: the taint reached an account above the thresholds; it joins the watch
  set (auto-follow). ``taint.tag_lag_blocks`` is the chain head at marking minus the block that
  carried the hop (0: marked in the same block). Key: the identity of the hop.
- ``marker_seen`` (info): an account received a marker mosaic (``[taint] markers``; key: the
  identity) or holds one (its owned mosaics; ``via: holding``, stage ``firing``; key: the
  pair), once per (account, marker).
- ``message_flag``: the message of a transfer touching a tainted or watched account carries a
  URL, ``.onion``, a discount advert, another chain's address, a NEM address that is not a
  party (spoofing) or a deposit tag; ``flags`` lists them. Key: the identity.
- ``taint_wakeup`` (critical): a tainted account quiet for ``[taint] wakeup_days`` moves. Key:
  the identity.
- ``conservation`` (warning, stage ``firing``): a model's books do not balance (a missed hop, a
  paging gap). Key: the violation (kind, model, address).

Every alert carries a ``taint`` object: ``model`` (the one that drives alerts), ``tainted_xem``
per model, ``tainted_jpy`` per model (when a price is known), ``hop``, ``source`` and
``source_label``, ``left`` (models under which the taint left the tracked set there) and, for
new accounts, ``tag_lag_blocks`` and ``tag_lag_seconds``. ``amount`` is the XEM the transfer
moved, valued in JPY like every alert. Transaction alerts are staged ``confirmed`` and follow
rollbacks like the other transaction rules (``retracted``, inclusions: ``core.reorg``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import Transaction, Transfer, format_xem
from nemwatch.core import rules
from nemwatch.core.rules import RuleContext, grouped_xem, short
from nemwatch.core.taint.conservation import ConservationViolation
from nemwatch.core.taint.inputs import MODELS, Model
from nemwatch.core.taint.markers import MarkerSighting
from nemwatch.core.taint.messages import MessageReport
from nemwatch.core.text import sanitize

TAINT_MOVE = "taint_move"
TAINT_EXCHANGE = "taint_exchange"
TAINT_NEW_ACCOUNT = "taint_new_account"
MARKER_SEEN = "marker_seen"
MESSAGE_FLAG = "message_flag"
TAINT_WAKEUP = "taint_wakeup"
CONSERVATION = "conservation"

TAINT_TX_RULES = rules.TAINT_TX_RULES  # declared there: retractions and inclusions (core.reorg) know them
TAINT_RULES = TAINT_TX_RULES | {CONSERVATION}

Valuer = Callable[[int], Decimal | None]
"""micro-XEM -> JPY at the alert's price (None: no price known)."""


@dataclass(frozen=True, slots=True)
class TaintFacts:
    """The taint side of an alert: amounts per model (``MODELS`` order) and where it came from."""

    model: Model
    tainted_micro: tuple[int, ...]
    hop: int | None = None
    source: str | None = None
    left: frozenset[Model] = frozenset()
    seeded: bool = False
    tag_lag_blocks: int | None = None
    tag_lag_seconds: int | None = None
    more: tuple[tuple[str, Any], ...] = field(default=())

    def of(self, model: Model | None = None) -> int:
        return self.tainted_micro[MODELS.index(model or self.model)]

    def to_json(self, ctx: RuleContext, value: Valuer | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "model": self.model.value,
            "tainted_xem": {m.value: format_xem(t) for m, t in zip(MODELS, self.tainted_micro, strict=True)},
            "tainted_jpy": None,
            "hop": self.hop,
            "source": self.source,
            "source_label": ctx.name(self.source),
            "left": sorted(m.value for m in self.left),
            "seeded": self.seeded,
        }
        if value is not None:
            priced = {m.value: value(t) for m, t in zip(MODELS, self.tainted_micro, strict=True)}
            if all(v is not None for v in priced.values()):
                data["tainted_jpy"] = {k: str(v) for k, v in priced.items()}
        if self.tag_lag_blocks is not None:
            data["tag_lag_blocks"] = self.tag_lag_blocks
            data["tag_lag_seconds"] = self.tag_lag_seconds
        data.update(self.more)
        return data


def _who(address: str | None, ctx: RuleContext) -> str:
    if not address:
        return "nobody"
    name = ctx.name(address)
    return f"{name} ({short(address)})" if name else short(address)


def _stage_text(confs: int | None) -> str:
    return f"[confirmed, {confs} conf]" if confs is not None else "[confirmed]"


def _models_text(facts: TaintFacts) -> str:
    """The driving model's tainted XEM and the bracket the two bounds give (all in the JSON)."""
    low, high = facts.of(Model.CLEAN_FIRST), facts.of(Model.TAINT_FIRST)
    return (
        f"{grouped_xem(facts.of())} XEM tainted under {facts.model.value} "
        f"(bounds {grouped_xem(low)}-{grouped_xem(high)})"
    )


def _hash_fields(tx: Transaction) -> dict[str, Any]:
    message = message_type = None
    if isinstance(tx, Transfer) and tx.message is not None:
        message, message_type = sanitize(tx.message.text) or None, tx.message.type.value
    return {
        "tx_hash": tx.hash, "inner_hash": tx.inner_hash, "height": tx.height, "tx_time": tx.timestamp,
        "message": message, "message_type": message_type, "fee": tx.fee,
    }


def _amount(tx: Transaction) -> int:
    return tx.xem if isinstance(tx, Transfer) else 0


def _alert(
    rule: str, key: str, stage: Stage, severity: Severity, summary: str, *, ctx: RuleContext, now: datetime,
    facts: TaintFacts | None, value: Valuer | None, extra: Mapping[str, Any] | None = None, **fields: Any,
) -> Alert:
    more: list[tuple[str, Any]] = []
    if facts is not None:
        more.append(("taint", facts.to_json(ctx, value)))
    more += list((extra or {}).items())
    address, counterparty = fields.get("address"), fields.get("counterparty")
    return Alert(
        alert_id=make_alert_id(ctx.settings.network, rule, key, stage),
        rule=rule, stage=stage, severity=severity, detected_at=now, summary=summary,
        label=ctx.name(address), counterparty_label=ctx.name(counterparty), extra=tuple(more), **fields,
    )


def move_alert(
    tx: Transaction, facts: TaintFacts, ctx: RuleContext, *, confs: int | None, now: datetime,
    value: Valuer | None = None, critical_micro: int | None = None, min_micro: int = 0,
) -> Alert:
    """``taint_move``: ``tx`` carried taint (or seeded it)."""
    recipient = tx.recipient if isinstance(tx, Transfer) else None
    what = "TAINT SEED" if facts.seeded else "TAINT MOVE"
    left = f"; left the tracked set under {', '.join(sorted(m.value for m in facts.left))}" if facts.left else ""
    hop = f", hop {facts.hop}" if facts.hop is not None else ""
    summary = (
        f"{what} {grouped_xem(_amount(tx))} XEM from {_who(tx.sender, ctx)} to {_who(recipient, ctx)}: "
        f"{_models_text(facts)}{hop}{left} {_stage_text(confs)}"
    )
    tainted = facts.of()
    threshold = critical_micro if critical_micro is not None else ctx.settings.critical_xem
    severity = (
        Severity.CRITICAL if facts.seeded or tainted >= threshold
        else Severity.WARNING if tainted >= min_micro and tainted > 0 else Severity.INFO
    )
    return _alert(
        TAINT_MOVE, tx.identity, Stage.CONFIRMED, severity, summary, ctx=ctx, now=now, facts=facts, value=value,
        address=tx.sender, counterparty=recipient, amount=_amount(tx), confirmations=confs, **_hash_fields(tx),
    )


def exchange_alert(
    tx: Transfer, facts: TaintFacts, ctx: RuleContext, *, deposit_tag: str | None, confs: int | None,
    now: datetime, value: Valuer | None = None, inferred: Mapping[str, Any] | None = None,
) -> Alert:
    """``taint_exchange``: tainted XEM arrived at an exchange: ``critical`` at a labelled one;
    ``warning`` with ``inferred: true`` and the ``evidence`` at one that only its history
    (``inferred``: the central-wallet evidence) says is an exchange."""
    tag = f", deposit tag {deposit_tag}" if deposit_tag else ", no deposit tag"
    what = "INFERRED EXCHANGE" if inferred is not None else "EXCHANGE"
    summary = (
        f"TAINTED XEM AT {what} {_who(tx.recipient, ctx)}: {grouped_xem(tx.xem)} XEM from "
        f"{_who(tx.sender, ctx)}{tag}: {_models_text(facts)} {_stage_text(confs)}"
    )
    return _alert(
        TAINT_EXCHANGE, tx.identity, Stage.CONFIRMED, Severity.CRITICAL if inferred is None else Severity.WARNING,
        summary, ctx=ctx, now=now, facts=facts, value=value,
        extra={"deposit_tag": deposit_tag, "inferred": inferred is not None,
               "evidence": dict(inferred) if inferred is not None else None},
        address=tx.sender, counterparty=tx.recipient, amount=tx.xem, confirmations=confs, **_hash_fields(tx),
    )


def new_account_alert(
    tx: Transaction, account: str, facts: TaintFacts, ctx: RuleContext, *, followed: bool, confs: int | None,
    now: datetime, value: Valuer | None = None,
) -> Alert:
    """``taint_new_account``: the hop ``tx`` made ``account`` a tainted account."""
    lag = f", tag lag {facts.tag_lag_blocks} block{'s' if facts.tag_lag_blocks != 1 else ''}" if facts.tag_lag_blocks is not None else ""
    follow = "now followed" if followed else "tainted"
    via = f" via {_who(tx.sender, ctx)}" if tx.sender != facts.source else ""
    summary = (
        f"TAINT NEW ACCOUNT {_who(account, ctx)} {follow}: hop {facts.hop} from {_who(facts.source, ctx)}{via}, "
        f"{_models_text(facts)}{lag} {_stage_text(confs)}"
    )
    return _alert(
        TAINT_NEW_ACCOUNT, tx.identity, Stage.CONFIRMED, Severity.WARNING, summary, ctx=ctx, now=now, facts=facts,
        value=value, extra={"followed": followed}, address=account, counterparty=tx.sender, amount=_amount(tx),
        confirmations=confs, **_hash_fields(tx),
    )


def marker_alert(
    tx: Transfer, sighting: MarkerSighting, ctx: RuleContext, *, facts: TaintFacts | None, confs: int | None,
    now: datetime, value: Valuer | None = None,
) -> Alert:
    """``marker_seen``: ``sighting.address`` received the marker mosaic ``sighting.mosaic_id``."""
    summary = (
        f"MARKER {sighting.mosaic_id} on {_who(sighting.address, ctx)} from {_who(sighting.tagger, ctx)} "
        f"{_stage_text(confs)}"
    )
    fields = _hash_fields(tx)
    return _alert(
        MARKER_SEEN, tx.identity, Stage.CONFIRMED, Severity.INFO, summary, ctx=ctx, now=now, facts=facts,
        value=value, extra={"marker": sighting.mosaic_id, "via": sighting.via.value}, address=sighting.address,
        counterparty=sighting.tagger, amount=tx.xem, mosaics=tx.mosaics, confirmations=confs, **fields,
    )


def marker_held_alert(
    sighting: MarkerSighting, ctx: RuleContext, *, facts: TaintFacts | None, height: int | None, now: datetime,
    value: Valuer | None = None,
) -> Alert:
    """``marker_seen`` (``via: holding``): ``sighting.address`` holds the marker mosaic (read from
    its owned mosaics; no transaction). Key: the (account, marker) pair; stage ``firing``."""
    summary = (
        f"MARKER {sighting.mosaic_id} held by {_who(sighting.address, ctx)} "
        f"({sighting.quantity:,} units) [holding]"
    )
    return _alert(
        MARKER_SEEN, f"held|{sighting.address}|{sighting.mosaic_id}", Stage.FIRING, Severity.INFO, summary,
        ctx=ctx, now=now, facts=facts, value=value,
        extra={"marker": sighting.mosaic_id, "via": sighting.via.value, "quantity": sighting.quantity},
        address=sighting.address, height=height,
    )


def message_alert(
    tx: Transfer, report: MessageReport, ctx: RuleContext, *, facts: TaintFacts | None, confs: int | None,
    now: datetime, value: Valuer | None = None,
) -> Alert:
    """``message_flag``: the message of ``tx`` carries flags (adverts, other chains, spoofing...)."""
    kinds = ", ".join(dict.fromkeys(f.kind.value for f in report.flags))
    first = report.flags[0].fragment if report.flags else ""
    summary = (
        f"MESSAGE FLAG {kinds} on {grouped_xem(tx.xem)} XEM from {_who(tx.sender, ctx)} to "
        f"{_who(tx.recipient, ctx)}: \"{first[:60]}\" {_stage_text(confs)}"
    )
    flags = [{"kind": f.kind.value, "fragment": f.fragment, "detail": f.detail} for f in report.flags]
    severity = Severity.WARNING if facts is not None else Severity.INFO
    return _alert(
        MESSAGE_FLAG, tx.identity, Stage.CONFIRMED, severity, summary, ctx=ctx, now=now, facts=facts, value=value,
        extra={"flags": flags, "deposit_tag": report.deposit_tag}, address=tx.sender, counterparty=tx.recipient,
        amount=tx.xem, confirmations=confs, **_hash_fields(tx),
    )


def wakeup_alert(
    tx: Transaction, facts: TaintFacts, ctx: RuleContext, *, quiet_days: int, confs: int | None, now: datetime,
    value: Valuer | None = None,
) -> Alert:
    """``taint_wakeup``: a tainted account quiet for ``quiet_days`` days moves."""
    recipient = tx.recipient if isinstance(tx, Transfer) else None
    summary = (
        f"TAINT WAKE-UP {_who(tx.sender, ctx)} moved after {quiet_days:,} days quiet: "
        f"{grouped_xem(_amount(tx))} XEM to {_who(recipient, ctx)}, {_models_text(facts)} {_stage_text(confs)}"
    )
    return _alert(
        TAINT_WAKEUP, tx.identity, Stage.CONFIRMED, Severity.CRITICAL, summary, ctx=ctx, now=now, facts=facts,
        value=value, extra={"quiet_days": quiet_days}, address=tx.sender, counterparty=recipient,
        amount=_amount(tx), confirmations=confs, **_hash_fields(tx),
    )


def conservation_alert(
    violation: ConservationViolation, ctx: RuleContext, *, height: int, drive: Model, now: datetime,
) -> Alert:
    """``conservation``: a model's books do not balance; one alert per violation."""
    model = violation.model.value if violation.model else "all"
    key = f"{violation.kind}|{model}|{violation.address or ''}"
    summary = f"CONSERVATION {violation.describe()} (at height {height:,})"
    return _alert(
        CONSERVATION, key, Stage.FIRING, Severity.WARNING, summary, ctx=ctx, now=now, facts=None, value=None,
        extra={
            "taint": {"model": drive.value, "violation": violation.kind, "violation_model": model,
                      "expected_xem": format_xem(violation.expected_micro), "actual_xem": format_xem(violation.actual_micro),
                      "remainder_xem": format_xem(violation.remainder_micro)},
        },
        address=violation.address, height=height,
    )


__all__ = [
    "CONSERVATION", "MARKER_SEEN", "MESSAGE_FLAG", "TAINT_EXCHANGE", "TAINT_MOVE", "TAINT_NEW_ACCOUNT", "TAINT_RULES",
    "TAINT_TX_RULES", "TAINT_WAKEUP", "TaintFacts", "conservation_alert", "exchange_alert", "marker_alert",
    "marker_held_alert",
    "message_alert", "move_alert", "new_account_alert", "wakeup_alert",
]
