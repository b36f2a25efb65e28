"""What every sink is, and how a failed send says whether to try again.

A sink delivers one alert at a time: ``await sink.send(alert)`` returns when the destination
has it, or raises ``RetryableError`` (try again later; ``retry_after`` seconds when the
destination said so) or ``PermanentError`` (dead-letter: retrying cannot help). The message of
either error is already free of the sink's secrets.

``name`` identifies the sink in the outbox and must not change between runs for the same
destination (see ``nemwatch.headless.sinks.sink_names``). It is redacted: it is shown in logs,
in "delivery broken" alerts and in ``nemwatch check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from nemwatch.core.alert import Alert
from nemwatch.redact import MASK, scrub


class DeliveryError(Exception):
    """A send failed. ``str(error)`` is safe to log and store."""


class RetryableError(DeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """The sink refused the alert for good (a 4xx other than 429): dead-letter it, do not retry."""


@runtime_checkable
class Sink(Protocol):
    name: str
    secrets: Sequence[str]  # substrings to scrub from anything this sink's errors say

    async def send(self, alert: Alert) -> None: ...

    async def aclose(self) -> None: ...


def describe(exc: BaseException, secrets: Sequence[str]) -> str:
    """An exception as one line with ``secrets`` masked (``Type: message``)."""
    text = str(exc).strip()
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return scrub(" ".join(line.split()), secrets)[:500]


__all__ = ["MASK", "DeliveryError", "PermanentError", "RetryableError", "Sink", "describe"]
