"""Errors of the NIS client. Every message is safe to show: node URLs are redacted and text a
node sent is sanitized before it gets here.

- ``NodeFailure``: the node did not give a usable answer (transport error, deadline, 5xx, 429,
  oversized or malformed body). Retried on other nodes; counts against the node's health
  (429 puts the node in a Retry-After window instead of opening its breaker).
- ``NisRequestError``: the node answered a 4xx with a NIS error body. The request itself is
  wrong (bad address, unknown block): not retried, not held against the node.
- ``WrongNetworkError``: the node serves another network (mainnet vs testnet).

When every attempt failed the client raises the last ``NodeFailure``; ``errors`` then holds
every failure of the call, oldest first.
"""

from __future__ import annotations


class NisClientError(Exception):
    """Base of the NIS client's errors; ``node`` is the node's redacted URL, when one was involved."""

    def __init__(self, message: str, *, node: str | None = None) -> None:
        super().__init__(message if node is None else f"{node}: {message}")
        self.node = node
        self.detail = message


class NodeFailure(NisClientError):
    """The node gave no usable answer; another node (or a later try) may."""

    def __init__(self, message: str, *, node: str | None = None) -> None:
        super().__init__(message, node=node)
        self.errors: tuple[NodeFailure, ...] = (self,)


class TransportError(NodeFailure):
    """Connection refused or reset, DNS failure, protocol error, body cut short."""


class DeadlineExceeded(TransportError, TimeoutError):
    """The whole request (connect, send, headers, body) did not finish within the deadline."""


class ResponseTooLarge(NodeFailure):
    """The body (after decompression) went over the size cap; reading stopped there."""

    def __init__(self, limit: int, *, node: str | None = None) -> None:
        super().__init__(f"answer larger than {limit} bytes", node=node)
        self.limit = limit


class MalformedResponse(NodeFailure):
    """The body was not the JSON NIS sends for this request (bad JSON, wrong shape, bad encoding)."""


class ServerError(NodeFailure):
    """A 5xx (or any status NIS never sends on success); ``message`` is the NIS message, if any."""

    def __init__(self, status: int, message: str, *, node: str | None = None) -> None:
        super().__init__(f"HTTP {status}" + (f": {message}" if message else ""), node=node)
        self.status = status
        self.message = message


class RateLimited(NodeFailure):
    """429 (or 503 with Retry-After): no request goes to the node for ``retry_after`` seconds."""

    def __init__(self, status: int, retry_after: float, *, node: str | None = None) -> None:
        super().__init__(f"HTTP {status}: rate limited, retry after {retry_after:.1f} s", node=node)
        self.status = status
        self.retry_after = retry_after


class CircuitOpen(NodeFailure):
    """The node's circuit breaker is open after repeated failures; it was not asked."""


class NoNodeAvailable(NodeFailure):
    """No node could be asked: every one is on the wrong network, resting or broken."""


class NisRequestError(NisClientError):
    """A 4xx answer: the node understood and refused the request. ``message`` is the NIS message."""

    def __init__(self, status: int, message: str, node: str | None = None) -> None:
        super().__init__(f"HTTP {status}" + (f": {message}" if message else ""), node=node)
        self.status = status
        self.message = message


class InvalidAddress(NisRequestError):
    """The address is not valid on the node's network (NIS: ``address must be valid``). Also
    raised before anything is sent (``node`` None) when the address fails the local check."""


class NotFound(NisRequestError):
    """404: the resource does not exist on the node (e.g. ``block not found in the db``)."""


class Unsupported(NisRequestError):
    """The node does not serve this endpoint to us: 401 from a trusted-only API (NIS serves
    ``/local/*`` only to its own host and listed IPs), or a 404 for a route it does not have.
    The client remembers it per node instead of asking again for every block."""


class WrongNetworkError(NisClientError):
    """``/node/info`` reports a network id other than the expected one."""

    def __init__(self, expected: int, got: int, *, node: str | None = None) -> None:
        super().__init__(f"node is on network id {got}, expected {expected}", node=node)
        self.expected = expected
        self.got = got
