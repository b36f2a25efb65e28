"""Pushed heights against REST answers (core/tasks/heightpoll.HeightPoll.pushed): a push that
arrives after a poll already saw its block is not a rollback; a height at or below the node's
last *pushed* one is; a pushed lie its node cannot back over REST is forgotten, so the node's
next honest pushes are not taken for rollbacks."""

from __future__ import annotations

from datetime import UTC, datetime

from nemwatch.core.tasks.heightpoll import HeightPoll

A, B, C = "http://a:7890", "http://b:7890", "http://c:7890"


class Nodes:
    def __init__(self, heights: dict[str, int]) -> None:
        self.heights_now = dict(heights)
        self.asked: list[str] = []

    async def heights(self) -> dict[str, int]:
        self.asked += list(self.heights_now)
        return dict(self.heights_now)

    async def height_of(self, url: str) -> int:
        self.asked.append(url)
        return self.heights_now[url]


def clock() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


async def started(nodes: Nodes) -> HeightPoll:
    poll = HeightPoll(nodes, clock, full_every=60)
    poll.live = lambda url: True
    await poll.poll(None)  # every node's first word over REST
    return poll


async def test_a_push_after_a_poll_saw_its_block_is_not_a_rollback() -> None:
    nodes = Nodes({A: 96, B: 96, C: 96})
    poll = await started(nodes)
    assert poll.pushed(A, 97) is False  # the normal case: the next block
    nodes.heights_now = {A: 98, B: 98, C: 98}
    await poll.poll(None)  # a REST poll saw 98 before the push of 98 came
    assert poll.pushed(A, 98) is False
    assert poll.pushed(A, 99) is False


async def test_a_height_at_or_below_the_last_pushed_is_a_rollback_hint_and_asks_every_node() -> None:
    nodes = Nodes({A: 96, B: 96, C: 96})
    poll = await started(nodes)
    assert poll.pushed(A, 97) is False
    assert poll.pushed(A, 98) is False
    nodes.asked.clear()
    assert poll.pushed(A, 97) is True  # NIS pushes the first height of a re-applied segment
    nodes.heights_now = {A: 98, B: 98, C: 98}
    await poll.poll(None)
    assert set(nodes.asked) == {A, B, C}


async def test_a_pushed_lie_is_forgotten_once_its_node_answers_lower_over_rest() -> None:
    nodes = Nodes({A: 96, B: 96, C: 96})
    poll = await started(nodes)
    assert poll.pushed(A, 2_000) is False  # a skip: the node is asked over REST at the next poll
    nodes.heights_now = {A: 97, B: 97, C: 97}
    await poll.poll(None)
    assert poll.pushed(A, 98) is False  # not "at or below 2,000": the lie was not kept
