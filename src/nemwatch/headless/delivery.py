"""The outbox dispatcher: deliver every due alert to its sinks, after the commit that stored it.

At-least-once, per sink: an outbox row stays ``pending`` until its sink confirms, so a crash
at any point only repeats a send (receivers drop duplicates by ``alert_id``; the journal sink
never repeats). Each sink takes its due rows in alert order, up to ``batch`` a pass, sinks side
by side; for each row:

- success: ``delivered``;
- ``RetryableError`` (or an unexpected exception): ``attempts + 1`` and the next attempt after
  the policy's backoff (1 s, 2 s, 4 s ... up to 5 min, jittered) or the sink's ``Retry-After``.
  The sink is then left alone until that time: its other due rows wait without counting an
  attempt, so a dead endpoint is not hammered and alert order is kept;
- ``PermanentError``, or retrying for longer than ``give_up_after``: ``dead``, and in the same
  transaction, when it opens an episode of broken delivery on that sink, a "delivery broken"
  alert (rule ``delivery``, critical) is queued for every other sink: one per episode, not one
  per dead letter; the sink's next success queues one "delivery recovered" (see ``episodes``).
  A broken delivery of a ``delivery`` alert is only logged (no cascade). Dead letters are
  listed and re-sent with ``nemwatch outbox``.

Every error text stored or logged is scrubbed of the sink's secrets. Each outcome is also
handed to ``on_event`` (e.g. ``EventBus.publish``) as a core ``DeliveryOutcome`` event.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from nemwatch.core.events import DeliveryOutcome
from nemwatch.core.rules import DELIVERY, delivery_alert
from nemwatch.core.store import Delivery, Store
from nemwatch.headless.episodes import BrokenSinks, recovered_alert
from nemwatch.headless.logscrub import protect
from nemwatch.headless.retry import RetryPolicy
from nemwatch.headless.sinks.base import PermanentError, RetryableError, Sink, describe
from nemwatch.redact import scrub

log = logging.getLogger("nemwatch.delivery")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
_MAX_PASSES = 3
_IDLE_FLOOR = 0.1


@dataclass
class DeliveryStats:
    delivered: int = 0
    retried: int = 0  # failed, another attempt scheduled
    dead: int = 0
    deferred: int = 0  # due, but their sink is backing off
    raised: int = 0  # "delivery broken" alerts queued

    def add(self, other: DeliveryStats) -> None:
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.deferred += other.deferred
        self.raised += other.raised


class Dispatcher:
    """Delivers the store's outbox to ``sinks`` (outbox name -> sink)."""

    def __init__(
        self,
        store: Store,
        sinks: Mapping[str, Sink],
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        *,
        policy: RetryPolicy | None = None,
        network: str = "mainnet",
        rng: random.Random | None = None,
        batch: int = 200,
        on_event: Callable[[DeliveryOutcome], None] | None = None,
    ) -> None:
        self._store = store
        self.on_event = on_event
        self._sinks = dict(sinks)
        self._clock = clock
        self._sleep = sleep
        self._policy = policy or RetryPolicy()
        self._network = network
        self._rng = rng or random.Random()
        self._batch = batch
        self._backoff_until: dict[str, datetime] = {}
        # one lock and one wake-up per sink: a sink that takes 30 s per delivery holds up no other
        self._locks = {name: asyncio.Lock() for name in self._sinks}
        self._wakes = {name: asyncio.Event() for name in self._sinks}
        self._broken = BrokenSinks(store)
        for sink in self._sinks.values():
            protect(sink.secrets)

    @property
    def sink_names(self) -> list[str]:
        return list(self._sinks)

    async def deliver_pending(self, now: datetime | None = None) -> DeliveryStats:
        """Send every outbox row due at ``now`` (default: the clock) and record the outcomes."""
        total = DeliveryStats()
        for _ in range(_MAX_PASSES):
            stats = await self._pass(now or self._clock())
            total.add(stats)
            if not stats.raised:
                break  # a pass that raised "delivery broken" alerts is followed by one more
        return total

    def notify(self) -> None:
        """New rows are in the outbox (called after the commit that stored them): every sink's
        loop in ``run`` looks at once instead of finishing its wait."""
        for event in self._wakes.values():
            event.set()

    def next_due(self, now: datetime | None = None) -> datetime | None:
        """When a row can next be sent, taking each sink's backoff into account."""
        now = now or self._clock()
        times = [due for name in self._sinks if (due := self._next_due(name, now)) is not None]
        return min(times) if times else None

    def _next_due(self, name: str, now: datetime) -> datetime | None:
        due = self._store.next_attempt_at([name])
        if due is None:
            return None
        blocked = self._backoff_until.get(name)
        return max(due, blocked) if blocked is not None and blocked > now else due

    async def run(self, stop: asyncio.Event, wake: asyncio.Event | None = None, idle: float = 30.0) -> None:
        """Deliver until ``stop`` is set, each sink in a loop of its own (a slow or dead sink
        never delays another's alerts). ``notify()``, or setting ``wake``, cuts waits short."""
        loops = [asyncio.create_task(self._run_sink(name, stop, idle)) for name in self._sinks]
        if not loops:  # no sink: nothing to deliver, but the loop lasts until stop like any other
            loops.append(asyncio.create_task(stop.wait()))  # type: ignore[arg-type]
        if wake is not None:
            loops.append(asyncio.create_task(self._relay(wake, stop)))
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _relay(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._wait(stop, wake, 3600.0)
            if wake.is_set():
                wake.clear()
                self.notify()

    async def _run_sink(self, name: str, stop: asyncio.Event, idle: float) -> None:
        event = self._wakes[name]
        while not stop.is_set():
            event.clear()  # a notify() while this pass runs makes the next wait return at once
            stats = await self._sink_pass(name, self._clock())
            if stats.raised:
                self.notify()  # "delivery broken/recovered" alerts wait for the other sinks
            now = self._clock()
            due = self._next_due(name, now)
            wait = idle if due is None else min(idle, max(0.0, (due - now).total_seconds()))
            if not (stats.delivered or stats.retried or stats.dead):
                wait = max(wait, _IDLE_FLOOR)  # nothing moved: never spin
            if wait > 0:
                await self._wait(stop, event, wait)

    async def aclose(self) -> None:
        for sink in self._sinks.values():
            await sink.aclose()

    async def _wait(self, stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
        waiters = [asyncio.ensure_future(self._sleep(seconds)), asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _pass(self, now: datetime) -> DeliveryStats:
        # Each sink gets its own batch, so a sink that is backing off never starves the others.
        parts = await asyncio.gather(*(self._sink_pass(name, now) for name in self._sinks))
        stats = DeliveryStats()
        for part in parts:
            stats.add(part)
        return stats

    async def _sink_pass(self, name: str, now: datetime) -> DeliveryStats:
        """One batch of ``name``'s due rows, under that sink's lock (never sent twice at once)."""
        async with self._locks[name]:
            blocked = self._backoff_until.get(name)
            if blocked is not None and blocked > now:
                return DeliveryStats()
            rows = self._store.pending_deliveries(now, self._batch, sinks=[name])
            return await self._drain(name, rows, now) if rows else DeliveryStats()

    async def _drain(self, name: str, rows: list[Delivery], now: datetime) -> DeliveryStats:
        sink = self._sinks[name]
        stats = DeliveryStats()
        for row in rows:
            blocked = self._backoff_until.get(name)
            if blocked is not None and blocked > now:
                stats.deferred += 1
                continue
            try:
                await sink.send(row.alert)
            except PermanentError as exc:
                self._dead(row, scrub(str(exc), sink.secrets), stats)
            except RetryableError as exc:
                self._retry(row, scrub(str(exc), sink.secrets), exc.retry_after, stats)
            except Exception as exc:  # a sink bug must not stop the others
                self._retry(row, f"{name}: {describe(exc, sink.secrets)}", None, stats)
            else:
                at = self._clock()
                self._store.mark_delivered(row.alert_id, name, at)
                self._backoff_until.pop(name, None)
                stats.delivered += 1
                self._recovered(name, at, stats)
                self._publish(row, "delivered", None, None, at)
        return stats

    def _retry(self, row: Delivery, error: str, retry_after: float | None, stats: DeliveryStats) -> None:
        at = self._clock()
        failures = row.attempts + 1
        delay = self._policy.delay(failures, self._rng, retry_after)
        next_at = at + timedelta(seconds=delay)
        if next_at - row.created_at > self._policy.give_up_after:
            self._dead(row, f"gave up after {failures} attempts: {error}", stats)
            return
        self._store.mark_failed(row.alert_id, row.sink, error, next_at)
        self._backoff_until[row.sink] = next_at
        stats.retried += 1
        self._publish(row, "retry", error, next_at, at)
        log.warning(
            "alert %s to %s failed (attempt %d): %s; next attempt in %.1f s",
            row.alert_id, row.sink, failures, error, delay,
        )

    def _dead(self, row: Delivery, error: str, stats: DeliveryStats) -> None:
        at = self._clock()
        others = [n for n in self._sinks if n != row.sink]
        with self._store.transaction():
            opens = row.alert.rule != DELIVERY and self._broken.start(row.sink, row.alert_id)
            self._store.mark_dead(row.alert_id, row.sink, error, at)
            if opens and others:
                broken = delivery_alert(row.alert, row.sink, error, network=self._network, now=at)
                stats.raised += len(self._store.add_alerts([broken], others))
        stats.dead += 1
        self._publish(row, "dead", error, None, at)
        log.error("alert %s to %s dead-lettered: %s", row.alert_id, row.sink, error)

    def _recovered(self, sink: str, at: datetime, stats: DeliveryStats) -> None:
        if self._broken.episode(sink) is None:
            return
        first = self._broken.end(sink)
        others = [n for n in self._sinks if n != sink]
        if first is not None and others:
            alert = recovered_alert(sink, first, network=self._network, now=at)
            stats.raised += len(self._store.add_alerts([alert], others))
        log.warning("%s delivers again", sink)

    def _publish(self, row: Delivery, outcome: str, error: str | None, next_at: datetime | None, at: datetime) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(DeliveryOutcome(row.alert_id, row.sink, outcome, error, next_at, at))
        except Exception:  # a face's bug must not stop delivery
            log.exception("delivery event hook failed")
