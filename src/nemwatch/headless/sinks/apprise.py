"""Apprise URLs (``tgram://``, ``discord://``, ``ntfy://``, ``json://``, ``mailto://``, ...).

One ``Apprise`` object per URL, so each destination has its own outbox row and outcome
(Apprise reports one result for all the services an object holds). The body is plain text
(``NotifyFormat.TEXT``): the sanitized summary and the key fields, with chat mentions
(``@everyone``, ``@here``, ``<@id>``) broken by ``neutralize_mentions`` since a transfer
message is written by whoever sends the transfer. Any failure is retried (Apprise does not
say whether a failure is permanent); a URL Apprise cannot load is refused when the sink is
built. Apprise runs with ``secure_logging`` and its log records are scrubbed of the URL's
secrets (``nemwatch.headless.logscrub``).
"""

from __future__ import annotations

import asyncio

from apprise import Apprise, AppriseAsset, NotifyFormat, NotifyType

from nemwatch.core.alert import Alert, Severity
from nemwatch.core.models import format_xem
from nemwatch.core.text import neutralize_mentions, sanitize
from nemwatch.headless.logscrub import protect
from nemwatch.headless.sinks.base import RetryableError, describe
from nemwatch.redact import redact_url, secret_parts

DEFAULT_TIMEOUT = 30.0
_NOTIFY_TYPE = {
    Severity.INFO: NotifyType.INFO,
    Severity.WARNING: NotifyType.WARNING,
    Severity.CRITICAL: NotifyType.FAILURE,
}


def _who(address: str | None, label: str | None) -> str:
    if address is None:
        return ""
    return f"{address} ({label})" if label else address


def notification_text(alert: Alert) -> tuple[str, str]:
    """(title, body) of an alert as plain text, mentions neutralised."""
    title = f"nemwatch {alert.severity.value}: {alert.rule} {alert.stage.value}"
    lines = [alert.summary, ""]
    fields = [
        ("address", _who(alert.address, alert.label)),
        ("counterparty", _who(alert.counterparty, alert.counterparty_label)),
        ("amount", f"{format_xem(alert.amount)} XEM" if alert.amount is not None else ""),
        ("fee", f"{format_xem(alert.fee)} XEM" if alert.fee is not None else ""),
        ("mosaics", ", ".join(f"{m.id} {m.quantity}" for m in alert.mosaics)),
        ("tx", alert.tx_hash or ""),
        ("inner tx", alert.inner_hash or ""),
        ("height", str(alert.height) if alert.height is not None else ""),
        ("confirmations", str(alert.confirmations) if alert.confirmations is not None else ""),
        ("message", alert.message or ""),
        ("node", alert.node or ""),
        ("alert id", alert.alert_id),
    ]
    lines += [f"{key}: {value}" for key, value in fields if value]
    body = "\n".join(sanitize(line) for line in lines)
    return neutralize_mentions(sanitize(title)), neutralize_mentions(body)


class AppriseSink:
    def __init__(self, url: str, *, name: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.display = redact_url(url)
        self.name = name or self.display
        self.secrets = tuple(secret_parts(url))
        protect(self.secrets)
        self._timeout = timeout
        self._apprise = Apprise(asset=AppriseAsset(secure_logging=True))
        if not self._apprise.add(url):
            raise ValueError(f"apprise cannot use the URL {self.display}")

    async def send(self, alert: Alert) -> None:
        title, body = notification_text(alert)
        try:
            async with asyncio.timeout(self._timeout + 5.0):
                result = await self._apprise.async_notify(
                    body=body,
                    title=title,
                    body_format=NotifyFormat.TEXT,
                    notify_type=_NOTIFY_TYPE[alert.severity],
                    timeout=self._timeout,
                )
        except TimeoutError:
            raise RetryableError(f"{self.display}: timed out after {self._timeout:g} s") from None
        except Exception as exc:  # Apprise catches its plugins' errors; this is a last guard
            raise RetryableError(f"{self.display}: {describe(exc, self.secrets)}") from None
        if not result:
            status = getattr(getattr(result, "status", None), "name", "failed")
            raise RetryableError(f"{self.display}: notification {str(status).lower()}")

    async def aclose(self) -> None:
        return None
