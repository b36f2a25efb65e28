"""No single node decides what a block holds.

A node can sign a block it made up with its own harvester key: the harvester signature proves
only that the block is what *someone* signed. So when two or more nodes are healthy a block is
committed only when a second node serves the same block (same hash). Reading a height:

1. the first two healthy nodes are asked at once; the same block from both (and a harvester
   signature that verifies, and no matched transaction whose own signature fails) is the
   usual case and costs two requests;
2. otherwise every healthy node is asked, the answers are grouped by block, and the block held
   by at least two nodes and by more nodes than any other is chosen; every node serving
   something else is a *dissenter* (a ``node`` alert names it);
3. with no such block (a one-to-one split, or only one node could serve it) nothing is
   committed at that height this cycle; the follower stops there and reads it again. One
   exception: when the only other blocks served are provably invalid (a harvester or
   transaction signature fails), the one valid block is taken, so that a node serving garbage
   cannot stop the follower.

Whatever is chosen, every version read is searched for the transactions that match the watch
set: those whose own signatures verify (``core.nem.verify``) and that the chosen block does
not hold are *extra*: the engine alerts on them as ``unconfirmed`` (really signed by their
sender, not agreed on the chain) and the chain's later blocks confirm or expire them. A
transaction whose signature fails is never alerted on, and a block holding one is not
eligible: NIS would never have accepted it.

With one healthy node only, its block is taken on its word: the harvester signature and the
own signature of every matched transaction are checked, which stops an invented transfer but
not a hidden one.

Pure logic over an injected ``fetch``; no store, no clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import Block, Network, Transaction
from nemwatch.core.nem import verify
from nemwatch.core.nem.errors import NotFound
from nemwatch.core.nem.txhash import keccak256
from nemwatch.core.text import sanitize
from nemwatch.redact import redact_url

log = logging.getLogger("nemwatch.agreement")

Fetch = Callable[[int, str], Awaitable[Block]]
Matcher = Callable[[Iterable[Transaction]], list[Transaction]]

NODE = "node"  # the rule name of node alerts (``core.rules.NODE``)


class BlockUnavailable(RuntimeError):
    """No block can be committed at this height this cycle (the follower stops below it)."""

    def __init__(self, height: int, reason: str, *, unserved: Sequence[str] = ()) -> None:
        super().__init__(f"block {height}: {reason}")
        self.height = height
        self.unserved = tuple(unserved)


@dataclass(frozen=True, slots=True)
class Version:
    """One block some nodes serve at a height."""

    key: str  # the block hash, or a digest of signature and transactions when it is unknown
    block: Block
    nodes: tuple[str, ...]
    matched: tuple[Transaction, ...]  # the watch set's transactions, signatures checked
    eligible: bool  # harvester signature not refused, no matched transaction failing its own
    reason: str  # why not eligible ("" when eligible)


@dataclass(frozen=True, slots=True)
class Reading:
    height: int
    chosen: Version | None
    versions: tuple[Version, ...]
    agreed: bool  # the chosen block is served by at least two nodes
    dissenters: tuple[tuple[str, str], ...]  # (node, what it served)
    unserved: tuple[str, ...]  # nodes that answered "no such block"
    failed: tuple[tuple[str, str], ...]  # (node, error)
    extra: tuple[Transaction, ...]  # verified matched transactions the chosen block lacks

    @property
    def block(self) -> Block | None:
        """The chosen block with its matched transactions' signature checks filled in."""
        if self.chosen is None:
            return None
        block = self.chosen.block
        by_identity = {tx.identity: tx for tx in self.chosen.matched}
        if not by_identity:
            return block
        txs = tuple(by_identity.get(tx.identity, tx) for tx in block.transactions)
        return replace(block, transactions=txs)


def version_key(block: Block) -> str:
    """What two nodes must agree on: the block hash, or (when a transaction could not be
    serialized, so the hash is unknown) the harvester, signature and transaction hashes."""
    if block.hash is not None:
        return block.hash
    parts = [block.signer_public_key, block.signature, *(tx.hash for tx in block.transactions)]
    return "sig:" + keccak256("|".join(parts).encode("ascii")).hex()


def _version(key: str, block: Block, nodes: tuple[str, ...], match: Matcher, network: Network) -> Version:
    matched = tuple(verify.check(tx, network) for tx in match(block.transactions))
    if block.signed is False:
        reason = "its harvester's signature does not verify"
    elif any(tx.signature_valid is False for tx in matched):
        reason = "it holds a transaction whose own signature does not verify"
    else:
        reason = ""
    return Version(key, block, nodes, matched, not reason, reason)


async def _ask(fetch: Fetch, height: int, node: str) -> Block | BaseException:
    try:
        return await fetch(height, node)
    except asyncio.CancelledError:
        raise
    except Exception as err:  # one node's failure is an answer, not the end of the reading
        return err


def _tally(
    answers: dict[str, Block | BaseException], match: Matcher, network: Network
) -> tuple[list[Version], list[str], list[tuple[str, str]]]:
    grouped: dict[str, list[str]] = {}
    blocks: dict[str, Block] = {}
    unserved: list[str] = []
    failed: list[tuple[str, str]] = []
    for node, answer in answers.items():
        if isinstance(answer, NotFound):
            unserved.append(node)
        elif isinstance(answer, BaseException):
            failed.append((node, f"{type(answer).__name__}: {answer}"[:200]))
        else:
            key = version_key(answer) + ("/refused" if answer.signed is False else "")
            grouped.setdefault(key, []).append(node)
            blocks.setdefault(key, answer)
    versions = [_version(k, blocks[k], tuple(nodes), match, network) for k, nodes in grouped.items()]
    return versions, unserved, failed


