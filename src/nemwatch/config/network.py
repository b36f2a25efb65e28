"""``[network]``: which chain, which nodes, how often and how hard to ask them."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt, field_validator, model_validator

from nemwatch.config.fields import MODEL_CONFIG, Count, Flag, NodeUrl, Seconds, reject_repeats
from nemwatch.core.models import Network

# The public node named by the NIS API docs (2026) and two of the trusted peers NIS ships with.
DEFAULT_NODES: dict[Network, tuple[str, ...]] = {
    Network.MAINNET: (
        "http://portobelo.nemmain.net:7890",
        "http://176.9.20.180:7890",  # hugealice3
        "http://176.9.68.110:7890",  # hugealice2
    ),
    Network.TESTNET: ("http://libertalia.nemtest.net:7890",),
}

# Public nodes reject clients above 50 requests per second per IP: stay far below.
MAX_REQUESTS_PER_SECOND_CAP = 20


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value > 0


class NetworkConfig(BaseModel):
    """The chain and the nodes to read it from.

    ``unconfirmed_poll_seconds`` defaults to ``poll_seconds``; ``nodes`` defaults to the public
    nodes of the chosen network.
    """

    model_config = MODEL_CONFIG

    name: Network = Network.MAINNET
    nodes: tuple[NodeUrl, ...] = DEFAULT_NODES[Network.MAINNET]
    poll_seconds: Seconds = 5.0
    start_height: Annotated[StrictInt, Field(ge=1)] | None = None
    request_timeout_seconds: Seconds = 10.0
    max_requests_per_second: Seconds = 5.0
    confirmations_settled: Count = 20
    unconfirmed_poll_seconds: Seconds = 5.0
    backfill_pages: Count = 20
    balance_check_seconds: Count = 600
    # NIS1's websocket push as a wake-up hint (core.nem.push); REST stays the source of truth
    push: Flag = True
    push_safety_seconds: Seconds = 60.0
    push_urls: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        if "nodes" not in filled:
            with contextlib.suppress(ValueError, TypeError):  # a bad name is reported on its own
                filled["nodes"] = DEFAULT_NODES[Network(filled.get("name", Network.MAINNET))]
        poll = filled.get("poll_seconds")
        if "unconfirmed_poll_seconds" not in filled and _positive_number(poll):
            filled["unconfirmed_poll_seconds"] = poll
        return filled

    @field_validator("max_requests_per_second")
    @classmethod
    def _polite(cls, rate: float) -> float:
        if rate > MAX_REQUESTS_PER_SECOND_CAP:
            raise ValueError(
                f"at most {MAX_REQUESTS_PER_SECOND_CAP} requests per second per node "
                "(public nodes reject clients above 50 per second)"
            )
        return rate

    @field_validator("push_urls")
    @classmethod
    def _push_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not isinstance(url, str) or not url.startswith(("ws://", "wss://")) or len(url) < 8:
                raise ValueError("a push URL is ws://host:port or wss://host:port")
        return urls

    @model_validator(mode="after")
    def _one_push_url_per_node(self) -> NetworkConfig:
        if self.push_urls and len(self.push_urls) != len(self.nodes):
            raise ValueError(f"push_urls: give one per node ({len(self.nodes)}), in the order of nodes, or none")
        return self

    @field_validator("nodes")
    @classmethod
    def _nodes_distinct(cls, nodes: tuple[str, ...]) -> tuple[str, ...]:
        if not nodes:
            raise ValueError("list at least one node, e.g. http://portobelo.nemmain.net:7890")
        reject_repeats(nodes, lambda n: n, "same node as nodes[{}]")
        return nodes
