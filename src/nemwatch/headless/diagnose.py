"""Why nemwatch cannot work: ask each configured node, one plain try each, and say what is wrong.

``nemwatch check`` and ``nemwatch watch --once`` print this when no node gave a usable height:
"cannot work" alone does not tell an operator whether to fix DNS, a firewall, the node or the
config. Each node gets one verdict: DNS failure, connection refused, no answer in time, an HTTP
error (503 while NIS loads its chain, 429 rate limit, ...), the wrong network, an answer that is
not NIS JSON, or ok. Every text here is safe to print: node URLs are shown redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from nemwatch.core.models import Network
from nemwatch.core.nem.client import NisClient
from nemwatch.core.nem.errors import (
    DeadlineExceeded,
    MalformedResponse,
    NisClientError,
    NisRequestError,
    RateLimited,
    ResponseTooLarge,
    ServerError,
    TransportError,
    WrongNetworkError,
)
from nemwatch.core.nem.nodes import describe_url
from nemwatch.core.retry import RetryPolicy
from nemwatch.core.text import sanitize
from nemwatch.redact import scrub

_NETWORK_NAMES = {n.network_id: n.value for n in Network}
_STATUS_HINTS = {
    503: "the node is unavailable (NIS answers 503 while it starts or loads its chain)",
    502: "a proxy in front of the node got no answer from it",
    504: "a proxy in front of the node got no answer from it in time",
    500: "the node failed on the request",
    404: "no NIS API at this address (is the port right? NIS listens on 7890)",
}


@dataclass(frozen=True, slots=True)
class NodeDiagnosis:
    node: str  # the redacted URL
    problem: str | None  # None: usable; else a short name: "DNS failure", "connection refused", ...
    detail: str

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        verdict = "ok" if self.ok else self.problem
        return f"{self.node}: {verdict}: {self.detail}" if self.detail else f"{self.node}: {verdict}"


async def diagnose(nodes: Sequence[str], network: Network, *, timeout: float = 10.0) -> list[NodeDiagnosis]:
    """One diagnosis per node, asked at once."""
    return list(await asyncio.gather(*(diagnose_node(url, network, timeout=timeout) for url in nodes)))


async def diagnose_node(url: str, network: Network, *, timeout: float = 10.0) -> NodeDiagnosis:
    shown, secrets = describe_url(url)

    def clean(text: str) -> str:
        return sanitize(scrub(text, secrets), max_len=300)

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
    except socket.gaierror as err:
        return NodeDiagnosis(shown, "DNS failure", clean(f"cannot resolve host {host!r}: {err.strerror or err}"))
    except TimeoutError:
        return NodeDiagnosis(shown, "DNS failure", clean(f"resolving host {host!r} took more than {timeout:g} s"))
    refused = await _connect(host, port, timeout)
    if refused is not None:
        return NodeDiagnosis(shown, refused[0], clean(refused[1]))
    client = NisClient(
        [url], network, timeout=timeout, retry=RetryPolicy(attempts=1, max_wait=0.0), breaker_threshold=1000
    )
    name = client.nodes[0]
    try:
        await client.check_network(node=name)
        height = await client.chain_height(node=name)
    except NisClientError as err:
        problem, detail = classify(err, host=host, port=port, network=network)
        return NodeDiagnosis(shown, problem, clean(detail))
    finally:
        await client.aclose()
    return NodeDiagnosis(shown, None, f"{network.value}, height {height:,}")


async def _connect(host: str, port: int, timeout: float) -> tuple[str, str] | None:
    """A plain TCP connection first: the HTTP layer reports "refused" and "unreachable" alike."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except ConnectionRefusedError:
        return "connection refused", f"nothing accepts connections on {host}:{port} (is NIS running? a firewall?)"
    except TimeoutError:
        return "no answer in time", f"no TCP connection to {host}:{port} within {timeout:g} s (a firewall dropping it?)"
    except OSError as err:
        return "network unreachable", f"cannot connect to {host}:{port}: {err.strerror or err}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


def classify(err: NisClientError, *, host: str, port: int, network: Network) -> tuple[str, str]:
    """A short problem name and a sentence for one client error."""
    detail = getattr(err, "detail", str(err))
    if isinstance(err, WrongNetworkError):
        got = _NETWORK_NAMES.get(err.got, f"network id {err.got}")
        return "wrong network", f"the node serves {got}, the config says {network.value} ([network] name)"
    if isinstance(err, DeadlineExceeded):
        return "no answer in time", detail
    if isinstance(err, TransportError):
        low = detail.lower()
        if "refused" in low or "errno 111" in low:
            return "connection refused", f"nothing accepts connections on {host}:{port} ({detail})"
        if "name or service" in low or "nodename nor servname" in low or "name resolution" in low:
            return "DNS failure", detail
        if "ssl" in low or "certificate" in low or "tls" in low:
            return "TLS failure", detail
        if "unreachable" in low or "no route" in low:
            return "network unreachable", detail
        return "connection failed", detail
    if isinstance(err, RateLimited):
        return f"HTTP {err.status}", f"rate limited, retry after {err.retry_after:.0f} s"
    if isinstance(err, ServerError):
        hint = _STATUS_HINTS.get(err.status, "the node answered with an error")
        return f"HTTP {err.status}", f"{hint}" + (f": {err.message}" if err.message else "")
    if isinstance(err, NisRequestError):
        hint = _STATUS_HINTS.get(err.status, "the node refused the request")
        return f"HTTP {err.status}", f"{hint}" + (f": {err.message}" if err.message else "")
    if isinstance(err, MalformedResponse | ResponseTooLarge):
        return "not a NIS node", f"the answer is not what NIS sends ({detail})"
    return "failed", f"{type(err).__name__}: {detail}"


def explain(diagnoses: Sequence[NodeDiagnosis]) -> str:
    """Lines for stderr, one per node, with the problem first."""
    return "\n".join(f"  {d.line()}" for d in diagnoses)


async def why(nodes: Sequence[str], network: Network, *, timeout: float = 10.0) -> str:
    """The reason nemwatch cannot work, for stderr: a summary line, then one line per node."""
    found = await diagnose(nodes, network, timeout=timeout)
    broken = [d for d in found if not d.ok]
    if not broken:
        head = "every node answers now (it failed a moment ago: an intermittent fault?)"
    else:
        kinds = sorted({d.problem or "" for d in broken})
        head = f"{len(broken)} of {len(found)} node(s) unusable: {', '.join(kinds)}"
    return f"{head}\n{explain(found)}"


__all__ = ["NodeDiagnosis", "classify", "diagnose", "diagnose_node", "explain", "why"]
