"""Taint models on hand-computed graphs: each model, order inside a block, sources, thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nemwatch.core.taint.inputs import Model, Movement, TaintSource, Thresholds
from nemwatch.core.taint.tracker import trace

X = 1_000_000
T0 = datetime(2018, 1, 25, 15, 2, 13, tzinfo=UTC)
P, H, F, U, L = Model.POISON, Model.HAIRCUT, Model.FIFO, Model.TAINT_FIRST, Model.CLEAN_FIRST


def mv(height: int, index: int, sender: str, recipient: str, xem: int, fee_xem: int = 0, *, after: int = 0) -> Movement:
    return Movement(height, index, f"{sender}>{recipient}@{height}.{index}", sender, recipient,
                    xem * X, fee_xem * X, T0 + timedelta(minutes=after or height))


THIEF = TaintSource("T", T0, "thief", victim="V")


def held(tracker, address: str) -> dict[Model, int]:  # noqa: ANN001
    acc = tracker.account(address)
    assert acc is not None, address
    return {m: acc.tainted_micro(m) // X for m in Model}


def test_two_hops_each_model_by_hand() -> None:
    # V pays the thief 100; the thief pays A (40 clean already) 60 + fee 1; A pays B 50 + fee 1.
    stream = [mv(1, 0, "V", "T", 100), mv(2, 0, "T", "A", 60, 1), mv(3, 0, "A", "B", 50, 1)]
    tr = trace(stream, [THIEF], Thresholds.none(), {"V": 1000 * X, "A": 40 * X, "T": 0, "B": 0})
    # A held 40 clean + 60 tainted = 100, then 51 left it.
    # poison: everything; haircut: 60 * 49 / 100 = 29.4 stays, 30 of the 50 go on;
    # FIFO: the 50 takes the 40 clean then 10 tainted, the fee 1 more tainted: 49 stay;
    # taint first: 50 go, min(49, 60) stays; clean first: 60 - 50 = 10 go, 60 - 51 = 9 stay.
    a = tr.account("A")
    assert a is not None
    assert {m: a.tainted_micro(m) for m in Model} == {
        P: 49 * X, H: 29_400_000, F: 49 * X, U: 49 * X, L: 9 * X}
    assert held(tr, "B") == {P: 50, H: 30, F: 10, U: 50, L: 10}
    assert held(tr, "T") == {P: 39, H: 39, F: 39, U: 39, L: 39}
    assert [a.of(m).hop for m in Model] == [1] * 5  # type: ignore[union-attr]
    b = tr.account("B")
    assert b is not None and b.of(F).hop == 2 and b.of(F).sources == {"T"}  # type: ignore[union-attr]
    assert b.of(F).first_height == 3 and b.of(F).first_identity == "A>B@3.0"  # type: ignore[union-attr]
    hop = tr.transfers()[-1]
    assert hop.movement.sender == "A" and hop.tainted_micro == (50 * X, 30 * X, 10 * X, 50 * X, 10 * X)
    assert hop.new_account == frozenset(Model)
    totals = {t.model: t for t in tr.totals()}
    assert totals[F].seeded_micro == 100 * X and totals[F].burned_micro == 2 * X
    assert totals[H].burned_micro == 600_000 + 1 * X  # the thief's fee whole, 0.6 of A's
    assert totals[P].absorbed_micro == 40 * X  # A's clean 40 was poisoned
    assert totals[L].burned_micro == 1 * X and totals[U].burned_micro == 2 * X
    assert tr.check_conservation() == ()


def test_order_inside_one_block_decides_fifo() -> None:
    # A holds 100 clean. In block 5 the thief pays A 50 and A pays B 120: which comes first?
    taint_first = [mv(1, 0, "V", "T", 50), mv(5, 0, "T", "A", 50), mv(5, 1, "A", "B", 120)]
    spend_first = [mv(1, 0, "V", "T", 50), mv(5, 0, "A", "B", 120), mv(5, 1, "T", "A", 50)]
    opening = {"A": 100 * X, "V": 100 * X}
    tr1 = trace(taint_first, [THIEF], Thresholds.none(), opening)
    tr2 = trace(spend_first, [THIEF], Thresholds.none(), opening)
    assert held(tr1, "B")[F] == 20  # 100 clean first, then 20 of the tainted 50
    assert held(tr1, "A")[F] == 30
    assert tr2.account("B") is None  # B was paid before any taint reached A
    assert held(tr2, "A")[F] == 50
    with pytest.raises(ValueError, match="out of order"):
        trace([mv(1, 0, "V", "T", 50), mv(5, 1, "T", "A", 50), mv(5, 0, "A", "B", 1)], [THIEF])


def test_victim_rule_and_source_without_victim() -> None:
    stream = [
        mv(1, 0, "V", "T", 30, after=-5),  # before `since`: not tainted
        mv(2, 0, "X", "T", 20),  # not from the victim: clean
        mv(3, 0, "V", "T", 50),  # tainted at the source
        mv(4, 0, "T", "A", 100),
    ]
    tr = trace(stream, [THIEF], Thresholds.none(), {"V": 500 * X, "X": 500 * X, "T": 0})
    # T held 30 + 20 clean + 50 tainted: FIFO sends the 50 clean first, then the 50 tainted.
    assert held(tr, "A")[F] == 50 and held(tr, "A")[H] == 50 and held(tr, "A")[P] == 100
    assert {t.model: t.seeded_micro for t in tr.totals()}[F] == 50 * X
    (seed,) = [t for t in tr.transfers() if t.seeded]
    assert seed.movement.height == 3
    # Without a victim the whole balance at `since` is tainted, and whatever arrives after.
    whole = TaintSource("T", T0 + timedelta(minutes=2))
    tr = trace(stream, [whole], Thresholds.none(), {"V": 500 * X, "X": 500 * X, "T": 0})
    assert held(tr, "A") == {m: 100 for m in Model}
    assert {t.model: t.seeded_micro for t in tr.totals()}[H] == 100 * X
    assert tr.check_conservation() == ()


def decoy_stream() -> tuple[list[Movement], dict[str, int]]:
    """The 2018 shape: 11 payments to the thief, 9 big second hops, then 100 XEM decoys."""
    amounts = [10] + [100_000_000] * 5 + [20_000_000, 3_000_000, 1_500_000, 1_000_000, 800_000]
    stream = [mv(1 + i, 0, "V", "T", a, after=i + 1) for i, a in enumerate(amounts)]
    stream += [mv(20 + i, 0, "T", f"HOP{i}", 1_000_000, 1, after=20 + i) for i in range(9)]
    stream += [mv(40 + i, 0, "T", f"BYSTANDER{i}", 100, 1, after=40 + i) for i in range(11)]
    opening = {"V": 600_000_000 * X, "T": 0} | {f"BYSTANDER{i}": 5_000 * X for i in range(11)}
    return stream, opening


def test_decoys_do_not_taint_bystanders_under_defaults() -> None:
    stream, opening = decoy_stream()
    assert sum(m.amount_micro for m in stream[:11]) == 526_300_010 * X
    tr = trace(stream, [THIEF], Thresholds(), opening)
    for i in range(9):
        assert held(tr, f"HOP{i}") == {m: 1_000_000 for m in Model}
    for i in range(11):
        assert tr.account(f"BYSTANDER{i}") is None
    decoys = [t for t in tr.transfers() if t.movement.recipient.startswith("BYSTANDER")]
    assert len(decoys) == 11 and all(t.left == frozenset(Model) for t in decoys)
    assert all(t.of(F) == 100 * X for t in decoys)  # still shown tainted on the transfer
    assert {t.model: t.left_micro for t in tr.totals()}[F] == 1_100 * X
    assert tr.check_conservation() == ()
    # Pure poison (no threshold) blacklists every bystander's whole balance.
    pure = trace(stream, [THIEF], Thresholds.none(), opening)
    for i in range(11):
        assert held(pure, f"BYSTANDER{i}")[P] == 5_100
        assert pure.account(f"BYSTANDER{i}").of(P).hop == 1  # type: ignore[union-attr]
    assert pure.check_conservation() == ()


def test_min_percent_stops_haircut_diffusion_but_not_poison() -> None:
    # A holds 1,000,000 clean and gets 5,000 tainted; it pays C 200,000: 0.5 % tainted.
    stream = [mv(1, 0, "V", "T", 5_000), mv(2, 0, "T", "A", 5_000), mv(3, 0, "A", "C", 200_000)]
    opening = {"V": 10_000 * X, "A": 1_000_000 * X}
    tr = trace(stream, [THIEF], Thresholds(min_micro=0, min_ppm=10_000), opening)
    c = tr.account("C")
    assert c is not None and c.of(H) is None and c.of(P) is not None and c.of(U) is not None
    (hop,) = [t for t in tr.transfers() if t.movement.recipient == "C"]
    assert hop.of(H) == 995_024_876 and H in hop.left  # 200,000 * 5,000 / 1,005,000, rounded up
    assert tr.check_conservation() == ()


def test_max_hops_and_ignore_list() -> None:
    stream = [mv(1, 0, "V", "T", 5_000)] + [
        mv(2 + i, 0, a, b, 4_000 - 1_000 * i) for i, (a, b) in enumerate([("T", "A"), ("A", "B"), ("B", "C")])
    ] + [mv(9, 0, "A", "EXCHANGE", 500)]
    tr = trace(stream, [THIEF], Thresholds(min_micro=0, max_hops=2, ignore=frozenset({"EXCHANGE"})), {"V": 9_000 * X})
    assert tr.account("B") is not None and tr.account("B").of(F).hop == 2  # type: ignore[union-attr]
    assert tr.account("C") is None  # three hops away
    assert tr.account("EXCHANGE") is None
    (deposit,) = [t for t in tr.transfers() if t.movement.recipient == "EXCHANGE"]
    assert deposit.of(F) == 500 * X and deposit.left == frozenset(Model)
    assert tr.check_conservation() == ()


def test_unknown_opening_balance_is_topped_up_as_older_clean_funds() -> None:
    # A's balance is not known; it gets 10 tainted and spends 25: 15 it had that the stream
    # never showed. FIFO takes the unseen (older) 15 first, then 10 tainted.
    stream = [mv(1, 0, "V", "T", 10), mv(2, 0, "T", "A", 10), mv(3, 0, "A", "B", 25)]
    tr = trace(stream, [THIEF], Thresholds.none(), {"V": 100 * X})
    a = tr.account("A")
    assert a is not None and not a.balance_known and a.unseen_inflow_micro == 15 * X
    assert held(tr, "B")[F] == 10 and held(tr, "B")[H] == 10
    v = trace(stream, [THIEF], Thresholds.none(), {"V": 100 * X, "A": 0})
    assert v.account("A").balance_known  # type: ignore[union-attr]
    assert tr.check_conservation() == ()


def test_fee_only_and_self_transfers_keep_the_books() -> None:
    stream = [mv(1, 0, "V", "T", 100), mv(2, 0, "T", "", 0, 2), mv(3, 0, "T", "T", 50, 1), mv(4, 0, "T", "A", 10)]
    tr = trace(stream, [THIEF], Thresholds.none(), {"V": 500 * X, "A": 90 * X})
    assert held(tr, "T") == {m: 87 for m in Model}
    assert {t.model: t.burned_micro for t in tr.totals()} == {m: 3 * X for m in Model}
    assert held(tr, "A")[H] == 10 and held(tr, "A")[P] == 100
    assert tr.check_conservation() == ()
