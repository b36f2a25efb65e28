"""Broken delivery as episodes: one "delivery broken" alert when a sink starts dead-lettering,
none for the further dead letters of the same episode, and one "delivery recovered" when the
sink delivers again.

A sink that is down for an hour dead-letters every alert of that hour (each one also stays
listed by ``nemwatch outbox`` and can be re-sent); what the other sinks get is one alert that
it broke, and one that it came back, as for node trouble. The episode survives a restart: it
is read back from the outbox (the sink's dead letters since its last delivery).
"""

from __future__ import annotations

from datetime import datetime

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.rules import DELIVERY
from nemwatch.core.store import Store


class BrokenSinks:
    """Which sinks are in an episode of broken delivery, keyed by the episode's first dead letter."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._open: dict[str, str | None] = {}  # sink -> first dead alert id (None: not broken)

    def start(self, sink: str, failed_alert_id: str) -> bool:
        """Record a dead letter on ``sink``; True when it opens an episode (raise the alert)."""
        if self.episode(sink) is not None:
            return False
        self._open[sink] = failed_alert_id
        return True

    def episode(self, sink: str) -> str | None:
        if sink not in self._open:
            self._open[sink] = self._store.dead_episode_start(sink)
        return self._open[sink]

    def end(self, sink: str) -> str | None:
        """A delivery on ``sink`` succeeded: the episode's first dead alert id when one ends."""
        first = self._open.get(sink)
        self._open[sink] = None
        return first

    def forget(self, sink: str) -> None:
        self._open.pop(sink, None)


def recovered_alert(sink: str, first_failed_id: str, *, network: str, now: datetime) -> Alert:
    """"Delivery recovered": ``sink`` (a redacted name) delivers again after an episode."""
    return Alert(
        alert_id=make_alert_id(network, DELIVERY, f"{first_failed_id}|{sink}", Stage.RESOLVED),
        rule=DELIVERY,
        stage=Stage.RESOLVED,
        severity=Severity.INFO,
        detected_at=now,
        summary=f"DELIVERY RECOVERED {sink}: delivering again; its dead letters are listed by `nemwatch outbox`",
        extra=(("sink", sink),),
    )
