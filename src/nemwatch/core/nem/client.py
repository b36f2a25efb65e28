"""Async NIS1 client over several nodes: failover, retries, rate limits, breakers, health.

One shared ``httpx.AsyncClient`` serves every node. Each call goes to the node given with
``node=`` (then it stays there) or to the best ready node, and on a ``NodeFailure`` moves on
to the next one; a retry on a node already tried in the same call waits a jittered exponential
backoff first. Every request runs under a total deadline and a body size cap (see
``transport``), waits for its node's token bucket (default 5 requests/s, at most 20) and for
one of the node's concurrency slots.

A 429 (or a 503 with ``Retry-After``) rests the node for the time it asks (seconds or an HTTP
date, clamped), or for a backoff when it says nothing; no request goes to a resting node. 4xx
answers become ``NisRequestError`` with the node's NIS message, are not retried and do not
count against the node. Three consecutive failures open a node's circuit breaker.

Answers are parsed by ``codec``; anything malformed is a ``MalformedResponse`` (retried
elsewhere). Addresses are validated and normalized (no dashes) before they are sent.
Account history is paged by ``meta.id``, which is node-local, so one walk stays on one node.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from nemwatch.core.models import AccountInfo, Block, MosaicAmount, Network, NodeInfo, NodeStatus, Transaction
from nemwatch.core.nem import address as nem_address
from nemwatch.core.nem import codec, mosaicdefs, poolpages
from nemwatch.core.nem.blocksafter import BLOCKS_AFTER_PATH, parse_blocks_after
from nemwatch.core.nem import nisjson as j
from nemwatch.core.nem.errors import (
    InvalidAddress,
    NisClientError,
    NisRequestError,
    NodeFailure,
    Unsupported,
    WrongNetworkError,
)
from nemwatch.core.nem.nodes import MAX_REQUESTS_PER_SECOND, Node, NodeHealth
from nemwatch.core.nem.pool import NodePool, check_url, final
from nemwatch.core.retry import RetryPolicy
from nemwatch.core.store.mosaics import MosaicDefinitionRow

__all__ = ["NisClient", "NodeHealth", "NodeView", "RetryPolicy"]

log = logging.getLogger("nemwatch.client")

Direction = Literal["all", "incoming", "outgoing"]
DIRECTIONS = ("all", "incoming", "outgoing")
PAGE_MIN, PAGE_MAX, PAGE_DEFAULT = 5, 100, 25  # NIS clamps pageSize to [5, 100], default 25
MIB = 1024 * 1024
BULK_REFUSAL_SECONDS = 3600.0  # a node that refused blocks-after is not asked again for this long


class NisClient:
    """Read-only client of a set of NIS1 nodes (see the module docstring)."""

    def __init__(
        self,
        nodes: Sequence[str],
        network: Network = Network.MAINNET,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        max_rps_per_node: float = 5.0,
        burst: float = 2.0,
        max_concurrency_per_node: int = 4,
        max_body_bytes: int = 8 * MIB,
        retry: RetryPolicy | None = None,
        breaker_threshold: int = 3,
        breaker_reset: float = 30.0,
        lag_blocks: int = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(nodes, str) or not nodes:
            raise ValueError("give at least one node URL, e.g. http://portobelo.nemmain.net:7890")
        if not 0 < max_rps_per_node <= MAX_REQUESTS_PER_SECOND:
            raise ValueError(f"max_rps_per_node must be in (0, {MAX_REQUESTS_PER_SECOND:g}]")
        if timeout <= 0 or max_body_bytes < 1024 or max_concurrency_per_node < 1 or lag_blocks < 0:
            raise ValueError("timeout > 0, max_body_bytes >= 1024, max_concurrency_per_node >= 1, lag_blocks >= 0")
        for url in nodes:  # before an HTTP client is made for them
            check_url(url)
        if len({url.rstrip("/") for url in nodes}) != len(nodes):
            raise ValueError("a node is listed twice")
        self.network = network
        self._owns_http = http is None
        self._pool = NodePool(
            nodes,
            network,
            http=http
            or httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(max_connections=max(10, len(nodes) * max_concurrency_per_node)),
                follow_redirects=False,
            ),
            timeout=float(timeout),
            rate=max_rps_per_node,
            burst=max(1.0, burst),
            concurrency=max_concurrency_per_node,
            max_body_bytes=max_body_bytes,
            retry=retry or RetryPolicy(),
            breaker_threshold=breaker_threshold,
            breaker_reset=breaker_reset,
            lag_blocks=lag_blocks,
            clock=clock,
            sleep=sleep,
            wall=wall or (lambda: datetime.now(UTC)),
            rng=rng or random.Random(),
        )
        self._call = self._pool.call
        self._bulk_refused: dict[str, float] = {}  # node -> until when it is not asked blocks-after

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> NisClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it (an injected one stays open)."""
        if self._owns_http:
            await self._pool.http.aclose()

    # --- nodes and health -----------------------------------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes' display names (redacted URLs), in configuration order."""
        return tuple(n.name for n in self._pool.nodes)

    def node(self, url: str) -> NodeView:
        """The endpoints of one node, without failover: ``client.node(url).chain_height()``."""
        return NodeView(self, self._pool.resolve(url).name)

    def health(self) -> list[NodeHealth]:
        """A snapshot of every node, in configuration order."""
        return self._pool.health()

    def best_node(self) -> str | None:
        """The node a call without ``node=`` would ask first, or None when none is ready."""
        node = self._pool.pick(set())
        return None if node is None else node.name

    async def heights(self) -> dict[str, int | NisClientError]:
        """Ask every node for its height at once (one try each, no waiting): name -> height or error."""

        async def one(node: Node) -> int | NisClientError:
            try:
                return await self.chain_height(node=node.name, attempts=1, max_wait=0.0)
            except NisClientError as err:
                return err

        nodes = self._pool.nodes
        answers = await asyncio.gather(*(one(n) for n in nodes))
        return {n.name: a for n, a in zip(nodes, answers, strict=True)}

    async def height_of(self, node: str) -> int | NisClientError:
        """One node's height (one try, no waiting), or the error it gave: the height poll asks
        one node and the others only when its answer changes (``core.tasks.heightpoll``)."""
        try:
            return await self.chain_height(node=node, attempts=1, max_wait=0.0)
        except NisClientError as err:
            return err

    async def refresh_health(self) -> list[NodeHealth]:
        """Check every node at once: ``/node/info`` (until the network is known, and again while
        it is the wrong one), ``/status`` and ``/chain/height``; one try each, no waiting."""

        async def one(node: Node) -> None:
            try:
                if node.network_id is None or node.wrong_network:
                    await self.node_info(node=node.name, attempts=1, max_wait=0.0)
                if node.wrong_network:
                    return
                await self.status(node=node.name, attempts=1, max_wait=0.0)
                await self.chain_height(node=node.name, attempts=1, max_wait=0.0)
            except NisClientError as err:
                log.debug("health check of %s failed: %s", node.name, err)

        await asyncio.gather(*(one(n) for n in self._pool.nodes))
        return self.health()

    # --- endpoints ------------------------------------------------------------------------

    async def heartbeat(self, *, node: str | None = None, attempts: int | None = None) -> NodeStatus:
        return (await self._call("GET", "/heartbeat", codec.parse_status, node=node, attempts=attempts))[0]

    async def status(
        self, *, node: str | None = None, attempts: int | None = None, max_wait: float | None = None
    ) -> NodeStatus:
        """``/status``; code 6 means synchronized (the node's health notes the code)."""
        status, answered = await self._call(
            "GET", "/status", codec.parse_status, node=node, attempts=attempts, max_wait=max_wait
        )
        answered.status_code = status.code
        return status

    async def node_info(
        self, *, node: str | None = None, attempts: int | None = None, max_wait: float | None = None
    ) -> NodeInfo:
        """``/node/info``. A node on another network is marked and gets no other request; asked
        by name it is checked again (and cleared when it is back on the right network)."""
        info, _ = await self._node_info(node, attempts, max_wait)
        return info

    async def check_network(self, *, node: str | None = None) -> NodeInfo:
        """``node_info`` that raises ``WrongNetworkError`` when the node serves another network."""
        info, answered = await self._node_info(node, None, None)
        if answered.wrong_network:
            raise WrongNetworkError(self.network.network_id, info.network_id, node=answered.name)
        return info

    async def _node_info(
        self, node: str | None, attempts: int | None, max_wait: float | None
    ) -> tuple[NodeInfo, Node]:
        info, answered = await self._call(
            "GET",
            "/node/info",
            codec.parse_node_info,
            node=node,
            attempts=attempts,
            max_wait=max_wait,
            any_network=node is not None,
        )
        answered.network_id = info.network_id
        wrong = info.network_id != self.network.network_id
        if wrong and not answered.wrong_network:
            answered.last_error = f"node is on network id {info.network_id}, expected {self.network.network_id}"
            log.warning("%s: %s", answered.name, answered.last_error)
        elif answered.wrong_network and not wrong:
            log.info("%s: back on network id %d", answered.name, info.network_id)
        answered.wrong_network = wrong
        return info, answered

    async def chain_height(
        self, *, node: str | None = None, attempts: int | None = None, max_wait: float | None = None
    ) -> int:
        height, answered = await self._call(
            "GET", "/chain/height", codec.parse_height, node=node, attempts=attempts, max_wait=max_wait
        )
        answered.height = height
        return height

    async def last_block(self, *, node: str | None = None, attempts: int | None = None) -> Block:
        block, answered = await self._call(
            "GET", "/chain/last-block", lambda o: codec.parse_block(o, None, self.network), node=node, attempts=attempts
        )
        answered.height = block.height
        return block

    async def block_at(self, height: int, *, node: str | None = None, attempts: int | None = None) -> Block:
        """``POST /block/at/public {"height": h}``; ``NotFound`` for a height the node lacks."""
        if type(height) is not int or height < 1:
            raise ValueError("height must be a positive integer")
        return (
            await self._call(
                "POST",
                "/block/at/public",
                lambda o: codec.parse_block(o, height, self.network),
                body={"height": height},
                node=node,
                attempts=attempts,
            )
        )[0]

    async def blocks_after(self, height: int, *, node: str, attempts: int | None = None) -> tuple[Block, ...]:
        """``POST /local/chain/blocks-after {"height": h}`` on ONE node: the (up to ten) blocks
        after ``height`` it has, each parsed and hashed here (``blocksafter``).

        NIS serves it only to trusted callers: a node that answers 401 (or has no such route:
        404 without naming a block) raises ``Unsupported`` and is not asked again for an hour
        (``serves_blocks_after`` then says False), so a public node costs one probe."""
        if type(height) is not int or height < 0:
            raise ValueError("height must be a non-negative integer")
        target = self._pool.resolve(node)
        now = self._pool.clock()
        until = self._bulk_refused.get(target.name)
        if until is not None and now < until:
            raise Unsupported(401, "blocks-after refused earlier by this node", node=target.name)
        parse = lambda o: parse_blocks_after(o, height, self.network)  # noqa: E731
        try:
            blocks, _ = await self._call(
                "POST", BLOCKS_AFTER_PATH, parse, body={"height": height}, node=target, attempts=attempts
            )
        except NisRequestError as err:
            refused = err.status in (401, 403) or (err.status == 404 and "block" not in err.message.lower())
            if not refused:
                raise
            self._bulk_refused[target.name] = now + BULK_REFUSAL_SECONDS
            log.info("%s does not serve %s to us (HTTP %d): blocks are read one by one", target.name,
                     BLOCKS_AFTER_PATH, err.status)
            raise Unsupported(err.status, err.message, node=target.name) from None
        self._bulk_refused.pop(target.name, None)
        return blocks

    def serves_blocks_after(self, node: str) -> bool | None:
        """False while ``node`` is remembered as refusing blocks-after; None when not known."""
        until = self._bulk_refused.get(self._pool.resolve(node).name)
        return False if until is not None and self._pool.clock() < until else None

    async def account(self, address: str, *, node: str | None = None, attempts: int | None = None) -> AccountInfo:
        params = {"address": self._address(address)}
        parse = lambda o: codec.parse_account(o, self.network)  # noqa: E731
        return (await self._call("GET", "/account/get", parse, params=params, node=node, attempts=attempts))[0]

    async def accounts(
        self, addresses: Sequence[str], *, node: str | None = None, attempts: int | None = None
    ) -> tuple[AccountInfo, ...]:
        """``POST /account/get/batch``: several accounts in one request, in the order asked
        (the balance reconciler reads up to 100 per request)."""
        wanted = [self._address(a) for a in addresses]
        if not wanted:
            return ()
        body = {"data": [{"account": a} for a in wanted]}
        parse = lambda o: _parse_account_batch(o, self.network, len(wanted))  # noqa: E731
        return (await self._call("POST", "/account/get/batch", parse, body=body, node=node, attempts=attempts))[0]

    async def unconfirmed(
        self, address: str, *, node: str | None = None, attempts: int | None = None
    ) -> tuple[Transaction, ...]:
        """The node's pool transactions involving ``address`` (NIS returns at most 25)."""
        params = {"address": self._address(address)}
        parse = lambda o: codec.parse_unconfirmed(o, self.network)  # noqa: E731
        path = "/account/unconfirmedTransactions"
        return (await self._call("GET", path, parse, params=params, node=node, attempts=attempts))[0]

    async def unconfirmed_pool(
        self, address: str, *, node: str | None = None, attempts: int | None = None
    ) -> tuple[Transaction, ...]:
        """Every pool transaction involving ``address``, past NIS's cap of 25 (``poolpages``):
        when the capped answer is full, the node's pool is read by exclusion from the same node."""
        params = {"address": self._address(address)}
        parse = lambda o: codec.parse_unconfirmed(o, self.network)  # noqa: E731
        first, answered = await self._call(
            "GET", "/account/unconfirmedTransactions", parse, params=params, node=node, attempts=attempts
        )
        found = list(first)
        if len(first) < poolpages.UNCONFIRMED_CAP:
            return tuple(found)
        seen = {tx.hash for tx in found}
        wanted = params["address"]
        parse_answer = lambda o: poolpages.parse_pool_answer(o, self.network)  # noqa: E731
        for _ in range(poolpages.MAX_POOL_ROUNDS):
            more, _node = await self._call(
                "POST", poolpages.POOL_SYNC_PATH, parse_answer, body=poolpages.pool_request(seen),
                node=answered, attempts=attempts,
            )
            new = [tx for tx in more if tx.hash not in seen]
            if not new:
                break
            seen.update(tx.hash for tx in new)
            found.extend(tx for tx in new if poolpages.involves(tx, wanted))
        return tuple(found)

    async def mosaic_definitions(
        self, namespace: str, *, after_id: int | None = None, node: str | None = None, attempts: int | None = None
    ) -> tuple[tuple[int, MosaicDefinitionRow], ...]:
        """One page (newest first, ``id`` exclusive) of the mosaic definitions of ``namespace``."""
        params = {"namespace": namespace, "pageSize": str(PAGE_MAX)}
        if after_id is not None:
            params["id"] = str(after_id)
        parse = lambda o: mosaicdefs.parse_definition_page(o, self.network)  # noqa: E731
        path = mosaicdefs.DEFINITION_PAGE_PATH
        return (await self._call("GET", path, parse, params=params, node=node, attempts=attempts))[0]

    async def mosaics_owned(
        self, address: str, *, node: str | None = None, attempts: int | None = None
    ) -> tuple[MosaicAmount, ...]:
        params = {"address": self._address(address)}
        path = "/account/mosaic/owned"
        return (await self._call("GET", path, codec.parse_mosaics_owned, params=params, node=node, attempts=attempts))[0]

    async def network_time(self, *, node: str | None = None, attempts: int | None = None) -> int:
        """The node's network time in **milliseconds** since the NEM epoch."""
        return (await self._call("GET", "/time-sync/network-time", _parse_network_time, node=node, attempts=attempts))[0]

    async def iter_transfers(
        self,
        address: str,
        direction: Direction = "all",
        *,
        page_size: int = PAGE_MAX,
        until_hash: str | None = None,
        max_pages: int | None = None,
        node: str | None = None,
    ) -> AsyncIterator[Transaction]:
        """Walk ``/account/transfers/<direction>`` newest first, on ONE node (ids are node-local).

        Pages are chained by ``id`` = the smallest ``meta.id`` of the previous page. The walk
        stops on an empty or short page, before the transaction whose hash (or inner hash) is
        ``until_hash``, or after ``max_pages`` pages. ``page_size`` is clamped to [5, 100].
        A page of exactly 25 when more were asked may come from an old node that ignores
        ``pageSize``, so the walk asks once more. A failure of the node after its retries ends
        the walk with that error.
        """
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if max_pages is not None and max_pages < 1:
            return
        params = {"address": self._address(address), "pageSize": str(min(PAGE_MAX, max(PAGE_MIN, page_size)))}
        size = int(params["pageSize"])
        until = until_hash.strip().lower() if until_hash else None
        pool = self._pool
        target = pool.resolve(node) if node is not None else await pool.next_node(None, set(), [])
        cursor: int | None = None
        pages = 0
        while True:
            page_params = dict(params) if cursor is None else {**params, "id": str(cursor)}
            page, _ = await self._call(
                "GET",
                f"/account/transfers/{direction}",
                _page_parser(self.network, cursor),
                params=page_params,
                node=target,
            )
            pages += 1
            for tx in page:
                if until is not None and until in (tx.hash, tx.inner_hash):
                    return
                yield tx
            # A short page is the last one; but an old node may ignore pageSize and always send
            # its default 25, so a page of exactly 25 is followed up.
            short = len(page) < size and len(page) != PAGE_DEFAULT
            if not page or short or (max_pages is not None and pages >= max_pages):
                return
            cursor = min(tx.meta_id for tx in page if tx.meta_id is not None)

    async def transfers(
        self,
        address: str,
        direction: Direction = "all",
        *,
        page_size: int = PAGE_MAX,
        until_hash: str | None = None,
        max_pages: int | None = None,
        node: str | None = None,
    ) -> list[Transaction]:
        """``iter_transfers`` collected. Without ``node=`` a walk that fails on its node is
        started again from the top on the next node (a walk never mixes nodes)."""
        walk = dict(direction=direction, page_size=page_size, until_hash=until_hash, max_pages=max_pages)
        if node is not None:
            return [tx async for tx in self.iter_transfers(address, node=node, **walk)]  # type: ignore[arg-type]
        failures: list[NodeFailure] = []
        done: set[Node] = set()
        for _ in self._pool.nodes:
            target = await self._pool.next_node(None, done, failures)
            if target in done:
                break
            done.add(target)
            try:
                return [tx async for tx in self.iter_transfers(address, node=target.name, **walk)]  # type: ignore[arg-type]
            except NodeFailure as err:
                failures.extend(err.errors)
                log.info("transfer walk on %s failed, starting over elsewhere: %s", target.name, err.detail)
        raise final(failures)

    # --- helpers --------------------------------------------------------------------------

    def _address(self, text: str) -> str:
        try:
            return nem_address.validate(text, self.network)
        except nem_address.AddressError as err:
            raise InvalidAddress(400, str(err)) from None


