"""Exchange-like central wallets and relays found from history alone (no label)."""

from __future__ import annotations

from datetime import timedelta

from nemwatch.core.models import MICRO_XEM
from nemwatch.core.taint.exchanges import (
    CentralWalletThresholds,
    Movement,
    RelayPattern,
    RelayThresholds,
    central_wallet,
    movement_of,
    relay,
)
from taintkit import T0, make_transfer, scenario_transfers

X = MICRO_XEM


def mv(i: int, sender: str, recipient: str, xem: int, minutes: float, message: str | None = None) -> Movement:
    return Movement(f"m{i}", T0 + timedelta(minutes=minutes), sender, recipient, xem * X, message)


def scenario_history() -> list[Movement]:
    return [movement_of(t) for t in scenario_transfers()]


# --- central wallets ---------------------------------------------------------------------------


def test_many_senders_each_with_a_tag_is_exchange_like_under_the_defaults() -> None:
    history = [mv(i, f"user-{i % 8}", "wallet", 1000 + i, i * 7, str(400_000 + i % 8)) for i in range(40)]
    history.append(mv(99, "someone", "wallet", 5, 400))  # one untagged deposit
    history.append(mv(100, "wallet", "cold", 30_000, 500))
    verdict = central_wallet("wallet", history)
    assert verdict.exchange_like and verdict.reasons == ()
    assert (verdict.inflows, verdict.tagged_inflows, verdict.tagged_senders, verdict.distinct_tags) == (41, 40, 8, 8)
    assert verdict.distinct_senders == 9 and verdict.tagged_permille == 975
    assert len(verdict.sample) == 10 and verdict.sample[0].tag == "400000" and verdict.sample[0].sender == "user-0"


def test_untagged_or_few_senders_is_not_exchange_like_and_says_why() -> None:
    untagged = [mv(i, f"user-{i}", "w", 100, i) for i in range(20)]
    verdict = central_wallet("w", untagged)
    assert not verdict.exchange_like
    assert "0 senders with a tag (need 5)" in verdict.reasons
    few = [mv(i, f"user-{i % 2}", "w", 100, i, f"{1000 + i}") for i in range(20)]
    verdict = central_wallet("w", few)
    assert verdict.reasons == ("2 senders with a tag (need 5)",)
    assert central_wallet("w", few, CentralWalletThresholds(min_tagged_senders=2)).exchange_like
    zero_xem = [mv(i, f"user-{i}", "w", 0, i, "12345") for i in range(20)]  # message-only: not deposits
    assert central_wallet("w", zero_xem).inflows == 0


def test_coincheck_2018_exchange_wallets_receive_only_tagged_deposits() -> None:
    history = scenario_history()
    relaxed = CentralWalletThresholds(min_tagged_senders=1)
    for wallet in ("exchange-jp-central", "exchange-overseas-central"):
        verdict = central_wallet(wallet, history)
        # one relay feeds each wallet in the reconstruction: all 18 deposits tagged, 18 tags
        assert (verdict.inflows, verdict.tagged_inflows, verdict.distinct_tags, verdict.tagged_senders) == (18, 18, 18, 1)
        assert verdict.reasons == ("1 senders with a tag (need 5)",)
        assert central_wallet(wallet, history, relaxed).exchange_like
    for other in ("relay-1", "thief-nc4", "second-hop-1", "bystander-1"):
        assert not central_wallet(other, history, relaxed).exchange_like


# --- relays ------------------------------------------------------------------------------------


def test_coincheck_2018_throwaways_are_single_use_and_relays_keep_a_cadence() -> None:
    history = scenario_history()
    for i in range(1, 25):
        verdict = relay(f"throwaway-{i}", history)
        assert verdict.pattern is RelayPattern.SINGLE_USE, (i, verdict.reasons)
        (hop,) = verdict.hops
        assert hop.micro_xem_in - hop.micro_xem_out == 2 * X and hop.hold == timedelta(minutes=2)
    for name in ("relay-1", "relay-2"):
        verdict = relay(name, history)
        assert verdict.pattern is RelayPattern.CADENCE, verdict.reasons
        assert len(verdict.hops) == 18 and verdict.median_hold == timedelta(minutes=8)
        assert verdict.mean_interval is not None and timedelta(minutes=75) <= verdict.mean_interval <= timedelta(minutes=85)
        assert verdict.spread_permille is not None and verdict.spread_permille <= 100
    for name in ("thief-nc4", "second-hop-1", "exchange-jp-central", "exchange-overseas-central", "bystander-1",
                 "intermediate-1", "coincheck-hot-wallet"):
        assert not relay(name, history).relay_like, name


def test_single_use_needs_nearly_all_sent_soon() -> None:
    fast = [mv(0, "a", "r", 1000, 0), mv(1, "r", "b", 999, 5), mv(2, "t", "r", 0, 6)]  # a marker: ignored
    assert relay("r", fast).pattern is RelayPattern.SINGLE_USE
    slow = [mv(0, "a", "r", 1000, 0), mv(1, "r", "b", 999, 60 * 5)]
    verdict = relay("r", slow)
    assert verdict.pattern is None and "within 2:00:00" in verdict.reasons[0]
    assert relay("r", slow, RelayThresholds(max_hold=timedelta(hours=6))).pattern is RelayPattern.SINGLE_USE
    kept = [mv(0, "a", "r", 1000, 0), mv(1, "r", "b", 500, 5)]
    assert relay("r", kept).pattern is None
    assert relay("r", []).reasons == ("never received XEM",)


def test_cadence_needs_regular_arrivals() -> None:
    regular = []
    for i in range(6):
        regular += [mv(2 * i, f"s{i}", "r", 1000, 40 * i), mv(2 * i + 1, "r", "x", 998, 40 * i + 3)]
    verdict = relay("r", regular)
    assert verdict.pattern is RelayPattern.CADENCE and verdict.spread_permille == 0
    assert verdict.mean_interval == timedelta(minutes=40) and verdict.forward_permille == 998
    irregular = []
    for i, minute in enumerate((0, 2, 300, 305, 1000, 2400)):
        irregular += [mv(2 * i, f"s{i}", "r", 1000, minute), mv(2 * i + 1, "r", "x", 998, minute + 1)]
    verdict = relay("r", irregular)
    assert verdict.pattern is None and any("spread" in r for r in verdict.reasons)
    assert verdict.spread_permille is not None and verdict.spread_permille > 350


def test_movement_of_a_transfer() -> None:
    t = make_transfer("a", "b", xem=5 * X, message="306484590", ident="abc", height=9)
    m = movement_of(t)
    assert (m.identity, m.sender, m.recipient, m.micro_xem, m.message, m.height) == ("abc", "a", "b", 5 * X, "306484590", 9)
