"""The shared wiring of a watcher: a config becomes the store, node client, engine, event bus,
delivery and price monitor that every face drives (``nemwatch watch`` headless, the dashboard).

Built once here so the faces cannot drift apart: an alert raised in one face and not the other
would be a bug by construction. No Textual, no terminal: the faces add those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from nemwatch.config import Config, ConfigError, load_config
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.eventbus import EventBus
from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.push import PushHub, push_url
from nemwatch.core.price.monitor import PriceMonitor
from nemwatch.core.price.store import PriceStore
from nemwatch.core.store import Store
from nemwatch.core.store.retention import Pruner
from nemwatch.core.taintwatch import TaintSettings, TaintWatch
from nemwatch.core.tasks.pushwake import PushWake
from nemwatch.headless.delivery import Dispatcher
from nemwatch.headless.logscrub import protect
from nemwatch.headless.reload import REMOVED_SINK_NOTE, merge_watches, needs_restart
from nemwatch.headless.sinks import build_sinks
from nemwatch.watch_from_config import apply_runtime_edits, build_watchset

log = logging.getLogger("nemwatch.headless")


def utcnow() -> datetime:
    return datetime.now(UTC)


def taint_settings(config: Config, store: Store) -> TaintSettings:
    """``[taint]`` in core terms; accounts labelled exchange (config or imported) stop the taint."""
    from nemwatch.config.labelbook import label_book
    from nemwatch.core.store.labels import LabelTable
    from nemwatch.core.taint.labels import LabelKind

    imported = LabelTable(store).all() if not store.read_only else ()
    book = label_book(config, imported)
    return TaintSettings.of(config.taint, exchanges=book.of_kind(LabelKind.EXCHANGE))


def engine_settings(config: Config, **overrides: object) -> EngineSettings:
    net = config.network
    settings = EngineSettings(
        network=net.name,
        poll_seconds=net.poll_seconds,
        unconfirmed_poll_seconds=net.unconfirmed_poll_seconds,
        start_height=net.start_height,
        settle_after=config.alerts.settled_confirmations,
        backfill_per_cycle=5 if net.backfill_pages else 0,
        backfill_max_pages=max(1, net.backfill_pages),
        # one batch of up to 100 balances a minute at most (core.tasks.reconcile): 2 requests a
        # block whatever the size of the watch list; a round over 100,000 addresses takes ~17 h
        balance_checks_per_cycle=100 if net.balance_check_seconds else 0,
        balance_check_seconds=float(net.balance_check_seconds),
        balance_pass_seconds=60.0,
        backfill_page_seconds=0.5,  # the backfill's rate share: 2 pages a second at most
        sinks=tuple(build_sink_names(config)),
        min_severity=config.alerts.min_severity,
        stalled_failed_cycles=config.alerts.stalled_failed_cycles,
        stalled_behind_blocks=config.alerts.stalled_behind_blocks,
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]


def build_push(config: Config, engine: Engine) -> PushWake | None:
    """The websocket push of every node (``[network] push``), or None when it is off."""
    net = config.network
    names = engine.source.nodes if hasattr(engine.source, "nodes") else ()
    if not net.push or len(names) != len(net.nodes):
        return None
    overrides = net.push_urls or (None,) * len(net.nodes)
    nodes = [(name, push_url(url, override)) for name, url, override in zip(names, net.nodes, overrides, strict=True)]
    hub = PushHub(nodes, net.name, addresses=PushWake.addresses(engine))
    return PushWake(engine, hub, safety_seconds=net.push_safety_seconds)


def build_sink_names(config: Config) -> list[str]:
    from nemwatch.headless.sinks import sink_names

    return list(sink_names(config.alerts.sinks).values())


def make_client(config: Config) -> NisClient:
    net = config.network
    return NisClient(
        net.nodes,
        net.name,
        timeout=net.request_timeout_seconds,
        max_rps_per_node=net.max_requests_per_second,
    )


@dataclass
class Service:
    """Everything a running watcher holds; built from a config, rebuilt on SIGHUP."""

    config: Config
    store: Store
    client: NisClient
    dispatcher: Dispatcher
    engine: Engine
    monitor: PriceMonitor | None = None
    price_store: PriceStore | None = None
    undelivered: int = 0  # outbox rows still pending when the service closed
    pruner: Pruner | None = None  # [retention]: run beside the engine by the runner
    push: PushWake | None = None  # [network] push: the websocket wake-up, run beside the engine

    @classmethod
    def build(
        cls,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        stdout: TextIO | None = None,
        client: NisClient | None = None,
        price: bool = True,
        **settings: object,
    ) -> Service:
        protect(config.secrets())  # sink tokens, node and price URL credentials: never in a log line
        store = Store.open(config.db_path())
        sinks = build_sinks(
            config.alerts.sinks, store=store, journal_path=config.journal_path(), clock=clock, stdout=stdout,
            journal_memory_ids=config.retention.journal_ids_in_memory,
        )
        bus = EventBus(clock=clock)  # the faces' event stream: chain, alerts, prices, deliveries
        dispatcher = Dispatcher(store, sinks, clock=clock, network=config.network.name.value, on_event=bus.publish)
        client = client or make_client(config)
        engine = Engine(
            source=client,
            store=store,
            watch=apply_runtime_edits(build_watchset(config), store),
            settings=engine_settings(config, **settings),
            clock=clock,
            delivery=dispatcher,
            bus=bus,
            taint=TaintWatch(taint_settings(config, store)),
        )
        service = cls(config, store, client, dispatcher, engine)
        service.push = build_push(config, engine)
        service.pruner = Pruner(store, config.retention.policy(), clock)
        if price and config.price.sources:
            service.price_store = PriceStore(config.db_path())
            service.monitor = PriceMonitor.from_config(
                config.price, network=config.network.name.value, store=service.price_store, clock=clock
            )
            service.monitor.publish = bus.publish
            engine.price = service.monitor.feed.price_for_alert
        return service

    async def start_price(self) -> None:
        """Check the price sources and fill the chart history; a failure leaves alerts without JPY."""
        if self.monitor is None:
            return
        try:
            report = await self.monitor.start()
            log.info("price: history from %s", report.history.source or "no source (history empty)")
        except Exception as err:
            log.warning("price start failed, going on without history: %s", err)

    async def poll_price(self) -> None:
        """One price cycle; its alerts (thresholds, moves, staleness) join the outbox."""
        if self.monitor is None:
            return
        try:
            cycle = await self.monitor.poll()
        except Exception as err:
            log.warning("price poll failed: %s", err)
            return
        if cycle.alerts:
            await self.engine.raise_alerts(list(cycle.alerts))

    async def reload(self, path: Path | None) -> None:
        """Re-read the config; apply the watch list, labels and sinks; keep the old one on error."""
        try:
            fresh = load_config(path)
        except ConfigError as err:
            log.error("reload refused, keeping the running config: %s", err)
            return
        protect(fresh.secrets())
        watch = apply_runtime_edits(merge_watches(self.engine.watch, self.config, build_watchset(fresh)), self.store)
        restart = needs_restart(self.config, fresh)
        self.engine.watch.rules.clear()
        self.engine.watch.rules.update(watch.rules)
        self.engine.watch.labels.clear()
        self.engine.watch.labels.update(watch.labels)
        self.engine.watch.backfill_alerts.clear()
        self.engine.watch.backfill_alerts.update(watch.backfill_alerts)
        self.engine.settings = replace(
            self.engine.settings,
            sinks=tuple(build_sink_names(fresh)),
            min_severity=fresh.alerts.min_severity,
            poll_seconds=fresh.network.poll_seconds,
            unconfirmed_poll_seconds=fresh.network.unconfirmed_poll_seconds,
        )
        if self.engine.taint is not None:  # followed accounts stay watched; new sources apply
            self.engine.taint.reload(taint_settings(fresh, self.store))
        if fresh.alerts.sinks != self.config.alerts.sinks:
            for name in set(self.dispatcher.sink_names) - set(build_sink_names(fresh)):
                count = self.store.dead_letter_sink(name, REMOVED_SINK_NOTE, self.engine.clock())
                if count:
                    log.warning("reload: %d alert(s) waiting for removed sink %s dead-lettered (nemwatch outbox)", count, name)
            await self.dispatcher.aclose()
            sinks = build_sinks(
                fresh.alerts.sinks, store=self.store, journal_path=fresh.journal_path(), clock=self.engine.clock,
                journal_memory_ids=fresh.retention.journal_ids_in_memory,
            )
            self.dispatcher = Dispatcher(
                self.store, sinks, clock=self.engine.clock, network=fresh.network.name.value,
                on_event=self.engine.bus.publish,
            )
            self.engine.delivery = self.dispatcher
        urgent_before = frozenset(self.engine.watch.urgent)
        self.engine.watch_changed()
        if self.push is not None and frozenset(self.engine.watch.urgent) != urgent_before:
            self.push.hub.resubscribe()  # the channels subscribe the new urgent list
        if self.pruner is not None:
            self.pruner.policy = fresh.retention.policy()
        self.config = fresh
        log.info("config reloaded: %d watched addresses, %d sinks", len(watch), len(fresh.alerts.sinks))
        if restart:  # the rest keeps running as started (the price feed, nodes, state ...)
            log.warning("reload: %s changed; restart nemwatch to apply", ", ".join(restart))

    async def close(self) -> None:
        try:
            await self.dispatcher.deliver_pending()
        except Exception:
            log.exception("final delivery failed; undelivered alerts stay in the outbox")
        self.undelivered = self.store.outbox_counts().get("pending", 0)
        await self.dispatcher.aclose()
        await self.client.aclose()
        if self.monitor is not None:
            await self.monitor.feed.aclose()
        if self.price_store is not None:
            self.price_store.close()
        self.engine.bus.close()  # subscribed faces read what is queued, then their streams end
        self.store.close()
