"""``[retention]``: how long the state database keeps transfers, alerts and outbox rows.

Each value is a number of days; 0 keeps that kind forever. What is still needed is never
removed whatever the values (see ``nemwatch.core.store.retention``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt, field_validator

from nemwatch.config.fields import MODEL_CONFIG
from nemwatch.core.store.retention import MIN_RETENTION, RetentionPolicy

MIN_DAYS = MIN_RETENTION.days


def _days_or_forever(value: int, what: str) -> int:
    if value != 0 and value < MIN_DAYS:
        raise ValueError(f"keep {what} at least {MIN_DAYS} days (or 0: forever)")
    return value


class RetentionConfig(BaseModel):
    """``[retention]``, in days (0: forever)."""

    model_config = MODEL_CONFIG

    transfers_days: StrictInt = Field(90, ge=0)
    alerts_days: StrictInt = Field(90, ge=0)
    delivered_days: StrictInt = Field(7, ge=0)
    dead_letter_days: StrictInt = Field(90, ge=0)
    prune_every_minutes: StrictInt = Field(60, gt=0)
    journal_ids_in_memory: StrictInt = Field(10_000, gt=0)

    @field_validator("transfers_days", "alerts_days", "dead_letter_days")
    @classmethod
    def _long_enough(cls, value: int, info: object) -> int:
        name = getattr(info, "field_name", "this") or "this"
        return _days_or_forever(value, name.removesuffix("_days").replace("_", " "))

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy.from_days(
            transfers_days=self.transfers_days,
            alerts_days=self.alerts_days,
            delivered_days=self.delivered_days,
            dead_letter_days=self.dead_letter_days,
            prune_every_minutes=self.prune_every_minutes,
        )
