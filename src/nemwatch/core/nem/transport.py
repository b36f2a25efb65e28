"""One HTTP exchange with one node, bounded in time and size.

httpx has no total deadline (its read timeout is per chunk, so a node that drips a byte a
second never times out), so the whole exchange (connect, send, headers, body) runs under
``asyncio.timeout``. The body is read raw and decompressed here, chunk by chunk, with the size
cap applied to the decompressed bytes: an oversized answer or a gzip bomb is cut off at the cap,
never held in memory whole. What the status means is the client's business; this module
returns the status, the body and the ``Retry-After`` header, or raises a ``NodeFailure``.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from nemwatch import __version__
from nemwatch.core.nem.errors import DeadlineExceeded, MalformedResponse, ResponseTooLarge, TransportError
from nemwatch.core.nem.nodes import Node

ERROR_BODY_CAP = 64 * 1024  # an error document is a few hundred bytes; read no more than this
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip",
    "User-Agent": f"nemwatch/{__version__}",
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    retry_after: str | None


class _Body:
    """Accumulates a body, decompressing gzip/deflate, refusing to grow past ``cap``."""

    def __init__(self, encoding: str, cap: int, node: Node, *, truncate: bool) -> None:
        self.cap = cap
        self.node = node
        self.truncate = truncate  # error bodies: stop quietly at the cap instead of failing
        self.full = False
        self.buf = bytearray()
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self.decoder = None
        elif encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.decoder = zlib.decompressobj()
        else:
            raise MalformedResponse("unsupported content encoding", node=node.name)

    def _append(self, data: bytes) -> None:
        room = self.cap - len(self.buf)
        if len(data) > room:
            if not self.truncate:
                raise ResponseTooLarge(self.cap, node=self.node.name)
            self.buf += data[:room]
            self.full = True
            return
        self.buf += data

    def feed(self, chunk: bytes) -> None:
        if self.decoder is None:
            self._append(chunk)
            return
        data = chunk
        try:
            while data and not self.full:
                self._append(self.decoder.decompress(data, self.cap - len(self.buf) + 1))
                data = self.decoder.unconsumed_tail
        except zlib.error:
            raise MalformedResponse("corrupt compressed body", node=self.node.name) from None

    def finish(self) -> bytes:
        if self.decoder is not None and not self.full:
            try:
                self._append(self.decoder.flush())
            except zlib.error:
                raise MalformedResponse("corrupt compressed body", node=self.node.name) from None
            if not self.decoder.eof:
                raise MalformedResponse("compressed body cut short", node=self.node.name)
        return bytes(self.buf)


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip()[:20])


async def _read(response: httpx.Response, node: Node, max_body: int) -> bytes:
    ok = 200 <= response.status_code < 300
    cap = max_body if ok else min(max_body, ERROR_BODY_CAP)
    declared = _declared_length(response)
    if declared is not None and declared > cap:
        if ok:
            raise ResponseTooLarge(cap, node=node.name)
        return b""
    body = _Body(response.headers.get("content-encoding", ""), cap, node, truncate=not ok)
    async for chunk in response.aiter_raw():
        body.feed(chunk)
        if body.full:
            break
    return body.finish()


async def exchange(
    http: httpx.AsyncClient,
    node: Node,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    deadline: float,
    max_body: int,
) -> Answer:
    """Send one request to ``node`` and read its answer within ``deadline`` seconds."""
    base = httpx.URL(node.url)
    url = base.copy_with(path=base.path.rstrip("/") + path)
    node.requests += 1
    try:
        async with asyncio.timeout(deadline):
            async with http.stream(method, url, params=params, json=json_body, headers=HEADERS) as response:
                body = await _read(response, node, max_body)
                return Answer(response.status_code, body, response.headers.get("retry-after"))
    except TimeoutError:
        raise DeadlineExceeded(f"no complete answer within {deadline:g} s", node=node.name) from None
    except httpx.TimeoutException as err:
        raise DeadlineExceeded(node.clean(f"{type(err).__name__}"), node=node.name) from None
    except httpx.HTTPError as err:
        detail = node.clean(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
        raise TransportError(detail, node=node.name) from None
