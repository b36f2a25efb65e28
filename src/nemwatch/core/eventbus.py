"""The event stream faces subscribe to: the engine, the price loop and delivery publish here.

``EventBus.publish(event)`` never blocks and never raises: it calls the synchronous listeners
(a listener that raises is logged and skipped) and appends the event to every subscription's
bounded queue. A face reads a subscription as an async iterator and leaves it with ``close()``
or by leaving ``async with``::

    async with bus.subscribe(maxsize=1000) as events:
        async for event in events:
            ...

A slow face never slows the engine: when its queue is full the oldest event that is not an
alert is dropped and counted. Alerts are never dropped silently: they are dropped only when
the whole queue is alerts, and then the next item the face reads is an ``EventsDropped``
saying how many events and alerts it missed (the alert log in the store still has them all),
and a warning is logged.

``publish`` may be called from any thread: a subscription wakes its reader on the event loop
it reads from.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from nemwatch.core.events import AlertRaised, Event, EventsDropped

log = logging.getLogger("nemwatch.events")

Listener = Callable[[Any], None]
DEFAULT_MAXSIZE = 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Subscription:
    """One face's bounded queue of events; an async iterator that ends once closed."""

    def __init__(
        self,
        bus: EventBus,
        maxsize: int,
        kinds: tuple[type, ...] | None,
        clock: Callable[[], datetime],
    ) -> None:
        if maxsize < 1:
            raise ValueError("a subscription needs maxsize >= 1")
        self._bus = bus
        self.maxsize = maxsize
        self.kinds = kinds
        self._clock = clock
        self._queue: deque[Any] = deque()
        self._lock = threading.Lock()
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._lost_events = 0  # since the last EventsDropped handed out
        self._lost_alerts = 0
        self.dropped_events = 0  # totals over the subscription's life
        self.dropped_alerts = 0
        self.received = 0

    # -- the publishing side (any thread) --------------------------------------------------

    def wants(self, event: object) -> bool:
        return self.kinds is None or isinstance(event, self.kinds)

    def offer(self, event: object) -> None:
        with self._lock:
            if self._closed:
                return
            self.received += 1
            if len(self._queue) >= self.maxsize:
                self._evict_one(incoming_alert=isinstance(event, AlertRaised))
            self._queue.append(event)
        self._wake()

    def _evict_one(self, *, incoming_alert: bool) -> None:
        for i, queued in enumerate(self._queue):
            if not isinstance(queued, AlertRaised):
                del self._queue[i]
                self._lost_events += 1
                self.dropped_events += 1
                return
        # the queue is all alerts: drop the oldest one, loudly
        self._queue.popleft()
        self._lost_alerts += 1
        self.dropped_alerts += 1
        log.warning(
            "a subscriber is %d alerts behind; the oldest queued alert was dropped from its stream "
            "(it stays in the store's alert log)", self.maxsize,
        )

    def _wake(self) -> None:
        waiter, loop = self._waiter, self._loop
        if waiter is None or loop is None:
            return
        try:
            loop.call_soon_threadsafe(_resolve, waiter)
        except RuntimeError:  # the reader's loop is closed: nobody is waiting any more
            pass

    # -- the reading side ----------------------------------------------------------------

    def _pop(self) -> object | None:
        with self._lock:
            if self._lost_events or self._lost_alerts:
                gap = EventsDropped(self._lost_events, self._lost_alerts, self._clock())
                self._lost_events = self._lost_alerts = 0
                return gap
            if self._queue:
                return self._queue.popleft()
            return None

    def get_nowait(self) -> Event | None:
        """The next event, or None when the queue is empty."""
        return self._pop()  # type: ignore[return-value]

    def drain(self) -> list[Event]:
        """Everything queued now, oldest first (an ``EventsDropped`` first if some were lost)."""
        out: list[Event] = []
        while (item := self._pop()) is not None:
            out.append(item)  # type: ignore[arg-type]
        return out

    async def get(self) -> Event:
        """The next event; waits for one. Raises ``StopAsyncIteration`` once closed and empty."""
        while True:
            item = self._pop()
            if item is not None:
                return item  # type: ignore[return-value]
            if self._closed:
                raise StopAsyncIteration
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._loop, self._waiter = loop, waiter
                ready = bool(self._queue) or self._closed or self._lost_events or self._lost_alerts
            if ready:
                self._waiter = None
                continue
            try:
                await waiter
            finally:
                self._waiter = None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Leave the stream: no more events are queued; a waiting reader ends its loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._bus._remove(self)
        self._wake()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class EventBus:
    """Fan-out of events to synchronous listeners and to bounded async subscriptions."""

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock
        self._listeners: list[Listener] = []
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self.published = 0

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` synchronously for every event; returns its remover."""
        with self._lock:
            self._listeners = [*self._listeners, listener]

        def remove() -> None:
            with self._lock:
                self._listeners = [x for x in self._listeners if x is not listener]

        return remove

    def subscribe(self, maxsize: int = DEFAULT_MAXSIZE, *, kinds: Iterable[type] | None = None) -> Subscription:
        """A new subscription; ``kinds`` keeps only events of those types."""
        sub = Subscription(self, maxsize, tuple(kinds) if kinds is not None else None, self._clock)
        with self._lock:
            self._subscriptions = [*self._subscriptions, sub]
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s is not sub]

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, event: object) -> None:
        """Hand ``event`` to every listener and subscription; never blocks, never raises."""
        self.published += 1
        for listener in self._listeners:  # a copy-on-write list: safe to iterate
            try:
                listener(event)
            except Exception:  # a face's bug must not stop the watcher
                log.exception("event listener failed")
        for sub in self._subscriptions:
            if sub.wants(event):
                sub.offer(event)

    def close(self) -> None:
        """End every subscription (their readers finish what is queued, then stop)."""
        for sub in list(self._subscriptions):
            sub.close()


__all__ = ["DEFAULT_MAXSIZE", "EventBus", "Subscription"]
