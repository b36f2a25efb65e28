"""Price alert rules (pure): thresholds with hysteresis, moves over a window, VWAP crossings, staleness.

Each rule is a small state machine fed one ``PriceObservation`` at a time; it emits an
``Alert`` only when its state changes, so a price wobbling around a threshold cannot flap:

- ``above`` X: FIRING when the price reaches X; RESOLVED only once it falls below
  X * (1 - h/100). ``below`` X mirrors it.
- ``move_pct`` V over W minutes: the change from the price W minutes earlier. V > 0 watches a
  move of V % either way; V < 0 watches falls only (the 2018 fall from 120 to under 80 JPY is
  about -33 %). FIRING when the change reaches V; RESOLVED when it is back within
  |V| * (1 - h/100).
- ``cross_vwap`` over W minutes (default 1440): one FIRING alert per crossing of the rolling
  VWAP, counted only once the price is more than h % beyond it (a crossing is an event, it
  never resolves).
- ``stale``: FIRING when no fresh price has been seen for W minutes (default: the feed's
  staleness limit), with "every provider down" when that is the cause; RESOLVED when
  a fresh price returns.

``h`` is ``hysteresis_pct``. Alert ids come from ``make_alert_id`` over the rule, its
parameters and the time the episode started, so the same data always gives the same ids.
Threshold rules only look at fresh prices.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
from nemwatch.core.models import PriceTick
from nemwatch.core.price.valuation import is_fresh

RULE_NAMES = {
    "above": "price_above",
    "below": "price_below",
    "move_pct": "price_move",
    "cross_vwap": "price_cross_vwap",
    "stale": "price_stale",
}
SEVERITIES = {
    "above": Severity.WARNING,
    "below": Severity.WARNING,
    "move_pct": Severity.CRITICAL,
    "cross_vwap": Severity.INFO,
    "stale": Severity.WARNING,
}
DEFAULT_VWAP_WINDOW = 1440
HUNDRED = Decimal(100)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


@dataclass(frozen=True, slots=True)
class PriceRule:
    kind: str
    value: Decimal | None = None
    window_minutes: int | None = None
    hysteresis_pct: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if self.kind not in RULE_NAMES:
            raise ValueError(f"unknown price rule kind {self.kind!r}; known: {', '.join(RULE_NAMES)}")
        if not Decimal(0) <= self.hysteresis_pct < HUNDRED:
            raise ValueError("hysteresis_pct must be in [0, 100)")
        if self.kind in ("above", "below") and (self.value is None or self.value <= 0):
            raise ValueError(f"a {self.kind} rule needs a positive value (JPY)")
        if self.kind == "move_pct":
            if self.value is None or self.value == 0 or self.value <= -HUNDRED:
                raise ValueError("a move_pct rule needs a non-zero value above -100 (percent)")
            if not self.window_minutes or self.window_minutes <= 0:
                raise ValueError("a move_pct rule needs window_minutes")
        if self.window_minutes is not None and self.window_minutes <= 0:
            raise ValueError("window_minutes must be positive")

    @property
    def rule(self) -> str:
        return RULE_NAMES[self.kind]

    @property
    def vwap_window(self) -> int:
        return self.window_minutes or DEFAULT_VWAP_WINDOW

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}:{self.window_minutes}:{self.hysteresis_pct}"

    @classmethod
    def from_config(cls, obj: Any) -> PriceRule:
        """From a ``[[price.alert]]`` entry (an object with attributes, or a dict)."""
        get = obj.get if isinstance(obj, Mapping) else lambda k, d=None: getattr(obj, k, d)
        value = get("value")
        hysteresis = get("hysteresis_pct")
        return cls(
            kind=str(get("kind")),
            value=None if value is None else Decimal(str(value)),
            window_minutes=get("window_minutes"),
            hysteresis_pct=Decimal(1) if hysteresis is None else Decimal(str(hysteresis)),
        )


@dataclass(frozen=True, slots=True)
class PriceObservation:
    now: datetime
    tick: PriceTick | None
    vwaps: Mapping[int, Decimal] = field(default_factory=dict)  # window minutes -> VWAP
    all_down: bool = False


@dataclass
class _RuleState:
    firing_since: datetime | None = None
    side: int = 0  # cross_vwap: +1 above, -1 below, 0 unknown
    crossings: int = 0


class PriceRules:
    """Evaluates price rules over successive observations; keeps only what the rules need."""

    def __init__(
        self,
        rules: Iterable[PriceRule],
        *,
        network: str = "mainnet",
        stale_after: timedelta = timedelta(minutes=5),
        label: str = "XEM/JPY",
    ) -> None:
        self.rules = list(rules)
        self.network = str(getattr(network, "value", network))  # a Network enum or its value
        self.stale_after = stale_after
        self.label = label
        self.states = [_RuleState() for _ in self.rules]
        self.history: deque[tuple[datetime, Decimal]] = deque()
        self._last_fresh: datetime | None = None
        windows = [r.window_minutes or 0 for r in self.rules if r.kind == "move_pct"]
        self.max_window = timedelta(minutes=max(windows, default=0))

    def vwap_windows(self) -> set[int]:
        """The VWAP windows (minutes) the caller must supply in ``PriceObservation.vwaps``."""
        return {r.vwap_window for r in self.rules if r.kind == "cross_vwap"}

    def prime(self, points: Iterable[tuple[datetime, Decimal]]) -> None:
        """Seed the price history (from stored ticks or candles) so moves are seen at once."""
        for at, price in sorted(points):
            self._remember(at, price)

    def _remember(self, at: datetime, price: Decimal) -> None:
        if self.history and at <= self.history[-1][0]:
            return
        self.history.append((at, price))
        cutoff = at - self.max_window
        while len(self.history) >= 2 and self.history[1][0] <= cutoff:
            self.history.popleft()

    def _price_at_or_before(self, when: datetime) -> tuple[datetime, Decimal] | None:
        found = None
        for at, price in self.history:
            if at > when:
                break
            found = (at, price)
        return found

    def evaluate(self, obs: PriceObservation) -> list[Alert]:
        tick = obs.tick
        fresh_tick = tick if tick is not None and is_fresh(tick, obs.now, self.stale_after) else None
        if fresh_tick is not None:
            self._remember(fresh_tick.at, fresh_tick.price)
            self._last_fresh = fresh_tick.at
        alerts: list[Alert] = []
        for rule, state in zip(self.rules, self.states, strict=True):
            if rule.kind == "stale":
                alerts.extend(self._stale(rule, state, obs))
            elif fresh_tick is None:
                continue
            elif rule.kind in ("above", "below"):
                alerts.extend(self._threshold(rule, state, fresh_tick, obs.now))
            elif rule.kind == "move_pct":
                alerts.extend(self._move(rule, state, fresh_tick, obs.now))
            else:
                alerts.extend(self._cross(rule, state, fresh_tick, obs))
        return alerts

    # -- rule kinds ----------------------------------------------------------------------
    def _alert(
        self, rule: PriceRule, stage: Stage, started: datetime, now: datetime, summary: str,
        tick: PriceTick | None, extra: dict[str, Any],
    ) -> Alert:
        key = f"{rule.key}@{_iso(started)}"
        return Alert(
            alert_id=make_alert_id(self.network, rule.rule, key, stage),
            rule=rule.rule,
            stage=stage,
            severity=SEVERITIES[rule.kind] if stage is Stage.FIRING else Severity.INFO,
            detected_at=now,
            summary=summary,
            price_jpy=tick.price if tick else None,
            price_source=tick.source if tick else None,
            extra=tuple(extra.items()),
        )

    def _threshold(self, rule: PriceRule, state: _RuleState, tick: PriceTick, now: datetime) -> list[Alert]:
        assert rule.value is not None
        band = rule.value * rule.hysteresis_pct / HUNDRED
        above = rule.kind == "above"
        price = tick.price
        extra = {"threshold": str(rule.value), "hysteresis_pct": str(rule.hysteresis_pct)}
        if state.firing_since is None:
            if (price >= rule.value) if above else (price <= rule.value):
                state.firing_since = tick.at
                word = "at or above" if above else "at or below"
                text = f"{self.label} {price} {word} {rule.value} ({tick.source})"
                return [self._alert(rule, Stage.FIRING, tick.at, now, text, tick, extra)]
            return []
        if (price < rule.value - band) if above else (price > rule.value + band):
            started, state.firing_since = state.firing_since, None
            word = "back below" if above else "back above"
            text = f"{self.label} {price} {word} {rule.value} ({tick.source})"
            return [self._alert(rule, Stage.RESOLVED, started, now, text, tick, extra)]
        return []

    def _move(self, rule: PriceRule, state: _RuleState, tick: PriceTick, now: datetime) -> list[Alert]:
        assert rule.value is not None and rule.window_minutes
        reference = self._price_at_or_before(tick.at - timedelta(minutes=rule.window_minutes))
        if reference is None:
            return []
        ref_at, ref_price = reference
        change = (tick.price - ref_price) / ref_price * HUNDRED
        target = rule.value
        release = target * (HUNDRED - rule.hysteresis_pct) / HUNDRED
        either_way = target > 0
        hit = abs(change) >= target if either_way else change <= target
        extra = {
            "threshold_pct": str(target),
            "change_pct": _pct(change),
            "window_minutes": rule.window_minutes,
            "reference_price": str(ref_price),
            "reference_at": _iso(ref_at),
        }
        verb = "fell" if change < 0 else "rose"
        text = (
            f"{self.label} {verb} {_pct(abs(change))}% in {rule.window_minutes} min: "
            f"{ref_price} -> {tick.price} ({tick.source})"
        )
        if state.firing_since is None:
            if hit:
                state.firing_since = tick.at
                return [self._alert(rule, Stage.FIRING, tick.at, now, text, tick, extra)]
            return []
        back = abs(change) < release if either_way else change > release
        if back:
            started, state.firing_since = state.firing_since, None
            return [self._alert(rule, Stage.RESOLVED, started, now, text, tick, extra)]
        return []

    def _cross(self, rule: PriceRule, state: _RuleState, tick: PriceTick, obs: PriceObservation) -> list[Alert]:
        vwap = obs.vwaps.get(rule.vwap_window)
        if vwap is None or vwap <= 0:
            return []
        band = vwap * rule.hysteresis_pct / HUNDRED
        side = 1 if tick.price > vwap + band else (-1 if tick.price < vwap - band else 0)
        if side == 0 or side == state.side:
            return []
        previous, state.side = state.side, side
        if previous == 0:  # the first clear side is where we start, not a crossing
            return []
        state.crossings += 1
        direction = "above" if side > 0 else "below"
        text = (
            f"{self.label} {tick.price} crossed {direction} the {rule.vwap_window} min VWAP {vwap} ({tick.source})"
        )
        extra = {"vwap": str(vwap), "window_minutes": rule.vwap_window, "direction": direction}
        return [self._alert(rule, Stage.FIRING, tick.at, obs.now, text, tick, extra)]

    def _stale(self, rule: PriceRule, state: _RuleState, obs: PriceObservation) -> list[Alert]:
        limit = timedelta(minutes=rule.window_minutes) if rule.window_minutes else self.stale_after
        tick = obs.tick
        fresh = tick is not None and obs.now - tick.at <= limit
        if state.firing_since is None and not fresh:
            state.firing_since = obs.now
            if obs.all_down:
                text = f"no {self.label} price: every price provider is down"
            elif tick is None:
                text = f"no {self.label} price yet"
            else:
                text = f"{self.label} price stale: last {tick.price} from {tick.source} at {_iso(tick.at)}"
            extra = {"stale_after_seconds": int(limit.total_seconds()), "all_down": obs.all_down}
            return [self._alert(rule, Stage.FIRING, obs.now, obs.now, text, None, extra)]
        if state.firing_since is not None and fresh:
            assert tick is not None
            started, state.firing_since = state.firing_since, None
            text = f"{self.label} price fresh again: {tick.price} ({tick.source})"
            extra = {"stale_after_seconds": int(limit.total_seconds()), "all_down": False}
            return [self._alert(rule, Stage.RESOLVED, started, obs.now, text, tick, extra)]
        return []
