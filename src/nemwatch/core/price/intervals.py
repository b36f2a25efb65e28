"""Half-open time intervals [start, end): merging, containment, covered length (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals; touching ones are joined; empty ones dropped."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def covered(intervals: Iterable[Interval], start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) the intervals cover."""
    total = timedelta(0)
    for a, b in merge(intervals):
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            total += hi - lo
    return total


def gaps(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) that the intervals leave uncovered."""
    out: list[Interval] = []
    cursor = start
    for a, b in merge(intervals):
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            out.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        out.append((cursor, end))
    return out
