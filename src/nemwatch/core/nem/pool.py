"""The node pool behind the NIS client: which node gets a request, retries, failover, and
what each answer means for the node's health.

A call goes to the pinned node or to the best ready node (synchronized and not lagging first,
then fewer recent failures, then configuration order); on a ``NodeFailure`` it moves to a node
not yet tried, and a retry on a node already tried waits a jittered exponential backoff. A node
in a Retry-After window is not asked; a call waits for such a window only when it ends within
``RetryPolicy.max_wait``. A node whose breaker is open is not waited for. When every attempt
failed the call raises the last failure, carrying all of them in ``errors``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from nemwatch.core.models import Network
from nemwatch.core.nem import codec
from nemwatch.core.nem.errors import (
    CircuitOpen,
    InvalidAddress,
    MalformedResponse,
    NisRequestError,
    NodeFailure,
    NoNodeAvailable,
    NotFound,
    RateLimited,
    ServerError,
    WrongNetworkError,
)
from nemwatch.core.nem.nodes import BreakerState, CircuitBreaker, HealthState, Node, NodeHealth, reference_height
from nemwatch.core.retry import RetryPolicy, parse_retry_after
from nemwatch.core.nem.transport import Answer, exchange

log = logging.getLogger("nemwatch.client")

T = TypeVar("T")
CLOCK_SLACK = 0.001  # added to waits so a clock of coarse resolution is surely past the target


class NodePool:
    """The configured nodes, the shared HTTP client, and the request loop over them."""

    def __init__(
        self,
        urls: Sequence[str],
        network: Network,
        *,
        http: httpx.AsyncClient,
        timeout: float,
        rate: float,
        burst: float,
        concurrency: int,
        max_body_bytes: int,
        retry: RetryPolicy,
        breaker_threshold: int,
        breaker_reset: float,
        lag_blocks: int,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        wall: Callable[[], datetime],
        rng: random.Random,
    ) -> None:
        self.network = network
        self.http = http
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.retry = retry
        self.lag_blocks = lag_blocks
        self.clock = clock
        self.sleep = sleep
        self.wall = wall
        self.rng = rng
        self.nodes: list[Node] = []
        for url in urls:
            check_url(url)
            node = Node(
                url.rstrip("/"),
                clock=clock,
                rate=rate,
                burst=burst,
                concurrency=concurrency,
                breaker=CircuitBreaker(breaker_threshold, breaker_reset),
            )
            if any(n.url == node.url for n in self.nodes):
                raise ValueError(f"node listed twice: {node.name}")
            if any(n.name == node.name for n in self.nodes):
                node.name = f"{node.name}#{len(self.nodes) + 1}"
            self.nodes.append(node)

    # --- choosing a node ------------------------------------------------------------------

    def resolve(self, node: str | Node) -> Node:
        """A node by its URL or its display name."""
        if isinstance(node, Node):
            return node
        key = node.rstrip("/")
        for candidate in self.nodes:
            if key in (candidate.url, candidate.name):
                return candidate
        raise ValueError("unknown node: not one of the configured nodes")

    def health(self) -> list[NodeHealth]:
        now = self.clock()
        reference = reference_height(self.nodes, now)
        return [n.health(now, reference, self.lag_blocks) for n in self.nodes]

    def pick(self, avoid: set[Node]) -> Node | None:
        """The best ready node, preferring ones not in ``avoid`` (already tried)."""
        now = self.clock()
        reference = reference_height(self.nodes, now)
        ready = [(i, n) for i, n in enumerate(self.nodes) if n.ready(now)]
        if not ready:
            return None

        def rank(item: tuple[int, Node]) -> tuple[bool, int, int, int]:
            index, node = item
            state = node.state(now, reference, self.lag_blocks)
            return (node in avoid, 0 if state is HealthState.OK else 1, node.consecutive_failures, index)

        return min(ready, key=rank)[1]

    async def next_node(
        self,
        pinned: Node | None,
        avoid: set[Node],
        failures: list[NodeFailure],
        max_wait: float | None = None,
        any_network: bool = False,
    ) -> Node:
        """A node to ask now: the pinned one or the best ready one, waiting up to ``max_wait``
        for a Retry-After window to end; else raise the last failure (or why none is ready)."""
        limit = self.retry.max_wait if max_wait is None else max_wait
        for _ in range(4):
            now = self.clock()
            if pinned is not None:
                if pinned.wrong_network and not any_network:
                    raise WrongNetworkError(self.network.network_id, pinned.network_id or 0, node=pinned.name)
                if pinned.ready(now, any_network):
                    return pinned
                ready_at = pinned.ready_at(now, any_network)
            else:
                found = self.pick(avoid)
                if found is not None:
                    return found
                ready_at = min((t for t in (n.ready_at(now) for n in self.nodes) if t is not None), default=None)
            if ready_at is None or ready_at - now > limit:
                raise final(failures or [self._unavailable(pinned, now)])
            await self.sleep(max(ready_at - now, 0.0) + CLOCK_SLACK)
        raise final(failures or [self._unavailable(pinned, self.clock())])

    def _unavailable(self, pinned: Node | None, now: float) -> NodeFailure:
        if pinned is None:
            return NoNodeAvailable("no node can be asked now (all resting, broken or on another network)")
        if pinned.wrong_network:
            found = f" (network id {pinned.network_id})" if pinned.network_id is not None else ""
            return NoNodeAvailable(f"wrong network: the node serves another network{found}", node=pinned.name)
        if pinned.in_backoff(now):
            return RateLimited(429, (pinned.retry_after_until or now) - now, node=pinned.name)
        # the cause first (503, refused, wrong answers): "circuit open" alone says nothing useful
        cause = f"{pinned.last_error}; " if pinned.last_error else ""
        return CircuitOpen(f"{cause}not asked for now after {pinned.consecutive_failures} failures", node=pinned.name)

    # --- sending --------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        node: str | Node | None = None,
        attempts: int | None = None,
        max_wait: float | None = None,
        any_network: bool = False,
    ) -> tuple[T, Node]:
        """Ask until one node gives a usable answer; return it and the node that gave it.
        ``any_network`` lets a pinned request reach a node marked as on another network."""
        pinned = None if node is None else self.resolve(node)
        failures: list[NodeFailure] = []
        tried: dict[Node, int] = {}
        for _ in range(attempts or self.retry.attempts):
            target = await self.next_node(pinned, set(tried), failures, max_wait, any_network)
            retries = tried.get(target, 0)
            if retries and not isinstance(failures[-1], RateLimited):  # a Retry-After wait is enough
                await self.sleep(self.retry.backoff(retries, self.rng))
            tried[target] = retries + 1
            try:
                return await self._once(target, method, path, parse, params, body, any_network), target
            except NodeFailure as err:
                failures.append(err)
        raise final(failures)

    async def _once(
        self,
        node: Node,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        params: dict[str, str] | None,
        body: Any,
        any_network: bool,
    ) -> T:
        now = self.clock()
        if not node.ready(now, any_network):
            raise self._unavailable(node, now)
        node.breaker.begin(now)
        try:
            async with node.slots:
                wait = node.bucket.reserve()
                if wait > 0:
                    await self.sleep(wait)
                answer = await exchange(
                    self.http,
                    node,
                    method,
                    path,
                    params=params,
                    json_body=body,
                    deadline=self.timeout,
                    max_body=self.max_body_bytes,
                )
            result = self._interpret(node, answer, parse)
        except RateLimited as err:
            node.record_throttle(err.detail, err.retry_after, self.clock())
            log.info("%s: resting %.1f s (HTTP %d)", node.name, err.retry_after, err.status)
            raise
        except NodeFailure as err:
            was_open = node.breaker.state(now) is BreakerState.OPEN
            node.record_failure(err.detail, self.clock())
            log.debug("%s %s on %s failed: %s", method, path, node.name, err.detail)
            if not was_open and node.breaker.state(self.clock()) is BreakerState.OPEN:
                log.warning("%s: circuit open after %d failures: %s", node.name, node.consecutive_failures, err.detail)
            raise
        except NisRequestError:
            node.record_success()  # the node is fine; the request was wrong
            raise
        except BaseException:
            node.breaker.release()
            raise
        node.record_success()
        return result

    def _interpret(self, node: Node, answer: Answer, parse: Callable[[Any], T]) -> T:
        status = answer.status
        if 200 <= status < 300:
            try:
                return parse(codec.parse_json(answer.body))
            except codec.ParseError as err:
                raise MalformedResponse(node.clean(str(err)), node=node.name) from None
        retry_after = parse_retry_after(answer.retry_after, self.wall(), self.retry.max_retry_after)
        if status == 429 or (status == 503 and retry_after is not None):
            if retry_after is None:
                retry_after = self.retry.backoff(node.throttles + 1, self.rng)
            raise RateLimited(status, retry_after, node=node.name)
        message = _nis_message(answer.body, node)
        if 400 <= status < 500:
            lowered = message.lower()
            if "address must be valid" in lowered or lowered.startswith("invalid address"):
                raise InvalidAddress(status, message, node.name)
            if status == 404:
                raise NotFound(status, message, node.name)
            raise NisRequestError(status, message, node.name)
        raise ServerError(status, message, node=node.name)


def check_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ValueError("node URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("node URL must be http:// or https:// with a host, e.g. http://host:7890")


def final(failures: Sequence[NodeFailure]) -> NodeFailure:
    """The error a failed call raises: its last failure, carrying all of them."""
    last = failures[-1]
    last.errors = tuple(failures)
    return last


def _nis_message(body: bytes, node: Node) -> str:
    """The ``message`` of a NIS error body, sanitized; empty when the body is not one."""
    try:
        error = codec.parse_error(codec.parse_json(body))
    except codec.ParseError:
        return ""
    return node.clean(error.message or error.error)
