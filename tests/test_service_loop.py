"""The one run loop (service_loop.run_service) that `nemwatch watch` and the dashboard both drive:
cycles, the price feed and the pruner beside them, reload, a failed cycle survived, stop."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from pathlib import Path

from nemwatch.config import load_config
from nemwatch.config.model import StateConfig
from nemwatch.core.events import CycleFailed
from nemwatch.headless import runner
from nemwatch.service import Service
from nemwatch.service_loop import run_service
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder
from nemwatch.tui import sources

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)


def _service(tmp_path: Path, sim: SimCluster, extra: str = "") -> tuple[Service, Path]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[network]\nnodes = ["{sim.urls[0]}"]\nmax_requests_per_second = 20\npoll_seconds = 1\n\n'
        f'[[watch]]\naddress = "{sim.address("hot")}"\nlabel = "hot wallet"\n\n'
        f'[price]\nsources = ["zaif"]\n[price.urls]\nzaif = "{sim.market_url}"\nzaif_chart = "{sim.market_url}"\n\n'
        f'[state]\ndir = "{tmp_path}"\n\n[alerts]\nsinks = ["journal"]\n{extra}'
    )
    cfg.chmod(0o600)
    config = load_config(cfg).model_copy(update={"state": StateConfig(dir=tmp_path)})
    return Service.build(config, clock=sim.clock.now), cfg


async def test_cycles_prices_pruner_reload_and_a_failed_cycle_in_one_loop(tmp_path: Path) -> None:
    b = ScenarioBuilder("loop", START)
    b.account("hot", "hot_wallet", xem=100_000)
    b.account("thief", "thief")
    b.transfer(60, "hot", "thief", xem=1000)
    b.price([(0, "120"), (3600, "80")], trades_per_minute=5)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START), market=True) as sim:
        service, path = _service(tmp_path, sim)
        engine = service.engine
        stop, reload = asyncio.Event(), asyncio.Event()
        cycles: list[str] = []
        prices: list[int] = []
        pruned: list[int] = []
        real_cycle = engine.cycle

        async def cycle():  # type: ignore[no-untyped-def]
            cycles.append("cycle")
            if len(cycles) == 2:
                raise RuntimeError("node said nonsense")
            if len(cycles) == 3:
                reload.set()  # as SIGHUP would
            if len(cycles) == 5:
                stop.set()
            sim.advance(60)
            return await real_cycle()

        async def no_sleep(seconds: float) -> None:
            await asyncio.sleep(0)

        assert service.pruner is not None
        real_prune = service.pruner.maybe_prune

        def prune():  # type: ignore[no-untyped-def]
            pruned.append(1)
            return real_prune()

        service.pruner.maybe_prune = prune  # type: ignore[method-assign]
        reloads: list[Path | None] = []
        real_reload = service.reload

        async def reload_spy(p: Path | None) -> None:
            reloads.append(p)
            await real_reload(p)

        service.reload = reload_spy  # type: ignore[method-assign]
        engine.cycle = cycle  # type: ignore[method-assign]
        engine.sleep = no_sleep
        events = engine.bus.subscribe()
        try:
            last = await asyncio.wait_for(
                run_service(service, stop, reload=reload, config_path=path, on_price=lambda: prices.append(1)),
                timeout=60,
            )
            failed = [e for e in events.drain() if isinstance(e, CycleFailed)]
        finally:
            await service.close()
        assert len(cycles) == 5  # the failed second cycle did not end the loop
        assert last is not None and last.head is not None
        assert reloads == [path]
        assert prices, "the price feed ran beside the cycles"
        assert pruned, "the pruner ran beside the cycles"
        assert [f.error for f in failed] == ["RuntimeError: node said nonsense"]  # published, not raised


def test_the_headless_runner_and_the_dashboard_drive_the_same_loop() -> None:
    assert "run_service(" in inspect.getsource(runner.run_watch)
    assert "run_service(" in inspect.getsource(sources.LiveSource.run)
    engine_src = inspect.getsource(__import__("nemwatch.core.engine", fromlist=["Engine"]).Engine)
    assert "async def run(" not in engine_src  # no second loop left in the engine


def test_still_catching_up_only_when_a_cycle_moved_and_stopped_below_the_head() -> None:
    from nemwatch.core.engine import CycleStats
    from nemwatch.service_loop import still_catching_up

    assert still_catching_up(CycleStats(head=100, cursor=50, blocks=50))
    assert not still_catching_up(CycleStats(head=100, cursor=100, blocks=50))  # caught up
    assert not still_catching_up(CycleStats(head=100, cursor=50, blocks=0))  # stuck: wait for the poll
    assert not still_catching_up(CycleStats(head=None, cursor=50, blocks=3))
    assert not still_catching_up(None)


async def test_a_watcher_far_behind_follows_cycle_after_cycle_without_the_poll_pause(tmp_path: Path) -> None:
    import dataclasses

    b = ScenarioBuilder("behind", START)
    b.account("hot", "hot_wallet", xem=100_000)
    b.account("thief", "thief")
    b.transfer(600, "hot", "thief", xem=1000)
    b.price([(0, "120"), (3600, "110")], trades_per_minute=1)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START), market=True) as sim:
        service, _ = _service(tmp_path, sim)
        engine = service.engine
        await engine.cycle()  # the cursor starts here
        start = engine.store.get_cursor("chain").height  # type: ignore[union-attr]
        sim.advance(40 * 60)  # forty blocks behind
        target = sim.height
        engine.settings = dataclasses.replace(engine.settings, max_blocks_per_cycle=5, catchup_blocks_per_cycle=5)
        stop = asyncio.Event()
        pauses: list[int] = []

        async def poll_pause(seconds: float) -> None:
            cursor = engine.store.get_cursor("chain")
            pauses.append(cursor.height if cursor else 0)
            stop.set()  # the first real pause ends the run
            await asyncio.sleep(0)

        engine.sleep = poll_pause  # type: ignore[method-assign]
        await asyncio.wait_for(run_service(service, stop), timeout=60)
        await service.close()
    assert target - start >= 40
    # eight capped cycles ran back to back; the loop paused only once it had reached the head
    assert pauses == [target]
