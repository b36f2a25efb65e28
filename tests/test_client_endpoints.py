"""Every NIS client endpoint against a local node serving real mainnet JSON, and history paging."""

from __future__ import annotations

import json

import pytest
from client_fakenode import FakeTime, Reply, client_for, fixture, healthy, make_pairs, running, transfers_route

from nemwatch.core.models import Network, Transfer
from nemwatch.core.nem.errors import InvalidAddress, MalformedResponse

NAX3 = "NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M"
TAX3 = "TAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T25BTWJ3A"
NAX3_DASHED_LOWER = "nax3ep-4ekuml-h4t3n7-gjstqd-g2amuk-5t26p5-ea2m"


async def test_node_endpoints_return_typed_models() -> None:
    # block_42804.json is a shape sample (its signature does not verify); real blocks are in
    # fixtures/nis/mainnet and go through the client in tests/test_mainnet_blocks.py
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, clock=t.clock, sleep=t.sleep) as client:
        healthy(node, height=42799)
        node.always("/chain/last-block", Reply(200, fixture("block_42804.json")))
        node.always("/time-sync/network-time", Reply(200, {"sendTimeStamp": 9145477789, "receiveTimeStamp": 9145477790}))

        beat = await client.heartbeat()
        assert (beat.code, beat.message) == (1, "ok")
        status = await client.status()
        assert status.synchronized and status.code == 6
        info = await client.node_info()
        assert (info.network_id, info.host, info.port, info.features) == (104, "go.nem.ninja", 7890, 1)
        assert (await client.check_network()).network_id == 104
        assert await client.chain_height() == 42799
        block = await client.last_block()
        assert block.height == 42804 and block.prev_block_hash.startswith("58efa578")
        assert await client.network_time() == 9145477790
        health = client.health()[0]
        assert health.state == "ok" and health.height == 42804 and health.status_code == 6


async def test_block_at_posts_the_height_as_json() -> None:
    async with running(1) as (node,), client_for(node) as client:
        node.always("/block/at/public", Reply(200, fixture("block_42804.json")))
        block = await client.block_at(42804)
        (hit,) = node.hits("/block/at/public")
        assert hit.method == "POST" and json.loads(hit.body) == {"height": 42804}
        assert block.height == 42804 and block.transactions == ()
        with pytest.raises(ValueError):
            await client.block_at(0)


async def test_block_at_rejects_a_block_of_another_height() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, clock=t.clock, sleep=t.sleep) as client:
        node.always("/block/at/public", Reply(200, fixture("block_42804.json")))
        with pytest.raises(MalformedResponse) as caught:
            await client.block_at(42805)
        # three failures open the breaker, and a broken node is not waited for
        assert "another block" in str(caught.value) and len(caught.value.errors) == 3


async def test_account_endpoints_send_the_normalized_address() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, clock=t.clock, sleep=t.sleep) as client:
        node.always("/account/get", Reply(200, fixture("account_nax3.json")))
        node.always("/account/unconfirmedTransactions", Reply(200, fixture("unconfirmed_nax3.json")))
        node.always("/account/mosaic/owned", Reply(200, fixture("mosaics_owned.json")))

        account = await client.account(NAX3_DASHED_LOWER)
        assert account.address == NAX3 and account.balance == 5000599306 and account.status == "LOCKED"
        pending = await client.unconfirmed(NAX3_DASHED_LOWER)
        assert len(pending) == 1 and isinstance(pending[0], Transfer)
        assert pending[0].height is None and pending[0].sender == NAX3 and pending[0].xem == 27700000
        mosaics = await client.mosaics_owned(NAX3)
        assert [m.id for m in mosaics] == ["nem:xem", "makoto.metal.coins:silver coin"]
        assert {h.query["address"] for h in node.log} == {NAX3}


async def test_a_bad_address_is_refused_before_any_request() -> None:
    async with running(1) as (node,), client_for(node) as client:
        with pytest.raises(InvalidAddress) as caught:
            await client.account("NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2N")  # checksum typo
        assert caught.value.node is None and "checksum" in caught.value.message
        with pytest.raises(InvalidAddress):
            await client.account(TAX3)  # a testnet address on mainnet
        assert node.log == []


