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

With the websocket push (``core.nem.push``, wired by ``core.tasks.pushwake``) a node whose push
is *live* speaks for itself: its pushed ``/blocks/new`` height stands in for its REST answer
(``pushed``), so it is not asked over REST at each poll. The nodes without live push are polled
as above; a live node is asked over REST only when flagged (it just (re)connected, or its push
skipped heights), and one live node every ``safety_every`` seconds (the safety poll: a push
that stopped silently, heartbeats still coming, is seen within that time). A pushed height at
or below what the node said before is a rollback hint: every node is asked at the next poll.
A REST answer above a live node's pushed word means pushes were lost: every live node is asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from nemwatch.core.head import HeadDecision, NodeState

Answers = Mapping[str, int | BaseException]


def _height(answer: object) -> int | None:
    return answer if isinstance(answer, int) and not isinstance(answer, bool) else None


class HeightPoll:
    def __init__(
        self, source: Any, clock: Callable[[], datetime], full_every: float, safety_every: float = 60.0
    ) -> None:
        self._all: Callable[[], Awaitable[Answers]] = source.heights
        self._one: Callable[[str], Awaitable[int | BaseException]] | None = getattr(source, "height_of", None)
        self._clock = clock
        self.full_every = full_every
        self.safety_every = safety_every
        self.live: Callable[[str], bool] = lambda url: False  # is this node's push live (set by the push task)
        self._answers: dict[str, int | BaseException] | None = None
        self._full_at: datetime | None = None
        self._safety_at: datetime | None = None
        self._flagged: set[str] = set()  # nodes to ask over REST at the next poll
        self._last_pushed: dict[str, int] = {}  # the last height each node pushed
        self._pushed = False  # a pushed height changed an answer since the last poll
        self.primary: str | None = None
        self.requests = 0  # height requests sent, for the benchmark's accounting
        self.pushes = 0  # pushed heights taken as a node's answer

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

    # -- the push's word -------------------------------------------------------------------

    def flag(self, url: str) -> None:
        """Ask ``url`` over REST at the next poll (its push just (re)connected or went down)."""
        self._flagged.add(url)

    def pushed(self, url: str, height: int) -> bool:
        """``url`` pushed ``/blocks/new`` with ``height``; True when that is a rollback hint (at
        or below what the node said before: every node is asked at the next poll)."""
        last_pushed = self._last_pushed.get(url)
        self._last_pushed[url] = height
        if last_pushed is not None and height <= last_pushed:
            if self._answers is not None:
                self._flagged.update(self._answers)
            return True
        if self._answers is None or url not in self._answers:
            self._flagged.add(url)
            return False
        before = _height(self._answers.get(url))
        if before is not None and height <= before:
            # above what it pushed before but not above what it answered over REST: the push
            # came after a poll had already seen that block; nothing new, nothing rolled back
            return False
        if before is None or height != before + 1:
            self._flagged.add(url)  # blocks pushed in between were lost, or no word before: ask it too
        self._answers[url] = height
        self._pushed = True
        self.pushes += 1
        return False

    # -- one poll --------------------------------------------------------------------------

    async def poll(self, decision: HeadDecision | None) -> Answers | None:
        """Every node's answer, or None when nothing changed since the last decision (it
        stands; see the module docstring)."""
        primary = self.choose_primary(decision)
        now = self._clock()
        if self._one is None or self._answers is None:
            self._flagged.clear()
            self._pushed = False
            return await self._ask_all(now)
        nodes = list(self._answers)
        live = [u for u in nodes if self.live(u)]
        polled = [u for u in nodes if u not in live]
        due = self.full_every <= 0 or self._full_at is None or (now - self._full_at).total_seconds() >= self.full_every
        ask = [u for u in nodes if u in self._flagged]
        self._flagged.clear()
        if live and (self._safety_at is None or (now - self._safety_at).total_seconds() >= self.safety_every):
            self._safety_at = now
            ask.append(primary if primary in live else live[0])
        every_polled = due or primary not in polled
        ask += polled if every_polled else [primary]  # type: ignore[list-item]
        changed, self._pushed = self._pushed, False
        answers = dict(self._answers)
        missed = False
        asked = await self._ask(list(dict.fromkeys(ask)))
        for url, answer in asked.items():
            before = _height(answers.get(url))
            height = _height(answer)
            if height is None or height != before:
                changed = True
            if url in live and height is not None and before is not None and height > before:
                missed = True  # its push said less than its REST answer: pushes were lost
            answers[url] = answer
        if changed:  # something moved: hear every polled node (and every live one when pushes were lost)
            others = [u for u in nodes if u not in asked and (u in polled or missed)]
            answers.update(await self._ask(others))
            every_polled = True
        self._answers = answers
        if every_polled:
            self._full_at = now
        return answers if changed or (every_polled and polled) else None

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
        if not urls:
            return {}
        assert self._one is not None
        results = await asyncio.gather(*(self._one(url) for url in urls))
        self.requests += len(urls)
        answers = dict(zip(urls, results, strict=True))
        for url, answer in answers.items():
            height, pushed = _height(answer), self._last_pushed.get(url)
            if height is not None and pushed is not None and height < pushed:
                self._last_pushed[url] = height  # a pushed height its node does not serve: forgotten
        return answers


__all__ = ["HeightPoll"]
