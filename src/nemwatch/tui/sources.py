"""Where the dashboard's data comes from: a running engine (live), a store another process
writes (attach, read-only), or the in-process 2018 demo. Each gives a ``ReadModel``, runs as
one async task that hands engine events to ``emit``, and reports its status line.

No Textual here: the app wraps ``emit`` around ``post_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from nemwatch.core.events import AlertRaised, HeadUpdated
from nemwatch.core.head import NodeState
from nemwatch.core.nem.address import AddressError, validate
from nemwatch.core.query import ReadModel
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.store.runtime_edits import RuntimeEdits

log = logging.getLogger("nemwatch.tui")
Emit = Callable[[object], None]


@dataclass(frozen=True, slots=True)
class PriceChanged:
    """The price store has a new tick (sources without an event bus emit this)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class StoreChanged:
    """Another process wrote to the store (attach mode)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class SourceStatus:
    mode: str  # "live", "attach" or "demo"
    nodes_ok: int | None = None
    nodes_total: int | None = None
    head: int | None = None
    last_poll: datetime | None = None
    next_poll: datetime | None = None
    note: str | None = None
    finished: bool = False
    push_live: int | None = None  # nodes whose websocket push is live (None: no push)
    push_total: int | None = None


class Source(Protocol):
    read: ReadModel
    mode: str
    banner: str | None
    clock: Callable[[], datetime]

    async def run(self, emit: Emit) -> None: ...

    def poll_now(self) -> None: ...

    def status(self) -> SourceStatus: ...

    async def aclose(self) -> None: ...

    def add_watch(self, text: str, label: str | None) -> str: ...

    def mark_taint_source(self, address: str) -> str: ...

    def set_label(self, address: str, name: str) -> str: ...


async def engine_events(engine: Any) -> AsyncIterator[object]:
    """The engine's events as an async stream: its event bus when it has one, else its
    synchronous ``subscribe`` bridged through a queue."""
    bus = getattr(engine, "bus", None)
    if bus is not None and hasattr(bus, "subscribe"):
        async with bus.subscribe() as events:
            async for event in events:
                yield event
        return
    queue: asyncio.Queue[object] = asyncio.Queue()
    engine.subscribe(queue.put_nowait)
    while True:
        yield await queue.get()


def push_status(engine: Any) -> dict[str, int]:
    """How many nodes' websocket push is live, for the status bar (nothing without a push)."""
    push = getattr(engine, "push", None)
    hub = getattr(push, "hub", None)
    if hub is None or not hub.channels:
        return {}
    return {"push_live": sum(1 for node in hub.channels if hub.live(node)), "push_total": len(hub.channels)}


class EngineSource:
    """Shared by the live and demo sources: watch-list edits, head status, event pumping."""

    mode = "live"
    banner: str | None = None

    def __init__(self, engine: Any, read: ReadModel, clock: Callable[[], datetime], network: Any) -> None:
        self.engine = engine
        self.read = read
        self.clock = clock
        self.network = network
        self._head: HeadUpdated | None = None
        self._next_poll: datetime | None = None
        self._wake = asyncio.Event()

    async def pump(self, emit: Emit) -> None:
        async for event in engine_events(self.engine):
            if isinstance(event, HeadUpdated):
                self._head = event
            emit(event)

    def status(self) -> SourceStatus:
        head = self._head
        ok = sum(1 for v in head.verdicts if v.state is NodeState.OK) if head else None
        return SourceStatus(
            self.mode,
            nodes_ok=ok,
            nodes_total=len(head.verdicts) if head else None,
            head=head.head if head and head.head is not None else self.read.chain_height(),
            last_poll=head.at if head else None,
            next_poll=self._next_poll,
            **push_status(self.engine),
        )

    def poll_now(self) -> None:
        self._wake.set()

    def add_watch(self, text: str, label: str | None) -> str:
        try:
            address = validate(text, self.network)
        except AddressError as err:
            raise ValueError(str(err)) from None
        if address in self.engine.watch.rules:
            return f"already watched: {address}"
        RuntimeEdits(self.engine.store).add_watch(address, label or None, now=self.clock())
        self.engine.watch.add(address, WatchRule(label=label or None))
        self.engine.watch_changed()
        return f"watching {address} (kept across restarts)"

    def mark_taint_source(self, address: str) -> str:
        if any(a == address for a, _ in self.read.taint_sources):
            return f"{address} is already a taint source"
        label = self.read.label_of(address)
        self.read.taint_sources.append((address, label[0] if label else None))
        if self.engine.taint is not None:  # followed from the next block on, kept in the store
            return self.engine.taint.add_source(address, label[0] if label else "taint source")
        self.engine.watch.labels.setdefault(address, ("taint source", "thief"))
        return f"{address} marked as a taint source for this session"

    def set_label(self, address: str, name: str) -> str:
        kind = self.engine.watch.labels.get(address, (name, "other"))[1]
        RuntimeEdits(self.engine.store).set_label(address, name, kind, now=self.clock())
        self.engine.watch.labels[address] = (name, kind)
        rule = self.engine.watch.rules.get(address)
        if rule is not None:
            from dataclasses import replace

            self.engine.watch.rules[address] = replace(rule, label=name)
        return f"{address} labelled (kept across restarts)"


