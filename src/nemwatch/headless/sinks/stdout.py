"""``stdout``: one JSON object per alert per line on standard output, and nothing else there.

Each line is flushed at once so a pipe reader (``nemwatch watch | jq``) sees alerts as they
happen. Logs go to standard error, never here.

The write happens on one worker thread, never on the event loop: a reader that stops reading
(a paused ``less``, a full pipe) blocks that thread only, so blocks, other sinks and signals go
on. While a write is stuck, or when one takes longer than ``timeout``, the send fails as
retryable and the outbox tries again later; the line is written once the reader resumes.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TextIO

from nemwatch.core.alert import Alert
from nemwatch.headless.sinks.base import RetryableError, describe


class StdoutSink:
    name = "stdout"
    secrets: tuple[str, ...] = ()

    def __init__(self, stream: TextIO | None = None, *, timeout: float = 5.0) -> None:
        self._stream = stream
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nemwatch-stdout")
        self._busy: Future[None] | None = None  # the write in progress, possibly stuck
        self._inflight: str | None = None  # the alert that write is for

    def _write(self, line: str) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(line)
        stream.flush()

    async def send(self, alert: Alert) -> None:
        previous = self._busy
        if previous is not None and not previous.done():
            raise RetryableError("standard output: the reader is not reading (an earlier line is still being written)")
        if previous is not None and self._inflight == alert.alert_id and previous.exception() is None:
            self._inflight = None
            return  # the write that timed out went through meanwhile: do not print the line twice
        self._inflight = alert.alert_id
        self._busy = self._pool.submit(self._write, alert.to_json_line() + "\n")
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._busy)), self._timeout)
        except TimeoutError:  # the line stays in flight: a retry of this alert does not write it again
            raise RetryableError(f"standard output: the reader took no line for {self._timeout:g} s") from None
        except (OSError, ValueError) as exc:  # a closed pipe, a closed stream
            self._inflight = None
            raise RetryableError(f"standard output: {describe(exc, ())}") from None
        self._inflight = None

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
