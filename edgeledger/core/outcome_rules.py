"""The outcome rules: how a signal becomes WIN, LOSS or EXPIRED against price bars.

Pure: the caller passes the terms, the bars and the as-of time, and gets an `Outcome`
re-derived from scratch, so any stored outcome can be checked by running this again.
docs/outcome-rules.md states the rules in words with a worked example for each case.

Internally a short is walked as a long on negated prices (entry, stop, targets and every
open/close negated, high and low swapped and negated): the rules are exact mirrors, so one
code path serves both directions and negation of floats is exact.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

import numpy as np

from edgeledger.core.bars import INTERVALS, BarSeries, from_epoch_us, merge_spans, to_epoch_us
from edgeledger.core.markets import bar_spans
from edgeledger.core.model import (
    OUTCOME_FIELDS,
    Direction,
    EventKind,
    ExitReason,
    NewSignal,
    Outcome,
    Status,
)

__all__ = [
    "INTERVALS",
    "BarSeries",
    "PreparedBars",
    "SignalTerms",
    "resolve_signal",
    "transition_events",
]

_PENDING, _OPEN, _WATCH, _DONE = range(4)  # _WATCH: won, still watching for target2
_DECIMAL = Context(prec=28, rounding=ROUND_HALF_EVEN)  # immune to the caller's context
_FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class SignalTerms:
    """What the outcome rules need from a signal. Prices are floats, like the bars."""

    trade_id: str
    direction: Direction
    entry: float
    stop: float
    target: float
    target2: float | None
    created_at: datetime
    expires_at: datetime
    created_us: int = field(init=False, repr=False, compare=False)
    expires_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Set without the frozen check: a run builds one of these for every open signal.
        put = object.__setattr__
        e = _finite_price(self, "entry", self.entry)
        s = _finite_price(self, "stop", self.stop)
        t = _finite_price(self, "target", self.target)
        put(self, "entry", e)
        put(self, "stop", s)
        put(self, "target", t)
        if self.target2 is not None:
            put(self, "target2", _finite_price(self, "target2", self.target2))
        if not isinstance(self.direction, Direction):
            put(self, "direction", Direction(self.direction))
        # in epoch µs, as the bars are (this also rejects naive datetimes)
        put(self, "created_us", to_epoch_us(self.created_at))
        put(self, "expires_us", to_epoch_us(self.expires_at))
        if self.direction is Direction.LONG and not s < e < t:
            raise ValueError(f"{self.trade_id}: a long signal needs stop < entry < target")
        if self.direction is Direction.SHORT and not t < e < s:
            raise ValueError(f"{self.trade_id}: a short signal needs target < entry < stop")

    @classmethod
    def from_signal(cls, signal: NewSignal, trade_id: str | None = None) -> SignalTerms:
        """Terms of a validated signal (its Decimal prices become floats, losslessly for
        prices written with up to 15 significant digits)."""
        return cls(
            trade_id=trade_id or signal.trade_id or "",
            direction=signal.direction,
            entry=float(signal.entry),
            stop=float(signal.stop),
            target=float(signal.target),
            target2=None if signal.target2 is None else float(signal.target2),
            created_at=signal.created_at,
            expires_at=signal.expires_at,
        )


def _finite_price(terms: SignalTerms, name: str, value: float | Decimal) -> float:
    number = float(value)  # accepts Decimal: Decimal("181.2") -> 181.2
    if not math.isfinite(number):
        raise ValueError(f"{terms.trade_id}: {name} is not a finite price")
    return number


class _Level:
    """One interval's bars as a walk reads them: Python lists, which a per-bar loop reads
    several times faster than numpy arrays. Prices are normalized (a short's are mirrored).

    `ends` are where each bar ends on its market (a session close can cut a bar short; a
    daily bar is its session); `reach` is their running maximum, which a window bound is
    searched in, so the bars of a window are always a run of consecutive bars."""

    __slots__ = ("closes", "ends", "highs", "lows", "opens", "reach", "starts")

    def __init__(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        o: np.ndarray,
        h: np.ndarray,
        lw: np.ndarray,
        c: np.ndarray,
    ) -> None:
        self.starts: list[int] = starts.tolist()
        self.ends: list[int] = ends.tolist()
        self.reach: list[int] = np.maximum.accumulate(ends).tolist() if len(ends) else []
        self.opens: list[float] = o.tolist()
        self.highs: list[float] = h.tolist()
        self.lows: list[float] = lw.tolist()
        self.closes: list[float] = c.tolist()

    def mirrored(self) -> _Level:
        """The level as a short walks it: prices negated, high and low swapped."""
        mirror = _Level.__new__(_Level)
        mirror.starts, mirror.ends, mirror.reach = self.starts, self.ends, self.reach
        mirror.opens = [-x for x in self.opens]
        mirror.highs = [-x for x in self.lows]
        mirror.lows = [-x for x in self.highs]
        mirror.closes = [-x for x in self.closes]
        return mirror


class _Walk:
    """The state of one signal while its bars are walked (prices normalized to a long)."""

    __slots__ = (
        "ambiguous",
        "e",
        "exit_at",
        "exit_px",
        "fill",
        "hi_ex",
        "levels",
        "lo_ex",
        "prev",
        "s",
        "sign",
        "state",
        "t",
        "t2",
        "t2_hit",
        "trig_at",
        "won",
    )

    def __init__(self, levels: list[_Level], sign: int, terms: SignalTerms) -> None:
        self.levels = levels
        self.sign = sign
        self.e = sign * terms.entry
        self.s = sign * terms.stop
        self.t = sign * terms.target
        self.t2 = None if terms.target2 is None else sign * terms.target2
        self.state = _PENDING
        self.prev: float | None = None
        self.fill: float | None = None
        self.trig_at: int | None = None
        self.exit_px: float | None = None
        self.exit_at: int | None = None
        self.won = False
        self.ambiguous = False
        self.hi_ex = -math.inf  # best and worst prices from the trigger bar to the exit bar
        self.lo_ex = math.inf
        self.t2_hit: bool | None = None

    def run(self, depth: int, lo: int, hi: int) -> None:
        """Walk bars lo:hi of one level in time order, drilling into finer levels.

        Most bars change nothing: a PENDING signal's bar that neither touches nor gaps across
        the entry, an OPEN one's that reaches neither the stop nor the target. Such runs of
        quiet bars are skipped in tight loops; every other bar goes through the handlers.
        """
        level = self.levels[depth]
        opens, highs, lows, closes = level.opens, level.highs, level.lows, level.closes
        e, s, t = self.e, self.s, self.t
        i = lo
        while i < hi and self.state != _DONE:
            if self.state == _PENDING:
                prev = self.prev
                while i < hi:
                    o = opens[i]
                    if (prev is not None and (prev > e > o or prev < e < o)) or (
                        lows[i] <= e <= highs[i]
                    ):
                        break
                    prev = closes[i]
                    i += 1
                self.prev = prev
                if i == hi:
                    return
                o = opens[i]
                if prev is not None and (prev > e > o or prev < e < o):
                    self.trigger_bar(depth, i, o, o, highs[i], lows[i])  # gapped: at open
                else:
                    self.trigger_bar(depth, i, e, o, highs[i], lows[i])  # touched: at entry
            elif self.state == _OPEN:
                quiet = i
                while i < hi and lows[i] > s and highs[i] < t and s < opens[i] < t:
                    i += 1
                if i > quiet:
                    self.extend(max(highs[quiet:i]), min(lows[quiet:i]))
                    self.prev = closes[i - 1]
                if i == hi:
                    return
                self.open_bar(depth, i, opens[i], highs[i], lows[i])
            else:  # _WATCH
                self.watch_bar(depth, i, opens[i], highs[i], lows[i])
            self.prev = closes[i]
            i += 1

    def trigger_bar(self, depth: int, i: int, fill: float, o: float, h: float, lw: float) -> None:
        """Bar i, where a PENDING signal fills; prices after the fill are unordered."""
        s, t = self.s, self.t
        start = self.levels[depth].starts[i]
        if fill <= s:
            self.open_position(start, fill, h, lw)
            self.close(won=False, price=fill, at=start)
        elif fill >= t:  # only a gap fill at the open gets here: the bar's rest follows it
            self.open_position(start, fill, h, lw)
            self.close(won=True, price=fill, at=start)
            self.watch_bar(depth, i, o, h, lw)
        elif lw <= s or h >= t:
            if self.drill(depth, i, h, lw):
                return
            self.open_position(start, fill, h, lw)
            self.ambiguous = True
            if lw <= s:
                self.close(won=False, price=s, at=start)
            # reaching only the target leaves it OPEN: no credit on unordered prices
        else:
            self.open_position(start, fill, h, lw)

    def open_bar(self, depth: int, i: int, o: float, h: float, lw: float) -> None:
        """An OPEN bar that reaches the stop or the target (checked in the contract's order)."""
        s, t = self.s, self.t
        start = self.levels[depth].starts[i]
        if lw <= s and h >= t and s < o < t:
            if self.drill(depth, i, h, lw):
                return
            self.ambiguous = True
            self.extend(h, lw)
            self.close(won=False, price=s, at=start)
            return
        self.extend(h, lw)
        if o <= s:
            self.close(won=False, price=o, at=start)
        elif o >= t:
            self.close(won=True, price=o, at=start)
            self.watch_bar(depth, i, o, h, lw)
        elif lw <= s:
            self.close(won=False, price=s, at=start)
        else:
            self.close(won=True, price=t, at=start)
            self.watch_bar(depth, i, o, h, lw)  # h >= target2 here: reached after target

    def watch_bar(self, depth: int, i: int, o: float, h: float, lw: float) -> None:
        """After a WIN: did price reach target2 before the stop? (Also the exit bar's rest.)"""
        if self.state != _WATCH:
            return
        s, t2 = self.s, self.t2
        if o <= s:
            self.decide_t2(False)
        elif o >= t2:
            self.decide_t2(True)
        elif lw <= s and h >= t2:
            if not self.drill(depth, i, h, lw):
                self.decide_t2(False)  # order unknown: pessimistic
        elif lw <= s:
            self.decide_t2(False)
        elif h >= t2:
            self.decide_t2(True)

    def drill(self, depth: int, i: int, h: float, lw: float) -> bool:
        """Walk the next finer level's bars inside bar i in its place, if any cover it.

        Finer bars count as covering the bar only when they reach every level (entry,
        stop, target or target2) the bar itself reached, so an incomplete finer series
        never undoes what the coarse bar proves; the next finer level is tried instead.
        """
        coarse = self.levels[depth]
        start, end = coarse.starts[i], coarse.ends[i]
        for k in range(depth + 1, len(self.levels)):
            level = self.levels[k]
            lo = bisect_left(level.starts, start)
            hi = bisect_right(level.reach, end)
            if lo < hi and self.covers(k, lo, hi, h, lw):
                self.run(k, lo, hi)
                return True
        return False

    def covers(self, depth: int, lo: int, hi: int, h: float, lw: float) -> bool:
        """Do finer bars lo:hi reach what the coarse bar (high h, low lw) reached?"""
        level = self.levels[depth]  # normalized: a short's are mirrored
        fine_lo, fine_hi = min(level.lows[lo:hi]), max(level.highs[lo:hi])
        first_open = level.opens[lo]
        s = self.s
        target = self.t2 if self.state == _WATCH else self.t
        if (lw <= s and fine_lo > s) or (h >= target and fine_hi < target):
            return False
        if self.state == _PENDING:
            e, prev = self.e, self.prev
            gapped = prev is not None and (prev > e > first_open or prev < e < first_open)
            return gapped or fine_lo <= e <= fine_hi
        return True

    def open_position(self, start: int, fill: float, h: float, lw: float) -> None:
        self.state = _OPEN
        self.fill = fill
        self.trig_at = start
        self.hi_ex = h
        self.lo_ex = lw

    def extend(self, h: float, lw: float) -> None:
        self.hi_ex = max(self.hi_ex, h)
        self.lo_ex = min(self.lo_ex, lw)

    def close(self, *, won: bool, price: float, at: int) -> None:
        self.won = won
        self.exit_px = price
        self.exit_at = at
        self.state = _DONE
        if won and self.t2 is not None:
            if price >= self.t2:
                self.t2_hit = True
            else:
                self.state = _WATCH

    def decide_t2(self, hit: bool) -> None:
        self.t2_hit = hit
        self.state = _DONE


class PreparedBars:
    """One ticker's bars arranged for the walk once and shared by all its signals: the
    primary level, then every finer interval present, coarsest first; and the same levels
    mirrored for shorts (prices negated, high and low swapped), made on first use.

    `market` is the calendar the bars are read by (docs/outcome-rules.md): a daily bar is
    its session, an intraday bar ends at the session close when that comes first. Without
    one, every bar lasts its interval. `answered` are the spans the provider answered for
    at the primary interval (with bars or without): a signal that expires still PENDING
    with part of its window unanswered expires `no_data`, not `not_triggered`. None means
    every span was answered."""

    def __init__(
        self,
        bars: Mapping[str, BarSeries],
        primary: str,
        *,
        market: str | None = None,
        answered: Sequence[tuple[datetime, datetime]] | None = None,
    ) -> None:
        if primary not in INTERVALS:
            raise ValueError(f"unknown primary interval {primary!r}")
        if primary not in bars:
            raise ValueError(f"no {primary} bars given for the primary interval")
        chosen = []
        for interval, series in bars.items():
            if series.interval != interval:
                raise ValueError(f"bars under {interval!r} are {series.interval} bars")
            if interval == primary or INTERVALS[interval] < INTERVALS[primary]:
                chosen.append(series)
        chosen.sort(key=lambda series: INTERVALS[series.interval], reverse=True)
        self.primary = primary
        self.market = market
        self.answered = (
            None
            if answered is None
            else [(to_epoch_us(lo), to_epoch_us(hi)) for lo, hi in merge_spans(answered)]
        )
        self._long: list[_Level] = [
            _Level(*_spans(b, market), b.open, b.high, b.low, b.close) for b in chosen
        ]
        self._short: list[_Level] | None = None

    def answered_for(self, start_us: int, end_us: int) -> bool:
        """Did the provider answer for the whole of [start, end)?"""
        if self.answered is None:
            return True
        return any(lo <= start_us and end_us <= hi for lo, hi in self.answered)

    def levels(self, sign: int) -> list[_Level]:
        """The levels as a long walks them (sign 1) or as a short does (sign -1)."""
        if sign > 0:
            return self._long
        if self._short is None:
            self._short = [level.mirrored() for level in self._long]
        return self._short


def _spans(series: BarSeries, market: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Where each bar starts and ends as the rules read it on `market`."""
    if market is None:
        return series.starts, series.starts + series.duration_us
    return bar_spans(market, series.duration_us, series.interval == "1d", series.starts)


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


def _r(x: float, fill: float, risk: Decimal) -> Decimal:
    """R of price x against the fill, in normalized prices (so one formula for both sides)."""
    gain = _DECIMAL.subtract(_dec(x), _dec(fill))
    return _DECIMAL.divide(gain, risk).quantize(_FOUR_PLACES, context=_DECIMAL)


def resolve_signal(
    terms: SignalTerms,
    bars: Mapping[str, BarSeries] | PreparedBars,
    *,
    primary: str,
    as_of: datetime,
) -> Outcome:
    """The outcome of one signal at `as_of`, re-derived from `created_at` by the rules.

    `bars` holds one ticker's bars by interval (or the same, prepared once for many
    signals); `primary` is walked and finer intervals serve only to order prices inside an
    ambiguous bar. Bars from one bar before
    `created_at` (its close is the first "previous close") to min(expires_at, as_of) must
    be present; any others are ignored.
    """
    if not isinstance(bars, PreparedBars):
        bars = PreparedBars(bars, primary)
    elif bars.primary != primary:
        raise ValueError(f"bars were prepared for {bars.primary}, not {primary}")
    sign = 1 if terms.direction is Direction.LONG else -1
    levels = bars.levels(sign)
    walk = _Walk(levels, sign, terms)
    primary_level = levels[0]
    starts, closes = primary_level.starts, primary_level.closes
    as_of_us = to_epoch_us(as_of)
    window_end = min(terms.expires_us, as_of_us)
    lo = bisect_left(starts, terms.created_us)
    hi = max(lo, bisect_right(primary_level.reach, window_end))
    if lo > 0:
        walk.prev = closes[lo - 1]
    if lo < hi:
        walk.run(0, lo, hi)
    expired = as_of_us >= terms.expires_us
    unanswered = expired and not bars.answered_for(terms.created_us, terms.expires_us)
    if hi > lo:
        return _outcome(walk, expired, starts[hi - 1], closes[hi - 1], unanswered)
    return _outcome(walk, expired, None, None, unanswered)


def _outcome(
    walk: _Walk,
    expired: bool,
    last_start: int | None,
    last_close: float | None,
    unanswered: bool = False,
) -> Outcome:
    """Turn the walk's end state into the recorded fields (prices back in real sign)."""
    sign, has_t2 = walk.sign, walk.t2 is not None
    if walk.state == _PENDING:
        if not expired:
            return Outcome(status=Status.PENDING)
        if unanswered:  # never "not triggered" on prices that never came
            return Outcome(status=Status.EXPIRED, exit_reason=ExitReason.NO_DATA)
        return Outcome(
            status=Status.EXPIRED,
            exit_reason=ExitReason.NOT_TRIGGERED,
            target2_hit=False if has_t2 else None,
        )
    fill = walk.fill
    assert fill is not None and walk.trig_at is not None
    risk = _DECIMAL.subtract(_dec(walk.e), _dec(walk.s))
    mfe = max(_r(walk.hi_ex, fill, risk), Decimal("0.0000"))
    mae = min(_r(walk.lo_ex, fill, risk), Decimal("0.0000"))
    known = {
        "fill_price": _dec(sign * fill),
        "triggered_at": from_epoch_us(walk.trig_at),
        "ambiguous": walk.ambiguous,
        "mfe_r": mfe,
        "mae_r": mae,
    }
    if walk.state == _OPEN:
        if not expired:
            return Outcome(status=Status.OPEN, **known)
        assert last_start is not None and last_close is not None
        return Outcome(
            status=Status.EXPIRED,
            exit_price=_dec(sign * last_close),
            closed_at=from_epoch_us(last_start),
            exit_reason=ExitReason.TIMEOUT,
            r_achieved=_r(last_close, fill, risk),
            target2_hit=False if has_t2 else None,
            **known,
        )
    assert walk.exit_px is not None and walk.exit_at is not None
    if not has_t2:
        target2_hit = None
    elif walk.won:
        target2_hit = walk.t2_hit if walk.t2_hit is not None or not expired else False
    else:
        target2_hit = False
    return Outcome(
        status=Status.WIN if walk.won else Status.LOSS,
        exit_price=_dec(sign * walk.exit_px),
        closed_at=from_epoch_us(walk.exit_at),
        exit_reason=ExitReason.TARGET if walk.won else ExitReason.STOP,
        r_achieved=_r(walk.exit_px, fill, risk),
        target2_hit=target2_hit,
        **known,
    )


def _json(value: Any) -> Any:
    """Payload values the audit trail can store as JSON: ISO times, numbers as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Status | ExitReason):
        return value.value
    return value


_TRIGGER_FIELDS = ("fill_price", "triggered_at")
_RESOLVED_FIELDS = tuple(name for name in OUTCOME_FIELDS if name not in _TRIGGER_FIELDS)


def transition_events(before: Outcome, after: Outcome) -> list[tuple[EventKind, dict[str, Any]]]:
    """Events to append to the audit trail when a stored outcome is replaced by a new one.

    TRIGGERED when the fill first appears (or is corrected); RESOLVED when the outcome
    settles or a settled outcome's recorded fields change (e.g. target2 decided later, or a
    `no_data` expiry settled once its prices came); REOPENED when the rules, run again,
    leave a settled outcome unsettled.
    A running OPEN trade's MFE/MAE moving is not an event. CANCELLED is a person's
    decision that the rules never make or undo, so it produces no events here.
    """
    if Status.CANCELLED in (before.status, after.status):
        return []
    events: list[tuple[EventKind, dict[str, Any]]] = []
    if before.status.is_settled and not after.status.is_settled:
        reopened = {name: getattr(after, name) for name in OUTCOME_FIELDS}
        return [(EventKind.REOPENED, {k: _json(v) for k, v in reopened.items()})]
    trigger = {name: getattr(after, name) for name in _TRIGGER_FIELDS}
    if after.fill_price is not None and trigger != {
        name: getattr(before, name) for name in _TRIGGER_FIELDS
    }:
        events.append((EventKind.TRIGGERED, {k: _json(v) for k, v in trigger.items()}))
    if after.status.is_settled:
        resolved = {name: getattr(after, name) for name in _RESOLVED_FIELDS}
        if not before.status.is_settled or resolved != {
            name: getattr(before, name) for name in _RESOLVED_FIELDS
        }:
            events.append((EventKind.RESOLVED, {k: _json(v) for k, v in resolved.items()}))
    return events
