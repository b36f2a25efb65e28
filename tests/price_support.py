"""Helpers for the price tests: fixtures, a fake clock, and scripted HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from nemwatch.core.price.http import HttpPolicy, RateLimitedHttp
from nemwatch.core.tokenbucket import TokenBucket

FIXTURES = Path(__file__).parent / "fixtures" / "price"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class FakeTime:
    """Wall clock, monotonic clock and sleep that only move when slept on or told to."""

    wall: datetime = field(default_factory=lambda: utc(2018, 1, 26, 3, 0))
    mono: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


Answer = tuple[int, bytes | str, dict[str, str]]


@dataclass
class Routes:
    """Answers by URL path; a list is played in order (the last one repeats)."""

    answers: dict[str, list[Answer]] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)
    time: FakeTime | None = None
    stamps: list[float] = field(default_factory=list)  # monotonic time of each request

    def add(self, path: str, *answers: Answer | bytes | str) -> Routes:
        self.answers[path] = [a if isinstance(a, tuple) else (200, a, {}) for a in answers]
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.time is not None:
            self.stamps.append(self.time.mono)
        queue = self.answers.get(request.url.path)
        if not queue:
            return httpx.Response(404, text="not found")
        status, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        content = body.encode() if isinstance(body, str) else body
        return httpx.Response(status, content=content, headers=headers)

    def count(self, path: str) -> int:
        return sum(1 for r in self.seen if r.url.path == path)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


def fast_http(client: httpx.AsyncClient, time: FakeTime, name: str = "test", **policy: float) -> RateLimitedHttp:
    """An HttpGet with a roomy bucket and the fake sleep, so tests never wait."""
    bucket = TokenBucket(1000.0, 1000.0, time.monotonic)
    return RateLimitedHttp(name, client, bucket, sleep=time.sleep, policy=HttpPolicy(**policy))  # type: ignore[arg-type]
