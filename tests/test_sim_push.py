"""The simulator's NIS1 websocket push (sim/push.py): SockJS/STOMP frames as NIS sends them,
pushes for new blocks, rollbacks and pool transactions of registered addresses, and the push
faults of ``POST /_sim/fault``. Driven by the ``websockets`` client directly, on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from nemwatch.core.nem.stomp import decode_frame, encode_frame, sockjs_decode, sockjs_send
from nemwatch.sim import SimCluster
from nemwatch.sim.push import UNCONFIRMED_HEIGHT
from nemwatch.sim.scenario import TransferSpec
from simfixtures import compiled_small, http, start_cluster  # noqa: F401 - http is a fixture


@pytest.fixture
def one() -> Iterator[SimCluster]:
    cluster = start_cluster(compiled_small(), nodes=1)
    try:
        yield cluster
    finally:
        cluster.stop()


def ws_url(sim: SimCluster, session: str = "s1") -> str:
    return sim.urls[0].replace("http://", "ws://") + f"/w/messages/042/{session}/websocket"


def stomp(ws: ClientConnection, command: str, headers: dict[str, str], body: str = "") -> None:
    ws.send(sockjs_send(encode_frame(command, headers, body)))


@contextmanager
def session(sim: SimCluster, subscribe: list[str], register: list[str]) -> Iterator[ClientConnection]:
    with connect(ws_url(sim), proxy=None) as ws:
        yield opened(sim, ws, subscribe, register)


def opened(sim: SimCluster, ws: ClientConnection, subscribe: list[str], register: list[str]) -> ClientConnection:
    assert ws.recv(timeout=5) == "o"
    stomp(ws, "CONNECT", {"accept-version": "1.1,1.0", "heart-beat": "0,0"})
    connected = sockjs_decode(ws.recv(timeout=5))
    assert decode_frame(connected.messages[0]).command == "CONNECTED"
    for i, destination in enumerate(subscribe):
        stomp(ws, "SUBSCRIBE", {"id": f"sub-{i}", "destination": destination})
    for address in register:
        stomp(ws, "SEND", {"destination": "/w/api/account/subscribe"}, json.dumps({"account": address}))
    wait_until(lambda: sim.nodes[0].push.observed >= set(register)
               and all(sim.nodes[0].push.subscribers(d) for d in subscribe))
    ticked(sim)
    return ws


def ticked(sim: SimCluster) -> None:
    """Two push ticks passed: the first after a session opened sets the height pushes count from."""
    push = sim.nodes[0].push
    start = push.ticks
    wait_until(lambda: push.ticks >= start + 2)


def wait_until(condition, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """The session's thread has read what the client sent (its send returns before that)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the simulator never read the client's frames"
        time.sleep(0.01)


def messages(ws: ClientConnection, wait: float = 0.6) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            text = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        frame = sockjs_decode(text)
        for item in frame.messages:
            f = decode_frame(item)
            if f.command == "MESSAGE":
                out.append((f.headers["destination"], json.loads(f.body)))
    return out


def test_blocks_new_per_block_and_a_rollback_pushes_a_height_at_or_below_the_last(one: SimCluster) -> None:
    with session(one, ["/blocks/new"], []) as ws:
        start = one.height
        one.advance(180)  # three blocks
        heights = [body["height"] for dest, body in messages(ws) if dest == "/blocks/new"]  # type: ignore[index]
        assert heights == [start + 1, start + 2, start + 3]
        one.rollback(2, "drop")
        one.advance(60)
        after = [body["height"] for dest, body in messages(ws) if dest == "/blocks/new"]  # type: ignore[index]
        assert after and after[0] <= start + 3  # the first re-applied height: a rollback to the client
    assert one.nodes[0].push.stats.connections == 1
    assert one.nodes[0].requests == []  # the websocket is not a REST request


def test_pool_and_confirmed_pushes_only_for_registered_addresses(one: SimCluster) -> None:
    thief, bystander = one.address("thief"), one.address("bystander")
    with session(one, [f"/unconfirmed/{thief}", f"/transactions/{thief}", f"/unconfirmed/{bystander}"], [thief]) as ws:
        tx = one.submit(TransferSpec(one.clock.now(), "bystander", "thief", xem=5))
        got = messages(ws)
        pool = [body for dest, body in got if dest == f"/unconfirmed/{thief}"]
        assert [p["meta"]["hash"]["data"] for p in pool] == [tx.hash]  # type: ignore[index]
        assert pool[0]["meta"]["height"] == UNCONFIRMED_HEIGHT and pool[0]["meta"]["id"] == 0  # type: ignore[index]
        assert pool[0]["transaction"]["signature"]  # type: ignore[index]
        # subscribed but never registered (SEND /w/api/account/subscribe): NIS pushes nothing there
        assert not [d for d, _ in got if d == f"/unconfirmed/{bystander}"]
        one.advance(120)
        confirmed = [body for dest, body in messages(ws) if dest == f"/transactions/{thief}"]
        assert tx.hash in {c["meta"]["hash"]["data"] for c in confirmed}  # type: ignore[index]
        assert all(c["meta"]["height"] > one.height - 3 for c in confirmed)  # type: ignore[index]


def test_only_element_0_of_the_clients_array_is_read(one: SimCluster) -> None:
    with session(one, [], []) as ws:
        thief = one.address("thief")
        second = encode_frame("SEND", {"destination": "/w/api/account/subscribe"}, json.dumps({"account": thief}))
        ws.send(json.dumps([encode_frame("SUBSCRIBE", {"id": "x", "destination": "/blocks/new"}), second]))
        ws.send("not json at all")  # ignored, the session goes on
        wait_until(lambda: one.nodes[0].push.subscribers("/blocks/new") == 1)
        ticked(one)
        one.advance(60)
        assert [d for d, _ in messages(ws)] == ["/blocks/new"]
    assert thief not in one.nodes[0].push.observed


def test_push_faults_refuse_drop_disconnect_and_clear(one: SimCluster, http: httpx.Client) -> None:
    fault = one.urls[0] + "/_sim/fault"
    node = one.nodes[0]
    node.push.heartbeat_seconds = 0.1
    assert http.post(fault, json={"kind": "push_refuse", "status": 404}).status_code == 200
    with pytest.raises(InvalidStatus) as refused, connect(ws_url(one), proxy=None):
        pass
    assert refused.value.response.status_code == 404
    assert http.post(fault, json={"kind": "clear", "what": "push"}).status_code == 200
    with session(one, ["/blocks/new"], []) as ws:
        http.post(fault, json={"kind": "push_drop", "for_seconds": 600})
        one.advance(120)
        frames = []
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            frames.append(ws.recv(timeout=1))
        assert "h" in frames and not any(f.startswith("a") for f in frames)  # heartbeats, no pushes
        assert node.push.stats.dropped >= 2
        one.advance(600)  # the drop ran out (simulated time): pushes again
        resumed = [body["height"] for dest, body in messages(ws) if dest == "/blocks/new"]  # type: ignore[index]
        assert resumed == list(range(one.height - 9, one.height + 1))
        cut = http.post(fault, json={"kind": "push_disconnect"}).json()
        assert cut["disconnected"] == 1
        with pytest.raises(Exception):  # noqa: B017 - the socket was cut
            for _ in range(50):
                ws.recv(timeout=1)
    state = http.get(one.urls[0] + "/_sim/push").json()
    assert state["connections"] == 1 and state["refused"] == 1 and state["open"] == 0
