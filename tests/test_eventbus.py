"""The core's event stream: bounded subscriptions that never block the engine, alerts never
dropped silently, sync listeners kept, and the engine, price monitor and dispatcher publishing
through it (the engine on the simulator)."""

from __future__ import annotations

import asyncio
import io
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from simfixtures import START, compiled_small, start_cluster

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.engine import Engine, EngineSettings
from nemwatch.core.eventbus import EventBus
from nemwatch.core.events import (
    AlertRaised,
    BlockProcessed,
    CycleFailed,
    DeliveryOutcome,
    EventsDropped,
    HeadUpdated,
    PriceTicked,
    WatchListChanged,
)
from nemwatch.core.models import Network, Transfer
from nemwatch.core.nem.client import NisClient
from nemwatch.core.rules import WatchRule
from nemwatch.core.store import Store
from nemwatch.core.watchset import WatchSet
from nemwatch.headless.delivery import Dispatcher
from nemwatch.headless.sinks import StdoutSink

T0 = datetime(2018, 1, 26, tzinfo=UTC)


def tick(i: int) -> CycleFailed:
    return CycleFailed(f"event {i}", T0 + timedelta(seconds=i))


def alert(key: str) -> AlertRaised:
    return AlertRaised(
        Alert(
            alert_id=make_alert_id("mainnet", "outflow", key, Stage.CONFIRMED),
            rule="outflow",
            stage=Stage.CONFIRMED,
            severity=Severity.CRITICAL,
            detected_at=T0,
            summary=f"OUTFLOW {key}",
            address="NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ",
            tx_hash=key,
            amount=1,
        )
    )


async def test_a_subscriber_reads_in_order_and_leaves() -> None:
    bus = EventBus()
    async with bus.subscribe(maxsize=10) as sub:
        assert bus.subscribers == 1
        for i in range(3):
            bus.publish(tick(i))
        got = [await sub.get() for _ in range(3)]
        assert [e.error for e in got] == ["event 0", "event 1", "event 2"]  # type: ignore[union-attr]
    assert bus.subscribers == 0 and sub.closed
    bus.publish(tick(9))  # nobody listens: nothing queued, nothing raised
    assert sub.pending == 0


async def test_a_waiting_reader_wakes_on_publish_and_ends_on_close() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    seen: list[object] = []

    async def read() -> None:
        async for event in sub:
            seen.append(event)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0)
    bus.publish(tick(1))
    await asyncio.sleep(0.01)
    assert len(seen) == 1
    bus.publish(tick(2))
    sub.close()  # what is queued is still read, then the loop ends
    await asyncio.wait_for(reader, timeout=2)
    assert [e.error for e in seen] == ["event 1", "event 2"]  # type: ignore[attr-defined]


async def test_publish_from_another_thread_wakes_the_reader() -> None:
    bus = EventBus()
    async with bus.subscribe() as sub:
        threading.Thread(target=lambda: bus.publish(tick(7))).start()
        event = await asyncio.wait_for(sub.get(), timeout=2)
        assert isinstance(event, CycleFailed) and event.error == "event 7"


async def test_a_slow_face_drops_oldest_non_alerts_and_keeps_every_alert() -> None:
    bus = EventBus(clock=lambda: T0)
    sub = bus.subscribe(maxsize=5)
    bus.publish(alert("a1"))
    for i in range(10):
        bus.publish(tick(i))  # never blocks, however far behind the reader is
    bus.publish(alert("a2"))
    events = sub.drain()
    assert isinstance(events[0], EventsDropped)
    assert (events[0].events, events[0].alerts) == (7, 0)
    rest = events[1:]
    assert [e.alert.tx_hash for e in rest if isinstance(e, AlertRaised)] == ["a1", "a2"]
    assert [e.error for e in rest if isinstance(e, CycleFailed)] == ["event 7", "event 8", "event 9"]
    assert sub.dropped_events == 7 and sub.dropped_alerts == 0 and sub.received == 12
    assert sub.drain() == []  # the gap is reported once


