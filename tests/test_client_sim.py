"""The NIS client against the node simulator: every endpoint, paging across node-local id
spaces, and the simulator's faults. The client's clock and sleep move the simulator's clock,
so Retry-After windows and backoffs pass without real waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from nemwatch.core.models import Network, Transfer
from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.errors import (
    DeadlineExceeded,
    InvalidAddress,
    MalformedResponse,
    NotFound,
    ResponseTooLarge,
    ServerError,
    WrongNetworkError,
)
from nemwatch.core.retry import RetryPolicy
from nemwatch.sim import ManualClock, ScenarioBuilder, SimCluster, compile_scenario

START = datetime(2018, 1, 25, 14, 0, tzinfo=UTC)
TRANSFERS = 260
LATE = 2700 + 30  # a transfer announced after the others, to sit in the pool
ID_OFFSETS = (0, 1_000_000, 2_000_000)  # meta.id differs from node to node, as on the real network


def _scenario() -> Any:
    sb = ScenarioBuilder("client", START, start_height=1000, seed="client-tests")
    sb.account("hot", "hot_wallet", xem=10_000_000)
    sb.account("thief", "thief")
    sb.account("tagger", "tagger", xem=100)
    sb.mosaic("tag.demo:marker", "tagger", 100)
    for i in range(TRANSFERS):
        sb.transfer(20 + 10 * i, "hot", "thief", xem=1_000 + i, message=f"payment {i}" if i % 7 == 0 else None)
    sb.transfer(2650, "tagger", "thief", mosaics=[("tag.demo:marker", 1)])
    sb.transfer(LATE, "hot", "thief", xem=5)
    return compile_scenario(sb.build())


COMPILED = _scenario()


class SimTime:
    """The client's monotonic clock and sleep, on the simulator's manual clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.sim_clock = clock
        self.origin = clock.now()

    def clock(self) -> float:
        return (self.sim_clock.now() - self.origin).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.sim_clock.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def wall(self) -> datetime:
        return self.sim_clock.now()


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    clock = ManualClock(START + timedelta(seconds=LATE + 1))  # every transfer but the last is mined
    cluster = SimCluster.start(COMPILED, nodes=3, clock=clock, id_offsets=ID_OFFSETS)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def client(sim: SimCluster) -> AsyncIterator[NisClient]:
    t = SimTime(sim.clock)  # type: ignore[arg-type]
    async with httpx.AsyncClient(trust_env=False) as http:
        async with NisClient(sim.urls, http=http, clock=t.clock, sleep=t.sleep, wall=t.wall) as nis:
            yield nis


def paths(sim: SimCluster, node: int, prefix: str = "/") -> list[str]:
    return [r.path for r in sim.nodes[node].requests if r.path.startswith(prefix)]


def query(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}


# --- endpoints -------------------------------------------------------------------------------


async def test_every_endpoint_against_the_simulator(sim: SimCluster, client: NisClient) -> None:
    thief, hot = sim.address("thief"), sim.address("hot")
    assert (await client.heartbeat()).code == 1
    assert (await client.status()).synchronized
    info = await client.check_network()
    assert info.network_id == Network.MAINNET.network_id and info.name == "sim-node-0"
    height = await client.chain_height()
    assert height == sim.height
    last = await client.last_block()
    assert last.height == height
    previous = await client.block_at(height - 1)
    assert previous.height == height - 1 and last.prev_block_hash == previous.hash
    assert await client.network_time() == int((sim.clock.now() - datetime(2015, 3, 29, 0, 6, 25, tzinfo=UTC)).total_seconds() * 1000)

    account = await client.account(hot)
    assert account.address == hot and account.public_key is not None
    assert 0 < account.balance < 10_000_000 * 10**6
    mosaics = await client.mosaics_owned(thief)
    assert [m.id for m in mosaics] == ["nem:xem", "tag.demo:marker"] and mosaics[1].quantity == 1
    assert mosaics[0].quantity == (await client.account(thief)).balance

    pending = await client.unconfirmed(thief)
    assert len(pending) == 1 and isinstance(pending[0], Transfer)
    assert (pending[0].sender, pending[0].recipient, pending[0].xem, pending[0].height) == (hot, thief, 5_000_000, None)

    with pytest.raises(NotFound) as missing:
        await client.block_at(height + 50)
    assert f"block not found in the db '{height + 50}'" in missing.value.message


async def test_block_transactions_match_the_account_history(sim: SimCluster, client: NisClient) -> None:
    history = await client.transfers(sim.address("thief"), "incoming", max_pages=1, page_size=5)
    newest = history[0]
    assert newest.height is not None
    block = await client.block_at(newest.height)
    assert newest.hash in {tx.hash for tx in block.transactions}


