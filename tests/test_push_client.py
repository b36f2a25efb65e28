"""The push client (core/nem/push.py) against an adversarial fake NIS websocket on 127.0.0.1:
what the simulator would never send (garbage frames, a 10 MB message, a destination it did not
subscribe, a transaction with a bad signature, silence, a close), plus the URL derivation and
the STOMP codec."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from nemwatch.core.models import Network
from nemwatch.core.nem.push import PushedHeight, PushedTransaction, PushHub, PushSettings, PushState, push_url
from nemwatch.core.nem.stomp import StompError, decode_frame, encode_frame, sockjs_decode, sockjs_messages
from simfixtures import compiled_small

FAST = PushSettings(idle_seconds=5.0, open_timeout=2.0, backoff_initial=0.05, backoff_max=0.2, jitter=0.0)


def signed_tx() -> tuple[str, dict[str, Any]]:
    tx = compiled_small().txs[0]
    return tx.recipient, dict(tx.built.json)


def message(destination: str, body: str, sub: str = "sub-0") -> str:
    headers = {"destination": destination, "subscription": sub, "message-id": "m-1"}
    return sockjs_messages([encode_frame("MESSAGE", headers, body)])


class FakeNis:
    """A websocket server playing ``script(ws, subscribed)`` after the STOMP handshake."""

    def __init__(self, script: Callable[[ServerConnection, dict[str, str]], Awaitable[None]]) -> None:
        self.script = script
        self.connections = 0
        self.subscriptions: list[list[str]] = []  # destinations, per connection
        self.registered: list[str] = []

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        await ws.send("o")
        subscribed: dict[str, str] = {}
        self.subscriptions.append([])
        while True:  # the handshake, then every SUBSCRIBE and SEND until the client is quiet
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=0.15)
            except TimeoutError:
                break
            frame = decode_frame(json.loads(text)[0])
            if frame.command == "CONNECT":
                await ws.send(sockjs_messages([encode_frame("CONNECTED", {"version": "1.1"})]))
            elif frame.command == "SUBSCRIBE":
                subscribed[frame.headers["destination"]] = frame.headers["id"]
                self.subscriptions[-1].append(frame.headers["destination"])
            elif frame.command == "SEND":
                self.registered.append(json.loads(frame.body)["account"])
        await self.script(ws, subscribed)


@asynccontextmanager
async def fake(script: Callable[[ServerConnection, dict[str, str]], Awaitable[None]]) -> AsyncIterator[tuple[FakeNis, str]]:
    nis = FakeNis(script)
    async with serve(nis.handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield nis, f"ws://127.0.0.1:{port}"


async def events(hub: PushHub, count: int, timeout: float = 5.0) -> list[Any]:
    out = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            out.append(await hub.events.get())
    return out


def hub_for(url: str, addresses: list[str], settings: PushSettings = FAST) -> PushHub:
    return PushHub([("node-a", url)], Network.MAINNET, addresses=lambda: addresses, settings=settings,
                   rng=random.Random(1))


async def test_hostile_frames_are_ignored_and_counted_and_good_ones_become_typed_events() -> None:
    address, tx = signed_tx()
    forged = dict(tx, signature=("00" if tx["signature"][:2] != "00" else "11") + tx["signature"][2:])
    pair = lambda t: json.dumps({"meta": {"innerHash": {}, "id": 0, "hash": {"data": "ab" * 32}, "height": 2**53 - 1},  # noqa: E731
                                 "transaction": t})

    async def script(ws: ServerConnection, subs: dict[str, str]) -> None:
        for junk in ("zzz", "a[not json", 'a[1, 2]', "a" + json.dumps(["GARBAGE"]), "a" + json.dumps(["MESSAGE\nno blank line"])):
            await ws.send(junk)
        await ws.send(b"\x00\x01 binary")
        await ws.send(message("/unconfirmed/NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pair(tx)))  # not subscribed
        await ws.send(message("/blocks/new", "abc"))
        await ws.send(message("/blocks/new", json.dumps({"height": True})))
        await ws.send(message("/blocks/new", json.dumps({"height": -3})))
        await ws.send(message(f"/unconfirmed/{address}", "{\"meta\": {}}"))
        await ws.send(message(f"/unconfirmed/{address}", pair(forged)))
        await ws.send(message(f"/unconfirmed/{address}", pair(tx)))
        await ws.send(message("/blocks/new", json.dumps({"height": 1234})))
        await ws.wait_closed()

    async with fake(script) as (nis, url):
        hub = hub_for(url, [address])
        hub.start()
        try:
            got = await events(hub, 4)
        finally:
            await hub.aclose()
    assert got[0] == PushState("node-a", True, "subscribed")
    bad, good = got[1], got[2]
    assert isinstance(bad, PushedTransaction) and bad.transaction.signature_valid is False
    assert isinstance(good, PushedTransaction) and good.transaction.signature_valid is True
    assert good.address == address and good.transaction.hash != "ab" * 32  # the node's meta.hash is not taken
    assert got[3] == PushedHeight("node-a", 1234)
    stats = hub.channels["node-a"].stats
    assert stats.unexpected == 1
    assert stats.malformed == 10  # 5 junk frames, the binary one, 3 bad heights, a pair without transaction
    assert nis.subscriptions[0] == ["/blocks/new", f"/unconfirmed/{address}"] and nis.registered == [address]


async def test_a_10_mb_message_drops_the_connection_then_it_reconnects_and_subscribes_again() -> None:
    address, _ = signed_tx()

    async def script(ws: ServerConnection, subs: dict[str, str]) -> None:
        if len(nis_ref[0].subscriptions) == 1:
            await ws.send(message("/blocks/new", json.dumps({"height": 7, "pad": "x" * (10 << 20)})))
        else:
            await ws.send(message("/blocks/new", json.dumps({"height": 8})))
        await ws.wait_closed()

    nis_ref: list[FakeNis] = []
    async with fake(script) as (nis, url):
        nis_ref.append(nis)
        hub = hub_for(url, [address])
        hub.start()
        try:
            got = await events(hub, 4)
        finally:
            await hub.aclose()
    assert [type(e).__name__ for e in got] == ["PushState", "PushState", "PushState", "PushedHeight"]
    assert got[1].live is False and "size" in got[1].cause
    assert got[3] == PushedHeight("node-a", 8)  # the 10 MB one never became an event
    assert hub.channels["node-a"].stats.oversize == 1
    assert nis.connections == 2 and nis.subscriptions[1] == nis.subscriptions[0]  # resubscribed


@pytest.mark.parametrize("ending", ["silence", "sockjs close", "stomp error"])
async def test_silence_or_a_close_means_down_then_a_backoff_and_a_new_session(ending: str) -> None:
    async def script(ws: ServerConnection, subs: dict[str, str]) -> None:
        if ending == "sockjs close":
            await ws.send('c[3000,"Go away!"]')
        elif ending == "stomp error":
            await ws.send(sockjs_messages([encode_frame("ERROR", {"message": "nope"})]))
        await ws.wait_closed()  # silence: heartbeats never come

    settings = PushSettings(idle_seconds=0.8, open_timeout=2.0, backoff_initial=0.05, backoff_max=0.1, jitter=0.0)
    async with fake(script) as (nis, url):
        hub = hub_for(url, [], settings)
        hub.start()
        try:
            got = await events(hub, 3)
            live_after = hub.live("node-a")
        finally:
            await hub.aclose()
    assert [(e.live, e.cause.split(" (")[0]) for e in got][:2] == [
        (True, "subscribed"),
        (False, {"silence": "no frame for 0.8 s", "sockjs close": "closed by the node", "stomp error": "STOMP ERROR from the node"}[ending]),
    ]
    assert got[2].live is True and live_after and nis.connections == 2


async def test_a_refused_upgrade_is_retried_with_a_growing_pause_not_every_poll() -> None:
    async def refuse(connection: Any, request: Any) -> Any:
        return connection.respond(503, "no websocket here\n")

    async with serve(lambda ws: asyncio.sleep(0), "127.0.0.1", 0, process_request=refuse) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        settings = PushSettings(backoff_initial=0.1, backoff_max=10.0, jitter=0.0, open_timeout=2.0)
        hub = hub_for(url, [], settings)
        hub.start()
        await asyncio.sleep(1.0)
        channel = hub.channels["node-a"]
        tries = channel.stats.connects
        await hub.aclose()
    assert 2 <= tries <= 5  # 0.1, 0.2, 0.4, 0.8 s apart: a handful in a second, never live
    assert hub.events.empty() and not channel.live


def test_websocket_url_from_the_node_url() -> None:
    assert push_url("http://node.example:7890") == "ws://node.example:7778"
    assert push_url("https://node.example:7891") == "wss://node.example:7891"
    assert push_url("http://127.0.0.1:41001") == "ws://127.0.0.1:41001"
    assert push_url("http://user:pw@node.example:7890") == "ws://user:pw@node.example:7778"
    assert push_url("http://node.example:7890", "wss://push.example:443/") == "wss://push.example:443"
    with pytest.raises(ValueError):
        push_url("http://node.example:7890", "http://not-a-websocket:1")


def test_stomp_codec_round_trip_and_hostile_frames() -> None:
    text = encode_frame("MESSAGE", {"destination": "/a:b\nc", "content-length": "6"}, "héllo")
    frame = decode_frame(text)
    assert frame.headers["destination"] == "/a:b\nc" and frame.body == "héllo"
    with pytest.raises(StompError):
        decode_frame(text.replace("content-length:6", "content-length:500"))
    for bad in ("", "MESSAGE\nx:y\n\nno end", "message\n\n\x00", "MESSAGE\nbad\\q:1\n\n\x00",
                "MESSAGE\n" + "h:v\n" * 40 + "\n\x00", "MESSAGE\nnocolon\n\n\x00"):
        with pytest.raises(StompError):
            decode_frame(bad)
    assert sockjs_decode("h").kind == "heartbeat" and sockjs_decode('c[3000,"x"]').close_code == 3000
    with pytest.raises(StompError):
        sockjs_decode('a{"not": "an array"}')