class NodeView:
    """One node's endpoints with no failover (retries stay on that node)."""

    def __init__(self, client: NisClient, name: str) -> None:
        self._client = client
        self.name = name

    async def heartbeat(self) -> NodeStatus:
        return await self._client.heartbeat(node=self.name)

    async def status(self) -> NodeStatus:
        return await self._client.status(node=self.name)

    async def node_info(self) -> NodeInfo:
        return await self._client.node_info(node=self.name)

    async def check_network(self) -> NodeInfo:
        return await self._client.check_network(node=self.name)

    async def chain_height(self) -> int:
        return await self._client.chain_height(node=self.name)

    async def last_block(self) -> Block:
        return await self._client.last_block(node=self.name)

    async def block_at(self, height: int) -> Block:
        return await self._client.block_at(height, node=self.name)

    async def account(self, address: str) -> AccountInfo:
        return await self._client.account(address, node=self.name)

    async def unconfirmed(self, address: str) -> tuple[Transaction, ...]:
        return await self._client.unconfirmed(address, node=self.name)

    async def mosaics_owned(self, address: str) -> tuple[MosaicAmount, ...]:
        return await self._client.mosaics_owned(address, node=self.name)

    async def network_time(self) -> int:
        return await self._client.network_time(node=self.name)

    async def transfers(self, address: str, direction: Direction = "all", **walk: Any) -> list[Transaction]:
        return await self._client.transfers(address, direction, node=self.name, **walk)

    def iter_transfers(self, address: str, direction: Direction = "all", **walk: Any) -> AsyncIterator[Transaction]:
        return self._client.iter_transfers(address, direction, node=self.name, **walk)