async def test_the_simulator_refuses_a_dashed_address_so_the_client_normalizes(sim: SimCluster, client: NisClient) -> None:
    dashed = "-".join(sim.address("thief")[i : i + 6] for i in range(0, 40, 6)).lower()
    raw = httpx.get(f"{sim.urls[0]}/account/get", params={"address": dashed}, trust_env=False)
    assert raw.status_code == 400 and raw.json()["message"] == "address must be valid"
    assert (await client.account(dashed)).address == sim.address("thief")


# --- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("page_size", "sent", "pages"), [(100, "100", 3), (3, "5", 53)])
async def test_transfers_page_through_the_whole_history(
    sim: SimCluster, client: NisClient, page_size: int, sent: str, pages: int
) -> None:
    thief = sim.address("thief")
    got = await client.transfers(thief, "incoming", page_size=page_size)
    assert len(got) == TRANSFERS + 1  # the marker transfer too; the pooled one is not mined
    assert len({tx.hash for tx in got}) == len(got)
    heights = [tx.height for tx in got]
    assert heights == sorted(heights, reverse=True)  # newest first
    walked = [node for node in range(3) if paths(sim, node, "/account/transfers/")]
    assert len(walked) == 1  # one node for the whole walk
    asked = paths(sim, walked[0], "/account/transfers/incoming")
    assert len(asked) == pages and {query(p)["pageSize"] for p in asked} == {sent}
    ids = [int(query(p)["id"]) for p in asked[1:]]
    assert ids == sorted(ids, reverse=True) and all(i > ID_OFFSETS[walked[0]] for i in ids)


async def test_until_hash_stops_the_walk(sim: SimCluster, client: NisClient) -> None:
    thief = sim.address("thief")
    everything = await client.transfers(thief, page_size=100)
    known = everything[120]
    fresh = await client.transfers(thief, until_hash=known.hash)
    assert [tx.hash for tx in fresh] == [tx.hash for tx in everything[:120]]


async def test_walks_on_different_nodes_agree_although_their_ids_differ(sim: SimCluster, client: NisClient) -> None:
    thief = sim.address("thief")
    walks = [await client.node(url).transfers(thief, page_size=50) for url in sim.urls]
    assert [tx.hash for tx in walks[0]] == [tx.hash for tx in walks[1]] == [tx.hash for tx in walks[2]]
    assert walks[0][0].meta_id != walks[1][0].meta_id


async def test_a_walk_whose_node_breaks_starts_over_on_another_node(sim: SimCluster, client: NisClient) -> None:
    thief = sim.address("thief")
    sim.nodes[0].faults.error(500, paths=["/account/transfers"])
    got = await client.transfers(thief, page_size=100)
    assert len(got) == TRANSFERS + 1 and len({tx.hash for tx in got}) == len(got)
    assert paths(sim, 0, "/account/transfers/") and paths(sim, 1, "/account/transfers/")
    ids = [int(query(p)["id"]) for p in paths(sim, 1, "/account/transfers/") if "id=" in p]
    assert all(i > ID_OFFSETS[1] for i in ids)  # node 1's own ids, never node 0's


async def test_a_pinned_walk_that_breaks_midway_raises_instead_of_switching(sim: SimCluster, client: NisClient) -> None:
    thief = sim.address("thief")
    seen = []
    with pytest.raises(ServerError):
        async for tx in client.node(sim.urls[2]).iter_transfers(thief, page_size=100):
            seen.append(tx)
            if len(seen) == 100:
                sim.nodes[2].faults.error(503, message="NIS_ILLEGAL_STATE_LOADING_CHAIN")
    assert len(seen) == 100
    assert not paths(sim, 0, "/account/transfers/") and not paths(sim, 1, "/account/transfers/")


# --- faults ----------------------------------------------------------------------------------


async def test_5xx_then_success_and_failover(sim: SimCluster, client: NisClient) -> None:
    sim.nodes[0].faults.error(503, count=1, paths=["/chain/height"])
    assert await client.chain_height(node=sim.urls[0]) == sim.height
    assert len(paths(sim, 0, "/chain/height")) == 2
    sim.nodes[0].faults.error(500, paths=["/account/get"])
    account = await client.account(sim.address("hot"))
    assert account.address == sim.address("hot")
    assert len(paths(sim, 0, "/account/get")) == 1 and len(paths(sim, 1, "/account/get")) == 1


@pytest.mark.parametrize("form", ["seconds", "date"])
async def test_retry_after_is_honoured(sim: SimCluster, client: NisClient, form: str) -> None:
    node = sim.nodes[0]
    node.faults.rate_limit(20, count=1, date_form=form == "date")
    assert await client.chain_height(node=sim.urls[0]) > 0
    first, second = node.requests  # the first got the 429 (count=1), the second the height
    assert (second.at - first.at).total_seconds() >= 20


