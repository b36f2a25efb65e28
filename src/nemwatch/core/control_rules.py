"""Alerts on transactions that change who controls a watched account.

- ``multisig_change`` (always critical): a multisig modification (type 4097) on a watched
  account, directly or inside a multisig wrapper. Adding cosigners to an account or converting
  it to multisig is how an attacker with its key locks the owner out; removing cosigners or
  lowering the minimum weakens it. The summary lists cosigners added and removed and the change
  of the minimum; the JSON line carries them as ``cosigners_added``, ``cosigners_removed`` and
  ``min_cosignatories_change``.
- ``importance_transfer`` (info): a watched account activates or deactivates remote harvesting
  (type 2049); ``mode`` and ``remote`` say how and to which remote account.

Both are staged like outflows (``unconfirmed``, ``confirmed``, ``settled``, ``retracted``) and
keyed by the transaction identity. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime

from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.models import TxKind
from nemwatch.core.rules import (
    IMPORTANCE_TRANSFER,
    MULTISIG_CHANGE,
    RuleContext,
    Subject,
    _facts,
    _stage_text,
    _tx_alert,
    _who,
    short,
)


def _addresses(values: object) -> list[str]:
    return [str(v) for v in values] if isinstance(values, (list, tuple)) else []


def multisig_change_alert(
    tx: Subject, ctx: RuleContext, *, stage: Stage, confs: int | None, now: datetime, node: str | None = None
) -> Alert | None:
    f = _facts(tx, ctx.settings.network)
    if f.kind != TxKind.MULTISIG_MODIFICATION.value or f.sender not in ctx.watch:
        return None
    detail = dict(f.detail)
    added, removed = _addresses(detail.get("cosigners_added")), _addresses(detail.get("cosigners_removed"))
    change = int(detail.get("min_cosignatories_change") or 0)
    parts = []
    if added:
        parts.append("cosigners added " + ", ".join(_who(a, ctx) for a in added))
    if removed:
        parts.append("removed " + ", ".join(_who(a, ctx) for a in removed))
    if change:
        parts.append(f"min cosignatories {change:+d}")
    what = "; ".join(parts) or "no change listed"
    cosigner = f" (signed by cosigner {short(f.initiator)})" if f.initiator else ""
    summary = f"MULTISIG CHANGE on {_who(f.sender, ctx)}: {what}{cosigner} {_stage_text(stage, confs)}"
    return _tx_alert(
        f, rule=MULTISIG_CHANGE, stage=stage, severity=Severity.CRITICAL, address=f.sender,
        counterparty=added[0] if len(added) == 1 else None, confs=confs, summary=summary, ctx=ctx, now=now, node=node,
    )


def importance_transfer_alert(
    tx: Subject, ctx: RuleContext, *, stage: Stage, confs: int | None, now: datetime, node: str | None = None
) -> Alert | None:
    f = _facts(tx, ctx.settings.network)
    if f.kind != TxKind.IMPORTANCE_TRANSFER.value or f.sender not in ctx.watch:
        return None
    detail = dict(f.detail)
    mode = str(detail.get("mode") or "")
    remote = str(detail.get("remote") or "")
    verb = "activates" if mode == "activate" else "deactivates"
    summary = (
        f"IMPORTANCE TRANSFER {_who(f.sender, ctx)} {verb} remote harvesting with {_who(remote, ctx)} "
        f"{_stage_text(stage, confs)}"
    )
    return _tx_alert(
        f, rule=IMPORTANCE_TRANSFER, stage=stage, severity=Severity.INFO, address=f.sender,
        counterparty=remote or None, confs=confs, summary=summary, ctx=ctx, now=now, node=node,
    )


def control_alerts(
    tx: Subject, ctx: RuleContext, *, stage: Stage, confs: int | None, now: datetime, node: str | None = None
) -> list[Alert]:
    out = [
        multisig_change_alert(tx, ctx, stage=stage, confs=confs, now=now, node=node),
        importance_transfer_alert(tx, ctx, stage=stage, confs=confs, now=now, node=node),
    ]
    return [a for a in out if a is not None]


__all__ = ["control_alerts", "importance_transfer_alert", "multisig_change_alert"]
