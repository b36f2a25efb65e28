"""Head quorum, node episodes and fork search (pure logic, fake block reader)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nemwatch.core.follow import DeepRollbackError, RecentChain, find_ancestor
from nemwatch.core.head import HeadTracker, NodeState, quorum_head
from nemwatch.core.models import Block


def test_quorum_head_majority() -> None:
    assert quorum_head({"a": 100, "b": 100, "c": 1100}) == 100
    assert quorum_head({"a": 100, "b": 70, "c": 100}) == 100
    assert quorum_head({"a": 100}) == 100
    assert quorum_head({"a": 100, "b": 99}) == 99
    assert quorum_head({}) is None


def test_lagging_lying_down_classified() -> None:
    t = HeadTracker()
    d = t.decide({"a": 100, "b": 70, "c": 1100, "d": ConnectionError("refused")})
    states = {v.url: v.state for v in d.verdicts}
    assert d.head == 100
    assert states == {"a": NodeState.OK, "b": NodeState.LAGGING, "c": NodeState.LYING, "d": NodeState.DOWN}


def test_impossible_rollback_marks_node_lying() -> None:
    t = HeadTracker()
    t.decide({"a": 1000, "b": 1000, "c": 1000})
    d = t.decide({"a": 1001, "b": 1001, "c": 500})
    assert {v.url: v.state for v in d.verdicts}["c"] is NodeState.LYING
    assert d.head == 1001


def test_one_trouble_and_one_recovered_per_episode() -> None:
    t = HeadTracker(grace_polls=2)
    kinds: list[str] = []
    for i in range(20):
        answer: int | Exception = RuntimeError("503") if 3 <= i < 15 else 100 + i
        kinds += [tr.kind for tr in t.transitions(t.decide({"only": answer}))]
    assert kinds == ["trouble", "recovered"]
    # a single failed poll inside the grace is not an episode
    assert [tr.kind for tr in t.transitions(t.decide({"only": RuntimeError("x")}))] == []
    assert [tr.kind for tr in t.transitions(t.decide({"only": 200}))] == []


def _block(height: int, fork_at: int | None = None) -> Block:
    """Block ``height`` of the main chain, or of a fork that diverges from ``fork_at`` on."""

    def tag(h: int) -> str:
        return "x" if fork_at is not None and h >= fork_at else ""

    return Block(
        height=height,
        nem_timestamp=height * 60,
        timestamp=datetime(2018, 1, 25, tzinfo=UTC),
        signer_public_key="00" * 32,
        harvester="N" * 40,
        prev_block_hash=f"h{height - 1}{tag(height - 1)}",
        signature=f"s{height}{tag(height)}",
        version=1,
        type=1,
        transactions=(),
        hash=f"h{height}{tag(height)}",
    )


@pytest.mark.parametrize("depth", [1, 5, 20, 100, 359])
async def test_fork_search_finds_the_ancestor(depth: int) -> None:
    tip = 1000
    chain = RecentChain()
    for h in range(tip - 399, tip + 1):
        chain.add(_block(h))
    assert chain.linked is True
    fork_at = tip - depth + 1
    reads: list[int] = []

    async def read(h: int) -> Block:
        reads.append(h)
        return _block(h, fork_at)

    # the new chain's next block no longer links onto our stored tip
    assert chain.breaks_link(_block(tip + 1, fork_at))
    fork = await find_ancestor(chain, read, below=tip)
    assert fork.ancestor == tip - depth
    assert len(reads) <= 12


@pytest.mark.parametrize(("fork_at", "ancestor", "exact"), [(51, 50, True), (10, 50, False)])
async def test_fork_below_the_window_walks_back(fork_at: int, ancestor: int, exact: bool) -> None:
    """Fewer blocks kept than the fork is deep (right after a start): the oldest kept block's
    parent hash tells whether the fork starts right there; either way nothing processed is kept."""
    chain = RecentChain(window=50)
    for h in range(1, 101):
        chain.add(_block(h))
    reads: list[int] = []

    async def read(h: int) -> Block:
        reads.append(h)
        return _block(h, fork_at=fork_at)

    fork = await find_ancestor(chain, read, below=100)
    assert (fork.ancestor, fork.exact, fork.beyond_window, fork.old_tip) == (ancestor, exact, True, 100)
    assert reads == [51]


async def test_fork_deeper_than_nis_can_rewrite_is_refused() -> None:
    chain = RecentChain()  # 400 blocks kept: a fork below all of them is more than 360 deep
    for h in range(1, 401):
        chain.add(_block(h))

    async def read(h: int) -> Block:
        return _block(h, fork_at=1)

    with pytest.raises(DeepRollbackError, match="360"):
        await find_ancestor(chain, read, below=400)


def test_unlinked_chain_falls_back_to_rereads() -> None:
    chain = RecentChain()
    a = _block(10)
    b = Block(**{**{f: getattr(_block(11), f) for f in Block.__dataclass_fields__}, "prev_block_hash": "other"})
    chain.add(a)
    chain.add(b)
    assert chain.linked is False
    assert not chain.breaks_link(_block(12))
