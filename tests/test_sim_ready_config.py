"""``nemwatch sim`` hands a ready watch config for itself, and its fault API is forgiving:
every parameter has a default and an unknown kind names the valid ones."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.config import config_from_data
from nemwatch.service import Service
from nemwatch.sim import ManualClock, SimCluster
from nemwatch.sim.control import FAULT_KINDS
from nemwatch.sim.scenario_toml import load_scenario
from nemwatch.sim.watchconfig import poll_seconds, watch_config_toml


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    scenario = load_scenario("coincheck-2018")
    with SimCluster.start(scenario, nodes=2, clock=ManualClock(scenario.start), market=True) as cluster:
        yield cluster


def test_poll_is_a_quarter_block_in_real_time() -> None:
    assert poll_seconds(60, 120) == 0.2  # 0.5 s blocks: clamped to the floor
    assert poll_seconds(60, 6) == 2.5
    assert poll_seconds(60, 1) == 5.0


def test_the_written_config_watches_the_simulators_hot_wallet_from_its_first_block(sim: SimCluster) -> None:
    text = watch_config_toml(sim, 120)
    config = config_from_data(tomllib.loads(text, parse_float=Decimal))
    assert config.network.nodes == tuple(sim.urls)
    assert [w.address for w in config.watches] == [sim.address("coincheck-hot-wallet")]
    assert config.watches[0].urgent
    assert config.network.start_height == sim.scenario.start_height + 1
    assert config.network.poll_seconds <= 0.5
    urls = config.price.urls
    assert {urls.zaif, urls.zaif_chart, urls.gmo, urls.coincheck, urls.coingecko} == {sim.market_url}
    assert "synthetic" not in config.price.sources


def test_the_written_config_uses_the_push_its_nodes_serve(sim: SimCluster) -> None:
    import random

    from websockets.sync.client import connect

    from nemwatch.core.nem.push import push_url, session_url

    config = config_from_data(tomllib.loads(watch_config_toml(sim, 120), parse_float=Decimal))
    assert config.network.push and not config.network.push_urls
    for node in config.network.nodes:  # the derived URL (a simulated node's own port) answers
        with connect(session_url(push_url(node), random.Random(3)), proxy=None) as ws:
            assert ws.recv(timeout=5) == "o"
    assert [n.push.stats.connections for n in sim.nodes] == [1] * len(sim.nodes)


async def test_a_late_watcher_still_alerts_the_theft(sim: SimCluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sim.advance_to(sim.scenario.start.replace(hour=16))  # an hour after the first theft transfer
    data = tomllib.loads(watch_config_toml(sim, 120), parse_float=Decimal)
    data["price"] = {"sources": []}
    data["state"] = {"dir": str(tmp_path)}
    service = Service.build(config_from_data(data))
    try:
        for _ in range(400):
            stats = await service.engine.cycle()
            if stats.head is not None and stats.cursor >= stats.head:
                break
        outflows = [a for a in service.store.recent_alerts(200) if a.rule == "outflow"]
        assert any(a.amount == 10_000_000 for a in outflows)  # the 10 XEM test transfer at 00:02 JST
    finally:
        await service.close()


def test_fault_api_defaults_and_names_the_valid_kinds(sim: SimCluster) -> None:
    url = sim.urls[1] + "/_sim/fault"
    with httpx.Client() as http:
        bad = http.post(url, json={"kind": "5xxx"})
        assert bad.status_code == 400
        assert "valid kinds: latency, error, 5xx" in bad.json()["error"]
        for kind in ("latency", "5xx", "lag", "lie", "huge", "drip", "rate_limit"):
            assert http.post(url, json={"kind": kind}).status_code == 200, kind
        assert http.delete(url).status_code == 200


def test_sim_help_documents_every_fault_kind() -> None:
    result = CliRunner().invoke(main, ["sim", "--help"])
    assert result.exit_code == 0
    for kind in FAULT_KINDS:
        assert f"\n    {kind}" in result.output
    assert "--write-config" in result.output


async def test_the_node_alert_names_the_real_cause_not_circuit_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("coincheck-2018")
    with SimCluster.start(scenario, nodes=2, clock=ManualClock(scenario.start), market=False) as cluster:
        cluster.advance(600)
        data = tomllib.loads(watch_config_toml(cluster, 120), parse_float=Decimal)
        data["state"] = {"dir": str(tmp_path)}
        data["network"].pop("start_height")
        service = Service.build(config_from_data(data))
        try:
            await service.engine.cycle()
            httpx.post(cluster.urls[1] + "/_sim/fault", json={"kind": "5xx"})
            for _ in range(8):
                cluster.advance(60)
                await service.engine.cycle()
            nodes = [a.summary for a in service.store.recent_alerts(50) if a.rule == "node"]
        finally:
            await service.close()
    assert nodes, "a node answering 503 raises a node alert"
    assert all("HTTP 503" in s and "CircuitOpen" not in s for s in nodes), nodes
