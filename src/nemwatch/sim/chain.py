"""The simulated NIS1 chain: blocks produced lazily up to the clock's "now", and rollbacks.

Block ``h`` has the time stamp ``start + (h - start_height) x block_interval``; it is made the
first time anything asks about the chain at or after that time (``sync``), empty or not, so no
background thread is needed. A block takes the transactions that became complete before its
time stamp, in order, at most ``max_block_transactions``; one whose sender cannot pay waits
(until its deadline), an expired one is dropped. Harvesters take turns and receive the fees.

Each block is signed by its harvester over the NIS binary form
(``nemwatch.core.nem.txhash.block_signing_bytes``) and block ``h+1`` carries the hash of block
``h`` as ``prevBlockHash``, exactly as NIS chains them. The sealing function is injectable.

``rollback`` rewrites the last ``depth`` blocks (new harvesters and time stamps, hence new
signatures and hashes) and decides what happens to their transactions: dropped, re-included
``reinclude_delay`` blocks later, or replaced by a conflicting transaction (same sender and
amount, another recipient). NIS refuses forks deeper than 360 blocks; the simulator allows
them, so that a client's refusal can be tested.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from nemwatch.core.models import Network
from nemwatch.core.nem import nemtime, txhash
from nemwatch.sim.clock import SimClock
from nemwatch.sim.keys import SimKey, sim_key
from nemwatch.sim.ledger import Included, Ledger
from nemwatch.sim.plan import CompiledScenario, PlannedTx
from nemwatch.sim.scenario import TransferSpec
from nemwatch.sim.txbuild import entity_version

RollbackMode = Literal["drop", "reinclude", "replace"]
BlockSealer = Callable[[dict[str, Any], Network, Sequence[bytes], SimKey], tuple[str, str]]

MAX_UNCONFIRMED = 25
POOL_LOOKAHEAD = 3600  # seconds: a multisig waits at most this long for its cosignatures


def seal_block(block: dict[str, Any], network: Network, signed: Sequence[bytes], harvester: SimKey) -> tuple[str, str]:
    """(signature, hash) of a block, both lowercase hex, as NIS computes them."""
    payload = txhash.block_signing_bytes(block, network, signed_transactions=signed)
    signature = harvester.key_pair.sign(payload).bytes.hex()
    return signature, txhash.keccak256(payload).hex()


@dataclass(slots=True)
class SimBlock:
    height: int
    timestamp: int
    harvester: SimKey
    prev_hash: str
    signature: str
    hash: str
    txs: list[Included]
    version: int

    @property
    def fees(self) -> int:
        return sum(e.tx.fee for e in self.txs)

    def to_json(self) -> dict[str, Any]:
        return {
            "timeStamp": self.timestamp,
            "signature": self.signature,
            "prevBlockHash": {"data": self.prev_hash},
            "type": 1,
            "transactions": [e.tx.built.json for e in self.txs],
            "version": self.version,
            "signer": self.harvester.public_key,
            "height": self.height,
        }


@dataclass
class RollbackReport:
    ancestor: int  # the last height both chains share
    old_tip: int
    new_tip: int
    old_block_hashes: dict[int, str]
    new_block_hashes: dict[int, str]
    dropped: list[str] = field(default_factory=list)  # tx hashes gone for good
    moved: dict[str, int | None] = field(default_factory=dict)  # hash -> new height (None: pending)
    replaced: dict[str, str] = field(default_factory=dict)  # old hash -> replacement hash
    kept: dict[str, int] = field(default_factory=dict)  # unaffected hash -> height (new id)


class Chain:
    """One simulated chain; every node of a cluster can share it (or get its own copy)."""

    def __init__(
        self,
        compiled: CompiledScenario,
        clock: SimClock,
        *,
        sealer: BlockSealer = seal_block,
        block_interval: int | None = None,
    ) -> None:
        scenario = compiled.scenario
        self.compiled = compiled
        self.network = compiled.network
        self.clock = clock
        self.sealer = sealer
        self.interval = block_interval if block_interval is not None else scenario.block_interval
        self.capacity = scenario.max_block_transactions
        self.start_height = scenario.start_height
        self.start_ts = nemtime.from_datetime(scenario.start)
        self.lock = threading.RLock()
        self.ledger = Ledger(compiled)
        self.blocks: list[SimBlock] = []
        self.rejected: list[tuple[PlannedTx, str]] = []
        self.forks = 0
        self._sched = compiled.txs
        self._ptr = 0
        self._seq = len(compiled.txs)
        self._heap: list[tuple[int, int, PlannedTx]] = []  # waiting: (ready, seq, tx)
        self._deferred: list[tuple[int, int, int, PlannedTx]] = []  # (min height, ready, seq, tx)
        self._version = entity_version(self.network, 1)
        genesis_prev = hashlib.sha256(f"{scenario.seed}/before-start".encode()).hexdigest()
        self._append_block(self.start_height, self.start_ts, genesis_prev, [], self._harvester(self.start_height))

    # --- time ---------------------------------------------------------------------------

    def block_time(self, height: int) -> int:
        return self.start_ts + (height - self.start_height) * self.interval

    def now_ts(self) -> int:
        return nemtime.from_datetime(self.clock.now())

    @property
    def height(self) -> int:
        return self.blocks[-1].height

    def sync(self) -> int:
        """Produce every block due by the clock's now; return the height."""
        with self.lock:
            now = self.now_ts()
            while self.block_time(self.height + 1) <= now:
                self._mine(self.height + 1)
            return self.height

    def advance(self, seconds: float) -> int:
        self.clock.advance(seconds)
        return self.sync()

    def advance_to(self, when: datetime) -> int:
        self.clock.advance_to(when)
        return self.sync()

    def mine_until(self, height: int) -> int:
        """Move the clock to the time of block ``height`` and produce blocks up to it."""
        self.clock.advance_to(nemtime.to_datetime(self.block_time(height)))
        return self.sync()

    # --- blocks -------------------------------------------------------------------------

    def block(self, height: int) -> SimBlock | None:
        index = height - self.start_height
        if 0 <= index < len(self.blocks):
            return self.blocks[index]
        return None

    def _harvester(self, height: int, shift: int = 0) -> SimKey:
        keys = self.compiled.harvesters
        if not keys:
            return sim_key(self.compiled.scenario.seed, "harvester", self.network)
        return keys[(height + shift) % len(keys)]

    def _append_block(
        self, height: int, timestamp: int, prev_hash: str, txs: list[PlannedTx], harvester: SimKey
    ) -> SimBlock:
        entries = [self.ledger.apply(tx, height) for tx in txs]
        block = SimBlock(height, timestamp, harvester, prev_hash, "", "", entries, self._version)
        signed = [e.tx.built.signed_bytes for e in entries]
        block.signature, block.hash = self.sealer(block.to_json(), self.network, signed, harvester)
        fees = block.fees
        if fees:
            self.ledger.credit_harvest(harvester.address, height, fees)
        self.blocks.append(block)
        return block

    def _mine(self, height: int, *, timestamp: int | None = None, harvester: SimKey | None = None,
              first: Iterable[PlannedTx] = ()) -> SimBlock:
        ts = self.block_time(height) if timestamp is None else timestamp
        self._release_deferred(height)
        chosen: list[PlannedTx] = []
        waiting: list[PlannedTx] = []
        balances_probe = _Probe(self.ledger)
        for tx in first:
            self._consider(tx, ts, chosen, waiting, balances_probe)
        while len(chosen) < self.capacity:
            tx = self._pop_ready(ts)
            if tx is None:
                break
            self._consider(tx, ts, chosen, waiting, balances_probe)
        for tx in waiting:
            heapq.heappush(self._heap, (tx.ready, tx.seq, tx))
        prev = self.blocks[-1].hash
        return self._append_block(height, ts, prev, chosen, harvester or self._harvester(height))

    def _consider(self, tx: PlannedTx, ts: int, chosen: list[PlannedTx], waiting: list[PlannedTx],
                  probe: _Probe) -> None:
        if ts > tx.deadline:
            self.rejected.append((tx, "expired"))
        elif len(chosen) >= self.capacity or not probe.take(tx):
            waiting.append(tx)
        else:
            chosen.append(tx)

    def _pop_ready(self, ts: int) -> PlannedTx | None:
        """The next complete transaction (ready before ``ts``) in (ready, seq) order."""
        sched = self._sched[self._ptr] if self._ptr < len(self._sched) else None
        queued = self._heap[0] if self._heap else None
        use_sched = sched is not None and sched.ready < ts
        use_heap = queued is not None and queued[0] < ts
        if use_sched and use_heap:
            use_sched = (sched.ready, sched.seq) < (queued[0], queued[1])  # type: ignore[union-attr,index]
            use_heap = not use_sched
        if use_sched:
            self._ptr += 1
            return sched
        if use_heap:
            return heapq.heappop(self._heap)[2]
        return None

    def _release_deferred(self, height: int) -> None:
        while self._deferred and self._deferred[0][0] <= height:
            _, ready, seq, tx = heapq.heappop(self._deferred)
            heapq.heappush(self._heap, (ready, seq, tx))

    # --- more transactions --------------------------------------------------------------

    def submit(self, spec: TransferSpec) -> PlannedTx:
        """Sign and queue one more transfer (it is announced at ``spec.at``)."""
        with self.lock:
            tx = self.compiled.build(spec, self._next_seq())
            heapq.heappush(self._heap, (tx.ready, tx.seq, tx))
            return tx

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # --- the unconfirmed pool -----------------------------------------------------------

    def pending(self, now: int, view_height: int) -> list[PlannedTx]:
        """Announced (``created <= now``), unexpired and not in a block at or below ``view_height``."""
        found: list[PlannedTx] = []
        for tx in self._sched[self._ptr :]:
            if tx.ready > now + POOL_LOOKAHEAD:
                break
            found.append(tx)
        found.extend(item[2] for item in self._heap)
        found.extend(item[3] for item in self._deferred)
        for block in self.blocks[max(0, view_height + 1 - self.start_height) :]:
            found.extend(e.tx for e in block.txs)
        return [tx for tx in found if tx.created <= now and tx.deadline >= now]

    # --- rollback -----------------------------------------------------------------------

    def rollback(
        self,
        depth: int,
        mode: RollbackMode = "reinclude",
        *,
        hashes: Iterable[str] | None = None,
        reinclude_delay: int = 1,
        replace_to: str | None = None,
    ) -> RollbackReport:
        """Rewrite the last ``depth`` blocks; ``hashes`` limits which transactions ``mode`` hits
        (the others stay at their heights, with new ids)."""
        if mode not in ("drop", "reinclude", "replace"):
            raise ValueError(f"unknown rollback mode {mode!r}")
        with self.lock:
            self.sync()
            tip = self.height
            if not 1 <= depth <= len(self.blocks) - 1:
                raise ValueError(f"depth must be 1..{len(self.blocks) - 1}")
            if reinclude_delay < 1:
                raise ValueError("reinclude_delay must be at least 1")
            ancestor = tip - depth
            self.forks += 1
            targets = set(hashes) if hashes is not None else None
            old_hashes = {b.height: b.hash for b in self.blocks[depth * -1 :]}
            removed = self._unwind(ancestor)
            report = RollbackReport(ancestor, tip, tip, old_hashes, {})
            placed: dict[int, list[PlannedTx]] = {}
            for height, txs in removed:
                for tx in txs:
                    hit = targets is None or tx.hash in targets or tx.inner_hash in targets
                    if not hit:
                        placed.setdefault(height, []).append(tx)
                        report.kept[tx.hash] = height
                    elif mode == "drop":
                        report.dropped.append(tx.hash)
                    elif mode == "reinclude":
                        target = height + reinclude_delay
                        if target <= tip:
                            placed.setdefault(target, []).append(tx)
                            report.moved[tx.hash] = target
                        else:
                            heapq.heappush(self._deferred, (target, tx.ready, tx.seq, tx))
                            report.moved[tx.hash] = None
                    else:
                        other = self._replacement(tx, replace_to)
                        placed.setdefault(height, []).append(other)
                        report.replaced[tx.hash] = other.hash
            for height in range(ancestor + 1, tip + 1):
                shift = self.forks
                if len(self.compiled.harvesters) > 1 and shift % len(self.compiled.harvesters) == 0:
                    shift += 1
                timestamp = self.block_time(height) + 1 + self.forks % max(1, self.interval // 2)
                block = self._mine(
                    height, timestamp=timestamp, harvester=self._harvester(height, shift), first=placed.get(height, ())
                )
                report.new_block_hashes[height] = block.hash
                for entry in block.txs:
                    if entry.tx.hash in report.moved:
                        report.moved[entry.tx.hash] = height
                    elif entry.tx.hash in report.kept:
                        report.kept[entry.tx.hash] = height
            return report

    def _unwind(self, ancestor: int) -> list[tuple[int, list[PlannedTx]]]:
        removed: list[tuple[int, list[PlannedTx]]] = []
        while self.height > ancestor:
            block = self.blocks.pop()
            fees = block.fees
            if fees:
                self.ledger.undo_harvest(block.harvester.address, block.height, fees)
            for entry in reversed(block.txs):
                self.ledger.undo(entry)
            removed.append((block.height, [e.tx for e in block.txs]))
        removed.reverse()
        return removed

    def _replacement(self, tx: PlannedTx, replace_to: str | None) -> PlannedTx:
        if tx.spec is None:
            raise ValueError("this transaction cannot be rebuilt")
        recipient = replace_to or sim_key(
            self.compiled.scenario.seed, f"replacement-{self.forks}-{tx.seq}", self.network
        ).address
        spec = replace(tx.spec, recipient=recipient, at=tx.spec.at + timedelta(seconds=1))
        return self.compiled.build(spec, self._next_seq())

    # --- forks for one node -------------------------------------------------------------

    def copy(self) -> Chain:
        """An independent copy sharing the clock (a node that goes its own way)."""
        with self.lock:
            twin = Chain.__new__(Chain)
            twin.__dict__.update(self.__dict__)
            twin.lock = threading.RLock()
            twin.ledger = _copy_ledger(self.ledger)
            by_id = {e.id: e for block in self.blocks for e in block.txs}
            remap = {i: twin.ledger.by_hash[e.tx.hash] for i, e in by_id.items()}
            twin.blocks = [replace(b, txs=[remap[e.id] for e in b.txs]) for b in self.blocks]
            twin.rejected = list(self.rejected)
            twin._heap = list(self._heap)
            twin._deferred = list(self._deferred)
            return twin


class _Probe:
    """Checks that a block's transactions are affordable one after another (before applying)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.spent: dict[str, int] = {}
        self.received: dict[str, int] = {}
        self.mosaic_delta: dict[tuple[str, str], int] = {}

    def take(self, tx: PlannedTx) -> bool:
        balance = self.ledger.balances.get(tx.sender, 0) + self.received.get(tx.sender, 0) - self.spent.get(tx.sender, 0)
        if balance < tx.xem + tx.fee:
            return False
        held = self.ledger.mosaics.get(tx.sender, {})
        for mosaic_id, quantity in tx.mosaics:
            if held.get(mosaic_id, 0) + self.mosaic_delta.get((tx.sender, mosaic_id), 0) < quantity:
                return False
        self.spent[tx.sender] = self.spent.get(tx.sender, 0) + tx.xem + tx.fee
        self.received[tx.recipient] = self.received.get(tx.recipient, 0) + tx.xem
        for mosaic_id, quantity in tx.mosaics:
            self.mosaic_delta[(tx.sender, mosaic_id)] = self.mosaic_delta.get((tx.sender, mosaic_id), 0) - quantity
            key = (tx.recipient, mosaic_id)
            self.mosaic_delta[key] = self.mosaic_delta.get(key, 0) + quantity
        return True


def _copy_ledger(ledger: Ledger) -> Ledger:
    twin = Ledger.__new__(Ledger)
    twin.balances = dict(ledger.balances)
    twin.mosaics = {a: dict(m) for a, m in ledger.mosaics.items()}
    entries = {id(e): Included(e.tx, e.height, e.id) for e in ledger.by_hash.values()}
    twin.incoming = {a: [entries[id(e)] for e in lst] for a, lst in ledger.incoming.items()}
    twin.outgoing = {a: [entries[id(e)] for e in lst] for a, lst in ledger.outgoing.items()}
    twin.harvested = {a: list(lst) for a, lst in ledger.harvested.items()}
    twin.by_hash = {h: entries[id(e)] for h, e in ledger.by_hash.items()}
    twin.public_keys = dict(ledger.public_keys)
    twin.next_id = ledger.next_id
    return twin
