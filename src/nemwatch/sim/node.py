"""One simulated NIS1 node: an HTTP server on 127.0.0.1 in a background thread.

``ThreadingHTTPServer`` gives each connection its own thread, so a slow drip or a 50 MB body
never holds up other requests. Responses use HTTP/1.1 keep-alive, a ``Content-Length``, gzip
when the client accepts it (as NIS's Jetty does), and a ``Date`` header from the simulated
clock (the same clock a ``Retry-After`` HTTP date is computed from). Every request outside
``/_sim/`` is logged (method, path, simulated and real time, status) before any fault acts,
so a test can check that nothing was asked before a ``Retry-After`` ran out.

A websocket upgrade on ``/w/messages/.../websocket`` is NIS's push channel (``sim.push``); its
connections and messages are counted apart (``node.push.stats``), not in the request log.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from nemwatch.core.nem import nemtime
from nemwatch.sim.chain import Chain
from nemwatch.sim.faults import Faults, HttpFault
from nemwatch.sim.keys import sim_key
from nemwatch.sim.nisapi import NIS_VERSION, NisApi, error_body
from nemwatch.sim.push import SESSION_PATH, PushServer, upgrade

if TYPE_CHECKING:
    from nemwatch.sim.cluster import SimCluster

GZIP_MIN = 256
CHUNK = 1 << 20
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout, OSError)


@dataclass
class RequestRecord:
    method: str
    path: str  # with the query string
    at: datetime  # simulated time of arrival
    real: float  # wall-clock time of arrival (time.time())
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "at": self.at.isoformat(),
            "nemTime": nemtime.from_datetime(self.at),
            "real": self.real,
            "status": self.status,
        }


class SimNode:
    """A node of a cluster: its own port, faults, request log and (optionally) its own chain."""

    def __init__(
        self,
        cluster: SimCluster,
        index: int,
        chain: Chain,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        id_offset: int = 0,
        hash_retention_hours: float | None = 36,
    ) -> None:
        self.cluster = cluster
        self.index = index
        self.chain = chain
        self.host = host
        self.id_offset = id_offset
        self.hash_retention_hours = hash_retention_hours
        self.faults = Faults(lambda: self.chain.clock.now())
        self.api = NisApi(self)
        self.push = PushServer(self)  # NIS's websocket push, on this same port
        self.identity = sim_key(chain.compiled.scenario.seed, f"node-{index}", chain.network)
        self.name = f"sim-node-{index}"
        self.start_nem_time = chain.now_ts()
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server((host, port), _Handler, self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"{self.name}:{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimNode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.close_all()
        self._server.server_close()

    def fork(self) -> Chain:
        """From now on this node has its own copy of the chain (rollbacks stay here)."""
        self.chain = self.chain.copy()
        return self.chain

    # --- request log ----------------------------------------------------------------------

    def log_request(self, method: str, path: str) -> RequestRecord:
        record = RequestRecord(method, path, self.chain.clock.now(), time.time())
        with self._log_lock:
            self._log.append(record)
        return record

    @property
    def requests(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    # --- what the node says about itself --------------------------------------------------

    def info_json(self) -> dict[str, Any]:
        return {
            "metaData": {
                "features": 1,
                "application": None,
                "networkId": self.chain.network.network_id,
                "version": NIS_VERSION,
                "platform": "Simulated (nemwatch.sim) on Python",
            },
            "endpoint": {"protocol": "http", "port": self.port, "host": self.host},
            "identity": {"name": self.name, "public-key": self.identity.public_key},
        }

    def peer_infos(self) -> list[dict[str, Any]]:
        return [n.info_json() for n in self.cluster.nodes if n is not self]

    def peers_max_height(self) -> int:
        # other nodes are read without producing blocks: no second chain lock (no lock-order deadlock)
        return max(n.api.view_height(sync=n.chain is self.chain) for n in self.cluster.nodes)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, node: SimNode) -> None:
        self.node = node
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (killed, timed out) is normal here; anything else
        is reported as usual."""
        if isinstance(sys.exc_info()[1], _DISCONNECTS):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "Jetty(9.4.z-SNAPSHOT)"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        return format_datetime(self.server.node.chain.clock.now(), usegmt=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    # --- plumbing -------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        node = self.server.node
        parts = urlsplit(self.path)
        body = self._body()
        self._record: RequestRecord | None = None
        if parts.path.startswith("/_sim/"):
            from nemwatch.sim.control import handle_control

            status, payload = handle_control(node, method, parts.path, parts.query, body)
            self._send(status, json.dumps(payload).encode())
            return
        if method == "GET" and SESSION_PATH.match(parts.path):
            upgrade(self, node)  # counted in node.push.stats, not in the request log
            return
        record = node.log_request(method, self.path)
        self._record = record
        faults = node.faults.take(parts.path)
        delay = sum(f.params["ms"] for f in faults if f.kind == "latency")
        if delay and node.stopping.wait(delay / 1000):
            self.close_connection = True
            return
        status = self._answer(node, method, parts.path, parts.query, body, faults)
        record.status = status

    def _answer(self, node: SimNode, method: str, path: str, query: str, body: bytes,
                faults: list[HttpFault]) -> int:
        now_ts = node.chain.now_ts()
        for fault in faults:
            if fault.kind == "error":
                status = fault.params["status"]
                message = fault.params.get("message") or _default_message(status)
                self._send(status, json.dumps(error_body(status, message, now_ts)).encode())
                return status
            if fault.kind == "rate_limit":
                headers = {}
                retry = fault.params.get("retry_after")
                if isinstance(retry, datetime):
                    headers["Retry-After"] = format_datetime(retry, usegmt=True)
                elif retry is not None and fault.params.get("date_form"):
                    when = node.chain.clock.now() + timedelta(seconds=retry)
                    headers["Retry-After"] = format_datetime(when, usegmt=True)
                elif retry is not None:
                    headers["Retry-After"] = str(int(retry))
                self._send(429, json.dumps(error_body(429, "Too Many Requests", now_ts)).encode(), headers)
                return 429
        market = getattr(node.cluster, "market_server", None)
        if method == "GET" and market is not None:
            # the price API on the node's own port too, under the same faults
            answer = market.market.handle(method, path, dict(parse_qsl(query)))
            if answer is not None:
                status, headers, data = answer
                extra = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
                body_fault = next((f for f in faults if f.kind == "body"), None)
                if body_fault is None:
                    self._send(status, data, extra)
                else:
                    self._send_faulty(status, data, body_fault.params)
                return status
        reply = node.api.handle(method, path, query, body)
        payload = json.dumps(reply.body, separators=(",", ":")).encode()
        body_fault = next((f for f in faults if f.kind == "body"), None)
        if body_fault is None:
            self._send(reply.status, payload, compress=True)
        else:
            self._send_faulty(reply.status, payload, body_fault.params)
        return reply.status

    def send_response(self, code: int, message: str | None = None) -> None:
        # the status is in the request log before the client can read the answer
        record = getattr(self, "_record", None)
        if record is not None:
            record.status = code
        super().send_response(code, message)

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None,
              *, compress: bool = False) -> None:
        encoding = None
        if compress and len(payload) >= GZIP_MIN and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            payload = gzip.compress(payload, compresslevel=5)
            encoding = "gzip"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if encoding:
                self.send_header("Content-Encoding", encoding)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except _DISCONNECTS:
            self.close_connection = True

    def _send_faulty(self, status: int, payload: bytes, params: dict[str, Any]) -> None:
        kind = params["body"]
        node = self.server.node
        try:
            if kind == "malformed":
                middle = len(payload) // 2
                self._send(status, payload[:middle] + b"<html>oops" + payload[middle + 1 :])
            elif kind == "wrong_types":
                self._send(status, json.dumps(_stringify(json.loads(payload))).encode())
            elif kind == "truncated":
                self._head(status, len(payload))
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif kind == "huge":
                size = int(params["size"])
                head, tail = b'{"padding":"', b'"}'
                self._head(status, size)
                self.wfile.write(head)
                left = size - len(head) - len(tail)
                block = b"x" * CHUNK
                while left > 0 and not node.stopping.is_set():
                    n = min(left, CHUNK)
                    self.wfile.write(block[:n])
                    left -= n
                if left == 0:
                    self.wfile.write(tail)
                else:
                    self.close_connection = True
            elif kind == "drip":
                self._head(status, len(payload))
                for i in range(len(payload)):
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()
                    if i + 1 < len(payload) and node.stopping.wait(float(params["interval"])):
                        self.close_connection = True
                        return
        except _DISCONNECTS:
            self.close_connection = True

    def _head(self, status: int, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()


def _default_message(status: int) -> str:
    if status == 503:
        return "NIS_ILLEGAL_STATE_LOADING_CHAIN"
    if status == 500:
        return "internal error"
    return "simulated failure"


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value
