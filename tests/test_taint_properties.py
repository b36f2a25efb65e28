"""Property tests of the taint models over random small transfer graphs.

Under every model: taint never exceeds the balance and never goes negative, the books balance
(conservation), haircut and FIFO lie between the two bounds for every account and transfer,
and poison tracks every account another model tracks. The incremental tracker with a rollback
ends where a batch fold of the surviving chain ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nemwatch.core.taint.inputs import Movement, TaintSource, Thresholds
from nemwatch.core.taint.ledger import NMODELS, F, H, L, P, U
from nemwatch.core.taint.tracker import TaintTracker, trace
from nemwatch.core.taint.view import account_taint

T0 = datetime(2018, 1, 26, tzinfo=UTC)
ACCOUNTS = ["S", "V", "A", "B", "C", "D"]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[Movement], list[TaintSource], Thresholds, dict[str, int]]:
    n = draw(st.integers(1, 40))
    stream = []
    height = 1
    for k in range(n):
        height += draw(st.sampled_from([0, 0, 1, 2]))
        sender = draw(st.sampled_from(ACCOUNTS))
        recipient = draw(st.sampled_from([*ACCOUNTS, ""]))
        amount = draw(st.integers(0, 3_000))
        fee = draw(st.integers(0, 60))
        stream.append(Movement(height, k, f"m{k}", sender, recipient, amount, fee, T0 + timedelta(minutes=height)))
    victim = draw(st.sampled_from([None, "V"]))
    sources = [TaintSource("S", T0 + timedelta(minutes=draw(st.integers(0, 10))), victim=victim)]
    if draw(st.booleans()):
        sources.append(TaintSource("D", T0 + timedelta(minutes=draw(st.integers(0, 30)))))
    opening = {a: draw(st.integers(0, 5_000)) for a in ACCOUNTS if draw(st.booleans())}
    thresholds = draw(st.sampled_from([
        Thresholds.none(),
        Thresholds(min_micro=0, min_ppm=0, max_hops=2),
        Thresholds(min_micro=300, min_ppm=100_000, max_hops=3),
        Thresholds(min_micro=50, min_ppm=500_000, ignore=frozenset({"C"})),
    ]))
    return stream, sources, thresholds, opening


def check_invariants(tr: TaintTracker) -> None:
    led = tr.ledger
    assert tr.check_conservation() == ()
    for i in range(len(led.addrs)):
        b = led.bal[i]
        assert b >= 0
        held = [led.held(m, i) for m in range(NMODELS)]
        for m in range(NMODELS):
            assert 0 <= held[m] <= b
            if led.hop[m][i] >= 0:
                assert led.hop[P][i] >= 0 and led.hop[P][i] <= led.hop[m][i]
        if led.hop[P][i] >= 0:
            assert held[P] == b
        for m in (H, F):
            assert held[L] <= held[m] <= held[U] <= held[P] or led.hop[P][i] < 0
        if led.hop[P][i] < 0:
            assert held == [0] * NMODELS
    for k in range(len(led.rec_mv)):
        t = list(led.rec_t[k * NMODELS:(k + 1) * NMODELS])
        assert all(0 <= x <= led.rec_mv[k].amount_micro for x in t)
        for m in (H, F):
            assert t[L] <= t[m] <= t[U] <= t[P]
    for total in tr.totals():
        assert min(total.seeded_micro, total.at_rest_micro, total.left_micro, total.burned_micro) >= 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_every_model_keeps_its_invariants(case: tuple) -> None:  # noqa: ANN001
    stream, sources, thresholds, opening = case
    check_invariants(trace(stream, sources, thresholds, opening))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.integers(1, 12), st.data())
def test_rollback_then_new_blocks_equals_a_fresh_fold(case: tuple, fork_at: int, data: st.DataObject) -> None:  # noqa: ANN001
    stream, sources, thresholds, opening = case
    tr = TaintTracker(sources, thresholds, opening, checkpoint_every=data.draw(st.integers(1, 4)))
    heights = sorted({m.height for m in stream})
    for h in heights:
        tr.apply_block(h, [m for m in stream if m.height == h])
    tr.rollback(fork_at)
    kept = [m for m in stream if m.height < fork_at]
    replacement = [m._replace(identity="r" + m.identity, height=max(m.height, fork_at))
                   for m in stream if m.height >= fork_at][::2]
    by_height: dict[int, list[Movement]] = {}
    for m in replacement:
        by_height.setdefault(m.height, []).append(m)
    for h in sorted(by_height):
        tr.apply_block(h, by_height[h])
    fresh = trace(kept + replacement, sources, thresholds, opening)
    check_invariants(tr)
    led, ref = tr.ledger, fresh.ledger
    mine = {led.addrs[i]: account_taint(led, i) for i in range(len(led.addrs)) if led.hop[P][i] >= 0}
    theirs = {ref.addrs[i]: account_taint(ref, i) for i in range(len(ref.addrs)) if ref.hop[P][i] >= 0}
    assert mine == theirs
    assert [t.seeded_micro for t in tr.totals()] == [t.seeded_micro for t in fresh.totals()]
    assert tr.transfers() == fresh.transfers()