def price_levels(config: Any) -> tuple[Decimal, ...]:
    """The JPY levels of the config's ``above``/``below`` price alerts: lines on the chart."""
    return tuple(a.value for a in config.price.alerts if a.kind in ("above", "below") and a.value is not None)


class LiveSource(EngineSource):
    """The same engine and price feed as ``nemwatch watch``, built by the shared wiring."""

    mode = "live"

    def __init__(self, service: Any, clock: Callable[[], datetime]) -> None:
        self.service = service
        config = service.config
        read = ReadModel(
            service.store, service.price_store, watch=service.engine.watch, clock=clock,
            taint_sources=[(s.address, s.label or None) for s in config.taint.sources],
        )
        read.taint_model = config.taint.model
        read.price_thresholds = price_levels(config)
        super().__init__(service.engine, read, clock, config.network.name)

    async def _sleep(self, seconds: float) -> None:
        self._next_poll = self.clock() + timedelta(seconds=seconds)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._next_poll = None

    async def run(self, emit: Emit) -> None:
        from nemwatch.service_loop import run_service  # the loop `nemwatch watch` runs too

        stop = asyncio.Event()
        self.engine.sleep = self._sleep
        tasks = [
            asyncio.create_task(self.pump(emit)),
            asyncio.create_task(run_service(self.service, stop, on_price=lambda: emit(PriceChanged(self.clock())))),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()

    async def aclose(self) -> None:
        await self.service.close()


class DemoSource(EngineSource):
    """The in-process 2018 demo, paced at ``speed`` simulated seconds per real second."""

    mode = "demo"

    def __init__(self, session: Any, speed: float) -> None:
        from nemwatch.demo import PRICE_RULES
        from nemwatch.demo_session import SYNTHETIC_NOTE

        self.session = session
        self.speed = speed
        read = ReadModel(
            session.store, session.price_store, watch=session.watch, clock=session.clock.now,
            taint_sources=[(session.thief, "thief (NC4)")],
        )
        read.price_thresholds = tuple(r.value for r in PRICE_RULES if r.kind in ("above", "below") and r.value is not None)
        super().__init__(session.engine, read, session.clock.now, "mainnet")
        self.banner = SYNTHETIC_NOTE
        self.finished = False

    async def run(self, emit: Emit) -> None:
        pump = asyncio.create_task(self.pump(emit))
        try:
            await self.session.start()
            emit(PriceChanged(self.clock()))
            while not self.session.done:
                began = asyncio.get_running_loop().time()
                result = await self.session.step()
                if result.tick is not None:
                    emit(PriceChanged(self.clock()))
                pause = self.session.step_seconds / self.speed if self.speed > 0 else 0.0
                pause -= asyncio.get_running_loop().time() - began
                self._next_poll = self.clock() + timedelta(seconds=self.session.step_seconds)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(pause, 0.0))
            self.finished = True
            self._next_poll = None
            emit(StoreChanged(self.clock()))
            await pump
        finally:
            pump.cancel()

    def status(self) -> SourceStatus:
        base = super().status()
        note = "demo finished (q quits)" if self.finished else f"×{self.speed:g}"
        return SourceStatus(**{**_fields(base), "mode": "demo", "note": note, "finished": self.finished})

    async def aclose(self) -> None:
        await self.session.aclose()


