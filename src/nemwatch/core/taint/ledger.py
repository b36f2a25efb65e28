"""The fold: every model's state after each movement, in flat per-account lists.

One ``Ledger`` holds the state of all five models (``inputs.Model``) for every account it has
seen, indexed by a small integer id, because the benchmark folds a million movements and list
indexing is the cheapest state Python has. ``tracker`` wraps it for the incremental and batch
APIs; ``view`` turns it into the frozen result objects. Nothing here does I/O.

Per account the ledger keeps the balance (shared by all models), and per model the hop distance
(-1: not tracked), the tainted micro-XEM (poison: the whole balance of a tracked account) and
the sources that reached it; FIFO keeps a queue of ``[micro, tainted]`` lots per tracked
account. Balances start at the opening balances given (``known``); an account whose opening
balance is unknown starts at 0, and when it spends more than the ledger thinks it holds, the
shortfall is taken as an unseen inflow from before (clean, or tainted at a source without a
victim) and recorded in ``unseen``.
"""

from __future__ import annotations

import copy
from array import array
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime

from nemwatch.core.taint.inputs import PPM, Movement, TaintSource, Thresholds

P, H, F, U, L = range(5)
NMODELS = 5
SEEDED_FLAG = 1 << 10
"""Bit of a record's flags: the transfer seeded taint at a source. Bits 0-4: the recipient was
newly tracked under model i; bits 5-9: the taint left the tracked set under model i."""

Lot = list[int]  # [micro, tainted (0 or 1)]


def _consume(q: deque[Lot], amount: int) -> tuple[int, list[tuple[int, int]]]:
    """Take ``amount`` from the front of ``q``; the tainted micro-XEM taken and the pieces."""
    tainted = 0
    pieces: list[tuple[int, int]] = []
    while amount > 0:
        lot = q[0]
        n = lot[0]
        if n <= amount:
            q.popleft()
            take = n
        else:
            lot[0] = n - amount
            take = amount
        amount -= take
        if lot[1]:
            tainted += take
        pieces.append((take, lot[1]))
    return tainted, pieces


def _push(q: deque[Lot], micro: int, tainted: int) -> None:
    if micro <= 0:
        return
    if q and q[-1][1] == tainted:
        q[-1][0] += micro
    else:
        q.append([micro, tainted])


