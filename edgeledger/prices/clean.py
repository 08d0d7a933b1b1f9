"""The rules `base.normalize_bars` applies, over plain numpy columns.

A request brings 10-200 bars, and pandas costs tens of microseconds a call whatever the
size: eight mask-and-copy passes, a calendar query and a sort made the clean-up about
6 ms a request, several times the HTTP round trip. Here a rule is one numpy expression
over whole columns, starts are int64 epoch nanoseconds, and sessions are searched in the
market's session arrays. Every rule is row-wise and positional, so applying them all at once gives
what applying them one after another to a shrinking frame gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import numpy as np
import pandas as pd

from edgeledger import markets

NAT = np.iinfo(np.int64).min  # how pandas stores NaT in int64

# Checked in order; a bar is dropped for the first rule it breaks.
REASONS: tuple[str, ...] = (
    "missing timestamp",
    "all prices missing",
    "some prices missing",
    "price not finite",
    "zero or negative price",
    "high below low",
    "open or close outside [low, high]",
    "negative or infinite volume",
)
GOOD = -1  # the reason code of a bar that breaks no rule
DUPLICATE = "duplicate timestamp (kept the last)"


@dataclass(frozen=True)
class BarColumns:
    """Bars as parallel arrays: `start` in epoch ns (NaT as NAT), the rest float64."""

    start: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def values(self) -> tuple[np.ndarray, ...]:
        """open, high, low, close, volume."""
        return self.open, self.high, self.low, self.close, self.volume

    def take(self, rows: np.ndarray) -> BarColumns:
        """The bars selected by a boolean mask or by positions (always a copy)."""
        return BarColumns(self.start[rows], *(column[rows] for column in self.values()))

    def restamped(self, start: np.ndarray) -> BarColumns:
        return BarColumns(start, *self.values())


def reason_codes(bars: BarColumns) -> np.ndarray:
    """For each bar, the index in REASONS of the first rule it breaks, or GOOD."""
    prices = (bars.open, bars.high, bars.low, bars.close)
    # Later rules also see the NaN and infinite prices earlier rules catch: no warnings.
    with np.errstate(all="ignore"):
        missing = [np.isnan(p) for p in prices]
        # Allow float noise (Yahoo sends float32 values widened to float64).
        slack = np.abs(bars.high) * 1e-9
        low, high = bars.low - slack, bars.high + slack
        broken = (
            bars.start == NAT,
            reduce(np.logical_and, missing),
            reduce(np.logical_or, missing),
            ~reduce(np.logical_and, [np.isfinite(p) for p in prices]),
            reduce(np.logical_or, [p <= 0 for p in prices]),
            bars.high < bars.low,
            (bars.open < low) | (bars.open > high) | (bars.close < low) | (bars.close > high),
            (bars.volume < 0) | np.isinf(bars.volume),
        )
    codes = np.full(len(bars), GOOD, dtype=np.int8)
    for index in range(len(broken) - 1, -1, -1):  # the first rule broken wins
        codes[broken[index]] = index
    return codes


def restamp_daily(starts: pd.DatetimeIndex, source_tz: str) -> pd.DatetimeIndex:
    """Midnight UTC of each start's calendar date in `source_tz` (ns): the date a daily
    bar names, which the outcome rules read as that date's session of its market."""
    dates = starts.tz_convert(source_tz).tz_localize(None).normalize()
    return dates.tz_localize("UTC").as_unit("ns")


def in_sessions(starts: np.ndarray, market: str) -> np.ndarray:
    """Which starts (epoch ns, none NaT) fall inside one of the market's sessions (early
    closes and holidays included); see edgeledger.markets.in_sessions."""
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
