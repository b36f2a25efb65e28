"""The "at exchanges" total of the taint picture, kept incrementally, equals the full recomputation
block after block: with exchange sets that change between calls, across rollbacks, and on the
coincheck-2018 scenario's own stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import groupby

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nemwatch.core.taint.adapt import movement_of
from nemwatch.core.taint.inputs import Movement, TaintSource, Thresholds
from nemwatch.core.taint.picture import ExchangeTally, at_exchanges, picture
from nemwatch.core.taint.tracker import TaintTracker
from taintkit import scenario_transfers
from taintsim import THEFT_START
from test_taint_properties import ACCOUNTS, graphs

T0 = datetime(2018, 1, 26, tzinfo=UTC)


def _no_full_scan(tracker: TaintTracker) -> None:
    def refuse() -> list[object]:
        raise AssertionError("the tally must not read every transfer")

    tracker.transfers = refuse  # type: ignore[method-assign]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.data())
def test_the_tally_equals_the_full_recomputation_after_every_block_and_rollback(
    graph: tuple[list[Movement], list[TaintSource], Thresholds, dict[str, int]], data: st.DataObject,
) -> None:
    stream, sources, thresholds, opening = graph
    # exchanges are in the ignore list in the engine: taint stops there and is counted at exchanges
    ignore = thresholds.ignore | {"C", "D"}
    th = Thresholds(thresholds.min_micro, thresholds.min_ppm, thresholds.max_hops, frozenset(ignore))
    tracker = TaintTracker(sources, th, opening, checkpoint_every=2, keep_blocks=50)
    reference = TaintTracker(sources, th, opening, checkpoint_every=2, keep_blocks=50)
    tally = ExchangeTally()
    blocks = [(h, tuple(b)) for h, b in groupby(stream, key=lambda m: m.height)]
    rolled = False
    for height, block in blocks:
        tracker.apply_block(height, block, at=T0 + timedelta(minutes=height))
        reference.apply_block(height, block, at=T0 + timedelta(minutes=height))
        exchanges = data.draw(st.sets(st.sampled_from(ACCOUNTS)))
        assert tally.at_exchanges(tracker, exchanges) == at_exchanges(reference, exchanges)
        if not rolled and height > 3 and data.draw(st.booleans()):
            fork = data.draw(st.integers(2, height))
            tracker.rollback(fork)
            reference.rollback(fork)
            rolled = True
            assert tally.at_exchanges(tracker, exchanges) == at_exchanges(reference, exchanges)
    full = at_exchanges(reference, {"C", "D"})
    _no_full_scan(tracker)
    assert tally.at_exchanges(tracker, {"C", "D"}) == full
    assert picture(tracker, {"C", "D"}, tally) == picture(reference, {"C", "D"})


def test_on_the_coincheck_stream_the_tally_follows_every_block_without_rescanning() -> None:
    transfers = scenario_transfers()
    exchanges = {"exchange-jp-central", "exchange-overseas-central", "exchange-overseas-cold"}
    source = TaintSource("thief-nc4", THEFT_START, "thief", "coincheck-hot-wallet")
    tracker = TaintTracker([source], Thresholds(ignore=frozenset(exchanges)), checkpoint_every=0)
    _no_full_scan(tracker)
    tally = ExchangeTally()
    movements = [movement_of(t, 0, t.height or 0) for t in transfers]
    nonzero = 0
    for mv in movements:
        tracker.apply_block(mv.height, [mv])
        got = tally.at_exchanges(tracker, exchanges)
        nonzero += any(got)
    reference = TaintTracker([source], Thresholds(ignore=frozenset(exchanges)), checkpoint_every=0)
    for mv in movements:
        reference.apply_block(mv.height, [mv])
    assert got == at_exchanges(reference, exchanges) and got[2] > 0 and nonzero > 0
    # an exchange labelled later counts its past arrivals too; one unlabelled drops them
    assert tally.at_exchanges(tracker, {"exchange-jp-central"}) == at_exchanges(reference, {"exchange-jp-central"})
    assert tally.at_exchanges(tracker, set()) == (0, 0, 0, 0, 0)
