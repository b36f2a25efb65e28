"""``[alerts]``: where alerts go (sinks), and which of them are worth sending."""

from __future__ import annotations

import difflib
import logging
import re
import shlex
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictInt, StrictStr, field_validator

from nemwatch.config.fields import (
    MODEL_CONFIG,
    Count,
    LocalPath,
    check_http_url,
    reject_repeats,
)
from nemwatch.core.alert import Severity
from nemwatch.redact import redact_sink

_APPRISE_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://\S")
SINK_FORMS = (
    "'stdout', 'journal', 'command:PROGRAM ARGS', 'webhook+https://...' "
    "or a notification URL such as 'discord://...'"
)


@lru_cache(maxsize=1)
def apprise_schemes() -> frozenset[str]:
    """The URL schemes the installed apprise knows (empty when apprise cannot be loaded)."""
    logger = logging.getLogger("apprise")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # plugin loading must not print on our stderr
    try:
        from apprise.manager_plugins import NotificationManager

        return frozenset(s.lower() for s in NotificationManager().schemas())
    except Exception:  # noqa: BLE001 - an apprise without this API just skips the check
        return frozenset()
    finally:
        logger.setLevel(level)


def check_sink(sink: str) -> str:
    """Validate one sink string; the error never repeats it (it may hold a token)."""
    text = sink.strip()
    if text in ("stdout", "journal"):
        return text
    if text.startswith("command:"):
        command = text[len("command:") :].strip()
        try:
            argv = shlex.split(command)
        except ValueError:
            raise ValueError("command sink has unbalanced quotes") from None
        if not argv:
            raise ValueError("command sink needs a program, e.g. command:/usr/local/bin/hook")
        return "command:" + command
    if text.startswith("webhook+"):
        check_http_url(text[len("webhook+") :], "webhook URL", allow_secrets=True)
        return text
    match = _APPRISE_URL.match(text)
    if not match:
        raise ValueError(f"not a sink: expected {SINK_FORMS}")
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        raise ValueError(
            "a bare http(s) URL is ambiguous: write webhook+https://... for a JSON POST, "
            "or the service's notification URL (e.g. discord://...)"
        )
    known = apprise_schemes()
    if known and scheme not in known:
        close = difflib.get_close_matches(scheme, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}://'?)" if close else ""
        raise ValueError(f"unknown notification service '{scheme}://'{hint}")
    return text


Sink = Annotated[StrictStr, AfterValidator(check_sink)]


class AlertsConfig(BaseModel):
    """Alert delivery (``[alerts]``).

    ``sinks`` hold secrets (tokens in URLs): show them only through ``redacted()``; ``repr`` of
    this model masks them too. ``settled_confirmations`` defaults to
    ``network.confirmations_settled``; ``journal_path`` defaults to the state directory.
    """

    model_config = MODEL_CONFIG

    sinks: tuple[Sink, ...] = ("stdout",)
    journal_path: LocalPath | None = None
    settled_confirmations: Count = 20
    min_severity: Severity = Severity.INFO
    # ``stalled`` (critical, to every sink): this many failed cycles in a row, or the cursor more
    # than this many blocks behind the head without catching up
    stalled_failed_cycles: Annotated[StrictInt, Field(ge=1)] = 3
    stalled_behind_blocks: Annotated[StrictInt, Field(ge=1)] = 5

    @field_validator("sinks")
    @classmethod
    def _sinks_distinct(cls, sinks: tuple[str, ...]) -> tuple[str, ...]:
        reject_repeats(sinks, lambda s: s, "same sink as sinks[{}]")
        return sinks

    def redacted(self) -> AlertsConfig:
        """A copy whose sinks have their secrets masked (for display only; do not deliver to it)."""
        return self.model_copy(update={"sinks": tuple(redact_sink(s) for s in self.sinks)})

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, (tuple(redact_sink(s) for s in value) if name == "sinks" else value)