def _choose(versions: Sequence[Version], several: bool) -> Version | None:
    eligible = sorted((v for v in versions if v.eligible), key=lambda v: len(v.nodes), reverse=True)
    if not eligible:
        return None
    best = eligible[0]
    if not several:
        return best  # one healthy node: its word, checked
    if len(eligible) > 1:
        return best if len(best.nodes) >= 2 and len(eligible[1].nodes) < len(best.nodes) else None
    if len(best.nodes) >= 2:
        return best
    # Alone, but every other block served is provably not what NIS accepted: a node serving
    # invalid blocks would otherwise stop the follower for good. (A node that has no block or
    # did not answer yet may agree next cycle: then we wait.)
    return best if any(not v.eligible for v in versions) else None


async def read_block(
    height: int,
    nodes: Sequence[str],
    fetch: Fetch,
    match: Matcher,
    network: Network = Network.MAINNET,
) -> Reading:
    """Read ``height`` from the healthy ``nodes`` (see the module docstring)."""
    if not nodes:
        raise ValueError("no healthy node to read from")
    first = list(nodes[:2])
    answers = dict(zip(first, await asyncio.gather(*(_ask(fetch, height, n) for n in first)), strict=True))
    versions, _, _ = _tally(answers, match, network)
    fast = len(versions) == 1 and versions[0].eligible and len(versions[0].nodes) == len(first)
    if not fast and len(nodes) > 2:
        rest = list(nodes[2:])
        answers.update(zip(rest, await asyncio.gather(*(_ask(fetch, height, n) for n in rest)), strict=True))
    return judge(height, answers, match, network, several=len(nodes) >= 2)


def judge(
    height: int,
    answers: dict[str, Block | BaseException],
    match: Matcher,
    network: Network = Network.MAINNET,
    *,
    several: bool,
) -> Reading:
    """The reading of the nodes' ``answers`` at ``height`` (a block, or the error each gave).
    ``several``: two or more nodes are healthy, so one node's word is not enough."""
    versions, unserved, failed = _tally(answers, match, network)
    chosen = _choose(versions, several)
    dissenters: list[tuple[str, str]] = []
    if len(versions) > 1 or (versions and not versions[0].eligible):
        for v in versions:
            if chosen is not None and v.key == chosen.key:
                continue
            what = f"block {_short(v.key)}" + (f", {v.reason}" if v.reason else "")
            dissenters.extend((node, what) for node in v.nodes)
    have = {tx.identity for tx in chosen.matched} if chosen is not None else set()
    extra: dict[str, Transaction] = {}
    for v in versions:
        if chosen is not None and v.key == chosen.key:
            continue
        for tx in v.matched:
            if tx.signature_valid is True and tx.identity not in have:
                extra.setdefault(tx.identity, tx)
    return Reading(
        height=height,
        chosen=chosen,
        versions=tuple(versions),
        agreed=chosen is not None and len(chosen.nodes) >= 2,
        dissenters=tuple(dissenters),
        unserved=tuple(unserved),
        failed=tuple(failed),
        extra=tuple(extra.values()),
    )


def _short(key: str) -> str:
    return key[:16] if not key.startswith("sig:") else key[:20]


def dissent_alerts(reading: Reading, *, network: str, now: datetime) -> list[Alert]:
    """One ``node`` alert per dissenting node at this height (stage ``firing``; a dissent is an
    event, it has no ``resolved``). Its id is stable for (node, height, block served), so
    reading the same split again next cycle raises nothing new."""
    out: list[Alert] = []
    chosen = reading.chosen
    for node, what in reading.dissenters:
        shown = redact_url(node)
        detail = sanitize(what, max_len=200)
        served = next((v for v in reading.versions if node in v.nodes), None)
        if served is not None and not served.eligible:
            summary = (
                f"NODE DISSENT {shown}: block {reading.height} it serves is not valid ({detail}); "
                "it is not believed"
            )
        elif chosen is not None:
            others = len(chosen.nodes)
            summary = (
                f"NODE DISSENT {shown}: block {reading.height} it serves ({detail}) differs from the "
                f"block {_short(chosen.key)} that {others} other node(s) serve; its version is not believed"
            )
        else:
            summary = (
                f"NODE DISSENT {shown}: nodes disagree on block {reading.height} ({detail}); "
                "nothing is committed at that height until two nodes agree"
            )
        key = served.key if served is not None else ""
        out.append(
            Alert(
                alert_id=make_alert_id(network, NODE, f"{node}@{reading.height}:{key}", Stage.FIRING),
                rule=NODE,
                stage=Stage.FIRING,
                severity=Severity.WARNING,
                detected_at=now,
                summary=summary,
                node=shown,
                height=reading.height,
                extra=(("kind", "dissent"), ("detail", detail)),
            )
        )
    return out


__all__ = [
    "BlockUnavailable",
    "Reading",
    "Version",
    "dissent_alerts",
    "judge",
    "read_block",
    "version_key",
]
