"""``stdout``: one JSON object per alert per line on standard output, and nothing else there.

Each line is flushed at once so a pipe reader (``nemwatch watch | jq``) sees alerts as they
happen. Logs go to standard error, never here.
"""

from __future__ import annotations

import sys
from typing import TextIO

from nemwatch.core.alert import Alert
from nemwatch.headless.sinks.base import RetryableError, describe


class StdoutSink:
    name = "stdout"
    secrets: tuple[str, ...] = ()

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, alert: Alert) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(alert.to_json_line() + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe, a closed stream
            raise RetryableError(f"standard output: {describe(exc, ())}") from None

    async def aclose(self) -> None:
        return None