def _fields(status: SourceStatus) -> dict[str, Any]:
    return {name: getattr(status, name) for name in SourceStatus.__slots__}  # type: ignore[attr-defined]


def open_store_readonly(path: Path) -> Store:
    """The store of a running ``nemwatch watch``, opened without migrating or writing."""
    opener = getattr(Store, "open_readonly", None)
    if opener is not None:
        return opener(path)  # type: ignore[no-any-return]
    if not path.exists():
        raise FileNotFoundError(f"no state database at {path}: is `nemwatch watch` running with this --state?")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    return Store(conn, path)


class AttachSource:
    """Read-only view of the store a running ``nemwatch watch`` writes: polls no node."""

    mode = "attach"
    banner: str | None = None

    def __init__(self, config: Any, clock: Callable[[], datetime], *, every: float = 2.0) -> None:
        from nemwatch.core.price.store import PriceStore
        from nemwatch.watch_from_config import apply_runtime_edits, build_watchset

        self.config = config
        self.clock = clock
        self.every = every
        path = config.db_path()
        self.store = open_store_readonly(path)
        prices = None
        with contextlib.suppress(Exception):
            prices = _readonly_prices(path)
        self.read = ReadModel(
            self.store, prices, watch=apply_runtime_edits(build_watchset(config), self.store), clock=clock,
            taint_sources=[(s.address, s.label or None) for s in config.taint.sources],
        )
        self.read.read_only = True
        self.read.taint_model = config.taint.model
        self.read.price_thresholds = price_levels(config)
        self.banner = f"ATTACHED read-only to {path.name} of a running `nemwatch watch`"
        self._wake = asyncio.Event()
        self._last: tuple[object, ...] | None = None
        with contextlib.suppress(sqlite3.Error):  # the first frame reads this state: no change yet
            self._last = self._fingerprint()
        self._polled: datetime | None = None

    def _fingerprint(self) -> tuple[object, ...]:
        """Changes whenever another connection committed to the file (SQLite's data_version):
        one cheap pragma per poll instead of counting tables, so an idle dashboard stays idle."""
        return tuple(self.store.connection.execute("PRAGMA data_version").fetchone())

    async def run(self, emit: Emit) -> None:
        while True:
            self._polled = self.clock()
            try:
                mark = self._fingerprint()
            except sqlite3.Error as err:
                log.warning("attach: store unreadable for now: %s", err)
                mark = None
            if mark is not None and mark != self._last:
                self._last = mark
                emit(StoreChanged(self._polled))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)

    def poll_now(self) -> None:
        self._wake.set()

    def status(self) -> SourceStatus:
        return SourceStatus(
            "attach", head=self.read.chain_height(), last_poll=self.read.last_block_time(),
            note="read-only",
        )

    async def aclose(self) -> None:
        if self.read.prices is not None:
            self.read.prices.close()
        self.store.close()

    def add_watch(self, text: str, label: str | None) -> str:
        raise ValueError("attached read-only: add the address to the config of `nemwatch watch` and reload it (SIGHUP)")

    def mark_taint_source(self, address: str) -> str:
        raise ValueError("attached read-only: add a [[taint.source]] to the config of `nemwatch watch`")

    def set_label(self, address: str, name: str) -> str:
        raise ValueError("attached read-only: add a [[label]] to the config of `nemwatch watch`")


def _readonly_prices(path: Path) -> Any:
    """A price store reading the daemon's file without migrating it."""
    from nemwatch.core.price.store import PriceStore

    store = PriceStore.__new__(PriceStore)
    store.path = path
    store.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    store.db.execute("PRAGMA busy_timeout = 5000")
    if store.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'price_ticks'").fetchone() is None:
        store.db.close()  # a watcher without price sources never made the tables: no chart
        raise LookupError("no price tables in this store")
    return store


def utcnow() -> datetime:
    return datetime.now(UTC)