async def test_a_testnet_client_sends_testnet_addresses() -> None:
    async with running(1) as (node,), client_for(node, network=Network.TESTNET) as client:
        node.always("/account/mosaic/owned", Reply(200, {"data": []}))
        assert await client.mosaics_owned("tax3ep-4ekuml-h4t3n7-gjstqd-g2amuk-5t25bt-wj3a") == ()
        assert node.hits()[0].query["address"] == TAX3


# --- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("page_size", "sent", "requests"), [(100, "100", 3), (3, "5", 53), (250, "100", 3)])
async def test_transfers_walk_every_page(page_size: int, sent: str, requests: int) -> None:
    pairs = make_pairs(260)
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, clock=t.clock, sleep=t.sleep) as client:
        node.always("/account/transfers/incoming", transfers_route(pairs))
        got = await client.transfers(NAX3, "incoming", page_size=page_size)
        assert [tx.hash for tx in got] == [p["meta"]["hash"]["data"] for p in pairs]
        hits = node.hits("/account/transfers/incoming")
        assert len(hits) == requests and {h.query["pageSize"] for h in hits} == {sent}
        assert "id" not in hits[0].query
        # each next page starts below the smallest id of the page before (ids are exclusive)
        for before, after in zip(hits, hits[1:], strict=False):
            assert int(after.query["id"]) < int(before.query.get("id", 10**9))
        assert int(hits[1].query["id"]) == pairs[int(sent) - 1]["meta"]["id"]


async def test_transfers_stop_before_until_hash_and_after_max_pages() -> None:
    pairs = make_pairs(260)
    async with running(1) as (node,), client_for(node) as client:
        node.always("/account/transfers/all", transfers_route(pairs))
        stop = pairs[150]["meta"]["hash"]["data"]
        got = await client.transfers(NAX3, until_hash=stop.upper())
        assert len(got) == 150 and stop not in {tx.hash for tx in got}
        assert len(node.hits()) == 2  # the walk stopped inside page 2
        node.log.clear()
        got = await client.transfers(NAX3, page_size=5, max_pages=3)
        assert len(got) == 15 and len(node.log) == 3


async def test_transfers_end_on_an_empty_page_and_tolerate_an_old_node_ignoring_page_size() -> None:
    pairs = make_pairs(60)

    def ignores_page_size(hit):  # noqa: ANN001, ANN202 - an old node always sends 25
        hit.query["pageSize"] = "25"
        return transfers_route(pairs)(hit)

    async with running(1) as (node,), client_for(node) as client:
        node.always("/account/transfers/outgoing", ignores_page_size)
        got = await client.transfers(NAX3, "outgoing", page_size=100)
        assert len(got) == 60 and len(node.log) == 3  # 25 + 25 + 10 (a short page ends it)
        node.always("/account/transfers/outgoing", Reply(200, {"data": []}))
        assert await client.transfers(NAX3, "outgoing") == []


async def test_iter_transfers_is_pinned_to_one_node() -> None:
    pairs = make_pairs(120)
    async with running(2) as (a, b), client_for(a, b) as client:
        for node in (a, b):
            node.always("/account/transfers/all", transfers_route(pairs))
        seen = [tx.meta_id async for tx in client.node(b.url).iter_transfers(NAX3, page_size=50)]
        assert len(seen) == 120 and a.log == [] and len(b.log) == 3


async def test_a_page_that_does_not_continue_the_walk_is_malformed() -> None:
    pairs = make_pairs(10)
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, clock=t.clock, sleep=t.sleep) as client:
        # a broken node answers every page with the first page again
        node.always("/account/transfers/all", Reply(200, {"data": pairs[:5]}))
        with pytest.raises(MalformedResponse) as caught:
            await client.transfers(NAX3, page_size=5)
        assert "cursor" in str(caught.value)


async def test_node_view_and_heights() -> None:
    async with running(3) as nodes, client_for(*nodes) as client:
        for node, height in zip(nodes, (100, 101, 99), strict=True):
            healthy(node, height=height)
        assert await client.node(nodes[1].url).chain_height() == 101
        assert len(nodes[1].log) == 1 and nodes[0].log == []
        heights = await client.heights()
        assert heights == {client.nodes[0]: 100, client.nodes[1]: 101, client.nodes[2]: 99}
        assert all(len(n.hits("/chain/height")) >= 1 for n in nodes)
