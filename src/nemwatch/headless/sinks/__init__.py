"""Alert sinks, built from the ``[alerts] sinks`` config list.

=========================  ===============================================================
``stdout``                 one JSON line per alert on standard output
``journal``                the local JSONL journal, exactly once per alert (``journal_path``)
``webhook+https://...``    JSON POST with ``Idempotency-Key`` (see ``webhook``)
``command:/path args``     run a hook with the JSON line on stdin, no shell (see ``command``)
any other ``scheme://...``  an Apprise URL (``tgram://``, ``discord://``, ``json://``, ...)
=========================  ===============================================================

Naming: a sink's outbox name is its spec with secrets masked (``redact_sink``), e.g.
``webhook+https://hooks.example/<secret>``. A rotated token therefore keeps the name: pending
deliveries go to the new URL and delivered ones are not sent again. Two specs that differ only
in their secrets (two Discord webhooks) would share a name, so each of those gets a suffix
``#`` + the first 8 hex digits of the SHA-256 of its full spec; for them a token change starts
a new name (the alerts already delivered are not re-sent: only new alerts reach a new name).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from nemwatch.core.store import Store
from nemwatch.headless.sinks.apprise import AppriseSink
from nemwatch.headless.sinks.base import DeliveryError, PermanentError, RetryableError, Sink
from nemwatch.headless.sinks.command import CommandSink
from nemwatch.headless.sinks.journal import JournalSink
from nemwatch.headless.sinks.stdout import StdoutSink
from nemwatch.headless.sinks.webhook import WebhookSink
from nemwatch.redact import redact_sink


def sink_names(specs: Sequence[str]) -> dict[str, str]:
    """Each distinct spec's stable, secret-free outbox name (see the module doc)."""
    unique = list(dict.fromkeys(s.strip() for s in specs if s.strip()))
    redacted = {spec: redact_sink(spec) for spec in unique}
    clashes = Counter(redacted.values())
    names = {}
    for spec, shown in redacted.items():
        if clashes[shown] > 1:
            shown = f"{shown}#{hashlib.sha256(spec.encode()).hexdigest()[:8]}"
        names[spec] = shown
    return names


def build_sinks(
    specs: Sequence[str],
    *,
    store: Store,
    journal_path: str | Path,
    clock: Callable[[], datetime],
    stdout: TextIO | None = None,
    http_timeout: float = 10.0,
    command_timeout: float = 30.0,
    journal_memory_ids: int = 10_000,
) -> dict[str, Sink]:
    """Sinks by outbox name, in config order. Raises ``ValueError`` (with the redacted spec)
    for a spec no sink understands."""
    sinks: dict[str, Sink] = {}
    for spec, name in sink_names(specs).items():
        sink: Sink
        if spec == "stdout":
            sink = StdoutSink(stdout)
        elif spec == "journal":
            sink = JournalSink(journal_path, store, clock, memory_ids=journal_memory_ids)
        elif spec.startswith("command:"):
            sink = CommandSink(spec, name=name, timeout=command_timeout)
        elif spec.startswith("webhook+"):
            sink = WebhookSink(spec, name=name, timeout=http_timeout, clock=clock)
        elif "://" in spec:
            sink = AppriseSink(spec, name=name, timeout=max(http_timeout, 1.0) * 3)
        else:
            raise ValueError(f"unknown alert sink: {name}")
        sinks[name] = sink
    return sinks


__all__ = [
    "AppriseSink",
    "CommandSink",
    "DeliveryError",
    "JournalSink",
    "PermanentError",
    "RetryableError",
    "Sink",
    "StdoutSink",
    "WebhookSink",
    "build_sinks",
    "sink_names",
]
