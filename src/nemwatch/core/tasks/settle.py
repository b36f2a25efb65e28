"""Settling and expiry: the follower's bookkeeping after each round of new blocks.

- ``settle_pass``: alerts whose transfer reached ``settle_after`` confirmations get their
  ``settled`` stage (one query on the partial index of alerts awaiting settlement);
- ``expire_unconfirmed``: an unconfirmed transfer past every possible deadline (NIS deadlines
  are at most 24 h, measured in chain time, so against the newest block's time) never made it:
  it is retracted, with its alerts.

Both write through the engine's one-transaction commit; no request to a node.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nemwatch.core import rules
from nemwatch.core.alert import Stage, make_alert_id
from nemwatch.core.store.settling import due_for_settlement

if TYPE_CHECKING:
    from nemwatch.core.engine import CycleStats, Engine

UNCONFIRMED_LIFETIME = timedelta(hours=24, minutes=5)  # NIS deadlines are at most 24 h
_STAGE_SUFFIX = re.compile(r" \[[^\[\]]*\]$")


def settle_pass(engine: Engine, head: int, stats: CycleStats) -> None:
    max_height = head - engine.settings.settle_after + 1
    due = due_for_settlement(engine.store, max_height)
    if not due:
        return
    now = engine.clock()
    settled = []
    for alert, height in due:
        identity = alert.inner_hash or alert.tx_hash
        if identity is None:
            continue
        confs = rules.confirmations(height, head)
        body = _STAGE_SUFFIX.sub("", alert.summary)
        settled.append(
            replace(
                alert,
                alert_id=make_alert_id(engine.network, alert.rule, identity, Stage.SETTLED),
                stage=Stage.SETTLED,
                confirmations=confs,
                height=height,
                detected_at=now,
                summary=f"{body} [settled, {confs} conf]",
            )
        )
    with engine._tx():
        engine._queue(settled, stats)


def expire_unconfirmed(engine: Engine, chain_time: datetime | None, stats: CycleStats) -> None:
    """Retract the unconfirmed transfers ``chain_time`` (the newest block's) proves expired."""
    if chain_time is None:
        return
    now = engine.clock()
    expired = [r for r in engine.store.unconfirmed_transfers() if chain_time - r.tx_time > UNCONFIRMED_LIFETIME]
    if not expired:
        return
    with engine._tx():
        for row in expired:
            engine.store.mark_retracted(row.identity)
            engine._queue(
                rules.retraction_alerts(engine.store.alerts_for_identity(row.identity), network=engine.network, now=now),
                stats,
            )


__all__ = ["UNCONFIRMED_LIFETIME", "expire_unconfirmed", "settle_pass"]