class Ledger:
    """All models' state; ``apply`` folds one movement in (movements must come in chain order)."""

    def __init__(
        self,
        thresholds: Thresholds,
        sources: Iterable[TaintSource] = (),
        opening_micro: Mapping[str, int] | None = None,
    ) -> None:
        self.thresholds = thresholds
        self.opening_micro: Mapping[str, int] = opening_micro or {}
        self.ids: dict[str, int] = {}
        self.addrs: list[str] = []
        self.bal: list[int] = []
        self.known: list[bool] = []
        self.unseen: list[int] = []
        self.hop: list[list[int]] = [[] for _ in range(NMODELS)]
        self.taint: list[list[int]] = [[] for _ in range(NMODELS)]  # P unused: the balance
        self.srcs: list[list[frozenset[str] | None]] = [[] for _ in range(NMODELS)]
        self.first: list[dict[int, tuple[int, datetime, str]]] = [{} for _ in range(NMODELS)]
        self.queues: dict[int, deque[Lot]] = {}
        self.seed = [0] * NMODELS
        self.absorbed = [0] * NMODELS  # poison only: clean funds that entered a poisoned account
        self.left = [0] * NMODELS
        self.burned = [0] * NMODELS
        # records of transfers that carried taint (or seeded it): movement, per-model amounts
        self.rec_mv: list[Movement] = []
        self.rec_t: array[int] = array("q")  # NMODELS values per record
        self.rec_flags: array[int] = array("l")
        # (account id, model, hop, tainted micro, movement) for each newly tracked account
        self.admissions: list[tuple[int, int, int, int, Movement | None]] = []
        self.sources: dict[int, TaintSource] = {}
        self.victim_of: dict[int, int] = {}
        self.full_sources: set[int] = set()  # active sources without a victim: all funds tainted
        self.pending: list[TaintSource] = []
        self.ignore_ids: set[int] = set()
        self.last: tuple[int, int] = (-1, -1)
        for addr in thresholds.ignore:
            self.ignore_ids.add(self.account(addr))
        for src in sources:
            self.add_source(src)

    # --- accounts and sources -------------------------------------------------------------

    def account(self, addr: str) -> int:
        i = self.ids.get(addr)
        if i is None:
            i = len(self.addrs)
            self.ids[addr] = i
            self.addrs.append(addr)
            opening = self.opening_micro.get(addr)
            self.bal.append(opening or 0)
            self.known.append(opening is not None)
            self.unseen.append(0)
            for m in range(NMODELS):
                self.hop[m].append(-1)
                self.taint[m].append(0)
                self.srcs[m].append(None)
        return i

    def add_source(self, src: TaintSource) -> None:
        s = self.account(src.address)
        self.sources[s] = src
        if src.victim is not None:
            self.victim_of[s] = self.account(src.victim)
        else:
            self.pending.append(src)
            self.pending.sort(key=lambda x: x.since)

    def learn_balance(self, addr: str, micro: int) -> None:
        """The balance of ``addr`` before the next movement, for an account not yet known.

        An account no model tracks yet holds no taint: its balance is set to ``micro`` (the
        movements of it the ledger saw before were partial). A tracked one only gains the
        funds it had beyond what the ledger saw (taken as older funds)."""
        i = self.account(addr)
        if self.known[i]:
            return
        self.known[i] = True
        if micro > self.bal[i]:
            self._topup(i, micro - self.bal[i], unseen=False)
        elif micro < self.bal[i] and all(self.hop[m][i] < 0 for m in range(NMODELS)):
            self.bal[i] = micro

    def activate_due(self, now: datetime, height: int) -> None:
        """Sources without a victim whose ``since`` has come: their whole balance is tainted."""
        while self.pending and self.pending[0].since <= now:
            src = self.pending.pop(0)
            s = self.ids[src.address]
            self.full_sources.add(s)
            b = self.bal[s]
            for m in range(NMODELS):
                held = b if (m == P and self.hop[P][s] >= 0) else self.taint[m][s]
                self.seed[m] += b - held
                self._track(m, s, 0, b, (height, now, ""), frozenset((src.address,)))
                if m != P:
                    self.taint[m][s] = b
            self.queues[s] = deque([[b, 1]]) if b else deque()

    def _track(
        self, m: int, i: int, hop: int, tainted: int, first: tuple[int, datetime, str],
        srcs: frozenset[str] | None, mv: Movement | None = None,
    ) -> None:
        hops = self.hop[m]
        if hops[i] < 0:
            self.first[m][i] = first
            self.admissions.append((i, m, hop, tainted, mv))
            hops[i] = hop
        elif hop < hops[i]:
            hops[i] = hop
        self._merge_srcs(m, i, srcs)

    def _merge_srcs(self, m: int, i: int, srcs: frozenset[str] | None) -> None:
        if srcs is None:
            return
        have = self.srcs[m][i]
        if have is None:
            self.srcs[m][i] = srcs
        elif have is not srcs and not srcs <= have:
            self.srcs[m][i] = have | srcs

    def _topup(self, i: int, micro: int, unseen: bool = True) -> None:
        """Funds the account had that the ledger did not see arrive (taken as older funds)."""
        self.bal[i] += micro
        if unseen:
            self.unseen[i] += micro
        full = i in self.full_sources
        if self.hop[P][i] >= 0:
            if full:
                self.seed[P] += micro
            else:
                self.absorbed[P] += micro
        q = self.queues.get(i)
        if q is not None:
            q.appendleft([micro, 1 if full else 0])
        if full:
            for m in (H, F, U, L):
                self.taint[m][i] += micro
                self.seed[m] += micro

    # --- the fold -------------------------------------------------------------------------

    def apply(self, mv: Movement) -> None:
        height, index, ident, sender, recipient, a, f, ts = mv
        if not recipient and a:  # an amount paid to nobody is gone, like a fee
            a, f = 0, a + f
        if (height, index) < self.last:
            raise ValueError(f"movement out of order at height {height} index {index}")
        self.last = (height, index)
        if self.pending and self.pending[0].since <= ts:
            self.activate_due(ts, height)
        ids = self.ids
        s = ids.get(sender)
        if s is None:
            s = self.account(sender)
        r = -1
        if recipient:
            r = ids.get(recipient)
            if r is None:
                r = self.account(recipient)
        bal = self.bal
        d = a + f
        b = bal[s]
        if b < d:
            self._topup(s, d - b)
            b = d
        bd = b - d
        hopP = self.hop[P]
        seeding = False
        if r >= 0 and r in self.sources:
            src = self.sources[r]
            seeding = ts >= src.since and self.victim_of.get(r, s) == s
        if hopP[s] < 0:
            bal[s] = bd
            if r < 0:
                return
            br = bal[r]
            bal[r] = br + a
            if seeding:
                self._seed(mv, s, r, br, (0, 0, 0, 0, 0), None)
            elif hopP[r] >= 0:  # clean funds into a tracked account
                self.absorbed[P] += a
                q = self.queues.get(r)
                if q is not None:
                    _push(q, a, 0)
            return
        # the sender is tracked under poison (and maybe under the other models): debit
        taint = self.taint
        tH = taint[H]
        th = fh = tf = ff = tu = fu = tl = fl = 0
        t = tH[s]
        if t and d:
            ret = t * bd // b
            out = t - ret
            th = out * a // d
            fh = out - th
            tH[s] = ret
        q = self.queues.get(s)
        pieces: list[tuple[int, int]] = []
        if q is not None:
            if a:
                tf, pieces = _consume(q, a)
            if f:
                ff = _consume(q, f)[0]
            taint[F][s] -= tf + ff
        t = taint[U][s]
        if t:
            tu = a if a < t else t
            fu = f if f < t else t
            taint[U][s] = bd if bd < t else t
        t = taint[L][s]
        if t:
            tl = t - (b - a)
            tl = tl if tl > 0 else 0
            fl = t - (b - f)
            fl = fl if fl > 0 else 0
            t -= d
            taint[L][s] = t if t > 0 else 0
        bal[s] = bd
        burned = self.burned
        burned[P] += f
        burned[H] += fh
        burned[F] += ff
        burned[U] += fu
        burned[L] += fl
        carried = (a, th, tf, tu, tl)
        if r < 0:
            self._record(mv, carried, 0)
            return
        br = bal[r]
        bal[r] = br + a
        if seeding:
            self._seed(mv, s, r, br, carried, pieces)
            return
        flags = 0
        hop = self.hop
        srcs = self.srcs
        for m in range(NMODELS):
            t = carried[m]
            hr = hop[m][r]
            if hr >= 0:  # taint moves inside the tracked set
                if m == F:
                    rq = self.queues[r]
                    if q is None:
                        _push(rq, a, 0)
                    else:
                        for n, tainted in pieces:
                            _push(rq, n, tainted)
                if not t:
                    continue
                if m != P:  # (poison: the recipient's whole balance is tainted already)
                    taint[m][r] += t
                ss = srcs[m][s]
                if ss is not srcs[m][r]:
                    self._merge_srcs(m, r, ss)
                hs = hop[m][s]
                if hs + 1 < hr and self._passes(t, a, hs + 1, r):
                    hop[m][r] = hs + 1
            elif t:
                flags |= self._admit(m, s, r, t, br, pieces, mv)
        self._record(mv, carried, flags)

    def _admit(
        self, m: int, s: int, r: int, t: int, br: int, pieces: list[tuple[int, int]], mv: Movement
    ) -> int:
        """Taint ``t`` reaches untracked ``r`` under model ``m``: track it, or count it as left."""
        hop = self.hop[m][s] + 1
        if not self._passes(t, mv.amount_micro, hop, r):
            self.left[m] += t
            return 1 << (m + 5)
        self._track(m, r, hop, t, (mv.height, mv.timestamp, mv.identity), self.srcs[m][s], mv)
        if m == P:
            self.absorbed[P] += br
        elif m == F:
            nq: deque[Lot] = deque()
            _push(nq, br, 0)
            for n, tainted in pieces:
                _push(nq, n, tainted)
            self.queues[r] = nq
            self.taint[F][r] = t
        else:
            self.taint[m][r] = t
        return 1 << m

    def _passes(self, t: int, a: int, hop: int, r: int) -> bool:
        th = self.thresholds
        return (
            t >= th.min_micro
            and t * PPM >= th.min_ppm * a
            and hop <= th.max_hops
            and r not in self.ignore_ids
        )

    def _seed(
        self, mv: Movement, s: int, r: int, br: int, carried: tuple[int, ...],
        pieces: list[tuple[int, int]] | None,
    ) -> None:
        """A transfer into a source that the source's rule taints whole: it seeds taint."""
        a = mv.amount_micro
        src = frozenset((self.sources[r].address,))
        first = (mv.height, mv.timestamp, mv.identity)
        flags = SEEDED_FLAG
        for m in range(NMODELS):
            self.seed[m] += a - carried[m]
            if self.hop[m][r] < 0:
                flags |= 1 << m
                if m == P:
                    self.absorbed[P] += br
                elif m == F:
                    nq: deque[Lot] = deque()
                    _push(nq, br, 0)
                    self.queues[r] = nq
                if m != P:
                    self.taint[m][r] = 0
            self._track(m, r, 0, a, first, src, mv)
            if m == F:
                _push(self.queues[r], a, 1)
            if m != P:
                self.taint[m][r] += a
        self._record(mv, (a, a, a, a, a), flags)

    def _record(self, mv: Movement, carried: tuple[int, ...], flags: int) -> None:
        self.rec_mv.append(mv)
        self.rec_t.extend(carried)
        self.rec_flags.append(flags)

    def clone(self) -> Ledger:
        """An independent copy (a checkpoint); inputs (thresholds, opening balances) are shared."""
        c = copy.copy(self)
        c.ids = dict(self.ids)
        c.addrs = list(self.addrs)
        c.bal = list(self.bal)
        c.known = list(self.known)
        c.unseen = list(self.unseen)
        c.hop = [list(x) for x in self.hop]
        c.taint = [list(x) for x in self.taint]
        c.srcs = [list(x) for x in self.srcs]
        c.first = [dict(x) for x in self.first]
        c.queues = {k: deque([lot[:] for lot in q]) for k, q in self.queues.items()}
        c.seed, c.absorbed = list(self.seed), list(self.absorbed)
        c.left, c.burned = list(self.left), list(self.burned)
        c.rec_mv = list(self.rec_mv)
        c.rec_t = array("q", self.rec_t)
        c.rec_flags = array("l", self.rec_flags)
        c.admissions = list(self.admissions)
        c.sources = dict(self.sources)
        c.victim_of = dict(self.victim_of)
        c.full_sources = set(self.full_sources)
        c.pending = list(self.pending)
        c.ignore_ids = set(self.ignore_ids)
        return c

    def held(self, m: int, i: int) -> int:
        """Tainted micro-XEM account ``i`` holds under model ``m`` (0 when not tracked)."""
        if self.hop[m][i] < 0:
            return 0
        return self.bal[i] if m == P else self.taint[m][i]
