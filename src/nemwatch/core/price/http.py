"""One provider's HTTP access: its token bucket, short retries with backoff, a size cap.

Every call waits for a token (or, when that would take longer than ``max_token_wait``, gives
up with ``RateLimited`` so the feed can ask the next provider). 429 and 5xx answers and
transport errors are retried a few times with exponential backoff, honouring ``Retry-After``;
when the server asks for a longer pause than ``max_inline_wait`` the call gives up at once
with a ``ProviderError`` carrying ``retry_after``, and the feed rests the provider that long.
Other 4xx answers are not retried.

Error messages name the provider and the URL path only, never the query or headers (a demo
key may travel there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

from nemwatch.core.price.base import ProviderError, RateLimited
from nemwatch.core.price.ratelimit import TokenBucket, backoff_seconds, parse_retry_after

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
            if attempt > self.policy.retries:
                raise error
            delay = max(backoff_seconds(attempt, base=self.policy.base_backoff), error.retry_after or 0.0)
            if delay > self.policy.max_inline_wait:
                raise error
            await self.sleep(delay)

    async def _once(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> bytes | ProviderError:
        """The body on success, a retryable error to return, or raise a permanent one."""
        path = httpx.URL(url).path
        self.requests += 1
        try:
            async with self.client.stream(
                "GET", url, params=dict(params or {}), headers=dict(headers or {}), timeout=self.policy.timeout
            ) as response:
                status = response.status_code
                if 200 <= status < 300:
                    return await self._read_capped(response, path)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            return ProviderError(f"{self.name}: {type(exc).__name__} on {path}")
        error = ProviderError(f"{self.name}: HTTP {status} on {path}", status=status, retry_after=retry_after)
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
