"""The server side of RFC 6455 (websocket), small and blocking, for the simulated nodes.

Just what a SockJS endpoint needs: the opening handshake answered on an HTTP request the
node's ``ThreadingHTTPServer`` already parsed, text frames out (unmasked, as a server sends
them), frames in (masked, as a client must send them, at most ``MAX_IN`` bytes), ping answered
with pong, close answered with close. No extensions (no compression), no fragmentation on
output; fragmented input is joined.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from typing import BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_IN = 256 * 1024  # the simulator reads small client frames only

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WsClosed(Exception):
    """The peer closed the websocket (or broke the rules, or the socket went away)."""


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")  # noqa: S324 - RFC 6455


def encode(opcode: int, payload: bytes) -> bytes:
    """One unmasked frame with FIN set."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class WsConnection:
    """One accepted websocket: ``send_text`` from any thread, ``receive`` from one."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO, sock: socket.socket | None = None) -> None:
        self._r = rfile
        self._w = wfile
        self._sock = sock
        self._lock = threading.Lock()
        self.closed = False

    def _write(self, data: bytes) -> None:
        with self._lock:
            if self.closed:
                raise WsClosed("already closed")
            try:
                self._w.write(data)
                self._w.flush()
            except OSError as err:
                self.closed = True
                raise WsClosed(str(err)) from None

    def send_text(self, text: str) -> None:
        self._write(encode(OP_TEXT, text.encode("utf-8")))

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are (tests of a client's frame checks)."""
        self._write(data)

    def close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(WsClosed):  # already gone: nothing to close politely
            self._write(encode(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:120]))
        self.closed = True

    def abort(self) -> None:
        """Cut the connection without a close frame (a network failure, as the client sees it)."""
        self.closed = True
        if self._sock is not None:
            self._sock.shutdown(socket.SHUT_RDWR)

    def _read(self, n: int) -> bytes:
        data = self._r.read(n)
        if data is None or len(data) < n:
            raise WsClosed("connection closed")
        return data

    def receive(self) -> str | bytes:
        """The next data message (text as str); answers pings; WsClosed at close or on error."""
        parts: list[bytes] = []
        kind: int | None = None
        while True:
            b0, b1 = self._read(2)
            fin, opcode, masked, n = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
            if not masked:
                raise WsClosed("client frame not masked")
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if n > MAX_IN or sum(map(len, parts)) + n > MAX_IN:
                self.close(1009, "too big")
                raise WsClosed("client frame too big")
            mask = self._read(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
            if opcode == OP_CLOSE:
                self.close()
                raise WsClosed("closed by the client")
            if opcode == OP_PING:
                self._write(encode(OP_PONG, payload))
                continue
            if opcode == OP_PONG:
                continue
            if opcode in (OP_TEXT, OP_BINARY):
                kind, parts = opcode, [payload]
            elif opcode == OP_CONT and kind is not None:
                parts.append(payload)
            else:
                raise WsClosed("unexpected websocket opcode")
            if fin:
                data = b"".join(parts)
                if kind == OP_TEXT:
                    try:
                        return data.decode("utf-8")
                    except UnicodeDecodeError:
                        raise WsClosed("text frame not UTF-8") from None
                return data


__all__ = ["WsClosed", "WsConnection", "accept_key", "encode"]
