"""``command:/path/to/hook arg ...``: run a program with the alert's JSON line on its stdin.

The command line is split like a shell would (``shlex``) but never run through a shell, so
no alert text can inject anything. The hook also gets ``NEMWATCH_ALERT_ID``,
``NEMWATCH_RULE``, ``NEMWATCH_STAGE`` and ``NEMWATCH_SEVERITY`` in its environment.

Exit status 0 is delivered; another status, a timeout (the process group is killed) or a
signal is retried; a program that cannot be started (missing, not executable) is a permanent
failure. Errors quote the hook's redacted command line and the sanitized tail of its stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal

from nemwatch.core.alert import Alert
from nemwatch.core.text import sanitize
from nemwatch.headless.logscrub import protect
from nemwatch.headless.sinks.base import PermanentError, RetryableError, describe
from nemwatch.redact import redact_sink, sink_secrets

PREFIX = "command:"
DEFAULT_TIMEOUT = 30.0
STDERR_TAIL = 300


class CommandSink:
    def __init__(self, spec: str, *, name: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not spec.startswith(PREFIX):
            spec = PREFIX + spec
        self.argv = shlex.split(spec[len(PREFIX) :])
        if not self.argv:
            raise ValueError("command sink without a program")
        self.display = redact_sink(spec)
        self.name = name or self.display
        self.secrets = tuple(sink_secrets(spec))
        protect(self.secrets)
        self._timeout = timeout

    async def send(self, alert: Alert) -> None:
        env = dict(os.environ)
        env.update(
            NEMWATCH_ALERT_ID=alert.alert_id,
            NEMWATCH_RULE=alert.rule,
            NEMWATCH_STAGE=alert.stage.value,
            NEMWATCH_SEVERITY=alert.severity.value,
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise PermanentError(f"{self.display}: cannot start ({describe(exc, self.secrets)})") from None
        try:
            async with asyncio.timeout(self._timeout):
                _, err = await proc.communicate((alert.to_json_line() + "\n").encode())
        except TimeoutError:
            _kill_group(proc)
            await proc.wait()
            raise RetryableError(f"{self.display}: timed out after {self._timeout:g} s") from None
        except BaseException:
            _kill_group(proc)
            await proc.wait()
            raise
        if proc.returncode == 0:
            return
        tail = sanitize(err.decode(errors="replace")[-STDERR_TAIL:], max_len=STDERR_TAIL)
        how = f"exit status {proc.returncode}" if proc.returncode > 0 else f"signal {-proc.returncode}"
        detail = f"{self.display}: {how}" + (f": {tail}" if tail else "")
        raise RetryableError(describe(RuntimeError(detail), self.secrets).removeprefix("RuntimeError: "))

    async def aclose(self) -> None:
        return None


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
