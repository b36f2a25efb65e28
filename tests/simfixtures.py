"""Shared helpers and fixtures for tests that run the NIS1 node simulator (``nemwatch.sim``).

Import what a test needs (``from simfixtures import sim, small_scenario, START``); pytest
finds fixtures imported into a test module. Everything serves on 127.0.0.1 only, with a
``ManualClock`` so nothing depends on real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx
import pytest

from nemwatch.sim import CompiledScenario, ManualClock, Scenario, ScenarioBuilder, SimCluster, compile_scenario
from nemwatch.sim import load_scenario as _load

START = datetime(2018, 1, 25, 14, 0, tzinfo=UTC)
START_HEIGHT = 1_000
MARKER = "tag.demo:marker"
PAGED_TRANSFERS = 130  # hot -> thief, enough for several pages


def small_scenario(**overrides: Any) -> Scenario:
    """A compact chain: a hot wallet paying a thief 130 times (some with messages, some v2),
    a marker mosaic, a 2-of-3 multisig exchange spending through a cosigner, and a bystander."""
    sb = ScenarioBuilder("small", START, start_height=START_HEIGHT, seed="small", **overrides)
    sb.account("hot", "hot_wallet", xem=10_000_000)
    sb.account("thief", "thief")
    sb.account("bystander", "bystander", xem=100)
    sb.account("tagger", "tagger", xem=100)
    for c in ("signer-1", "signer-2", "signer-3"):
        sb.account(c, "cosigner")
    sb.multisig("exchange", ["signer-1", "signer-2", "signer-3"], 2, xem=1_000_000)
    sb.mosaic(MARKER, "tagger", 100, transferable=False)
    for i in range(PAGED_TRANSFERS):
        message = f"payment {i}" if i % 4 == 0 else None
        sb.transfer(20 + 20 * i, "hot", "thief", xem=1_000 + i, message=message, version=2 if i % 5 == 0 else None)
    sb.transfer(90, "tagger", "thief", mosaics=[(MARKER, 1)])
    sb.transfer(150, "exchange", "thief", xem=2_500, via="signer-1", message="deposit 1009188")
    sb.transfer(400, "bystander", "thief", xem=1, message="please give it back")
    return sb.build()


@lru_cache(maxsize=4)
def compiled_small() -> CompiledScenario:
    return compile_scenario(small_scenario())


@lru_cache(maxsize=1)
def coincheck() -> CompiledScenario:
    """The compiled coincheck-2018 scenario (built once per test session)."""
    return compile_scenario(_load("coincheck-2018"))


def start_cluster(compiled: CompiledScenario | Scenario, nodes: int = 1, **kw: Any) -> SimCluster:
    start = compiled.scenario.start if isinstance(compiled, CompiledScenario) else compiled.start
    kw.setdefault("clock", ManualClock(start))
    return SimCluster.start(compiled, nodes=nodes, **kw)


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    """Three nodes over the small scenario, clock frozen at its start."""
    cluster = start_cluster(compiled_small(), nodes=3)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def get(client: httpx.Client, url: str, path: str, **params: Any) -> Any:
    response = client.get(url + path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def page_all(client: httpx.Client, url: str, direction: str, address: str, page_size: int = 25) -> list[dict]:
    """Every transaction of an account, paging by the smallest meta.id as clients do."""
    items: list[dict] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"address": address, "pageSize": page_size}
        if cursor is not None:
            params["id"] = cursor
        page = get(client, url, f"/account/transfers/{direction}", **params)["data"]
        items.extend(page)
        if len(page) < page_size:
            return items
        cursor = min(item["meta"]["id"] for item in page)


class VirtualTime:
    """A client's clock: simulated time plus whatever the client itself slept, so its rate
    limits and breakers follow the chain's clock without waiting in real time."""

    def __init__(self, sim: SimCluster) -> None:
        self.sim = sim
        self.slept = 0.0

    def __call__(self) -> float:
        return self.sim.clock.now().timestamp() + self.slept

    async def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
        await asyncio.sleep(0)
