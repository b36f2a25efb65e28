"""``webhook+https://...``: the alert's JSON line POSTed to a URL.

Headers: ``Idempotency-Key`` and ``X-Nemwatch-Alert-Id`` carry the ``alert_id`` so the
receiver can drop the duplicates that at-least-once delivery may produce.

Outcome: 2xx delivered; 408, 429, 5xx, timeouts and connection errors retried (``Retry-After``
honoured, in seconds or as an HTTP date); any other status (other 4xx, 3xx: a redirect is not
followed, it would carry the alert elsewhere) is a permanent failure, dead-lettered.

The URL may hold a token (Slack, Discord, ...): errors never quote it. They name the sink by
its redacted URL and scrub every secret part out of library messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from nemwatch import __version__
from nemwatch.core.alert import Alert
from nemwatch.core.retry import parse_retry_after
from nemwatch.headless.logscrub import protect
from nemwatch.headless.sinks.base import PermanentError, RetryableError, describe
from nemwatch.redact import redact_url, secret_parts

PREFIX = "webhook+"
RETRY_STATUSES = frozenset({408, 429})
DEFAULT_TIMEOUT = 10.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookSink:
    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if url.startswith(PREFIX):
            url = url[len(PREFIX) :]
        self.url = url
        self.display = PREFIX + redact_url(url)
        self.name = name or self.display
        self.secrets = tuple(secret_parts(url))
        protect(self.secrets)
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise ValueError(f"invalid webhook URL: {self.display}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"a webhook needs an http(s) URL with a host: {self.display}")
        self._timeout = timeout
        self._clock = clock
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)

    async def send(self, alert: Alert) -> None:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": alert.alert_id,
            "X-Nemwatch-Alert-Id": alert.alert_id,
            "User-Agent": f"nemwatch/{__version__}",
        }
        body = alert.to_json_line().encode()
        try:
            # httpx's read timeout is per chunk; the outer deadline bounds the whole exchange.
            async with asyncio.timeout(self._timeout + 1.0):
                response = await self._client.post(self.url, content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise RetryableError(f"{self.display}: timed out after {self._timeout:g} s") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            # The library would quote the URL, and a URL it cannot parse has no known secret parts.
            raise PermanentError(f"{self.display}: invalid URL") from None
        except httpx.HTTPError as exc:
            raise RetryableError(f"{self.display}: {describe(exc, self.secrets)}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"{self.display}: HTTP {status}"
        if status in RETRY_STATUSES or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            raise RetryableError(reason, retry_after=retry_after)
        raise PermanentError(reason)

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()
