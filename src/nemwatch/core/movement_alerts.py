"""The alerts one stored movement raises at a stage: outflow, inflow, and the control rules
(multisig change, importance transfer). Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from nemwatch.core import rules
from nemwatch.core.alert import Alert, Stage
from nemwatch.core.control_rules import control_alerts
from nemwatch.core.store.rows import TransferRow


def movement_alerts(
    row: TransferRow,
    ctx: rules.RuleContext,
    *,
    stage: Stage,
    confs: int | None,
    now: datetime,
    levy_unknown: tuple[str, ...] = (),
    node: str | None = None,
) -> list[Alert]:
    """``levy_unknown``: transferred mosaics whose definition (so whose levy) is not known; an
    outflow then says so (``levy_unknown`` in its JSON line) instead of claiming there is none."""
    out: list[Alert] = []
    for make in (rules.outflow_alert, rules.inflow_alert):
        alert = make(row, ctx, stage=stage, confs=confs, now=now, node=node)
        if alert is not None:
            if levy_unknown and alert.rule == rules.OUTFLOW:
                alert = replace(alert, extra=(*alert.extra, ("levy_unknown", list(levy_unknown))))
            out.append(alert)
    out += control_alerts(row, ctx, stage=stage, confs=confs, now=now, node=node)
    return out


__all__ = ["movement_alerts"]
