"""What a chain reorganisation means for the alert stream (pure logic, no I/O).

**Inclusions.** NIS returns the transactions of a rewritten block to the unconfirmed pool and
may include them again, at another height, cycles later. Receivers drop duplicates by
``alert_id`` and keep the last stage they saw of a transaction, so every inclusion of a
transaction gets its own identity: inclusion ``n`` is ``1 + the number of retractions already
raised`` for that (rule, transaction). The first inclusion keeps the plain key (the identity),
so ids raised before a fork never change; inclusion ``n >= 2`` keys its ``confirmed``,
``settled`` and ``retracted`` alerts with ``"<identity>#<n>"``, carries ``"inclusion": n`` in
its JSON line and ``, inclusion n`` in its summary's stage bracket. A stream read in order then
always ends on the chain's verdict: ``confirmed, retracted, confirmed`` (the re-inclusion) ends
on-chain, ``confirmed, retracted`` ends off-chain.

**Deep forks.** A fork that reaches the oldest block the follower keeps raises one ``node``
alert (stage ``firing``; there is no ``resolved``: the follower has already re-followed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.rules import NODE, TX_RULES

_BRACKET = re.compile(r" \[([^\[\]]*)\]$")
_INCLUSION_NOTE = re.compile(r", inclusion \d+$")


def identity_of(alert: Alert) -> str | None:
    return alert.inner_hash or alert.tx_hash


def inclusion_number(previous: Iterable[Alert], rule: str) -> int:
    """The inclusion the next alert of ``rule`` belongs to, given the alerts already raised
    about its transaction: 1 + the retractions of that rule among them."""
    return 1 + sum(1 for a in previous if a.rule == rule and a.stage is Stage.RETRACTED)


def inclusion_key(identity: str, number: int) -> str:
    return identity if number <= 1 else f"{identity}#{number}"


def for_inclusion(alert: Alert, number: int, *, network: str) -> Alert:
    """``alert`` keyed, marked and described as belonging to inclusion ``number``."""
    identity = identity_of(alert)
    if number <= 1 or identity is None or alert.rule not in TX_RULES:
        return alert
    extra = tuple((k, v) for k, v in alert.extra if k != "inclusion") + (("inclusion", number),)
    return replace(
        alert,
        alert_id=make_alert_id(network, alert.rule, inclusion_key(identity, number), alert.stage),
        extra=extra,
        summary=_note(alert.summary, number),
    )


def _note(summary: str, number: int) -> str:
    match = _BRACKET.search(summary)
    if match is None:
        return f"{summary} [inclusion {number}]"
    inside = _INCLUSION_NOTE.sub("", match.group(1))
    return f"{summary[: match.start()]} [{inside}, inclusion {number}]"


def rekey(
    alerts: Sequence[Alert], previous_of: Callable[[str], Sequence[Alert]], *, network: str
) -> list[Alert]:
    """Give every transaction alert the identity of the inclusion it belongs to.

    ``previous_of(identity)`` returns the alerts already stored about a transaction, oldest
    first. Alerts in ``alerts`` count too, in order (a retraction queued in the same batch)."""
    out: list[Alert] = []
    history: dict[str, list[Alert]] = {}
    for alert in alerts:
        identity = identity_of(alert)
        if identity is None or alert.rule not in TX_RULES:
            out.append(alert)
            continue
        if identity not in history:
            history[identity] = list(previous_of(identity))
        number = inclusion_number(history[identity], alert.rule)
        fresh = for_inclusion(alert, number, network=network)
        history[identity].append(fresh)
        out.append(fresh)
    return out


def deep_fork_alert(
    *,
    network: str,
    ancestor: int,
    old_tip: int,
    new_tip: int,
    oldest_kept: int,
    exact: bool,
    retracted: int,
    first_new_signature: str,
    now: datetime,
) -> Alert:
    """The ``node`` alert for a fork that reached the oldest block kept."""
    depth = old_tip - ancestor
    where = (
        f"from height {ancestor + 1:,} ({depth} blocks)"
        if exact
        else f"below height {oldest_kept:,}, the oldest block kept (at least {depth} blocks)"
    )
    summary = (
        f"DEEP FORK: the nodes rewrote the chain {where}; re-followed from height {ancestor + 1:,} "
        f"to {new_tip:,}, {retracted} watched transaction(s) retracted"
    )
    key = f"fork@{ancestor}:{first_new_signature[:32]}"
    return Alert(
        alert_id=make_alert_id(network, NODE, key, Stage.FIRING),
        rule=NODE,
        stage=Stage.FIRING,
        severity=Severity.CRITICAL if retracted else Severity.WARNING,
        detected_at=now,
        summary=summary,
        height=ancestor + 1,
        extra=(
            ("kind", "deep_fork"),
            ("ancestor", ancestor),
            ("ancestor_exact", exact),
            ("old_tip", old_tip),
            ("new_tip", new_tip),
            ("retracted", retracted),
        ),
    )


__all__ = [
    "deep_fork_alert",
    "for_inclusion",
    "inclusion_key",
    "inclusion_number",
    "rekey",
]
