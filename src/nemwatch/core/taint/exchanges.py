"""Exchange-like and relay-like accounts that no label names, from their transfer history.

NEM exchanges use one central wallet and tell users apart by a deposit tag in the message, so
an unlabelled account that receives from many distinct senders, nearly every time with a short
tag, behaves like an exchange (``central_wallet``). Launderers in 2018 pushed funds through
single-use throwaways and through remittance relays at a steady cadence (about every 40
minutes): an account that receives once and sends nearly all of it on soon after, or that
forwards each arrival within a short hold at regular intervals, behaves like a relay
(``relay``). Both are pure functions of an account's history with tunable thresholds, and give
a typed verdict with the evidence, so the engine can label the account (``LabelOrigin.HEURISTIC``)
or raise its alerts::

    history = [movement_of(t) for t in transfers_of(address)]
    if central_wallet(address, history).exchange_like: ...   # treat as an exchange
    verdict = relay(address, history)
    if verdict.pattern is RelayPattern.SINGLE_USE: ...

Money is integer micro-XEM; shares are integer permille (no floats on the money path).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from math import isqrt
from statistics import median

from nemwatch.core.models import Transfer
from nemwatch.core.taint.messages import deposit_tag, readable_text

SAMPLE = 10


@dataclass(frozen=True, slots=True)
class Movement:
    """One XEM transfer as the heuristics need it; ``message`` is the readable text or None."""

    identity: str
    at: datetime
    sender: str
    recipient: str
    micro_xem: int
    message: str | None = None
    height: int | None = None


def movement_of(transfer: Transfer) -> Movement:
    return Movement(
        transfer.identity, transfer.timestamp, transfer.sender, transfer.recipient,
        transfer.xem, readable_text(transfer.message), transfer.height,
    )


def _permille(part: int, whole: int) -> int:
    return part * 1000 // whole if whole else 0


# --- central wallets -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CentralWalletThresholds:
    min_tagged_senders: int = 5  # distinct senders that attached a tag
    min_tagged_inflows: int = 5
    min_tagged_permille: int = 800  # of the XEM-carrying inflows
    min_distinct_tags: int = 5


@dataclass(frozen=True, slots=True)
class TaggedDeposit:
    identity: str
    sender: str
    tag: str
    micro_xem: int


@dataclass(frozen=True, slots=True)
class CentralWalletVerdict:
    """``exchange_like`` when every threshold is met; ``reasons`` says which were not."""

    address: str
    exchange_like: bool
    inflows: int
    tagged_inflows: int
    tagged_permille: int
    distinct_senders: int
    tagged_senders: int
    distinct_tags: int
    sample: tuple[TaggedDeposit, ...]
    reasons: tuple[str, ...]


def central_wallet(
    address: str, history: Iterable[Movement], thresholds: CentralWalletThresholds = CentralWalletThresholds()
) -> CentralWalletVerdict:
    """Does ``address`` receive like an exchange's central wallet (many senders, each with a tag)?"""
    inflows = [m for m in history if m.recipient == address and m.sender != address and m.micro_xem > 0]
    tagged: list[TaggedDeposit] = []
    for m in inflows:
        tag = deposit_tag(m.message) if m.message else None
        if tag is not None:
            tagged.append(TaggedDeposit(m.identity, m.sender, tag, m.micro_xem))
    senders = {m.sender for m in inflows}
    tagged_senders = {d.sender for d in tagged}
    tags = {d.tag for d in tagged}
    share = _permille(len(tagged), len(inflows))
    t = thresholds
    reasons = [
        why
        for ok, why in (
            (len(tagged_senders) >= t.min_tagged_senders, f"{len(tagged_senders)} senders with a tag (need {t.min_tagged_senders})"),
            (len(tagged) >= t.min_tagged_inflows, f"{len(tagged)} tagged inflows (need {t.min_tagged_inflows})"),
            (share >= t.min_tagged_permille, f"{share}\u2030 of inflows tagged (need {t.min_tagged_permille}\u2030)"),
            (len(tags) >= t.min_distinct_tags, f"{len(tags)} distinct tags (need {t.min_distinct_tags})"),
        )
        if not ok
    ]
    return CentralWalletVerdict(
        address, not reasons, len(inflows), len(tagged), share, len(senders), len(tagged_senders), len(tags),
        tuple(tagged[:SAMPLE]), tuple(reasons),
    )


# --- relays --------------------------------------------------------------------------------


class RelayPattern(str, Enum):
    SINGLE_USE = "single_use"  # receives once, sends (almost) all of it on soon after, then idle
    CADENCE = "cadence"  # forwards each arrival soon after, arrivals at regular intervals


@dataclass(frozen=True, slots=True)
class RelayThresholds:
    max_hold: timedelta = timedelta(hours=2)  # arrival to first onward send
    min_forward_permille: int = 950  # sent on / received
    min_cadence_hops: int = 4
    min_forwarded_hops_permille: int = 900  # share of arrivals forwarded within max_hold
    max_spread_permille: int = 350  # standard deviation / mean of the intervals between arrivals


