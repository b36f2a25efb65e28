"""NEM network time: seconds since the nemesis epoch 2015-03-29 00:06:25 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NEM_EPOCH = datetime(2015, 3, 29, 0, 6, 25, tzinfo=UTC)
NEM_EPOCH_UNIX = 1427587585


def to_datetime(nem_seconds: int) -> datetime:
    return NEM_EPOCH + timedelta(seconds=nem_seconds)


def from_datetime(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("naive datetime: give a timezone")
    return int((when - NEM_EPOCH).total_seconds())
