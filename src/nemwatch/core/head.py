"""Chain head from several nodes, and node-trouble episodes (pure logic, no I/O).

The head is the best height that a majority of the nodes that answered supports: the largest
``H`` such that at least ``len(answered) // 2 + 1`` nodes report a height ``>= H``. One node's
word alone never moves the head when others disagree. Against that head each node is:

- ``ok``: within ``lag_blocks`` of the head;
- ``lagging``: more than ``lag_blocks`` behind;
- ``lying``: more than ``lie_blocks`` ahead of the head, or reporting a height more than
  ``rewrite_limit`` below one it reported before (NIS cannot rewrite deeper than 360 blocks);
- ``down``: it did not answer (error, timeout, 5xx, malformed reply).

A node that reported a height but could not serve a block at or below it (``refuse``) is
``lying`` while it still reports that height or more, and counts for the head only up to the
block below the one it could not serve: heights no node can serve are the node's trouble, not
the chain's (a node that claims +1000 for a few seconds must neither blind the follower nor
inflate confirmations, nor make its later, true height look like an impossible rewrite).

Node trouble is tracked in episodes: one ``trouble`` transition when a node leaves ``ok`` (after
``grace_polls`` consecutive bad polls, so one slow answer is not an alert) and one
``recovered`` transition when it is ``ok`` again; nothing in between, whatever the number of
polls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class NodeState(str, Enum):
    OK = "ok"
    LAGGING = "lagging"
    LYING = "lying"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class NodeVerdict:
    url: str
    state: NodeState
    height: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class HeadDecision:
    head: int | None  # None when no quorum could be formed
    verdicts: tuple[NodeVerdict, ...]

    @property
    def healthy(self) -> tuple[str, ...]:
        return tuple(v.url for v in self.verdicts if v.state is NodeState.OK)


@dataclass(frozen=True, slots=True)
class Transition:
    url: str
    kind: str  # "trouble" | "recovered"
    state: NodeState
    detail: str
    episode: int


def quorum_head(heights: Mapping[str, int]) -> int | None:
    """The largest height a majority of the answering nodes reaches."""
    if not heights:
        return None
    ordered = sorted(heights.values(), reverse=True)
    need = len(ordered) // 2 + 1
    return ordered[need - 1]


@dataclass
class HeadTracker:
    lag_blocks: int = 2
    lie_blocks: int = 30
    rewrite_limit: int = 360
    grace_polls: int = 2
    _best_seen: dict[str, int] = field(default_factory=dict)
    _bad_streak: dict[str, int] = field(default_factory=dict)
    _in_trouble: dict[str, NodeState] = field(default_factory=dict)
    _episodes: dict[str, int] = field(default_factory=dict)
    _refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, url: str, height: int) -> None:
        """``url`` reported at least ``height`` but answered that it has no block there."""
        self._refused[url] = min(height, self._refused.get(url, height))
        if url in self._best_seen:
            self._best_seen[url] = min(self._best_seen[url], height - 1)

    def served(self, url: str, height: int) -> None:
        """``url`` served the block at ``height``: a refusal at or below it is over (the head
        it reports is then probed again before it is believed)."""
        if self._refused.get(url, height + 1) <= height:
            del self._refused[url]

    @property
    def refused(self) -> dict[str, int]:
        """Node -> the lowest height it reported but could not serve (while it still does)."""
        return dict(self._refused)

    def decide(self, answers: Mapping[str, int | BaseException | str]) -> HeadDecision:
        """Classify every node from one poll of heights (an int, or the error it gave)."""
        heights = {url: h for url, h in answers.items() if isinstance(h, int) and not isinstance(h, bool)}
        for url in [u for u, r in self._refused.items() if u not in heights or heights[u] < r]:
            del self._refused[url]  # it no longer claims what it could not serve
        refused = {u: r for u, r in self._refused.items() if u in heights}
        # A node that fell far below what it reported before rewrote history deeper than NIS can.
        impossible = {
            url
            for url, h in heights.items()
            if url in self._best_seen and h < self._best_seen[url] - self.rewrite_limit
        }
        candidates = {u: min(h, refused[u] - 1) if u in refused else h for u, h in heights.items() if u not in impossible}
        head = quorum_head(candidates)
        verdicts: list[NodeVerdict] = []
        for url, answer in answers.items():
            if url in impossible:
                verdicts.append(
                    NodeVerdict(url, NodeState.LYING, heights[url], f"height fell from {self._best_seen[url]} to {heights[url]}")
                )
            elif not (isinstance(answer, int) and not isinstance(answer, bool)):
                verdicts.append(NodeVerdict(url, NodeState.DOWN, None, _describe(answer)))
            elif url in refused:
                verdicts.append(
                    NodeVerdict(url, NodeState.LYING, answer, f"reports height {answer} but has no block {refused[url]}")
                )
            elif head is not None and answer > head + self.lie_blocks:
                verdicts.append(NodeVerdict(url, NodeState.LYING, answer, f"height {answer} is {answer - head} ahead of the others"))
            elif head is not None and answer < head - self.lag_blocks:
                verdicts.append(NodeVerdict(url, NodeState.LAGGING, answer, f"height {answer} is {head - answer} blocks behind"))
            else:
                verdicts.append(NodeVerdict(url, NodeState.OK, answer, "ok"))
        for url, h in candidates.items():
            if head is None or h <= head + self.lie_blocks:
                self._best_seen[url] = max(h, self._best_seen.get(url, h))
        return HeadDecision(head, tuple(verdicts))

    def transitions(self, decision: HeadDecision) -> list[Transition]:
        """Episode changes caused by one decision: at most one per node per episode edge."""
        out: list[Transition] = []
        for v in decision.verdicts:
            if v.state is NodeState.OK:
                self._bad_streak[v.url] = 0
                if v.url in self._in_trouble:
                    self._in_trouble.pop(v.url)
                    out.append(Transition(v.url, "recovered", v.state, v.detail, self._episodes[v.url]))
                continue
            streak = self._bad_streak.get(v.url, 0) + 1
            self._bad_streak[v.url] = streak
            if v.url not in self._in_trouble and streak >= self.grace_polls:
                self._in_trouble[v.url] = v.state
                self._episodes[v.url] = self._episodes.get(v.url, 0) + 1
                out.append(Transition(v.url, "trouble", v.state, v.detail, self._episodes[v.url]))
        return out

    def restore(self, url: str, episode: int, in_trouble: bool, state: NodeState = NodeState.DOWN) -> None:
        """Resume episode numbering after a restart so alert ids stay distinct and stable."""
        self._episodes[url] = episode
        if in_trouble:
            self._in_trouble[url] = state


def _describe(answer: object) -> str:
    if isinstance(answer, BaseException):
        detail = getattr(answer, "detail", None)  # a node failure's own words: the cause, no class name
        if isinstance(detail, str) and detail:
            return detail[:200]
        text = str(answer) or type(answer).__name__
        return f"{type(answer).__name__}: {text}"[:200]
    return str(answer)[:200]
