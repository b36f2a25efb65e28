"""Faults a NIS node can throw at the client: 5xx, 429, malformed and cut bodies, slow drip,
huge bodies, wrong network, 4xx errors; and no secret of a node URL ever shows."""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from client_fakenode import FakeTime, Reply, client_for, healthy, nis_error, running

from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.errors import (
    DeadlineExceeded,
    InvalidAddress,
    MalformedResponse,
    NisRequestError,
    NodeFailure,
    NotFound,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    TransportError,
    WrongNetworkError,
)
from nemwatch.core.retry import RetryPolicy

NAX3 = "NAX3EP4EKUMLH4T3N7GJSTQDG2AMUK5T26P5EA2M"
WALL_START = datetime(2026, 1, 26, 0, 2, 13, tzinfo=UTC)


def fake_options(t: FakeTime, **more: object) -> dict[str, object]:
    """Client options on fake time; the wall clock moves with it."""
    return {"clock": t.clock, "sleep": t.sleep, "wall": lambda: WALL_START + timedelta(seconds=t.now), **more}


# --- 5xx, retries and failover ---------------------------------------------------------------


async def test_a_5xx_is_retried_after_a_backoff_and_then_succeeds() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        healthy(node, height=777).on("/chain/height", nis_error(500, "this node is unhappy"))
        assert await client.chain_height() == 777
        first, second = node.hits("/chain/height")
        policy = RetryPolicy()
        assert policy.backoff_base <= second.at - first.at <= policy.backoff_base + policy.jitter
        health = client.health()[0]
        assert health.state == "ok" and health.consecutive_failures == 0
        assert "this node is unhappy" in (health.last_error or "")


async def test_a_5xx_on_one_of_two_nodes_fails_over_at_once() -> None:
    t = FakeTime()
    async with running(2, t.clock) as (a, b), client_for(a, b, **fake_options(t)) as client:
        healthy(a).always("/chain/height", nis_error(500, "db is gone"))
        healthy(b, height=1234)
        assert await client.chain_height() == 1234
        assert len(a.hits()) == 1 and len(b.hits()) == 1 and t.sleeps == []  # no backoff moving on
        ha, hb = client.health()
        assert ha.state == "down" and ha.consecutive_failures == 1 and "HTTP 500: db is gone" in (ha.last_error or "")
        assert hb.state == "ok"
        # the failed node is no longer the first choice
        assert await client.chain_height() == 1234 and len(a.hits()) == 1


async def test_a_refused_connection_fails_over(unused_tcp_port: int) -> None:
    t = FakeTime()
    async with running(1, t.clock) as (b,):
        healthy(b, height=9)
        async with httpx.AsyncClient(trust_env=False) as http:
            client = NisClient([f"http://127.0.0.1:{unused_tcp_port}", b.url], http=http, **fake_options(t))  # type: ignore[arg-type]
            assert await client.chain_height() == 9
            down = client.health()[0]
            assert down.state == "down" and "ConnectError" in (down.last_error or "")
            with pytest.raises(TransportError):
                await client.node(f"http://127.0.0.1:{unused_tcp_port}").chain_height()


# --- 429 and Retry-After ---------------------------------------------------------------------


async def test_retry_after_seconds_is_honoured_on_a_pinned_node() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        healthy(node, height=5).on("/chain/height", Reply(429, b"", {"Retry-After": "7"}))
        assert await client.node(node.url).chain_height() == 5
        first, second = node.hits("/chain/height")
        assert second.at - first.at >= 7.0


async def test_retry_after_http_date_is_honoured() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        when = format_datetime(WALL_START + timedelta(seconds=t.now + 20), usegmt=True)
        healthy(node, height=5).on("/chain/height", Reply(429, b"", {"Retry-After": when}))
        assert await client.chain_height() == 5
        first, second = node.hits("/chain/height")
        assert 19.0 <= second.at - first.at <= 21.0


async def test_429_without_retry_after_rests_the_node_for_a_backoff() -> None:
    t = FakeTime()
    policy = RetryPolicy(backoff_base=2.0, jitter=0.5)
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t, retry=policy)) as client:
        healthy(node, height=5).on("/chain/height", Reply(429), Reply(429))
        assert await client.chain_height() == 5
        times = [h.at for h in node.hits("/chain/height")]
        assert len(times) == 3
        assert times[1] - times[0] >= 2.0 and times[2] - times[1] >= 4.0  # the backoff grows


async def test_a_resting_node_gets_no_request_while_others_serve() -> None:
    t = FakeTime()
    async with running(2, t.clock) as (a, b), client_for(a, b, **fake_options(t)) as client:
        healthy(a, height=50).on("/chain/height", Reply(429, b"", {"Retry-After": "60"}))
        healthy(b, height=50)
        for _ in range(5):
            assert await client.chain_height() == 50
            await t.sleep(5)
        assert len(a.hits()) == 1 and len(b.hits()) == 5
        rest = client.health()[0]
        assert rest.state == "backoff" and rest.retry_in is not None and 30 <= rest.retry_in <= 40
        assert (await client.heights())[client.nodes[0]].__class__ is RateLimited  # asked nobody
        assert len(a.hits()) == 1
        await t.sleep(40)
        assert await client.chain_height() == 50
        assert len(a.hits()) == 2 and a.hits()[1].at - a.hits()[0].at >= 60