async def test_alerts_dropped_only_when_the_queue_is_all_alerts_and_then_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus(clock=lambda: T0)
    sub = bus.subscribe(maxsize=3)
    for i in range(5):
        bus.publish(alert(f"a{i}"))
    first = sub.get_nowait()
    assert isinstance(first, EventsDropped) and (first.events, first.alerts) == (0, 2)
    assert [e.alert.tx_hash for e in sub.drain()] == ["a2", "a3", "a4"]  # type: ignore[union-attr]
    assert "alerts behind" in caplog.text and "store" in caplog.text


async def test_kinds_filter_and_sync_listeners() -> None:
    bus = EventBus()
    only_alerts = bus.subscribe(kinds=[AlertRaised])
    calls: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("a face's bug")

    bus.add_listener(broken)  # logged, never stops the others
    remove = bus.add_listener(calls.append)
    bus.publish(tick(1))
    bus.publish(alert("x"))
    remove()
    bus.publish(tick(2))
    assert len(calls) == 2
    assert [type(e) for e in only_alerts.drain()] == [AlertRaised]


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EventBus().subscribe(maxsize=0)


async def test_the_dispatcher_publishes_each_delivery_outcome(tmp_path: Path) -> None:
    bus = EventBus()
    sub = bus.subscribe(kinds=[DeliveryOutcome])
    with Store.open(tmp_path / "s.sqlite3") as store:
        sink = StdoutSink(io.StringIO())
        event = alert("d1")
        store.add_alerts([event.alert], [sink.name])
        dispatcher = Dispatcher(store, {sink.name: sink}, clock=lambda: T0, on_event=bus.publish)
        stats = await dispatcher.deliver_pending(T0)
    assert stats.delivered == 1
    (outcome,) = sub.drain()
    assert isinstance(outcome, DeliveryOutcome)
    assert (outcome.alert_id, outcome.sink, outcome.outcome, outcome.error) == (
        event.alert.alert_id, sink.name, "delivered", None,
    )


async def test_the_engine_on_the_simulator_publishes_blocks_with_their_transfers(tmp_path: Path) -> None:
    with start_cluster(compiled_small(), nodes=1) as sim:
        hot, thief = sim.address("hot"), sim.address("thief")
        client = NisClient(sim.urls, Network.MAINNET, max_rps_per_node=20, burst=20)
        engine = Engine(
            source=client,
            store=Store.open(tmp_path / "state.sqlite3"),
            watch=WatchSet({hot: WatchRule(label="hot")}),
            settings=EngineSettings(backfill_per_cycle=0, balance_checks_per_cycle=0),
            clock=sim.clock.now,
        )
        sync_seen: list[object] = []
        engine.subscribe(sync_seen.append)  # the old synchronous way keeps working
        sub = engine.bus.subscribe(maxsize=10_000)
        try:
            await engine.cycle()
            for _ in range(4):
                sim.advance(60)
                await engine.cycle()
            engine.watch.add(thief, WatchRule(label="thief"))
            engine.watch_changed()
        finally:
            await client.aclose()
            engine.store.close()
    events = sub.drain()
    assert [type(e) for e in events] == [type(e) for e in sync_seen]
    heads = [e for e in events if isinstance(e, HeadUpdated)]
    assert len(heads) == 5 and all(h.verdicts for h in heads)
    blocks = [e for e in events if isinstance(e, BlockProcessed)]
    matched = [tx for b in blocks for tx in b.transfers]
    assert blocks and all(b.matched == len(b.transfers) for b in blocks)
    assert matched and all(isinstance(tx, Transfer) and tx.sender == hot for tx in matched)
    alerts = [e.alert for e in events if isinstance(e, AlertRaised)]
    outflows = {a.tx_hash for a in alerts if a.rule == "outflow" and a.stage is Stage.CONFIRMED}
    assert outflows == {tx.hash for tx in matched}
    # a block's alerts are published once its transaction committed, right before the block itself
    for i, e in enumerate(events):
        if isinstance(e, AlertRaised) and e.alert.rule == "outflow":
            following = next(x for x in events[i + 1 :] if isinstance(x, BlockProcessed))
            assert following.height == e.alert.height
            assert e.alert.tx_hash in {tx.hash for tx in following.transfers}
    (changed,) = [e for e in events if isinstance(e, WatchListChanged)]
    assert changed.added == (thief,) and changed.removed == () and changed.watched == 2
    assert START <= blocks[0].block_time


