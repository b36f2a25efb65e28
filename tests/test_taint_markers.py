"""Marker mosaics: holding one or receiving one tags an account, once per (account, marker)."""

from __future__ import annotations

from nemwatch.config import default_config
from nemwatch.config.accounts import KNOWN_MARKERS
from nemwatch.core.models import MosaicAmount
from nemwatch.core.taint.markers import MarkedAccounts, MarkVia, marker_set, markers_held, markers_received
from taintkit import make_transfer, scenario_transfers

MIZUNASHI = "mizunashi.coincheck_stolen_funds_do_not_accept_trades:owner_of_this_account_is_hacker"
TS = "ts:warning_dont_accept_stolen_funds"
MARKERS = marker_set(KNOWN_MARKERS)


def test_builtin_config_has_both_2018_markers() -> None:
    assert marker_set(default_config().taint.markers) == frozenset({MIZUNASHI, TS})
    assert marker_set(["nem:xem", " ", TS]) == frozenset({TS})  # XEM can never be a mark


def test_holding_a_marker_tags_the_account() -> None:
    owned = [MosaicAmount("nem", "xem", 5_000_000), MosaicAmount("ts", "warning_dont_accept_stolen_funds", 1),
             MosaicAmount("other", "token", 10), MosaicAmount(*MIZUNASHI.split(":"), 0)]
    (sighting,) = markers_held("NACCOUNT", owned, MARKERS)
    assert (sighting.address, sighting.mosaic_id, sighting.via, sighting.quantity) == ("NACCOUNT", TS, MarkVia.HOLDING, 1)
    assert markers_held("NACCOUNT", owned, frozenset()) == ()


def test_receiving_a_marker_tags_the_recipient_not_the_sender() -> None:
    t = make_transfer("tagger", "thief", mosaics=((MIZUNASHI, 1), ("foo:bar", 3)), ident="abc", height=77)
    (s,) = markers_received(t, MARKERS)
    assert (s.address, s.mosaic_id, s.via, s.tagger, s.identity, s.height) == ("thief", MIZUNASHI, MarkVia.TRANSFER, "tagger", "abc", 77)
    assert markers_received(make_transfer("a", "b", xem=5_000_000), MARKERS) == ()
    assert markers_received(make_transfer("a", "b", mosaics=((TS, 0),)), MARKERS) == ()  # nothing moved


def test_marked_accounts_report_each_pair_once() -> None:
    t1 = make_transfer("tagger", "x", mosaics=((TS, 1),))
    t2 = make_transfer("tagger", "x", mosaics=((TS, 1), (MIZUNASHI, 1)))
    state, new = MarkedAccounts().observe(markers_received(t1, MARKERS))
    assert [s.mosaic_id for s in new] == [TS]
    state, new = state.observe([*markers_received(t2, MARKERS), *markers_received(t2, MARKERS)])
    assert [s.mosaic_id for s in new] == [MIZUNASHI]
    same, none = state.observe(markers_received(t1, MARKERS))
    assert none == () and same is state
    assert state.is_marked("x") and not state.is_marked("y")
    assert state.markers_of("x") == frozenset({TS, MIZUNASHI})


def test_coincheck_2018_marks_the_thief_the_nine_second_hops_and_the_relay_hops() -> None:
    transfers = scenario_transfers()
    state = MarkedAccounts()
    first: list[str] = []
    for t in transfers:
        state, new = state.observe(markers_received(t, MARKERS))
        first += [s.address for s in new]
    assert sum(len(markers_received(t, MARKERS)) for t in transfers) == 46
    assert len(first) == len(set(first)) == 38  # intermediates were marked three times each
    assert first[0] == "thief-nc4"
    assert {f"second-hop-{i}" for i in range(1, 10)} <= state.addresses
    assert {f"throwaway-{i}" for i in range(1, 25)} <= state.addresses
    assert state.markers_of("thief-nc4") == frozenset({MIZUNASHI})
    assert state.markers_of("throwaway-1") == frozenset({TS})
    assert not any(a.startswith(("bystander", "exchange", "relay-")) for a in state.addresses)
