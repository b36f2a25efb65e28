"""The demo's pacing: single blocks around scheduled transactions, jumps through quiet stretches,
the same alerts either way; ``--until end`` is the last exchange arrival, settled."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from nemwatch import demo
from nemwatch.demo_pace import TAIL_BLOCKS, Pace, chase_end, transaction_times
from nemwatch.sim.plan import compile_scenario
from nemwatch.sim.scenario import Role
from nemwatch.sim.scenario_toml import load_scenario

JST = timedelta(hours=9)
T0 = datetime(2018, 1, 26, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_single_blocks_before_during_and_after_a_transaction() -> None:
    pace = Pace([T0 + 100 * MIN], 60, max_blocks=30, tail_blocks=3, guard=2 * MIN)
    assert pace.step(T0, T0 + 1000 * MIN).blocks == 30  # nothing in sight
    # a jump ends so that the next step starts two blocks (the guard) before the transaction
    now = T0 + 70 * MIN
    step = pace.step(now, T0 + 1000 * MIN)
    assert step.blocks == 27 and now + step.blocks * MIN + pace.guard < T0 + 100 * MIN
    for minute in (97, 98, 100, 101, 103):  # the guard, the transaction, its tail
        assert pace.step(T0 + minute * MIN, T0 + 1000 * MIN).blocks == 1, minute
    assert pace.step(T0 + 104 * MIN, T0 + 1000 * MIN).jump  # tail over


def test_a_jump_never_passes_until() -> None:
    pace = Pace([], 60, max_blocks=60)
    assert pace.step(T0, T0 + 10 * MIN).blocks == 10
    assert pace.step(T0, T0 + 90 * MIN).blocks == 60
    assert pace.step(T0 + 10 * MIN, T0 + 10 * MIN).blocks == 1
    assert pace.quiet_until(T0) is None


def test_bad_pace_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Pace([], 0)
    with pytest.raises(ValueError):
        Pace([], 60, max_blocks=0)


def test_the_2018_scenario_every_transaction_is_followed_block_by_block() -> None:
    compiled = compile_scenario(load_scenario("coincheck-2018"))
    pace = Pace.for_scenario(compiled)
    end = chase_end(compiled)
    times = transaction_times(compiled)
    now, singles, jumps = demo.DEFAULT_FROM, set(), 0
    while now < end:
        step = pace.step(now, end)
        if step.jump:
            jumps += 1
            inside = [t for t in times if now - pace.tail <= t <= now + step.blocks * MIN + pace.guard]
            assert not inside, (now, step)
        else:
            singles.add(now)
        now += step.blocks * MIN
    assert now == end
    assert jumps > 100 and len(singles) < 3000  # ~20,900 blocks in about 2,400 cycles
    for ts in times:  # every block from a transaction to its 20th confirmation is its own cycle
        if demo.DEFAULT_FROM < ts < end - pace.tail:
            first = demo.DEFAULT_FROM + ((ts - demo.DEFAULT_FROM) // MIN) * MIN
            assert all(first + k * MIN in singles for k in range(TAIL_BLOCKS)), ts


def test_chase_end_is_the_last_exchange_arrival_settled() -> None:
    compiled = compile_scenario(load_scenario("coincheck-2018"))
    end = chase_end(compiled)
    assert end == datetime(2018, 2, 9, 11, 59, tzinfo=UTC) - JST  # arrival 11:37, block 11:38, +21
    exchanges = set(compiled.by_role(Role.EXCHANGE))
    arrivals = [t for t in compiled.txs if t.recipient in exchanges and t.sender not in exchanges]
    last = max(arrivals, key=lambda t: t.ready)
    assert last.spec is not None and last.spec.at == datetime(2018, 2, 9, 11, 37, tzinfo=UTC) - JST
    assert any(t.ready > last.ready for t in compiled.txs)  # the sweep out of the exchange comes later
    assert demo.parse_until("end") == end and demo.parse_until(" END ") == end


async def test_jumps_raise_the_same_chain_alerts_as_single_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """From before the theft to after its last transfer (08:26, after quiet hours), the alerts
    the chain causes are the same, with the same detection times, whether quiet blocks pass one
    per engine cycle or in jumps."""
    start, until = demo.DEFAULT_FROM, datetime(2018, 1, 26, 9, 0, tzinfo=UTC) - JST
    original = Pace.for_scenario.__func__  # type: ignore[attr-defined]

    async def alerts(max_blocks: int) -> tuple[set[tuple[str, str, datetime]], int]:
        monkeypatch.setattr(Pace, "for_scenario", classmethod(
            lambda cls, compiled, **kw: original(cls, compiled, max_blocks=max_blocks)))
        report = await demo.play(out=io.StringIO(), speed=0, start=start, until=until, as_json=True)
        assert report.blocks == (until - start) // MIN
        chain = {(a.alert_id, a.stage.value, a.detected_at) for a in report.alerts if not a.rule.startswith("price")}
        return chain, report.cycles

    stepped, stepped_cycles = await alerts(1)
    jumped, jumped_cycles = await alerts(60)
    assert stepped and stepped == jumped
    assert jumped_cycles < stepped_cycles // 2


async def test_text_output_names_the_quiet_stretches() -> None:
    out = io.StringIO()
    await demo.play(out=out, speed=0, start=datetime(2018, 1, 26, 19, 0, tzinfo=UTC) - JST,
                    until=datetime(2018, 1, 27, 9, 0, tzinfo=UTC) - JST)
    text = out.getvalue()
    assert "nothing scheduled for" in text and "blocks per engine cycle" in text
