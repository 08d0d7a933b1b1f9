"""The rules `base.normalize_bars` applies, over plain numpy columns.

A request brings 10-200 bars, and pandas costs tens of microseconds a call whatever the
size: eight mask-and-copy passes, a calendar query and a sort made the clean-up about
6 ms a request, several times the HTTP round trip. Here a rule is one numpy expression
over whole columns, starts are int64 epoch nanoseconds, and sessions are searched in the
market's session arrays. Every rule is row-wise and positional, so applying them all at once gives
what applying them one after another to a shrinking frame gave.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import reduce

import numpy as np
import pandas as pd

from edgeledger.core import markets

NAT = np.iinfo(np.int64).min  # how pandas stores NaT in int64

# Checked in order; a bar is dropped for the first rule it breaks.
REASONS: tuple[str, ...] = (
    "missing timestamp",
    "unreadable timestamp",
    "timestamp out of range",  # outside FIRST_START..LAST_START
    "all prices missing",
    "some prices missing",
    "price not finite",
    "zero or negative price",
    "price out of range",  # below MIN_PRICE or from MAX_PRICE up, once rounded
    "high below low",
    "open or close outside [low, high]",
    "negative or infinite volume",
    "volume out of range",  # from MAX_VOLUME up
)
GOOD = -1  # the reason code of a bar that breaks no rule
DUPLICATE = "duplicate timestamp (kept the last)"
INT64_MAX = np.iinfo(np.int64).max
# What price_bars holds (sql/0002): prices in numeric(20, 8), above zero; volume in
# numeric(24, 4). Bars are judged as stored, so the database never refuses a clean bar.
PRICE_PLACES = 8
MIN_PRICE = 1e-8
MAX_PRICE = 1e12  # exclusive: 12 digits before the point
MAX_VOLUME = 1e20  # exclusive
NOISE = 1e-9  # relative: float noise between open/close and low/high (Yahoo's float32)
# Bar starts a few months inside what datetime64[ns] holds (1677-09-21 to 2262-04-11), so
# that moving a start to New York time or to its day's open cannot overflow.
FIRST_START = int(pd.Timestamp("1678-01-01", tz="UTC").value)
LAST_START = int(pd.Timestamp("2262-01-01", tz="UTC").value)  # exclusive
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


@dataclass(frozen=True)
class BadStart:
    """Stands in a raw `start` column for a provider's stamp that is no usable time.

    One bar stamped in the year 5138, or with "noon", used to fail the whole answer (and
    the resolve run with it): the provider puts this in its place instead, and
    normalize_bars drops that bar alone with `reason`.
    """

    reason: str

    @property
    def code(self) -> int:
        return REASONS.index(self.reason)


UNREADABLE_START = BadStart("unreadable timestamp")
OUT_OF_RANGE_START = BadStart("timestamp out of range")


@dataclass(frozen=True)
class BarColumns:
    """Bars as parallel arrays: `start` in epoch ns (NaT as NAT), the rest float64.

    `start_codes`, when given, holds for each bar the REASONS index of why its start could
    not be read (GOOD: it could); such a start is NAT.
    """

    start: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    start_codes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.start)

    def values(self) -> tuple[np.ndarray, ...]:
        """open, high, low, close, volume."""
        return self.open, self.high, self.low, self.close, self.volume

    def take(self, rows: np.ndarray) -> BarColumns:
        """The bars selected by a boolean mask or by positions (always a copy)."""
        codes = None if self.start_codes is None else self.start_codes[rows]
        return BarColumns(self.start[rows], *(column[rows] for column in self.values()), codes)

    def restamped(self, start: np.ndarray) -> BarColumns:
        return BarColumns(start, *self.values(), self.start_codes)


def reason_codes(bars: BarColumns) -> np.ndarray:
    """For each bar, the index in REASONS of the first rule it breaks, or GOOD.

    Give it the bars `as_stored`: the rules must judge what the database will check.
    """
    prices = (bars.open, bars.high, bars.low, bars.close)
    # Later rules also see the NaN and infinite prices earlier rules catch: no warnings.
    with np.errstate(all="ignore"):
        missing = [np.isnan(p) for p in prices]
        # Allow float noise (Yahoo sends float32 values widened to float64).
        slack = np.abs(bars.high) * NOISE
        low, high = bars.low - slack, bars.high + slack
        start_codes = bars.start_codes
        if start_codes is None:  # every start was read
            start_codes = np.full(len(bars), GOOD, dtype=np.int8)
        broken = (
            (bars.start == NAT) & (start_codes == GOOD),
            start_codes == UNREADABLE_START.code,
            (start_codes == OUT_OF_RANGE_START.code)
            | ((bars.start != NAT) & ((bars.start < FIRST_START) | (bars.start >= LAST_START))),
            reduce(np.logical_and, missing),
            reduce(np.logical_or, missing),
            ~reduce(np.logical_and, [np.isfinite(p) for p in prices]),
            reduce(np.logical_or, [p <= 0 for p in prices]),
            reduce(np.logical_or, [(p < MIN_PRICE) | (p >= MAX_PRICE) for p in prices]),
            bars.high < bars.low,
            (bars.open < low) | (bars.open > high) | (bars.close < low) | (bars.close > high),
            (bars.volume < 0) | np.isinf(bars.volume),
            bars.volume >= MAX_VOLUME,
        )
    codes = np.full(len(bars), GOOD, dtype=np.int8)
    for index in range(len(broken) - 1, -1, -1):  # the first rule broken wins
        codes[broken[index]] = index
    return codes


def as_stored(bars: BarColumns) -> BarColumns:
    """The bars as price_bars will hold them, for the rules to judge.

    Prices are rounded as numeric(20, 8) rounds them (`round_like_numeric`); one that
    would round to zero keeps its value, for the range rule to name. An open or close
    outside [low, high] by no more than float noise is set to the bound it passed. Both
    used to pass the rules and then break the table's CHECK (open 100.000000005 is stored
    above high 100.000000004), which blocked the ticker on every run.
    """
    open_, high, low, close = (_rounded(p) for p in (bars.open, bars.high, bars.low, bars.close))
    with np.errstate(invalid="ignore"):
        slack = np.abs(high) * NOISE

        def pull(price: np.ndarray) -> np.ndarray:
            price = np.where((price > high) & (price <= high + slack), high, price)
            return np.where((price < low) & (price >= low - slack), low, price)

        open_, close = pull(open_), pull(close)
    return BarColumns(bars.start, open_, high, low, close, bars.volume, bars.start_codes)


def round_like_numeric(values: np.ndarray) -> np.ndarray:
    """Each float as PostgreSQL rounds it into numeric(20, 8), back as the nearest float.

    The bar store sends repr(value), the shortest text that reads back as the float, and
    numeric rounds that text to 8 places, ties away from zero (not to even). In floats
    that is exact except within float error of a tie, or where the float is too coarse
    to tell (from about 4.5e7 up); those few are rounded as the text, in Decimal.
    """
    out = values.astype(np.float64, copy=True)
    with np.errstate(all="ignore"):
        finite = np.isfinite(out)
        scaled = np.abs(out) * 10.0**PRICE_PLACES
        whole = np.floor(scaled)
        fraction = scaled - whole
        rounded = np.copysign((whole + (fraction >= 0.5)) / 10.0**PRICE_PLACES, out)
        unsure = finite & ((np.abs(fraction - 0.5) <= scaled * 2.0**-50) | (scaled >= 2.0**52))
    out[finite] = rounded[finite]
    for position in np.flatnonzero(unsure).tolist():
        out[position] = _round_text(float(values[position]))
    return out


_PLACES = Decimal(1).scaleb(-PRICE_PLACES)
_WIDE = Context(prec=60)


def _round_text(value: float) -> float:
    text = Decimal(repr(value))
    if abs(text) >= 10**20:  # beyond the columns whatever its digits: left to the range rule
        return value
    return float(text.quantize(_PLACES, rounding=ROUND_HALF_UP, context=_WIDE))


def _rounded(prices: np.ndarray) -> np.ndarray:
    rounded = round_like_numeric(prices)
    return np.where(rounded == 0, prices, rounded)  # a price stored as 0 keeps its value


def read_starts(column: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """Bar starts as epoch ns (NaT as NAT), read as pd.to_datetime(utc=True) reads them, and
    the REASONS code of each start that is there but unusable (None: every start is usable).

    A start past what datetime64[ns] holds (a csv row of 2999, Yahoo's 99999999999: pandas
    reads them at a coarser unit) or no time at all (a BadStart, "noon") is marked, so its
    bar alone is dropped; it used to raise OutOfBoundsDatetime and stop the resolve run.
    """
    if isinstance(getattr(column, "dtype", None), pd.DatetimeTZDtype):
        return _as_ns(column.array)
    try:
        return _as_ns(pd.to_datetime(column, utc=True).array)
    except (ValueError, TypeError, OverflowError):
        if not isinstance(column, pd.Series):  # e.g. two start columns: fail as before
            raise
    values = column.tolist()
    bad = np.array([isinstance(v, BadStart) for v in values], dtype=bool)
    try:
        starts, codes = _as_ns(pd.to_datetime(column.where(~bad, None), utc=True).array)
    except (ValueError, TypeError, OverflowError):
        starts, codes = _one_by_one(values)
    if codes is None:
        codes = np.full(len(values), GOOD, dtype=np.int8)
    for position in np.flatnonzero(bad).tolist():
        codes[position] = values[position].code
    return starts, codes


def epoch_starts(values: Sequence[object], unit: str, dtype: str) -> pd.Series:
    """Bar starts from epoch numbers, as pd.to_datetime(pd.Series(values, dtype=dtype),
    unit=unit, utc=True) reads them; a value it cannot read becomes a BadStart instead of
    failing the whole answer (Yahoo's "noon", a stamp past int64)."""
    try:
        return pd.to_datetime(pd.Series(values, dtype=dtype), unit=unit, utc=True)
    except (ValueError, TypeError, OverflowError):
        pass
    return pd.Series([_epoch_start(value, unit, dtype) for value in values], dtype=object)


def text_starts(values: Sequence[object]) -> pd.Series:
    """Bar starts from ISO 8601 text, as pd.to_datetime(..., utc=True, format="ISO8601")
    reads them; a value it cannot read becomes a BadStart instead of failing the answer."""
    try:
        return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        pass
    return pd.Series([_text_start(value) for value in values], dtype=object)


def _epoch_start(value: object, unit: str, dtype: str) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return pd.NaT
    try:
        return pd.to_datetime(pd.Series([value], dtype=dtype), unit=unit, utc=True).iloc[0]
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        return OUT_OF_RANGE_START
    except (ValueError, TypeError):
        return UNREADABLE_START


def _text_start(value: object) -> object:
    try:
        return pd.to_datetime(value, utc=True, format="ISO8601")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        return OUT_OF_RANGE_START
    except (ValueError, TypeError):
        return UNREADABLE_START


def _as_ns(values: pd.api.extensions.ExtensionArray) -> tuple[np.ndarray, np.ndarray | None]:
    """A tz-aware datetime array of any unit as epoch ns, marking what ns cannot hold."""
    raw = values.asi8
    scale = _NS_PER[values.unit]
    if scale == 1:
        return raw, None
    beyond = (raw != NAT) & (np.abs(raw) > INT64_MAX // scale)
    with np.errstate(over="ignore"):
        starts = np.where((raw == NAT) | beyond, NAT, raw * scale)
    if not beyond.any():
        return starts, None
    return starts, np.where(beyond, OUT_OF_RANGE_START.code, GOOD).astype(np.int8)


def _one_by_one(values: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """What pd.to_datetime(utc=True) makes of each value alone (the slow way, for bad data)."""
    starts = np.full(len(values), NAT, dtype=np.int64)
    codes = np.full(len(values), GOOD, dtype=np.int8)
    for position, value in enumerate(values):
        if isinstance(value, BadStart):
            continue  # the caller marks it
        try:
            stamp = pd.to_datetime(value, utc=True)
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            codes[position] = OUT_OF_RANGE_START.code
            continue
        except (ValueError, TypeError):
            codes[position] = UNREADABLE_START.code
            continue
        if stamp is pd.NaT:
            continue
        one, one_code = _as_ns(pd.DatetimeIndex([stamp]).array)
        starts[position] = one[0]
        if one_code is not None:
            codes[position] = one_code[0]
    return starts, codes


def restamp_daily(starts: pd.DatetimeIndex, source_tz: str) -> pd.DatetimeIndex:
    """Midnight UTC of each start's calendar date in `source_tz` (ns): the date a daily
    bar names, which the outcome rules read as that date's session of its market."""
    dates = starts.tz_convert(source_tz).tz_localize(None).normalize()
    return dates.tz_localize("UTC").as_unit("ns")


def in_sessions(starts: np.ndarray, market: str) -> np.ndarray:
    """Which starts (epoch ns, none NaT) fall inside one of the market's sessions (early
    closes and holidays included); see edgeledger.core.markets.in_sessions."""
    return markets.in_sessions(market, starts // 1000)


def is_sorted(starts: np.ndarray) -> bool:
    """Ascending, ties allowed (pandas' is_monotonic_increasing)."""
    return bool((starts[1:] >= starts[:-1]).all())


def last_of_each_start(bars: BarColumns) -> tuple[np.ndarray | None, np.ndarray]:
    """Keep the last bar of each start (bars sorted by start); find the conflicting copies.

    Returns the rows to keep (None: all) and the positions of dropped bars that differ from
    every later bar with their start. A copy identical to a later one (overlapping request
    windows; NaN volumes count as equal) is harmless and not reported.
    """
    starts = bars.start
    followed = starts[:-1] == starts[1:]  # another bar with this start comes next
    if not followed.any():
        return None, np.empty(0, dtype=np.intp)
    rows = np.column_stack(bars.values())
    conflicts = []
    for position in np.flatnonzero(followed).tolist():
        end = position + 1
        while end < len(starts) and starts[end] == starts[position]:
            end += 1
        later, row = rows[position + 1 : end], rows[position]
        same = (later == row) | (np.isnan(later) & np.isnan(row))
        if not same.all(axis=1).any():
            conflicts.append(position)
    keep = np.append(~followed, True)
    return keep, np.array(conflicts, dtype=np.intp)


def utc_index(starts: np.ndarray) -> pd.DatetimeIndex:
    """Epoch ns (NAT for NaT) as a datetime64[ns, UTC] index."""
    return pd.DatetimeIndex(starts.view("M8[ns]")).tz_localize("UTC")