async def test_retry_after_is_clamped_and_a_long_rest_is_not_waited_for() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        node.always("/chain/height", Reply(429, b"", {"Retry-After": "9999999999999999999999"}))
        with pytest.raises(RateLimited) as caught:
            await client.chain_height()
        assert caught.value.retry_after == RetryPolicy().max_retry_after == 300.0
        assert len(node.hits()) == 1 and t.sleeps == []


async def test_503_with_retry_after_rests_and_503_without_is_a_server_error() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        healthy(node, height=8).on(
            "/chain/height", Reply(503, b"", {"Retry-After": "3"}), nis_error(503, "NIS_ILLEGAL_STATE_LOADING_CHAIN")
        )
        assert await client.chain_height() == 8
        hits = node.hits("/chain/height")
        assert len(hits) == 3 and hits[1].at - hits[0].at >= 3.0
        assert "NIS_ILLEGAL_STATE_LOADING_CHAIN" in (client.health()[0].last_error or "")


# --- malformed, cut short, slow, huge --------------------------------------------------------

BAD_BODIES = [
    b'{"height": ',  # truncated JSON
    b"<html>502 Bad Gateway</html>",
    b'{"height": "42"}',
    b'{"height": true}',
    b'{"height": NaN}',
    b"[]",
    b"\xff\xfe\x00garbage",
    b'{"heigth": 5}',
]


@pytest.mark.parametrize("bad", BAD_BODIES)
async def test_a_malformed_answer_is_retried_then_succeeds(bad: bytes) -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        healthy(node, height=321).on("/chain/height", Reply(200, bad))
        assert await client.chain_height() == 321
        assert len(node.hits()) == 2


async def test_always_malformed_ends_in_a_typed_error_listing_every_try() -> None:
    t = FakeTime()
    async with running(2, t.clock) as (a, b), client_for(a, b, **fake_options(t)) as client:
        a.always("/account/get", Reply(200, b'{"meta": {}, "account": {"address": 1'))
        b.always("/account/get", Reply(200, {"account": {"address": NAX3}}))
        with pytest.raises(MalformedResponse) as caught:
            await client.account(NAX3)
        assert len(caught.value.errors) == 4 and all(isinstance(e, MalformedResponse) for e in caught.value.errors)
        assert {e.node for e in caught.value.errors} == set(client.nodes)


async def test_a_body_cut_short_is_a_transport_error_and_retried() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        healthy(node, height=6).on("/chain/height", Reply(200, b'{"hei', {"Content-Length": "40"}))
        assert await client.chain_height() == 6
        assert len(node.hits()) == 2
        assert "RemoteProtocolError" in (client.health()[0].last_error or "")


async def test_a_slow_drip_is_aborted_at_the_total_deadline() -> None:
    async with running(1) as (node,), client_for(node, timeout=1.0, retry=RetryPolicy(attempts=1)) as client:
        # 13 bytes, one every 0.4 s: each chunk is quick (no read timeout) but the whole takes 5 s
        node.always("/chain/height", Reply(200, {"height": 5}, drip_seconds=0.4))
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as caught:
            await client.chain_height()
        elapsed = time.monotonic() - started
        assert 0.9 <= elapsed < 3.0
        assert isinstance(caught.value, TimeoutError) and "within 1 s" in str(caught.value)


async def test_a_huge_streamed_body_is_cut_off_with_bounded_memory() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,):
        node.always("/chain/height", Reply(200, stream_mib=50))
        async with client_for(node, max_body_bytes=256 * 1024, retry=RetryPolicy(attempts=1), **fake_options(t)) as client:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLarge) as caught:
                    await client.chain_height()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert caught.value.limit == 256 * 1024
        assert peak < 12 * 1024 * 1024
        await asyncio.sleep(0.05)
        assert node.bytes_sent < 30 * 1024 * 1024  # the client hung up long before 50 MiB


async def test_a_declared_huge_body_is_refused_before_reading() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, max_body_bytes=4096, **fake_options(t)) as client:
        node.always("/chain/height", Reply(200, b" " * 20000 + b'{"height": 1}'))
        with pytest.raises(ResponseTooLarge):
            await client.chain_height()


def _gzip_bomb(mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(mib)) + packer.flush()


async def test_a_gzip_bomb_is_cut_off_after_decompressing_the_cap() -> None:
    t = FakeTime()
    bomb = _gzip_bomb(64)
    assert len(bomb) < 200_000
    async with running(1, t.clock) as (node,):
        node.always("/chain/height", Reply(200, bomb, {"Content-Encoding": "gzip"}))
        async with client_for(node, max_body_bytes=1024 * 1024, retry=RetryPolicy(attempts=1), **fake_options(t)) as client:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLarge):
                    await client.chain_height()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert peak < 16 * 1024 * 1024