# --- helpers ---------------------------------------------------------------------------------


@j.untrusted
def _parse_network_time(obj: Any) -> int:
    """``{"sendTimeStamp": ms, "receiveTimeStamp": ms}`` -> the receive time in milliseconds."""
    return j.integer(j.as_dict(obj, "network time"), "receiveTimeStamp")


@j.untrusted
def _parse_account_batch(obj: Any, network: Network, expected: int) -> tuple[AccountInfo, ...]:
    """``{"data": [AccountMetaDataPair, ...]}``, one per account asked."""
    items = j.as_dict(obj, "account batch").get("data")
    if not isinstance(items, list) or len(items) != expected:
        raise codec.ParseError(f"account batch: expected a data list of {expected} accounts")
    return tuple(codec.parse_account(item, network) for item in items)


def _page_parser(network: Network, cursor: int | None) -> Callable[[Any], tuple[Transaction, ...]]:
    """Parse a transfers page and check it continues the walk: every id below the cursor."""

    def parse(obj: Any) -> tuple[Transaction, ...]:
        page = codec.parse_tx_page(obj, network)
        ids = [tx.meta_id for tx in page]
        if any(i is None for i in ids):
            raise codec.ParseError("transfers page: a transaction has no meta.id")
        if cursor is not None and any(i >= cursor for i in ids if i is not None):
            raise codec.ParseError("transfers page: an id is not below the paging cursor")
        return page

    return parse
