"""An in-memory chain source for engine unit tests: blocks built from models, forks on demand."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from nemwatch.core.models import AccountInfo, Block, Transaction, Transfer

T0 = datetime(2018, 1, 25, 15, 0, tzinfo=UTC)


def h(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def transfer(sender: str, recipient: str, xem: int, *, tag: str = "", initiator: str | None = None, fee: int = 50_000) -> Transfer:
    identity = h("tx", sender, recipient, xem, tag)
    return Transfer(
        hash=h("outer", identity) if initiator else identity,
        inner_hash=identity if initiator else None,
        height=None,
        meta_id=None,
        sender=sender,
        sender_public_key="00" * 32,
        initiator=initiator,
        fee=fee,
        nem_timestamp=0,
        timestamp=T0,
        deadline=0,
        version=1,
        signature=None,
        recipient=recipient,
        amount=xem,
        xem=xem,
    )


@dataclass
class FakeChain:
    """Heights 1..tip; ``txs[height]`` are placed in that block. ``branch`` names the fork."""

    tip: int = 10
    txs: dict[int, list[Transfer]] = field(default_factory=dict)
    branch: dict[int, str] = field(default_factory=dict)  # height -> branch tag from there up
    nodes: tuple[str, ...] = ("http://127.0.0.1:1",)
    node_heights: dict[str, object] = field(default_factory=dict)
    pool: dict[str, list[Transfer]] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    history: dict[str, list[Transfer]] = field(default_factory=dict)
    reads: list[int] = field(default_factory=list)
    forgers: dict[str, list[Transfer]] = field(default_factory=dict)  # node -> transfers it invents

    def _tag(self, height: int) -> str:
        tag = ""
        for start, name in sorted(self.branch.items()):
            if height >= start:
                tag = name
        return tag

    def block(self, height: int) -> Block:
        when = T0 + timedelta(minutes=height)
        txs: tuple[Transaction, ...] = tuple(
            _at(t, height, when) for t in self.txs.get(height, []) if self._keeps(t, height)
        )
        return Block(
            height=height,
            nem_timestamp=height * 60,
            timestamp=when,
            signer_public_key="00" * 32,
            harvester="N" * 40,
            prev_block_hash=h("block", height - 1, self._tag(height - 1)),
            signature=h("sig", height, self._tag(height)),
            version=1,
            type=1,
            transactions=txs,
            hash=h("block", height, self._tag(height)),
        )

    def _keeps(self, t: Transfer, height: int) -> bool:
        return True

    async def heights(self) -> Mapping[str, int | BaseException]:
        out: dict[str, int | BaseException] = {}
        for url in self.nodes:
            v = self.node_heights.get(url, self.tip)
            out[url] = v if isinstance(v, (int, BaseException)) else self.tip
        return out

    async def block_at(self, height: int, *, node: str | None = None) -> Block:
        self.reads.append(height)
        if height > self.tip:
            raise LookupError(f"block not found in the db '{height}'")
        block = self.block(height)
        node = node or self.nodes[0]  # like a client without a pin: it asks its best node
        if node in self.forgers:  # a lying node: invented transfers, so the signature fails
            from dataclasses import replace

            invented = tuple(_at(t, height, block.timestamp) for t in self.forgers[node])
            return replace(block, transactions=block.transactions + invented, signed=False)
        return block

    async def unconfirmed(self, address: str) -> Sequence[Transaction]:
        return list(self.pool.get(address, []))

    async def chain_height(self, *, node: str | None = None) -> int:
        return self.tip

    async def account(self, address: str, *, node: str | None = None) -> AccountInfo:
        return AccountInfo(address, self.balances.get(address, 0), 0, 0.0, None, None, 0, None)

    async def transfers(
        self, address: str, direction: str = "all", *, page_size: int = 100, until_hash: str | None = None,
        max_pages: int | None = None,
    ) -> Sequence[Transaction]:
        return list(self.history.get(address, []))


def _at(t: Transfer, height: int, when: datetime) -> Transfer:
    from dataclasses import replace

    return replace(t, height=height, timestamp=when)