async def test_a_gzip_answer_is_decoded_and_a_corrupt_one_is_malformed() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        packed = gzip.compress(b'{"height": 4242}')
        node.on("/chain/height", Reply(200, packed[:-6], {"Content-Encoding": "gzip"}))
        node.always("/chain/height", Reply(200, packed, {"Content-Encoding": "gzip"}))
        assert await client.chain_height() == 4242
        assert "compressed body" in (client.health()[0].last_error or "")


# --- network, 4xx ----------------------------------------------------------------------------


async def test_a_node_on_the_wrong_network_is_detected_and_avoided() -> None:
    t = FakeTime()
    async with running(2, t.clock) as (a, b), client_for(a, b, **fake_options(t)) as client:
        healthy(a, height=10, network_id=-104)
        healthy(b, height=10)
        with pytest.raises(WrongNetworkError) as caught:
            await client.check_network(node=a.url)
        assert (caught.value.expected, caught.value.got) == (104, -104)
        assert (await client.check_network()).network_id == 104  # the next choice is b
        wrong = client.health()[0]
        assert wrong.state == "wrong_network" and wrong.network_id == -104
        a.log.clear()
        for _ in range(3):
            await client.chain_height()
        assert a.log == []
        with pytest.raises(WrongNetworkError):
            await client.node(a.url).chain_height()


async def test_refresh_health_finds_the_wrong_network() -> None:
    async with running(2) as (a, b), client_for(a, b) as client:
        healthy(a, network_id=-104)
        healthy(b)
        states = [h.state for h in await client.refresh_health()]
        assert states == ["wrong_network", "ok"]
        assert a.hits("/chain/height") == []


async def test_4xx_are_typed_carry_the_nis_message_and_are_not_retried() -> None:
    t = FakeTime()
    async with running(2, t.clock) as (a, b), client_for(a, b, **fake_options(t)) as client:
        a.always("/account/get", nis_error(400, "address must be valid"))
        a.always("/block/at/public", nis_error(404, "block not found in the db '99999999' (org.nem.core.model.Block)"))
        a.always("/account/mosaic/owned", nis_error(401, "\x1b]0;PWNED\x07unauthorized \u202eaccess"))
        with pytest.raises(InvalidAddress) as bad:
            await client.account(NAX3)
        assert (bad.value.status, bad.value.message, bad.value.node) == (400, "address must be valid", client.nodes[0])
        with pytest.raises(NotFound) as missing:
            await client.block_at(99999999)
        assert missing.value.status == 404 and "block not found in the db '99999999'" in missing.value.message
        with pytest.raises(NisRequestError) as refused:
            await client.mosaics_owned(NAX3)
        assert refused.value.message == "unauthorized access"  # escape and bidi controls dropped
        assert len(a.log) == 3 and b.log == []  # no retry, no failover
        health = client.health()[0]
        assert health.state == "ok" and health.consecutive_failures == 0


# --- secrets ---------------------------------------------------------------------------------


async def test_node_url_secrets_never_show(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nemwatch.client")
    t = FakeTime()
    async with running(2, t.clock) as (a, b):
        healthy(a).always("/chain/height", nis_error(500, "boom"))
        healthy(b, height=3)
        port = a.url.rsplit(":", 1)[1]
        secret_url = f"http://operator:hunter2pass@127.0.0.1:{port}/?apikey=tok3n-abcdef-123456"
        async with httpx.AsyncClient(trust_env=False) as http:
            client = NisClient([secret_url, b.url], http=http, **fake_options(t))  # type: ignore[arg-type]
            assert await client.chain_height() == 3
            with pytest.raises(NodeFailure) as caught:
                await client.node(secret_url).chain_height()
        assert a.hits()[0].query["apikey"] == "tok3n-abcdef-123456"  # the token did reach the node
        shown = [str(caught.value), repr(caught.value), *map(str, client.health()), client.nodes[0], caplog.text]
        for text in shown:
            for secret in ("hunter2pass", "operator", "tok3n-abcdef-123456"):
                assert secret not in text
        assert client.nodes[0].startswith("http://127.0.0.1:")


async def test_transport_error_text_is_scrubbed(unused_tcp_port: int) -> None:
    url = f"http://user:pa55word-secret@127.0.0.1:{unused_tcp_port}/?token=sekrit-token-value"
    async with httpx.AsyncClient(trust_env=False) as http:
        client = NisClient([url], http=http, retry=RetryPolicy(attempts=1))
        with pytest.raises(TransportError) as caught:
            await client.heartbeat()
    for text in (str(caught.value), str(client.health())):
        assert "pa55word-secret" not in text and "sekrit-token-value" not in text


async def test_server_error_exposes_status_and_message() -> None:
    t = FakeTime()
    async with running(1, t.clock) as (node,), client_for(node, **fake_options(t)) as client:
        node.always("/heartbeat", nis_error(500, "this node does not support transaction lookup using a hash"))
        with pytest.raises(ServerError) as caught:
            await client.heartbeat()
        assert caught.value.status == 500 and "transaction lookup" in caught.value.message

