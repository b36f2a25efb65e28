"""The dashboard over its real sources: the shared engine wiring against the simulator (live),
and the store of a running watcher opened read-only (attach); the import contract."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import DataTable

from nemwatch.commands.dashboard import without_stdout_sink
from nemwatch.config import load_config
from nemwatch.config.model import StateConfig
from nemwatch.service import Service
from nemwatch.sim.clock import ManualClock
from nemwatch.sim.cluster import SimCluster
from nemwatch.sim.scenario import ScenarioBuilder
from nemwatch.tui.app import NemwatchApp
from nemwatch.tui.sources import AttachSource, LiveSource
from tui_support import NOW, seed

START = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)


def _config(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.toml"
    cfg.write_text(body)
    cfg.chmod(0o600)
    return load_config(cfg).model_copy(update={"state": StateConfig(dir=tmp_path)})


async def test_live_dashboard_drives_the_shared_engine_against_the_simulator(tmp_path: Path) -> None:
    b = ScenarioBuilder("tui", START)
    b.account("hot", "hot_wallet", xem=100_000)
    b.account("thief", "thief")
    b.transfer(60, "hot", "thief", xem=1000, message="[ @click=app.quit]x")
    b.price([(0, "120"), (3600, "80")], trades_per_minute=5)
    with SimCluster.start(b.build(), nodes=1, clock=ManualClock(START), market=True) as sim:
        config = _config(
            tmp_path,
            f'[network]\nnodes = ["{sim.urls[0]}"]\nmax_requests_per_second = 20\npoll_seconds = 1\n\n'
            f'[[watch]]\naddress = "{sim.address("hot")}"\nlabel = "hot wallet"\nurgent = true\n\n'
            f'[price]\nsources = ["zaif"]\n[price.urls]\nzaif = "{sim.market_url}"\nzaif_chart = "{sim.market_url}"\n\n'
            '[alerts]\nsinks = ["stdout"]\n',
        )
        service = Service.build(without_stdout_sink(config), clock=sim.clock.now)
        assert service.engine.settings.sinks == ()  # the dashboard owns the terminal: no stdout sink
        source = LiveSource(service, sim.clock.now)
        app = NemwatchApp(source, tz=UTC, tick_seconds=0, keymap=dict(config.keys))
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(50):
                await pilot.pause(0.1)
                if source.status().head is not None:
                    break
            status = source.status()
            assert status.nodes_total == 1 and status.nodes_ok == 1 and status.head is not None
            sim.advance(180)
            source.poll_now()  # r: the engine's sleep ends at once
            for _ in range(80):
                await pilot.pause(0.1)
                if app.query_one("#alerts-table", DataTable).row_count:
                    break
            assert app.query_one("#alerts-table", DataTable).row_count >= 1
            assert app.query_one("#moves-table", DataTable).row_count == 1
            assert app.is_running
        assert not app.is_running


async def test_attach_reads_a_running_watchers_store_without_writing(tmp_path: Path) -> None:
    store, prices, watch = seed(tmp_path)
    store.close()
    prices.close()
    config = _config(tmp_path, "[[watch]]\naddress = \"NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ\"\nlabel = \"hot wallet\"\n")
    db = config.db_path()
    before = db.stat().st_mtime_ns
    source = AttachSource(config, lambda: NOW, every=0.1)
    app = NemwatchApp(source, tz=UTC, tick_seconds=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert app.query_one("#alerts-table", DataTable).row_count == 3
        assert app.query_one("#watch-table", DataTable).row_count >= 1
        app.query_one("#alerts-table", DataTable).focus()
        await pilot.press("x")  # acknowledged for this session only
        await pilot.pause()
        assert app.read.alert_counts().unread_total == 2
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("Input").value = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
        await pilot.press("enter")
        await pilot.pause()
        assert "read-only" in str(app.screen.query_one("#prompt-error").render())
        assert "ATTACH" in str(app.query_one("#status").render())
    assert db.stat().st_mtime_ns == before


def test_core_service_and_headless_never_load_textual() -> None:
    code = (
        "import sys, nemwatch.core.query, nemwatch.service, nemwatch.headless.runner, nemwatch.keymap\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext', 'plotext')"
        " or m.startswith('nemwatch.tui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
