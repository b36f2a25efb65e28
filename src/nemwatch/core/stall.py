"""The watcher watching itself: ``stalled`` when it cannot follow the chain (pure logic, no I/O).

A watcher that silently stops following is worse than one that crashes. After every cycle the
engine tells ``StallWatch`` how it went; the watch is *stalled* when

- ``max_failed_cycles`` cycles in a row failed (a node error, every node down, a block whose
  signature does not verify, a fork deeper than NIS can rewrite, ...), or
- the cursor is more than ``max_behind_blocks`` blocks behind the head and the gap did not
  shrink for ``max_failed_cycles`` successful cycles in a row (a backlog being caught up, the gap
  shrinks every cycle: that is not a stall; nor is one cycle in which the head jumped ahead).

One ``stalled`` alert (stage ``firing``, critical, with the cause) starts an episode and one
``resolved`` ends it, once a cycle succeeds with the cursor within ``max_behind_blocks`` of the
head. Episodes are numbered, and the number is kept across restarts by the engine, so alert
ids stay distinct and a restart in the middle of an episode still ends it with ``resolved``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.text import sanitize

STALLED = "stalled"
DEFAULT_FAILED_CYCLES = 3
DEFAULT_BEHIND_BLOCKS = 5
CAUSE_MAX_LEN = 300


@dataclass(frozen=True, slots=True)
class StallChange:
    kind: str  # "stalled" | "recovered"
    episode: int
    cause: str
    failed_cycles: int
    behind_blocks: int | None
    head: int | None
    cursor: int | None


@dataclass
class StallWatch:
    max_failed_cycles: int = DEFAULT_FAILED_CYCLES
    max_behind_blocks: int = DEFAULT_BEHIND_BLOCKS
    episode: int = 0
    stalled: bool = False
    failed_cycles: int = 0
    idle_cycles: int = 0  # successful cycles in a row behind by more than allowed, gap not shrinking
    _last_gap: int | None = None

    def restore(self, episode: int, stalled: bool) -> None:
        self.episode, self.stalled = episode, stalled

    def observe(
        self, *, error: str | None, head: int | None, cursor: int | None
    ) -> StallChange | None:
        """One cycle's outcome: ``error`` is why it failed (None: it succeeded, with the head and
        the cursor it ended on). Returns the episode edge it caused, if any."""
        gap: int | None = None
        if error is not None:
            self.failed_cycles += 1
        else:
            self.failed_cycles = 0
            if head is not None and cursor is not None:
                gap = max(0, head - cursor)
        previous, self._last_gap = self._last_gap, gap if gap is not None else self._last_gap
        if gap is not None:
            behind = gap > self.max_behind_blocks and previous is not None and gap >= previous
            self.idle_cycles = self.idle_cycles + 1 if behind else 0
        falling_behind = self.idle_cycles >= self.max_failed_cycles
        if not self.stalled:
            if self.failed_cycles >= self.max_failed_cycles:
                cause = f"{self.failed_cycles} cycles in a row failed; the last: {error}"
            elif falling_behind:
                cause = (
                    f"the cursor ({cursor:,}) is {gap} blocks behind the head ({head:,}) and has not "
                    f"caught up for {self.idle_cycles} cycles (at most {self.max_behind_blocks} allowed)"
                )
            else:
                return None
            self.stalled = True
            self.episode += 1
            return self._change("stalled", cause, gap, head, cursor)
        if error is None and gap is not None and gap <= self.max_behind_blocks:
            self.stalled = False
            return self._change("recovered", f"following again: {gap} block(s) behind the head", gap, head, cursor)
        return None

    def _change(self, kind: str, cause: str, gap: int | None, head: int | None, cursor: int | None) -> StallChange:
        text = sanitize(cause, max_len=CAUSE_MAX_LEN)
        return StallChange(kind, self.episode, text, self.failed_cycles, gap, head, cursor)


def stalled_alert(change: StallChange, *, network: str, now: datetime) -> Alert:
    """The ``stalled`` alert of an episode edge: ``firing`` (critical) or ``resolved``."""
    firing = change.kind == "stalled"
    stage = Stage.FIRING if firing else Stage.RESOLVED
    if firing:
        summary = f"STALLED: nemwatch is not following the chain: {change.cause}"
    else:
        summary = f"STALL RESOLVED: {change.cause}"
    return Alert(
        alert_id=make_alert_id(network, STALLED, f"episode#{change.episode}", stage),
        rule=STALLED,
        stage=stage,
        severity=Severity.CRITICAL if firing else Severity.INFO,
        detected_at=now,
        summary=summary,
        height=change.cursor,
        extra=(
            ("episode", change.episode),
            ("cause", change.cause),
            ("failed_cycles", change.failed_cycles),
            ("behind_blocks", change.behind_blocks),
            ("head", change.head),
        ),
    )


def no_node_left(alert: Alert) -> Alert:
    """A node-trouble alert raised while no node at all is usable: critical, and says so."""
    if alert.stage is not Stage.FIRING:
        return alert
    return replace(alert, severity=Severity.CRITICAL, summary=f"{alert.summary}; NO NODE IS USABLE")


__all__ = ["STALLED", "StallChange", "StallWatch", "no_node_left", "stalled_alert"]
