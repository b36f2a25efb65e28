"""The incremental taint API: per-block changes, rollbacks, conservation alerts, adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from nemwatch.core.models import Block, ProvisionNamespace, Transfer
from nemwatch.core.taint.adapt import movements_of_block, sources_of, thresholds_of
from nemwatch.core.taint.inputs import Model, Movement, TaintSource, Thresholds
from nemwatch.core.taint.tracker import TaintTracker, trace
from nemwatch.core.taint.view import account_taint

X = 1_000_000
T0 = datetime(2018, 1, 25, 15, 2, 13, tzinfo=UTC)
THIEF = TaintSource("T", T0, "thief", victim="V")
OPENING = {"V": 10_000 * X, "A": 500 * X, "B": 0, "C": 0, "D": 0, "T": 0}


def mv(height: int, index: int, sender: str, recipient: str, xem: int, fee_xem: int = 1) -> Movement:
    return Movement(height, index, f"{sender}{recipient}{height}.{index}", sender, recipient,
                    xem * X, fee_xem * X, T0 + timedelta(minutes=height))


def blocks(stream: list[Movement]) -> dict[int, list[Movement]]:
    out: dict[int, list[Movement]] = {}
    for m in stream:
        out.setdefault(m.height, []).append(m)
    return out


MAIN = [mv(1, 0, "V", "T", 3_000), mv(2, 0, "T", "A", 2_000), mv(3, 0, "A", "B", 1_500),
        mv(4, 0, "B", "C", 1_200), mv(5, 0, "T", "D", 900), mv(6, 0, "C", "D", 1_100)]


def snapshot(tr: TaintTracker) -> list[object]:
    led = tr.ledger
    return sorted((account_taint(led, led.ids[a.address]) for a in tr.accounts()), key=lambda a: a.address)


def test_each_block_reports_new_accounts_and_moves() -> None:
    tr = TaintTracker([THIEF], Thresholds(), OPENING)
    first = tr.apply_block(1, [MAIN[0]], at=MAIN[0].timestamp)
    assert {(n.address, n.model, n.hop) for n in first.new_accounts} == {("T", m, 0) for m in Model}
    assert [t.seeded for t in first.moves] == [True]
    second = tr.apply_block(2, [MAIN[1]])
    new = {n.model: n for n in second.new_accounts}
    assert set(new) == set(Model) and {n.address for n in new.values()} == {"A"}
    assert new[Model.FIFO].tainted_micro == 2_000 * X and new[Model.FIFO].hop == 1
    assert new[Model.FIFO].movement == MAIN[1]
    (move,) = second.moves
    assert move.of(Model.HAIRCUT) == 2_000 * X
    assert tr.apply_block(3, []).moves == ()
    with pytest.raises(ValueError, match="roll back first"):
        tr.apply_block(3, [])


def test_rollback_untaints_the_retracted_hop_and_what_followed() -> None:
    by_height = blocks(MAIN)
    tr = TaintTracker([THIEF], Thresholds(min_micro=0), OPENING, checkpoint_every=2)
    for h in range(1, 7):
        tr.apply_block(h, by_height[h])
    assert tr.account("C") is not None and tr.account("D") is not None
    undone = tr.rollback(3)  # blocks 3..6 are retracted: A -> B and all after it
    assert undone.retracted and {n.address for n in undone.new_accounts} == {"B", "C", "D"}
    assert [t.movement.height for t in undone.moves] == [3, 4, 5, 6]
    for gone in ("B", "C", "D"):
        assert tr.account(gone) is None
    assert snapshot(tr) == snapshot(trace(MAIN[:2], [THIEF], Thresholds(min_micro=0), OPENING))
    # The fork's own blocks: A pays C directly instead.
    fork = [mv(3, 0, "A", "C", 700), mv(4, 0, "C", "B", 100)]
    for m in fork:
        tr.apply_block(m.height, [m])
    expected = trace(MAIN[:2] + fork, [THIEF], Thresholds(min_micro=0), OPENING)
    assert snapshot(tr) == snapshot(expected)
    assert tr.account("C").of(Model.FIFO).first_height == 3  # type: ignore[union-attr]
    assert tr.check_conservation() == ()


def test_rollback_beyond_what_is_kept_is_refused() -> None:
    tr = TaintTracker([THIEF], Thresholds(), OPENING, checkpoint_every=2, keep_blocks=4)
    for h in range(1, 21):
        tr.apply_block(h, [mv(h, 0, "V", "T", 10)])
    tr.rollback(17)  # 4 blocks retracted: within reach
    assert tr.height == 16
    with pytest.raises(ValueError, match="deeper"):
        tr.rollback(12)
    assert len(tr.transfers()) == 16


def test_conservation_reports_a_missed_hop_through_observed_balances() -> None:
    # The stream misses A's payment of 400 to E (a paging gap): A's taint at rest is overstated.
    tr = trace(MAIN[:2], [THIEF], Thresholds(), OPENING)
    assert tr.check_conservation({"A": 2_500 * X}) == ()
    (violation,) = tr.check_conservation({"A": 2_099 * X})
    assert violation.kind == "balance_mismatch" and violation.address == "A"
    assert violation.remainder_micro == 401 * X
    # A broken book (taint counted as left twice) is a remainder under that model.
    tr.ledger.left[2] += 5
    (broken,) = tr.check_conservation()
    assert broken.kind == "remainder" and broken.model is Model.FIFO and broken.remainder_micro == -5
    assert "remainder under fifo" in broken.describe()


def _transfer(sender: str, recipient: str, xem: int, initiator: str | None, ident: str) -> Transfer:
    return Transfer(
        hash="outer" + ident if initiator else ident, inner_hash=ident if initiator else None, height=7,
        meta_id=None, sender=sender, sender_public_key="00" * 32, initiator=initiator, fee=3 * 150_000,
        nem_timestamp=0, timestamp=T0 + timedelta(hours=1), deadline=0, version=1, signature=None,
        recipient=recipient, amount=xem, xem=xem,
    )


def test_multisig_transfer_debits_the_multisig_account_not_the_cosigner() -> None:
    ns = ProvisionNamespace(
        hash="ns", inner_hash=None, height=7, meta_id=None, sender="M", sender_public_key="00" * 32,
        initiator=None, fee=150_000, nem_timestamp=0, timestamp=T0 + timedelta(hours=1), deadline=0,
        version=1, signature=None, rental_fee_sink="SINK", rental_fee=100 * X, new_part="x",
    )
    block = Block(7, 0, T0 + timedelta(hours=1), "00" * 32, "HARVESTER", "00" * 32, "00" * 64, 1, 1,
                  (_transfer("M", "E", 2_000 * X, "COSIGNER", "inner1"), ns))
    moves = movements_of_block(block)
    assert moves[0] == Movement(7, 0, "inner1", "M", "E", 2_000 * X, 450_000, block.transactions[0].timestamp)
    assert moves[1][3:7] == ("M", "SINK", 100 * X, 150_000)
    source = TaintSource("M", T0)  # the multisig account itself holds stolen funds
    tr = trace(moves, [source], Thresholds(), {"M": 3_000 * X, "COSIGNER": 50 * X})
    assert tr.account("COSIGNER") is None
    e = tr.account("E")
    assert e is not None and e.tainted_micro(Model.FIFO) == 2_000 * X
    assert e.of(Model.HAIRCUT).first_identity == "inner1"  # type: ignore[union-attr]
    assert tr.account("M").balance_micro == 3_000 * X - 2_100 * X - 600_000  # type: ignore[union-attr]


def test_config_values_become_sources_and_thresholds() -> None:
    src = SimpleNamespace(address="T", label="thief", since=T0, victim="V")
    cfg = SimpleNamespace(min_micro=1000 * X, min_percent=Decimal("0.5"), max_hops=12, ignore=("EX",), sources=(src,))
    assert sources_of(cfg) == (THIEF,)
    assert thresholds_of(cfg) == Thresholds(1000 * X, 5_000, 12, frozenset({"EX"}))