@dataclass(frozen=True, slots=True)
class Hop:
    """One arrival and what left after it, before the next arrival."""

    identity: str
    at: datetime
    micro_xem_in: int
    micro_xem_out: int
    outflows: tuple[str, ...]
    hold: timedelta | None  # arrival to first onward send; None when nothing left

    def forwarded(self, t: RelayThresholds) -> bool:
        return (
            self.hold is not None
            and self.hold <= t.max_hold
            and _permille(self.micro_xem_out, self.micro_xem_in) >= t.min_forward_permille
        )


@dataclass(frozen=True, slots=True)
class RelayVerdict:
    address: str
    pattern: RelayPattern | None
    hops: tuple[Hop, ...]
    forward_permille: int  # all XEM sent / all XEM received
    median_hold: timedelta | None
    mean_interval: timedelta | None
    spread_permille: int | None
    reasons: tuple[str, ...]

    @property
    def relay_like(self) -> bool:
        return self.pattern is not None


def _hops(address: str, moves: list[Movement]) -> tuple[list[Hop], int, int]:
    ordered = sorted(moves, key=lambda m: (m.at, m.height or 0))
    hops: list[Hop] = []
    pending: tuple[Movement, list[Movement]] | None = None
    total_in = total_out = 0

    def close() -> None:
        if pending is not None:
            arrival, outs = pending
            hold = outs[0].at - arrival.at if outs else None
            hops.append(Hop(arrival.identity, arrival.at, arrival.micro_xem, sum(o.micro_xem for o in outs), tuple(o.identity for o in outs), hold))

    for m in ordered:
        if m.recipient == address and m.sender != address:
            total_in += m.micro_xem
            close()
            pending = (m, [])
        elif m.sender == address and m.recipient != address:
            total_out += m.micro_xem
            if pending is not None:
                pending[1].append(m)
    close()
    return hops, total_in, total_out


def _spread_permille(intervals: list[int]) -> tuple[int, int]:
    """(mean seconds, standard deviation / mean in permille), integer arithmetic."""
    n = len(intervals)
    mean_num = sum(intervals)  # mean = mean_num / n
    var_num = sum((n * x - mean_num) ** 2 for x in intervals)  # variance = var_num / n**3
    if mean_num == 0:
        return 0, 1000
    # (sd/mean)^2 = var_num / (n * mean_num^2); permille = isqrt(10^6 * that)
    return mean_num // n, isqrt(1_000_000 * var_num // (n * mean_num * mean_num))


def relay(address: str, history: Iterable[Movement], thresholds: RelayThresholds = RelayThresholds()) -> RelayVerdict:
    """Is ``address`` a single-use intermediate or a steady-cadence relay? Zero-XEM transfers
    (messages, marker mosaics) are ignored."""
    t = thresholds
    moves = [m for m in history if m.micro_xem > 0 and address in (m.sender, m.recipient)]
    hops, total_in, total_out = _hops(address, moves)
    forward = _permille(total_out, total_in)
    holds = [h.hold for h in hops if h.hold is not None]
    median_hold = median(holds) if holds else None
    arrivals = [int(h.at.timestamp()) for h in hops]
    intervals = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    mean = spread = None
    if len(intervals) >= 2:
        mean_s, spread = _spread_permille(intervals)
        mean = timedelta(seconds=mean_s)
    pattern: RelayPattern | None = None
    reasons: list[str] = []
    if not hops:
        reasons.append("never received XEM")
    elif len(hops) == 1:
        hop = hops[0]
        if hop.forwarded(t) and forward >= t.min_forward_permille:
            pattern = RelayPattern.SINGLE_USE
        else:
            reasons.append(f"received once; sent on {_permille(hop.micro_xem_out, hop.micro_xem_in)}\u2030 "
                           f"(need {t.min_forward_permille}\u2030 within {t.max_hold})")
    else:
        forwarded = sum(h.forwarded(t) for h in hops)
        checks = (
            (forwarded >= t.min_cadence_hops, f"{forwarded} arrivals forwarded within {t.max_hold} (need {t.min_cadence_hops})"),
            (forwarded * 1000 >= t.min_forwarded_hops_permille * len(hops),
             f"{forwarded} of {len(hops)} arrivals forwarded (need {t.min_forwarded_hops_permille}\u2030)"),
            (forward >= t.min_forward_permille, f"sent on {forward}\u2030 of what it received (need {t.min_forward_permille}\u2030)"),
            (spread is not None and spread <= t.max_spread_permille,
             "too few arrivals to measure a cadence" if spread is None
             else f"arrival intervals spread {spread}\u2030 of their mean (need at most {t.max_spread_permille}\u2030)"),
        )
        reasons = [why for ok, why in checks if not ok]
        if not reasons:
            pattern = RelayPattern.CADENCE
    return RelayVerdict(address, pattern, tuple(hops), forward, median_hold, mean, spread, tuple(reasons))
