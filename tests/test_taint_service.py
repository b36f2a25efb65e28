"""The taint watch as ``nemwatch watch`` builds it from a config: ``[[taint.source]]`` is
followed, auto-followed accounts survive a SIGHUP reload (the reload rebuilds the watch set from
the config), and a source marked at run time is kept across a restart."""

from __future__ import annotations

import io
from pathlib import Path

from nemwatch.config import load_config
from nemwatch.config.model import StateConfig
from nemwatch.core.taint_rules import TAINT_NEW_ACCOUNT
from nemwatch.headless.runner import Service, run_watch
from nemwatch.sim import ManualClock, ScenarioBuilder, SimCluster
from simfixtures import START


def _scenario():  # type: ignore[no-untyped-def]
    b = ScenarioBuilder("taint-service", START)
    b.account("hot", "hot_wallet", xem=10_000_000)
    b.account("thief", "thief")
    b.account("mule", "intermediate")
    b.account("other", "intermediate", xem=50_000)
    b.account("exchange", "exchange")
    b.transfer(70, "hot", "thief", xem=3_000_000)
    b.transfer(190, "thief", "mule", xem=2_000_000)
    b.transfer(310, "mule", "exchange", xem=1_000_000, message="memo: 4711")
    b.transfer(430, "other", "mule", xem=10_000)
    return b.build()


def _config(tmp_path: Path, sim: SimCluster, watch: str = "") -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[network]\nnodes = ["{sim.urls[0]}"]\nmax_requests_per_second = 20\nbackfill_pages = 0\n\n'
        f"{watch}"
        f'[[label]]\naddress = "{sim.address("exchange")}"\nname = "an exchange"\nkind = "exchange"\n\n'
        f'[taint]\nmodel = "haircut"\n[[taint.source]]\naddress = "{sim.address("thief")}"\nlabel = "thief"\n'
        f'since = "{START.isoformat()}"\nvictim = "{sim.address("hot")}"\n\n'
        '[alerts]\nsinks = ["stdout"]\n'
    )
    cfg.chmod(0o600)
    return cfg


async def test_config_sources_reload_and_runtime_sources(tmp_path: Path) -> None:
    with SimCluster.start(_scenario(), nodes=1, clock=ManualClock(START)) as sim:
        path = _config(tmp_path, sim)
        config = load_config(path).model_copy(update={"state": StateConfig(dir=tmp_path)})
        out = io.StringIO()
        service = Service.build(config, clock=sim.clock.now, stdout=out, price=False)
        mule, thief, other = sim.address("mule"), sim.address("thief"), sim.address("other")
        try:
            await run_watch(service, once=True, config_path=None)
            for _ in range(8):
                sim.advance(60)
                await run_watch(service, once=True, config_path=None)
            taint = service.engine.taint
            assert taint is not None and taint.model.value == "haircut"
            assert thief in service.engine.watch and mule in service.engine.watch  # source and hop followed
            lines = out.getvalue()
            assert '"rule":"taint_new_account"' in lines and '"rule":"taint_exchange"' in lines
            assert '"deposit_tag":"4711"' in lines
            service.config = config
            await service.reload(path)  # SIGHUP: the watch set is rebuilt from the config
            assert mule in service.engine.watch and thief in service.engine.watch
            assert "marked as a taint source" in taint.add_source(other, "second thief")
        finally:
            await service.close()

        restarted = Service.build(config, clock=sim.clock.now, stdout=io.StringIO(), price=False)
        try:
            taint = restarted.engine.taint
            assert taint is not None
            assert {s.address for s in taint.sources} == {thief, other}  # the run-time one is kept
            assert mule in restarted.engine.watch and other in restarted.engine.watch
            rows = {r.address: r for r in taint.tables.accounts()}
            assert rows[mule].hop == 1 and rows[mule].source == thief and rows[mule].tag_lag_blocks == 0
        finally:
            await restarted.close()
    assert TAINT_NEW_ACCOUNT in lines
