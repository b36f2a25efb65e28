"""One provider's HTTP access: its token bucket, short retries with backoff, a size cap.

Every call waits for a token (or, when that would take longer than ``max_token_wait``, gives
up with ``RateLimited`` so the feed can ask the next provider). 429 and 5xx answers and
transport errors are retried a few times with exponential backoff, honouring ``Retry-After``;
when the server asks for a longer pause than ``max_inline_wait`` the call gives up at once
with a ``ProviderError`` carrying ``retry_after``, and the feed rests the provider that long.
Other 4xx answers are not retried.

Error messages name the provider, the host, the cause once and the URL path, never the
userinfo, the query or headers (a demo key may travel there). A host that cannot be reached
(refused, no route, name not resolved) is not retried inline: without network a price cycle
ends after one attempt per provider instead of several seconds of backoff each; the feed rests
the provider and tries again at a later poll.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from nemwatch.core.price.base import ProviderError, RateLimited
from nemwatch.core.retry import RETRY_AFTER_LIMIT, backoff_delay, parse_retry_after
from nemwatch.core.tokenbucket import TokenBucket

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    retries: int = 2
    base_backoff: float = 0.5
    max_inline_wait: float = 5.0
    max_bytes: int = 4_000_000
    timeout: float = 10.0
    max_token_wait: float = 2.0  # longer waits for our own rate limit skip the call (RateLimited)


class RateLimitedHttp:
    """Callable ``HttpGet`` for one provider over the feed's shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        bucket: TokenBucket,
        *,
        sleep: Sleep = asyncio.sleep,
        policy: HttpPolicy = HttpPolicy(),
    ) -> None:
        self.name = name
        self.client = client
        self.bucket = bucket
        self.sleep = sleep
        self.policy = policy
        self.requests = 0  # requests actually sent (for tests and the status view)

    async def __call__(
        self, url: str, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> bytes:
        attempt = 0
        while True:
            wait = self.bucket.reserve(self.policy.max_token_wait)
            if wait is None:
                raise RateLimited(f"{self.name}: own rate limit, next call allowed later")
            if wait > 0:
                await self.sleep(wait)
            error = await self._once(url, params, headers)
            if isinstance(error, bytes):
                return error
            attempt += 1
            if attempt > self.policy.retries or error.status is None and error.unreachable:
                raise error  # a host that cannot be reached now is not retried inline
            backoff = backoff_delay(attempt, initial=self.policy.base_backoff, maximum=RETRY_AFTER_LIMIT)
            delay = max(backoff, error.retry_after or 0.0)
            if delay > self.policy.max_inline_wait:
                raise error
            await self.sleep(delay)

    async def _once(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> bytes | ProviderError:
        """The body on success, a retryable error to return, or raise a permanent one."""
        parsed = httpx.URL(url)
        path = parsed.path
        host = parsed.host + (f":{parsed.port}" if parsed.port else "")  # never the userinfo
        self.requests += 1
        try:
            async with self.client.stream(
                "GET", url, params=dict(params or {}), headers=dict(headers or {}), timeout=self.policy.timeout
            ) as response:
                status = response.status_code
                if 200 <= status < 300:
                    return await self._read_capped(response, path)
                retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        except httpx.HTTPError as exc:
            error = ProviderError(f"{self.name}: {transport_cause(exc, host, self.policy.timeout)} ({path})")
            error.unreachable = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol)
            return error
        error = ProviderError(f"{self.name}: HTTP {status} from {host} on {path}", status=status, retry_after=retry_after)
        if status == 429 or status >= 500:
            return error
        raise error

    async def _read_capped(self, response: httpx.Response, path: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.policy.max_bytes:
                raise ProviderError(f"{self.name}: answer on {path} larger than {self.policy.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def transport_cause(exc: httpx.HTTPError, host: str, timeout: float) -> str:
    """What went wrong reaching ``host``, in one short phrase (no URL: it may hold a secret)."""
    if isinstance(exc, httpx.TimeoutException):
        kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
        return f"no {kind} from {host} within {timeout:g} s"
    reason = " ".join(str(exc).split())
    inner: BaseException | None = exc
    while inner is not None:  # httpx says "All connection attempts failed"; the OSError says why
        if isinstance(inner, OSError) and (inner.strerror or inner.errno):
            positive = isinstance(inner.errno, int) and inner.errno > 0  # a name lookup's are negative
            reason = os.strerror(inner.errno) if positive else inner.strerror
            break
        inner = inner.__cause__ or inner.__context__
    # socket errors read "[Errno -3] Temporary failure in name resolution": keep the words
    reason = reason.split("] ", 1)[1] if reason.startswith("[Errno") and "] " in reason else reason
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {host}: {reason or 'connection failed'}"
    return f"{type(exc).__name__} talking to {host}" + (f": {reason}" if reason else "")
