"""The garbage collector's full passes, run while the dashboard is idle instead of during a key.

CPython runs a collection of its oldest generation after every ten collections of the middle
one, wherever the program is: in the dashboard that landed inside a key press now and then and
added 10-45 ms to it (the heap holds thousands of watched accounts, their last movements, the
tables' render caches). Start-up's objects are frozen after the first frame (``gc.freeze``), so
a full pass scans only what the dashboard made since; this module takes the full passes off
the key path: while it runs, the oldest generation is never collected on its own (its
threshold is out of reach), and ``tick`` (called every ``every`` seconds by a timer) collects it
once no input came for ``quiet`` seconds, or after ``at_most`` seconds whatever the input did,
so memory held in reference cycles is always given back. The young generations are collected
as usual (0.2-2 ms each). ``close`` puts the thresholds back as they were.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

OUT_OF_REACH = 1_000_000  # gen-1 collections before CPython would run a full pass by itself


class IdleCollector:
    def __init__(
        self,
        *,
        quiet: float = 1.0,
        at_most: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        collect: Callable[[], object] = lambda: gc.collect(2),
        pending: Callable[[], int] = lambda: gc.get_count()[2],
    ) -> None:
        self.quiet = quiet
        self.at_most = at_most
        self.clock = clock
        self._collect = collect
        self._pending = pending
        self.last_input = clock()
        self.last_full = clock()
        self.full_passes = 0
        self._saved: tuple[int, ...] | None = None

    def start(self) -> None:
        """Keep CPython from running full passes on its own (until ``close``)."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle = self._saved[0], self._saved[1] if len(self._saved) > 1 else 10
            gc.set_threshold(young, middle, OUT_OF_REACH)

    def close(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def touch(self) -> None:
        """Input arrived (a key, the mouse): a full pass waits until it has been quiet a while."""
        self.last_input = self.clock()

    def tick(self) -> bool:
        """Run a full pass if one is due; True when it ran."""
        now = self.clock()
        if self._pending() <= 0:  # nothing reached the oldest generation since the last pass
            self.last_full = now
            return False
        quiet = now - self.last_input >= self.quiet
        overdue = now - self.last_full >= self.at_most
        if not (quiet or overdue):
            return False
        self._collect()
        self.last_full = self.clock()
        self.full_passes += 1
        return True
