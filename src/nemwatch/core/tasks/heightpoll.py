"""Poll ONE node for the chain height; ask the others only when its answer changes.

Asking every node every poll costs one request per node per poll: with three nodes and a
5 s poll, 36 requests a minute for a chain that makes one block a minute. The head decision
(``core.head``: the height a majority supports, lying and lagging nodes named) needs every
node's word only when there is something to decide, so:

- each poll asks the *primary* (a node that was ``ok`` at the head in the last decision; the
  same one while it stays so) for its height, one try, no waiting;
- when that answer equals what the primary said before, nothing changed: the last decision
  stands, and no other node is asked;
- when it differs (a new block, or a lie), or the primary failed, the other nodes are asked at
  once and the head is decided again from every node's answer (the primary's included), so
  the majority and lie protections of ``core.head`` and the two-node block agreement of
  ``core.agreement`` apply exactly as when every node is polled;
- every ``full_every`` seconds without such a change every node is asked anyway, so that a
  primary stuck at an old height (while the others moved on) or a node that went down is seen
  within that time. With one block a minute the head changes every minute, so the timer
  rarely fires.

A source without ``height_of`` (a test fake) or ``full_every <= 0`` means every node every
poll (``heights()``), the former behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from nemwatch.core.head import HeadDecision, NodeState

Answers = Mapping[str, int | BaseException]


class HeightPoll:
    def __init__(self, source: Any, clock: Callable[[], datetime], full_every: float) -> None:
        self._all: Callable[[], Awaitable[Answers]] = source.heights
        self._one: Callable[[str], Awaitable[int | BaseException]] | None = getattr(source, "height_of", None)
        self._clock = clock
        self.full_every = full_every
        self._answers: dict[str, int | BaseException] | None = None
        self._full_at: datetime | None = None
        self.primary: str | None = None
        self.requests = 0  # height requests sent, for the benchmark's accounting

    def choose_primary(self, decision: HeadDecision | None) -> str | None:
        """The node asked alone next: the current primary while it is ``ok`` at the head,
        else the first node that is."""
        if decision is None or decision.head is None:
            self.primary = None
            return None
        ok = [v.url for v in decision.verdicts if v.state is NodeState.OK and v.height == decision.head]
        if self.primary not in ok:
            self.primary = ok[0] if ok else None
        return self.primary

    async def poll(self, decision: HeadDecision | None) -> Answers | None:
        """Every node's answer, or None when the primary says what it said before (the last
        ``decision`` stands; see the module docstring)."""
        primary = self.choose_primary(decision)
        now = self._clock()
        due = self._full_at is None or (now - self._full_at).total_seconds() >= self.full_every
        if self._one is None or self.full_every <= 0 or primary is None or self._answers is None or due:
            return await self._ask_all(now)
        answer = await self._one(primary)
        self.requests += 1
        if isinstance(answer, int) and not isinstance(answer, bool) and answer == self._answers.get(primary):
            return None
        others = [url for url in self._answers if url != primary]
        fresh = await self._ask(others)
        answers = dict(self._answers)
        answers[primary] = answer
        answers.update(fresh)
        self._answers = answers
        self._full_at = now
        return answers

    async def _ask_all(self, now: datetime) -> Answers:
        if self._one is not None and self._answers is not None:
            answers = await self._ask(list(self._answers))
        else:
            answers = dict(await self._all())
            self.requests += len(answers)
        self._answers = dict(answers)
        self._full_at = now
        return answers

    async def _ask(self, urls: Sequence[str]) -> dict[str, int | BaseException]:
        assert self._one is not None
        results = await asyncio.gather(*(self._one(url) for url in urls))
        self.requests += len(urls)
        return dict(zip(urls, results, strict=True))


__all__ = ["HeightPoll"]
