"""Keep sink secrets out of log records, including those of the HTTP libraries.

httpx logs every request's full URL at INFO, urllib3 (used by Apprise) logs request paths at
DEBUG and Apprise its URLs at DEBUG: a webhook token would end up in the daemon's log. Each
sink registers its secret substrings with ``protect``; a filter on those libraries' loggers
(and on nemwatch's delivery loggers) masks them in every record's message and traceback.
A filter only sees records logged to its own logger, so the exact logger names are listed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from nemwatch.redact import scrub

LOGGERS = (
    "apprise",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "urllib3.connectionpool",
    "nemwatch.delivery",
    "nemwatch.sinks",
)


class SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets = self._secrets | {s for s in secrets if s}

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets
        if not secrets:
            return True
        message = record.getMessage()
        clean = scrub(message, secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = scrub(text, secrets), None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text, secrets)
        return True


FILTER = SecretFilter()
_installed = False


def protect(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in the records of every logger in ``LOGGERS`` from now on."""
    global _installed
    FILTER.add(secrets)
    if not _installed:
        for name in LOGGERS:
            logging.getLogger(name).addFilter(FILTER)
        _installed = True
