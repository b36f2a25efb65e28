"""A tiny scripted HTTP server on 127.0.0.1 that answers like a NIS node, for the client tests.

Each route answers from a queue of scripted replies (consumed in order) and then from its
standing reply; every request is logged with the time of an injectable clock, so tests can
check when (on a fake clock) a node was asked. Replies can drip bytes slowly or stream a huge
body, to test the client's deadline and size cap. One request per connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from nemwatch.core.nem.client import NisClient

FIXTURES = Path(__file__).parent / "fixtures" / "nis"
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or a JSON value
    headers: dict[str, str] = field(default_factory=dict)
    drip_seconds: float | None = None  # send the body one byte at a time, this far apart
    stream_mib: int | None = None  # send this many MiB of chunked filler instead of ``body``
    delay_seconds: float = 0.0  # real seconds to wait before answering

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def nis_error(status: int, message: str) -> Reply:
    return Reply(status, {"timeStamp": 342378866, "error": REASONS.get(status, "Error"), "message": message, "status": status})


@dataclass
class Hit:
    at: float
    method: str
    path: str
    query: dict[str, str]
    body: bytes


Handler = Callable[[Hit], Reply]


class FakeNode:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.queues: dict[str, deque[Reply | Handler]] = defaultdict(deque)
        self.standing: dict[str, Reply | Handler] = {}
        self.log: list[Hit] = []
        self.bytes_sent = 0
        self.aborted = 0  # replies the client hung up on
        self.in_flight = 0
        self.max_in_flight = 0
        self._server: asyncio.Server | None = None
        self.url = ""

    # scripting
    def on(self, path: str, *replies: Reply | Handler) -> FakeNode:
        self.queues[path].extend(replies)
        return self

    def always(self, path: str, reply: Reply | Handler) -> FakeNode:
        self.standing[path] = reply
        return self

    def hits(self, path: str | None = None) -> list[Hit]:
        return [h for h in self.log if path is None or h.path == path]

    async def start(self) -> FakeNode:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _reply_for(self, hit: Hit) -> Reply:
        queue = self.queues.get(hit.path)
        source = queue.popleft() if queue else self.standing.get(hit.path, Reply(404, nis_error(404, "no such route").body))
        return source(hit) if callable(source) else source

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            parts = urlsplit(target)
            hit = Hit(self.clock(), method, parts.path, dict(parse_qsl(parts.query)), body)
            self.log.append(hit)
            reply = self._reply_for(hit)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                if reply.delay_seconds:
                    await asyncio.sleep(reply.delay_seconds)
                await self._write(writer, reply)
            finally:
                self.in_flight -= 1
        except (ConnectionError, asyncio.IncompleteReadError):
            self.aborted += 1
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    async def _write(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        headers = {"Content-Type": "application/json", "Connection": "close", **reply.headers}
        payload = b"" if reply.stream_mib is not None else reply.payload()
        if reply.stream_mib is not None:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers.setdefault("Content-Length", str(len(payload)))
        status_line = f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}\r\n"
        writer.write((status_line + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        await writer.drain()
        if reply.stream_mib is not None:
            chunk = b"[" + b" " * (1024 * 1024 - 1)
            for _ in range(reply.stream_mib):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                self.bytes_sent += len(chunk)
            writer.write(b"0\r\n\r\n")
        elif reply.drip_seconds is not None:
            for i in range(len(payload)):
                writer.write(payload[i : i + 1])
                await writer.drain()
                self.bytes_sent += 1
                await asyncio.sleep(reply.drip_seconds)
        else:
            writer.write(payload)
            self.bytes_sent += len(payload)
        await writer.drain()


class FakeTime:
    """A monotonic clock and a sleep that advances it instantly (for the client and the server)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


# --- NIS data for the fake -------------------------------------------------------------------


def make_pairs(count: int, *, first_id: int = 5000, height: int = 2_000_000) -> list[dict[str, Any]]:
    """``count`` transfer pairs (newest first, ids descending) built from a real mainnet pair."""
    template = fixture("incoming_nax3.json")["data"][0]
    pairs = []
    for i in range(count):
        pair = json.loads(json.dumps(template))
        pair["meta"]["id"] = first_id + count - i
        pair["meta"]["hash"]["data"] = f"{count - i:064x}"
        pair["meta"]["height"] = height - i
        pair["transaction"]["amount"] = 1_000_000 + i
        pairs.append(pair)
    return pairs


def transfers_route(pairs: list[dict[str, Any]]) -> Handler:
    """NIS paging: ``id`` exclusive, newest first, ``pageSize`` clamped to [5, 100], default 25."""

    def handle(hit: Hit) -> Reply:
        size = min(100, max(5, int(hit.query.get("pageSize", "25"))))
        cursor = int(hit.query["id"]) if "id" in hit.query else None
        items = [p for p in pairs if cursor is None or p["meta"]["id"] < cursor]
        return Reply(200, {"data": items[:size]})

    return handle


def healthy(node: FakeNode, height: int = 42799, network_id: int = 104) -> FakeNode:
    """Standing answers of a synchronized mainnet node at ``height``."""
    info = fixture("node_info.json")
    info["metaData"]["networkId"] = network_id
    node.always("/heartbeat", Reply(200, fixture("heartbeat.json")))
    node.always("/status", Reply(200, fixture("status.json")))
    node.always("/node/info", Reply(200, info))
    node.always("/chain/height", Reply(200, {"height": height}))
    return node


@asynccontextmanager
async def client_for(*nodes: FakeNode, **options: Any) -> AsyncIterator[NisClient]:
    """A ``NisClient`` over ``nodes`` sharing one proxy-free ``httpx.AsyncClient``."""
    async with httpx.AsyncClient(trust_env=False) as http:
        async with NisClient([n.url for n in nodes], http=http, **options) as client:
            yield client


@asynccontextmanager
async def running(count: int = 1, clock: Callable[[], float] = time.monotonic) -> AsyncIterator[list[FakeNode]]:
    nodes = [await FakeNode(clock).start() for _ in range(count)]
    try:
        yield nodes
    finally:
        for node in nodes:
            await node.stop()
