"""The garbage collector's full passes wait for a quiet moment (tui/gc_idle.py)."""

from __future__ import annotations

import gc

from nemwatch.tui.gc_idle import OUT_OF_REACH, IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def collector(clock: Clock, pending: list[int]) -> tuple[IdleCollector, list[float]]:
    ran: list[float] = []

    def collect() -> None:
        ran.append(clock.now)
        pending[0] = 0

    return IdleCollector(quiet=1.0, at_most=60.0, clock=clock, collect=collect, pending=lambda: pending[0]), ran


def test_full_pass_waits_for_quiet_input() -> None:
    clock, pending = Clock(), [3]
    idle, ran = collector(clock, pending)
    idle.touch()
    clock.now += 0.5
    assert not idle.tick() and ran == []  # a key half a second ago: not now
    clock.now += 0.6
    assert idle.tick() and ran == [101.1]
    assert idle.full_passes == 1
    clock.now += 5
    assert not idle.tick()  # nothing reached the oldest generation since: no pass
    assert ran == [101.1]


def test_full_pass_runs_when_overdue_even_while_keys_come() -> None:
    clock, pending = Clock(), [0]
    idle, ran = collector(clock, pending)
    for _ in range(120):  # a key every half second for a minute
        clock.now += 0.5
        idle.touch()
        pending[0] += 1
        idle.tick()
    assert len(ran) == 1 and 159.5 <= ran[0] <= 160.5  # at most one pass a minute, at the minute


def test_start_puts_full_passes_out_of_reach_and_close_restores() -> None:
    before = gc.get_threshold()
    idle = IdleCollector()
    try:
        idle.start()
        assert gc.get_threshold()[2] == OUT_OF_REACH
        assert gc.get_threshold()[:2] == before[:2]  # the young generations as they were
        idle.start()  # twice: still restores the original
    finally:
        idle.close()
    assert gc.get_threshold() == before


def test_real_collection_runs_through_tick() -> None:
    idle = IdleCollector(quiet=0.0)
    try:
        idle.start()
        for _ in range(5):
            a: list[object] = []
            a.append(a)  # a reference cycle for the collector
            gc.collect(1)  # moves the count of the oldest generation on
        assert gc.get_count()[2] > 0
        assert idle.tick()
        assert gc.get_count()[2] == 0
    finally:
        idle.close()
