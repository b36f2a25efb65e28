"""NIS1's websocket push as a wake-up hint: one SockJS+STOMP client per node.

REST stays the source of truth (the project's reliability bar, R13): NIS's broker keeps nothing
for a client that was away, pushes no "unconfirmed removed" and no rollback notice, and drops
idle connections silently. So a push only says "look now": a new block (``/blocks/new``: the
first height of each newly applied segment, a height at or below the last one means a
rollback) or a pool transaction of an urgent address (``/unconfirmed/<ADDR>``).

Per node a ``PushChannel`` connects (``ws://host:7778/w/messages/{3 digits}/{session}/websocket``
for a node on 7890, else the node's own port; ``push_url``), sends CONNECT, subscribes
``/blocks/new`` and ``/unconfirmed/<ADDR>`` for each address and registers each address as NIS
wants (``SEND /w/api/account/subscribe``). It is *live* from the moment it subscribed until it
fails: no frame for ``idle_seconds`` (NIS heartbeats every 25 s), a close, an error, or a
message above ``max_message_bytes``. It then reconnects after a jittered exponential backoff
(``core.retry.backoff_delay``) and subscribes again. Every server frame is hostile: a frame that
does not parse, a destination it did not subscribe, a body that is not what the destination
carries is ignored and counted (``ChannelStats``). A pushed transaction goes through the NIS
JSON parser (``codec.parse_unconfirmed``): its hash is computed, never taken from the node, and
its signature is checked (``signature_valid``); the consumer ignores one that fails.

Events go to one bounded queue (``PushHub.events``) as frozen objects: ``PushedHeight``,
``PushedTransaction``, ``PushState`` (live or not, and why).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nemwatch.core.models import Network, Transaction
from nemwatch.core.nem import codec
from nemwatch.core.nem import nisjson as j
from nemwatch.core.nem.stomp import StompError, decode_frame, encode_frame, sockjs_decode, sockjs_send
from nemwatch.core.retry import backoff_delay
from nemwatch.redact import redact_url, scrub, secret_parts

log = logging.getLogger("nemwatch.push")

NIS_HTTP_PORT, NIS_WS_PORT = 7890, 7778
MAX_HEIGHT = 2**53 - 1


@dataclass(frozen=True, slots=True)
class PushSettings:
    idle_seconds: float = 60.0  # no frame for this long: the connection is dead (NIS beats every 25 s)
    open_timeout: float = 10.0
    max_message_bytes: int = 1 << 20  # NIS's largest push is a pool transaction: a few KiB
    backoff_initial: float = 1.0
    backoff_max: float = 60.0  # a node without websocket costs one upgrade a minute at most
    jitter: float = 0.25
    max_addresses: int = 100  # addresses subscribed per node (NIS keeps every one for ever)
    queue_size: int = 1000


@dataclass(frozen=True, slots=True)
class PushedHeight:
    node: str
    height: int


@dataclass(frozen=True, slots=True)
class PushedTransaction:
    node: str
    address: str
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class PushState:
    node: str
    live: bool
    cause: str


PushEvent = PushedHeight | PushedTransaction | PushState


@dataclass
class ChannelStats:
    connects: int = 0  # upgrades tried
    sessions: int = 0  # sessions that reached "subscribed"
    messages: int = 0  # STOMP MESSAGE frames accepted
    heartbeats: int = 0
    malformed: int = 0  # frames or bodies ignored
    oversize: int = 0  # messages above the cap (the connection is dropped)
    unexpected: int = 0  # MESSAGE for a destination not subscribed
    dropped: int = 0  # events the full queue could not take


def push_url(node_url: str, override: str | None = None) -> str:
    """The websocket base URL of a node: ws(s)://host:7778 for a node on 7890, else the node's
    own port; ``override`` (ws:// or wss://) when the operator gave one."""
    if override:
        parts = urlsplit(override)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("a push URL is ws://host:port or wss://host:port")
        return override.rstrip("/")
    parts = urlsplit(node_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise ValueError("a node URL is http://host:port or https://host:port")
    netloc = parts.netloc
    if parts.port == NIS_HTTP_PORT:
        netloc = netloc[: netloc.rfind(":")] + f":{NIS_WS_PORT}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


def session_url(base: str, rng: random.Random) -> str:
    """A SockJS raw-websocket transport URL: ``/w/messages/{3 digits}/{session}/websocket``."""
    session = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
    return f"{base}/w/messages/{rng.randrange(1000):03d}/{session}/websocket"


@j.untrusted
def parse_pushed_height(body: str) -> int:
    """``/blocks/new``: ``{"height": N}`` (a bare number is accepted too)."""
    value = json.loads(body)
    if isinstance(value, dict):
        value = j.required(value, "height")
    return j.int_value(value, "height", (1, MAX_HEIGHT))


@j.untrusted
def parse_pushed_transaction(body: str, network: Network) -> Transaction:
    """``/unconfirmed/<ADDR>``: a TransactionMetaDataPair. Its ``meta`` is the node's word and is
    not used (the hash is computed); the signature is checked as for a REST pool answer."""
    pair = j.as_dict(json.loads(body), "pair")
    meta = j.optional_object(pair, "meta") or {}
    inner = j.wrapped_hash(meta, "innerHash")
    wrapped = {"data": [{"meta": {"data": inner}, "transaction": j.required(pair, "transaction")}]}
    (tx,) = codec.parse_unconfirmed(wrapped, network)
    return tx


class PushDead(Exception):
    """The session ended: the cause, in words (never a secret)."""


class PushChannel:
    """The push connection to one node (see the module docstring)."""

    def __init__(
        self,
        node: str,
        url: str,
        network: Network,
        *,
        addresses: Callable[[], Sequence[str]],
        emit: Callable[[PushEvent], None],
        settings: PushSettings | None = None,
        rng: random.Random | None = None,
        connect: Callable[..., Any] | None = None,
    ) -> None:
        self.node = node  # the engine's name of the node (a redacted URL)
        self.url = url
        self.network = network
        self.settings = settings or PushSettings()
        self._addresses = addresses
        self._emit = emit
        self._rng = rng or random.Random()
        self._connect = connect
        self.live = False
        self.stats = ChannelStats()
        self.failures = 0
        self._subs: dict[str, str] = {}  # destination -> subscription id
        self._pending: tuple[str, ...] = ()  # the STOMP frames of the last SockJS "a" frame

    async def run(self) -> None:
        """Connect, listen, reconnect with backoff; until cancelled."""
        while True:
            cause = "closed"
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the node, the network or its frames: reconnect later
                cause = self.cause_of(err)
            if self.live:
                self.live = False
                self._emit(PushState(self.node, False, cause))
            self.failures += 1
            delay = backoff_delay(
                self.failures, initial=self.settings.backoff_initial, maximum=self.settings.backoff_max,
                jitter=self.settings.jitter, rng=self._rng,
            )
            log.info("push from %s down (%s); next try in %.0f s", self.node, cause, delay)
            await asyncio.sleep(delay)

    def cause_of(self, err: BaseException) -> str:
        """Why a session ended, in one line without the URL's secrets."""
        if isinstance(err, PushDead):
            return str(err)
        return scrub(_describe(err), secret_parts(self.url))

    async def session_once(self) -> None:
        """One session: connect, subscribe, listen until it ends (``run`` reconnects around it)."""
        await self._session()

    def _open(self) -> Any:
        url = session_url(self.url, self._rng)
        if self._connect is not None:
            return self._connect(url)
        from websockets.asyncio.client import connect

        return connect(
            url, open_timeout=self.settings.open_timeout, ping_interval=None, close_timeout=2,
            max_size=self.settings.max_message_bytes, compression=None, proxy=None,
            user_agent_header="nemwatch",
        )

    async def _session(self) -> None:
        self.stats.connects += 1
        async with self._open() as ws:
            if await self._next(ws) != "open":
                raise PushDead("no SockJS open frame")
            await ws.send(sockjs_send(encode_frame("CONNECT", {"accept-version": "1.1,1.0", "heart-beat": "0,0"})))
            while True:
                frames = await self._frames(ws)
                if any(f.command == "CONNECTED" for f in frames):
                    break
            self._subs = {}
            await self._subscribe(ws, "/blocks/new")
            wanted = list(self._addresses())[: self.settings.max_addresses]
            for address in wanted:
                await self._subscribe(ws, f"/unconfirmed/{address}")
            for address in wanted:
                body = json.dumps({"account": address})
                await ws.send(sockjs_send(encode_frame("SEND", {"destination": "/w/api/account/subscribe"}, body)))
            self.live = True
            self.failures = 0
            self.stats.sessions += 1
            self._emit(PushState(self.node, True, "subscribed"))
            while True:
                for frame in await self._frames(ws):
                    self._on_frame(frame)

    async def _subscribe(self, ws: Any, destination: str) -> None:
        sub = f"sub-{len(self._subs)}"
        self._subs[destination] = sub
        await ws.send(sockjs_send(encode_frame("SUBSCRIBE", {"id": sub, "destination": destination})))

    async def _recv(self, ws: Any) -> Any:
        try:
            return await asyncio.wait_for(ws.recv(), timeout=self.settings.idle_seconds)
        except TimeoutError:
            raise PushDead(f"no frame for {self.settings.idle_seconds:g} s") from None
        except Exception as err:
            codes = {getattr(getattr(err, side, None), "code", None) for side in ("rcvd", "sent")}
            if 1009 in codes:  # message too big: websockets closed the connection
                self.stats.oversize += 1
                raise PushDead("message above the size cap") from None
            raise

    async def _next(self, ws: Any) -> str:
        """The kind of the next SockJS frame that parses (a malformed one is counted and skipped)."""
        while True:
            data = await self._recv(ws)
            if not isinstance(data, str):
                self.stats.malformed += 1
                continue
            try:
                frame = sockjs_decode(data)
            except StompError:
                self.stats.malformed += 1
                continue
            if frame.kind == "close":
                raise PushDead(f"closed by the node ({frame.close_code})")
            if frame.kind == "heartbeat":
                self.stats.heartbeats += 1
            self._pending = frame.messages
            return frame.kind

    async def _frames(self, ws: Any) -> list[Any]:
        """The STOMP frames of the next SockJS message frame (heartbeats skipped)."""
        while True:
            kind = await self._next(ws)
            if kind != "messages":
                continue
            frames = []
            for text in self._pending:
                try:
                    frames.append(decode_frame(text))
                except StompError:
                    self.stats.malformed += 1
            for frame in frames:
                if frame.command == "ERROR":
                    raise PushDead("STOMP ERROR from the node")
            return frames

    def _on_frame(self, frame: Any) -> None:
        if frame.command != "MESSAGE":
            return
        destination = frame.headers.get("destination", "")
        if destination not in self._subs:
            self.stats.unexpected += 1
            return
        try:
            if destination == "/blocks/new":
                event: PushEvent = PushedHeight(self.node, parse_pushed_height(frame.body))
            else:
                address = destination.rsplit("/", 1)[1]
                event = PushedTransaction(self.node, address, parse_pushed_transaction(frame.body, self.network))
        except j.ParseError:
            self.stats.malformed += 1
            return
        self.stats.messages += 1
        self._emit(event)


class PushHub:
    """Every node's channel and the one queue of their events."""

    def __init__(
        self,
        nodes: Sequence[tuple[str, str]],
        network: Network,
        *,
        addresses: Callable[[], Sequence[str]] = tuple,
        settings: PushSettings | None = None,
        rng: random.Random | None = None,
        connect: Callable[..., Any] | None = None,
    ) -> None:
        """``nodes``: (the engine's name of the node, its websocket base URL) pairs."""
        self.settings = settings or PushSettings()
        self.events: asyncio.Queue[PushEvent] = asyncio.Queue(self.settings.queue_size)
        self._addresses = addresses
        self.channels = {
            name: PushChannel(name, url, network, addresses=self._wanted, emit=self._put, settings=self.settings,
                              rng=rng, connect=connect)
            for name, url in nodes
        }
        self._tasks: list[asyncio.Task[None]] = []

    def _wanted(self) -> Sequence[str]:
        return sorted(self._addresses())

    def _put(self, event: PushEvent) -> None:
        try:
            self.events.put_nowait(event)
        except asyncio.QueueFull:
            channel = self.channels.get(event.node)
            if channel is not None:
                channel.stats.dropped += 1

    def live(self, node: str) -> bool:
        channel = self.channels.get(node)
        return channel is not None and channel.live

    def any_live(self) -> bool:
        return any(c.live for c in self.channels.values())

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(c.run(), name=f"push {redact_url(n)}") for n, c in self.channels.items()]

    def resubscribe(self) -> None:
        """The urgent addresses changed: reconnect so each channel subscribes the new list."""
        for channel in self.channels.values():
            channel.failures = 0
        self._restart()

    def _restart(self) -> None:
        if self._tasks:
            for task in self._tasks:
                task.cancel()
            self._tasks = []
            for channel in self.channels.values():
                if channel.live:
                    channel.live = False
                    self._put(PushState(channel.node, False, "resubscribing"))
            self.start()

    async def aclose(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for channel in self.channels.values():
            channel.live = False

    def stats(self) -> dict[str, dict[str, int]]:
        return {name: dict(c.stats.__dict__) | {"live": int(c.live)} for name, c in self.channels.items()}


def _describe(err: BaseException) -> str:
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return f"upgrade refused with HTTP {status}"
    text = str(err)
    return f"{type(err).__name__}: {text[:120]}" if text else type(err).__name__


__all__ = [
    "ChannelStats",
    "PushChannel",
    "PushEvent",
    "PushHub",
    "PushSettings",
    "PushState",
    "PushedHeight",
    "PushedTransaction",
    "parse_pushed_height",
    "parse_pushed_transaction",
    "push_url",
    "session_url",
]
