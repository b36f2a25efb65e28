"""NIS1's websocket push (STOMP over SockJS) on a simulated node's own HTTP port.

Real NIS serves it on port 7778 at ``/w/messages``; a simulated node has one port, so the
upgrade is answered there: ``ws://127.0.0.1:<port>/w/messages/{3 digits}/{session}/websocket``.
As NIS does (see the project's NIS1 reference):

- SockJS frames ``o``, ``h`` (heartbeat, every ``heartbeat_seconds`` real seconds, NIS: 25),
  ``a[...]``, ``c[...]``; of the client's JSON array only element 0 is read;
- STOMP ``CONNECT``/``STOMP`` -> ``CONNECTED``, ``SUBSCRIBE``, ``UNSUBSCRIBE``, ``SEND``,
  ``DISCONNECT``; ``SEND /w/api/account/subscribe`` (and ``/w/api/account/get``) with
  ``{"account": ADDR}`` adds ADDR to the node's observed set, which never shrinks;
- ``/blocks/new``: ``{"height": N}``, the first block of each newly applied segment: one per
  block as the simulated clock passes it, and after a rollback the first re-applied height
  (at or below the last one pushed: that is how a client learns of it);
- ``/unconfirmed/<ADDR>``: a TransactionMetaDataPair (``meta.height`` 2^53-1, ``meta.id`` 0)
  when a transaction involving an observed ADDR enters the node's pool;
- ``/transactions/<ADDR>``: the same pair with the block height once it is in a block.

Nothing is kept for a disconnected client (NIS's simple broker keeps nothing either).

Faults (``POST /_sim/fault``): ``push_drop`` (pushes are not sent, heartbeats go on: the silent
failure), ``push_disconnect`` (every open push socket is cut now), ``push_refuse`` (upgrades are
answered with an HTTP error); ``clear`` with ``what = "push"`` ends them.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nemwatch.core.nem import nemtime
from nemwatch.core.nem.stomp import StompError, decode_frame, encode_frame, sockjs_messages
from nemwatch.sim.wsframe import WsClosed, WsConnection, accept_key

if TYPE_CHECKING:
    from nemwatch.sim.node import SimNode
    from nemwatch.sim.plan import PlannedTx

SESSION_PATH = re.compile(r"^/w/messages/[^/.]{1,32}/[^/.]{1,64}/websocket$")
UNCONFIRMED_HEIGHT = 9_007_199_254_740_991  # 2^53 - 1, NIS's JS_MAX_SAFE_INTEGER
KEEP_HASHES = 400  # heights whose block hash is remembered to place a rollback


@dataclass
class PushStats:
    connections: int = 0  # upgrades accepted
    refused: int = 0  # upgrades refused by the push_refuse fault
    messages: int = 0  # STOMP MESSAGE frames sent
    dropped: int = 0  # MESSAGE frames the push_drop fault swallowed
    heartbeats: int = 0
    received: int = 0  # client frames read

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Session:
    ws: WsConnection
    subs: dict[str, str] = field(default_factory=dict)  # destination -> subscription id
    sent: int = 0


class PushServer:
    """The push side of one simulated node (see the module docstring)."""

    def __init__(self, node: SimNode, *, heartbeat_seconds: float = 25.0, tick_seconds: float = 0.02) -> None:
        self.node = node
        self.heartbeat_seconds = heartbeat_seconds
        self.tick_seconds = tick_seconds
        self.stats = PushStats()
        self.observed: set[str] = set()
        self.ticks = 0  # ticks done (the first sets the height pushes count from)
        self._sessions: list[_Session] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last: int | None = None  # the height last pushed to /blocks/new
        self._hashes: dict[int, str] = {}
        self._pooled: set[str] = set()  # pool transactions already pushed
        # faults
        self.refuse_status: int | None = None
        self.refuse_until: datetime | None = None
        self.drop_until: datetime | None = None
        self.dropping = False

    # --- faults -----------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.node.chain.clock.now()

    def refuse(self, status: int = 503, for_seconds: float | None = None) -> None:
        if not 400 <= status <= 599:
            raise ValueError("status must be 4xx or 5xx")
        self.refuse_status = status
        self.refuse_until = self._now() + timedelta(seconds=for_seconds) if for_seconds is not None else None

    def drop(self, for_seconds: float | None = None) -> None:
        self.dropping = True
        self.drop_until = self._now() + timedelta(seconds=for_seconds) if for_seconds is not None else None

    def disconnect(self) -> int:
        """Cut every open push socket; how many there were."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.ws.closed = True
            with contextlib.suppress(OSError):
                session.ws.abort()
        return len(sessions)

    def clear(self) -> None:
        self.refuse_status = self.refuse_until = self.drop_until = None
        self.dropping = False

    def refusing(self) -> int | None:
        if self.refuse_status is not None and self.refuse_until is not None and self._now() >= self.refuse_until:
            self.refuse_status = self.refuse_until = None
        return self.refuse_status

    def _dropping(self) -> bool:
        if self.dropping and self.drop_until is not None and self._now() >= self.drop_until:
            self.dropping, self.drop_until = False, None
        return self.dropping

    def describe(self) -> dict[str, Any]:
        return {
            **self.stats.to_json(),
            "open": len(self._sessions),
            "observed": len(self.observed),
            "refuse": self.refuse_status,
            "drop": self.dropping,
        }

    # --- one connection (the handler's thread) ----------------------------------------------

    def serve(self, ws: WsConnection) -> None:
        """Run one SockJS session until the client or a fault ends it."""
        session = _Session(ws)
        with self._lock:
            self._sessions.append(session)
            self.stats.connections += 1
        self._start_ticker()
        try:
            with contextlib.suppress(WsClosed):  # the client went: the session ends
                ws.send_text("o")
                while not self.node.stopping.is_set():
                    data = ws.receive()
                    self.stats.received += 1
                    if not self._handle(session, data):
                        break
        finally:
            with self._lock:
                if session in self._sessions:
                    self._sessions.remove(session)
            ws.close()

    def _handle(self, session: _Session, data: str | bytes) -> bool:
        """One client message; False ends the session."""
        try:
            items = json.loads(data)
            if not isinstance(items, list) or not items or not isinstance(items[0], str):
                return True  # NIS ignores what it cannot decode
            frame = decode_frame(items[0])  # NIS decodes element 0 only
        except (ValueError, StompError, RecursionError):
            return True
        command, headers = frame.command, frame.headers
        if command in ("CONNECT", "STOMP"):
            session.ws.send_text(sockjs_messages([encode_frame("CONNECTED", {"version": "1.1", "heart-beat": "0,0"})]))
        elif command == "SUBSCRIBE" and headers.get("destination"):
            with self._lock:
                session.subs[headers["destination"]] = headers.get("id", "sub-0")
        elif command == "UNSUBSCRIBE":
            with self._lock:
                for dest in [d for d, i in session.subs.items() if i == headers.get("id")]:
                    del session.subs[dest]
        elif command == "SEND" and headers.get("destination") in ("/w/api/account/subscribe", "/w/api/account/get"):
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                account = json.loads(frame.body).get("account")
                if isinstance(account, str) and len(account) == 40:
                    self.observed.add(account.upper())
        elif command == "DISCONNECT":
            return False
        return True

    # --- pushes (one ticker thread per node) -------------------------------------------------

    def _start_ticker(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name=f"{self.node.name}:push", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        beat = time.monotonic()
        while not self.node.stopping.wait(self.tick_seconds):
            with self._lock:
                if not self._sessions:
                    self._thread = None
                    return
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a chain being rewritten under us: next tick
                continue
            if time.monotonic() - beat >= self.heartbeat_seconds:
                beat = time.monotonic()
                self._beat()

    def _beat(self) -> None:
        for session in self._open():
            with contextlib.suppress(WsClosed):
                session.ws.send_text("h")
                self.stats.heartbeats += 1

    def _open(self) -> list[_Session]:
        with self._lock:
            return list(self._sessions)

    def subscribers(self, destination: str) -> int:
        """How many open sessions have subscribed ``destination`` (a test waits on it: frames a
        client sent are read by the session's own thread, later than its send returns)."""
        return sum(1 for session in self._open() if destination in session.subs)

    def tick(self) -> None:
        """Push what changed on the node's chain and pool since the last tick."""
        node = self.node
        chain = node.chain
        with chain.lock:
            view = node.api.view_height()
            reported = view + node.faults.view.lie_offset
            pushes: list[tuple[str, Any]] = []
            if self._last is None:
                self._last = reported
            else:
                first = self._changed_from(view)
                if first is not None and first <= self._last:  # a rollback: the new segment's first block
                    pushes.append(("/blocks/new", {"height": first}))
                    pushes += self._confirmed(range(first, view + 1))
                    self._last = reported
                elif reported > self._last:
                    if reported - self._last <= 32:  # blocks one by one, as the clock passed them
                        for h in range(self._last + 1, reported + 1):
                            pushes.append(("/blocks/new", {"height": h}))
                    else:  # one segment (a lie, or a node that caught up)
                        pushes.append(("/blocks/new", {"height": self._last + 1}))
                    pushes += self._confirmed(range(max(self._last + 1, view - 32), view + 1))
                    self._last = reported
            self._remember(view)
            pushes += self._pool(view)
        for destination, body in pushes:
            self.publish(destination, body)
        self.ticks += 1

    def _changed_from(self, view: int) -> int | None:
        """The lowest remembered height whose block changed (a rollback), else None."""
        chain = self.node.chain
        changed = None
        for height in sorted(self._hashes, reverse=True):
            block = chain.block(height) if height <= view else None
            if block is not None and block.hash == self._hashes[height]:
                break
            changed = height
        return changed

    def _remember(self, view: int) -> None:
        chain = self.node.chain
        self._hashes = {h: v for h, v in self._hashes.items() if h > view - KEEP_HASHES and h <= view}
        for h in range(max(chain.start_height, view - 3), view + 1):
            block = chain.block(h)
            if block is not None:
                self._hashes[h] = block.hash

    def _involved(self, tx: PlannedTx) -> list[str]:
        return [a for a in dict.fromkeys((tx.recipient, *tx.outgoing)) if a in self.observed]

    def _pair(self, tx: PlannedTx, json_form: dict[str, Any], height: int) -> dict[str, Any]:
        return {
            "meta": {
                "innerHash": {"data": tx.inner_hash} if tx.inner_hash else {},
                "id": 0,
                "hash": {"data": tx.hash},
                "height": height,
            },
            "transaction": json_form,
        }

    def _confirmed(self, heights: range) -> list[tuple[str, Any]]:
        if not self.observed:
            return []
        out = []
        for h in heights:
            block = self.node.chain.block(h)
            for entry in block.txs if block is not None else ():
                for address in self._involved(entry.tx):
                    out.append((f"/transactions/{address}", self._pair(entry.tx, entry.tx.built.json, h)))
        return out

    def _pool(self, view: int) -> list[tuple[str, Any]]:
        if not self.observed:
            return []
        now = nemtime.from_datetime(self._now())
        pending = self.node.chain.pending(now, view)
        out = []
        for tx in pending:
            if tx.hash in self._pooled:
                continue
            self._pooled.add(tx.hash)
            shown = tx.built.pool_json if tx.built.pool_json is not None and now < tx.ready else tx.built.json
            for address in self._involved(tx):
                out.append((f"/unconfirmed/{address}", self._pair(tx, shown, UNCONFIRMED_HEIGHT)))
        self._pooled &= {tx.hash for tx in pending}
        return out

    def publish(self, destination: str, body: Any) -> int:
        """Send a MESSAGE to every session subscribed to ``destination``; how many got it."""
        text = json.dumps(body, separators=(",", ":"))
        sent = 0
        for session in self._open():
            sub = session.subs.get(destination)
            if sub is None:
                continue
            if self._dropping():
                self.stats.dropped += 1
                continue
            session.sent += 1
            headers = {
                "destination": destination,
                "content-type": "application/json;charset=UTF-8",
                "subscription": sub,
                "message-id": f"{id(session) & 0xFFFF:x}-{session.sent}",
                "content-length": str(len(text.encode("utf-8"))),
            }
            try:
                session.ws.send_text(sockjs_messages([encode_frame("MESSAGE", headers, text)]))
            except WsClosed:
                continue
            self.stats.messages += 1
            sent += 1
        return sent


def upgrade(handler: Any, node: SimNode) -> None:
    """Answer a websocket upgrade on ``/w/messages/...`` (the node's HTTP handler calls this)."""
    push: PushServer = node.push
    headers = handler.headers
    key = headers.get("Sec-WebSocket-Key")
    refused = push.refusing()
    if refused is not None or not key or "websocket" not in (headers.get("Upgrade") or "").lower():
        status = refused or 400
        if refused is not None:
            push.stats.refused += 1
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        handler.close_connection = True
        return
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(key))
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    push.serve(WsConnection(handler.rfile, handler.wfile, handler.connection))


__all__ = ["SESSION_PATH", "UNCONFIRMED_HEIGHT", "PushServer", "PushStats", "upgrade"]