async def test_the_price_monitor_publishes_ticks() -> None:
    from price_support import FakeTime, fast_http

    import httpx

    from nemwatch.core.price.feed import PriceFeed
    from nemwatch.core.price.monitor import PriceMonitor
    from nemwatch.core.price.providers.zaif import ZaifProvider
    from nemwatch.sim.clock import ManualClock
    from nemwatch.sim.market import Market

    clock = ManualClock(T0 + timedelta(hours=1))
    market = Market([(T0, Decimal(100)), (T0 + timedelta(days=1), Decimal(90))], 6, clock)

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers, body = market.handle(request.method, request.url.path, dict(request.url.params)) or (
            404, {}, b"",
        )
        return httpx.Response(status, headers=headers, content=body)

    bus = EventBus()
    sub = bus.subscribe(kinds=[PriceTicked])
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = fast_http(client, FakeTime(wall=clock.now()))
        feed = PriceFeed([ZaifProvider(http, clock=clock.now)], clock=clock.now)
        monitor = PriceMonitor(feed, publish=bus.publish)
        await monitor.poll()
    (ticked,) = sub.drain()
    assert isinstance(ticked, PriceTicked) and ticked.tick is not None
    assert ticked.tick.price == market.last_price(clock.now()) and not ticked.stale


async def test_the_headless_service_wires_price_and_delivery_into_the_engine_bus(tmp_path: Path) -> None:
    from nemwatch.config import load_config
    from nemwatch.config.model import StateConfig
    from nemwatch.headless.runner import Service, run_watch
    from nemwatch.sim.clock import ManualClock
    from nemwatch.sim.cluster import SimCluster
    from nemwatch.sim.scenario import ScenarioBuilder

    b = ScenarioBuilder("bus", START)
    b.account("hot", "hot_wallet", xem=100_000)
    b.account("thief", "thief")
    b.transfer(120, "hot", "thief", xem=1000)
    b.price([(0, "120"), (3600, "80")], trades_per_minute=5)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START), market=True) as sim:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[network]\nnodes = ["{sim.urls[0]}"]\nmax_requests_per_second = 20\n\n'
            f'[[watch]]\naddress = "{sim.address("hot")}"\nlabel = "hot wallet"\n\n'
            f'[price]\nsources = ["zaif"]\n[price.urls]\nzaif = "{sim.market_url}"\nzaif_chart = "{sim.market_url}"\n\n'
            '[alerts]\nsinks = ["stdout"]\n'
        )
        cfg.chmod(0o600)
        config = load_config(cfg).model_copy(update={"state": StateConfig(dir=tmp_path)})
        out = io.StringIO()
        service = Service.build(config, clock=sim.clock.now, stdout=out)
        sub = service.engine.bus.subscribe()
        try:
            await run_watch(service, once=True, config_path=None)
            sim.advance(300)
            await run_watch(service, once=True, config_path=None)
        finally:
            await service.close()
    events = sub.drain()
    assert sub.closed  # closing the service ends the faces' streams
    kinds = {type(e) for e in events}
    assert {HeadUpdated, BlockProcessed, AlertRaised, PriceTicked, DeliveryOutcome} <= kinds
    (delivered,) = [e for e in events if isinstance(e, DeliveryOutcome)]
    raised = [e.alert for e in events if isinstance(e, AlertRaised)]
    assert delivered.outcome == "delivered" and delivered.alert_id in {a.alert_id for a in raised}
    assert delivered.alert_id in out.getvalue()