async def test_a_rate_limited_node_rests_while_the_others_serve(sim: SimCluster, client: NisClient) -> None:
    sim.nodes[0].faults.rate_limit(90, count=1)
    for _ in range(4):
        await client.chain_height()
        sim.clock.advance(10)
    assert len(sim.nodes[0].requests) == 1 and client.health()[0].state == "backoff"
    sim.clock.advance(60)
    await client.chain_height()
    assert len(sim.nodes[0].requests) == 2
    assert (sim.nodes[0].requests[1].at - sim.nodes[0].requests[0].at).total_seconds() >= 90


async def test_429_without_retry_after_backs_off(sim: SimCluster, client: NisClient) -> None:
    node = sim.nodes[0]
    node.faults.rate_limit(None, count=2)
    assert await client.heartbeat(node=sim.urls[0]) is not None
    times = [r.at for r in node.requests]
    assert len(times) == 3  # two 429s (count=2), then the answer
    assert (times[1] - times[0]).total_seconds() >= RetryPolicy().backoff_base
    assert (times[2] - times[1]).total_seconds() >= 2 * RetryPolicy().backoff_base


@pytest.mark.parametrize("kind", ["malformed", "truncated", "wrong_types"])
async def test_broken_bodies_are_retried(sim: SimCluster, client: NisClient, kind: str) -> None:
    sim.nodes[0].faults.body(kind, count=1)  # type: ignore[arg-type]
    account = await client.account(sim.address("hot"), node=sim.urls[0])
    assert account.address == sim.address("hot")
    assert len(sim.nodes[0].requests) == 2
    assert client.health()[0].consecutive_failures == 0


async def test_always_broken_bodies_end_in_a_typed_error(sim: SimCluster, client: NisClient) -> None:
    for node in sim.nodes:
        node.faults.malformed()
    with pytest.raises(MalformedResponse) as caught:
        await client.chain_height()
    assert len(caught.value.errors) == 4


async def test_a_dripping_node_is_cut_off_at_the_deadline(sim: SimCluster) -> None:
    sim.nodes[0].faults.drip(interval=0.5)
    async with httpx.AsyncClient(trust_env=False) as http:
        nis = NisClient([sim.urls[0]], http=http, timeout=1.0, retry=RetryPolicy(attempts=1))
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await nis.chain_height()
        assert time.monotonic() - started < 3.0


async def test_a_50_mb_answer_is_refused(sim: SimCluster) -> None:
    sim.nodes[0].faults.huge()
    async with httpx.AsyncClient(trust_env=False) as http:
        nis = NisClient([sim.urls[0]], http=http, retry=RetryPolicy(attempts=1), max_body_bytes=1024 * 1024)
        with pytest.raises(ResponseTooLarge):
            await nis.account(sim.address("hot"))


async def test_wrong_network_and_lag_show_in_health(sim: SimCluster, client: NisClient) -> None:
    sim.nodes[1].faults.wrong_network()
    sim.nodes[2].faults.lag(30)
    health = await client.refresh_health()
    assert [h.state for h in health] == ["ok", "wrong_network", "lagging"]
    assert health[2].height == health[0].height - 30
    with pytest.raises(WrongNetworkError):
        await client.check_network(node=sim.urls[1])
    heights = await client.heights()
    assert isinstance(heights[client.nodes[1]], WrongNetworkError)
    assert heights[client.nodes[2]] == heights[client.nodes[0]] - 30
    # the node comes back to mainnet: the next health check notices and it serves again
    sim.nodes[1].faults.clear("wrong_network")
    sim.nodes[2].faults.clear("lag")
    assert [h.state for h in await client.refresh_health()] == ["ok", "ok", "ok"]
    assert isinstance((await client.heights())[client.nodes[1]], int)


async def test_a_testnet_address_gets_the_nodes_message(sim: SimCluster, client: NisClient) -> None:
    sim.nodes[0].faults.wrong_network()  # node 0 now speaks testnet and refuses mainnet addresses
    with pytest.raises(InvalidAddress) as caught:
        await client.account(sim.address("hot"), node=sim.urls[0])
    assert caught.value.message == "address must be valid" and caught.value.node == client.nodes[0]
    assert len(sim.nodes[0].requests) == 1  # not retried


async def test_a_lying_node_does_not_make_the_others_look_behind(sim: SimCluster, client: NisClient) -> None:
    sim.nodes[2].faults.lie(1000)
    health = await client.refresh_health()
    assert [h.state for h in health] == ["ok", "ok", "ok"]
    assert health[2].height == health[0].height + 1000  # the engine's quorum deals with the liar


async def test_reads_follow_a_rollback(sim: SimCluster, client: NisClient) -> None:
    tip = await client.chain_height()
    before = await client.block_at(tip)
    report = sim.rollback(3, "drop")
    assert report.old_tip == tip and report.ancestor == tip - 3
    after = await client.block_at(tip)
    assert after.height == tip and after.hash != before.hash
