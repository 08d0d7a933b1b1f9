"""What every provider returns, and the one place bars are cleaned and stamped.

Providers differ in how they stamp daily bars, whether they send pre/post-market bars,
and how they fail; settlement must not care. Every provider hands its raw rows to
`normalize_bars`, so a bar means the same thing whichever provider served it: a daily bar
is stored at midnight UTC of the date it names, and an intraday bar outside its market's
sessions (extended hours, from a feed that sends them) is dropped with that reason.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from edgeledger.core import markets
from edgeledger.core.bars import INTERVALS
from edgeledger.prices import clean
from edgeledger.prices.clean import BarColumns

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("start", "open", "high", "low", "close", "volume")
PRICES: tuple[str, ...] = ("open", "high", "low", "close")
# Polygon and Alpaca send bars as {"t", "o", "h", "l", "c", "v"}.
SHORT_KEYS: dict[str, str] = {"open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}
# Hourly US-equity bars start at :30 (09:30, 10:30 ... 15:30), as Yahoo's do.
HOUR_OFFSET = timedelta(minutes=30)

Window = tuple[datetime, datetime]
UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
INT64_MAX = np.iinfo(np.int64).max


def is_24h(ticker: str) -> bool:
    """True for tickers a provider spells as forex, crypto or futures symbols (C:EURUSD,
    X:BTCUSD, /ES) and builds hours for without the :30 stock offset.

    Only how a provider names and aggregates the instrument: how its bars are read is
    decided by its market (edgeledger.core.markets). A '/' (BTC/USD) or what the ticker rules
    of edgeledger.core.markets say: =X, EURUSD (forex), BTC-USD, BTCUSD (crypto), =F (futures).
    """
    t = ticker.upper()
    return "/" in t or markets.market_from_ticker(t) in (*markets.AROUND_THE_CLOCK, "CMES")


@dataclass(frozen=True)
class DroppedBar:
    """A bar we refused to use, and why (kept so the job can report it)."""

    start: pd.Timestamp | None
    reason: str


@dataclass(frozen=True)
class FetchResult:
    """Clean bars, the bars dropped on the way, which provider served them, and the market
    the provider says the instrument trades on (None: it did not say)."""

    bars: pd.DataFrame
    dropped: tuple[DroppedBar, ...] = ()
    source: str = ""
    market: str | None = None


@runtime_checkable
class PriceProvider(Protocol):
    """Anything that can fetch bars: one provider, or one wrapped with a fallback.

    The resolver calls one provider from several download threads at once, so shared
    state (a rate limiter's window, an access token) must be safe to use across threads.
    """

    name: str

    def fetch_bars(
        self,
        ticker: str,
        interval: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime | None = None,
    ) -> pd.DataFrame: ...

    def fetch(
        self,
        ticker: str,
        interval: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime | None = None,
        market: markets.MarketChoice | None = None,
    ) -> FetchResult: ...

    def plan_requests(
        self, ticker: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Window]: ...


def check_request(ticker: str, interval: str, start: datetime, end: datetime) -> None:
    """Reject programming mistakes early, before any request is made."""
    if not ticker or ticker != ticker.strip():
        raise ValueError(f"ticker must be a non-empty symbol, got {ticker!r}")
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if start >= end:
        raise ValueError(f"start {start.isoformat()} must be before end {end.isoformat()}")


def empty_bars() -> pd.DataFrame:
    """A frame with the bar columns and dtypes and no rows."""
    return _frame(BarColumns(np.empty(0, dtype=np.int64), *[np.empty(0)] * 5))


def raw_bars(
    starts: pd.Series | pd.DatetimeIndex | Sequence[object], columns: dict[str, Iterable[object]]
) -> pd.DataFrame:
    """Build an unchecked frame from a provider's parallel lists (missing columns become NaN).

    Values are read as pd.to_numeric(errors="coerce") reads them; lists of plain ints,
    floats and None (what JSON gives) take a shortcut with the same result.
    """
    start = pd.Series(starts)
    lists = {name: list(columns.get(name, [None] * len(start))) for name in (*PRICES, "volume")}
    index = start.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        arrays = {name: _plain_numbers(values, len(start)) for name, values in lists.items()}
        if all(array is not None for array in arrays.values()):
            return pd.DataFrame({"start": start, **arrays})
    frame = pd.DataFrame({"start": start})
    for name, values in lists.items():
        frame[name] = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
    return frame


def columns_from_rows(
    rows: Sequence[Mapping[str, object]], keys: Mapping[str, str] = SHORT_KEYS
) -> dict[str, list[object]]:
    """Parallel open/high/low/close/volume lists from a list of JSON bars."""
    return {name: [row.get(key) for row in rows] for name, key in keys.items()}


def normalize_bars(
    raw: pd.DataFrame,
    *,
    provider: str,
    ticker: str,
    interval: str,
    start: datetime,
    end: datetime,
    daily_tz: str = "America/New_York",
    sessions: str | None = None,
) -> FetchResult:
    """Clean, stamp and window a provider's raw bars.

    raw needs a `start` column (tz-aware or epoch-derived UTC) and open/high/low/close/
    volume. Bad bars are dropped with a logged reason; daily bars are stamped at midnight
    UTC of their date in `daily_tz` (the zone the provider stamps days in); with
    `sessions` (a market), intraday bars that start outside its sessions are dropped with
    that reason; only bars with start <= bar < end are kept, ascending and unique.

    The work is done on numpy columns (see edgeledger.prices.clean) and the frame is
    built once at the end: a request's bars are few, and pandas' cost is per call.
    """
    bars = _columns(raw)
    codes = clean.reason_codes(bars)
    dropped: list[DroppedBar] = []
    bad = codes != clean.GOOD
    if bad.any():
        for code, reason in enumerate(clean.REASONS):  # grouped by reason, in rule order
            dropped.extend(DroppedBar(s, reason) for s in _stamps(bars.start[codes == code]))
        bars = bars.take(~bad)
    if interval == "1d" and len(bars):
        bars = bars.restamped(clean.restamp_daily(clean.utc_index(bars.start), daily_tz).asi8)
    elif sessions is not None and len(bars):
        inside = clean.in_sessions(bars.start, sessions)
        if not inside.all():
            reason = f"outside the {sessions} sessions (extended hours)"
            dropped.extend(DroppedBar(s, reason) for s in _stamps(bars.start[~inside]))
            bars = bars.take(inside)
    if interval == "1d":  # a day is in the window from its date on, whatever the hour asked
        start = pd.Timestamp(start).floor("D").to_pydatetime()
    inside = _inside(bars.start, start, end)
    if not inside.all():
        bars = bars.take(inside)
    if not clean.is_sorted(bars.start):
        logger.info(
            "%s: %s bars arrived out of order; sorted",
            provider,
            ticker,
            extra={"ticker": ticker, "provider": provider},
        )
        bars = bars.take(np.argsort(bars.start, kind="stable"))
    # Identical copies (overlapping request windows) are harmless; conflicting ones are not.
    keep, conflicts = clean.last_of_each_start(bars)
    if keep is not None:
        dropped.extend(DroppedBar(s, clean.DUPLICATE) for s in _stamps(bars.start[conflicts]))
        bars = bars.take(keep)
    log_dropped(dropped, provider=provider, ticker=ticker, interval=interval)
    frame = _frame(bars)
    if raw.attrs:  # pandas carries a frame's attrs through selections; so do we
        frame.attrs = copy.deepcopy(raw.attrs)
    return FetchResult(frame, tuple(dropped), provider)


def restamp_daily(starts: pd.Series, source_tz: str) -> pd.Series:
    """Stamp each daily bar at midnight UTC of its date in `source_tz`.

    Polygon and Alpaca stamp a day at midnight ET, Schwab at midnight CT, Yahoo at the
    session open in the exchange's zone; taking the calendar date where the provider
    stamped it makes them agree.
    """
    if starts.empty:
        return starts
    opens = clean.restamp_daily(pd.DatetimeIndex(starts), source_tz)
    return pd.Series(opens, index=starts.index, name=starts.name)


def aggregate_hourly(bars: pd.DataFrame, offset: timedelta = HOUR_OFFSET) -> pd.DataFrame:
    """Build hourly bars from clean sub-hour bars, each hour starting at `offset` past.

    Used where a provider's own hours start at :00 but the session opens at :30, so an
    hour means the same span (09:30-10:30 ...) whichever provider served it.
    """
    if bars.empty:
        return empty_bars()
    step = pd.Timedelta(offset)
    bucket = (bars["start"] - step).dt.floor("h") + step
    grouped = bars.groupby(bucket, sort=True)
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(min_count=1),
        }
    )
    out.index.name = "start"
    return out.reset_index()[list(COLUMNS)]


def hour_bounds(start: datetime, end: datetime, offset: timedelta = HOUR_OFFSET) -> Window:
    """Widen [start, end) to whole offset-aligned hours, so edge hours are complete."""
    lo = pd.Timestamp(start) - pd.Timedelta(offset)
    hi = pd.Timestamp(end) - pd.Timedelta(offset)
    lo_aligned = lo.floor("h") + pd.Timedelta(offset)
    hi_aligned = hi.ceil("h") + pd.Timedelta(offset)
    return lo_aligned.to_pydatetime(), hi_aligned.to_pydatetime()


def split_span(start: datetime, end: datetime, step: timedelta) -> list[Window]:
    """Cut [start, end) into consecutive windows no longer than `step`."""
    windows: list[Window] = []
    lo = start
    while lo < end:
        hi = min(lo + step, end)
        windows.append((lo, hi))
        lo = hi
    return windows


def log_dropped(
    dropped: Sequence[DroppedBar], *, provider: str, ticker: str, interval: str
) -> None:
    """One warning per reason, with the ticker in `extra`, so bad data is never silent."""
    reasons: dict[str, list[DroppedBar]] = {}
    for bar in dropped:
        reasons.setdefault(bar.reason, []).append(bar)
    for reason, bars in reasons.items():
        sample = ", ".join(str(b.start) for b in bars[:3]) + (" ..." if len(bars) > 3 else "")
        # Extended-hours bars are expected from some feeds: the run reports them anyway.
        logger.log(
            logging.INFO if reason.startswith("outside the ") else logging.WARNING,
            "%s: dropped %d %s %s bar(s): %s [%s]",
            provider,
            len(bars),
            ticker,
            interval,
            reason,
            sample,
            extra={"ticker": ticker, "provider": provider, "reason": reason, "count": len(bars)},
        )


def _columns(raw: pd.DataFrame) -> BarColumns:
    """The bar columns as arrays, read as pd.to_datetime(utc=True) and pd.to_numeric would,
    with prices as the database will store them; a start that cannot be used (the year
    2999, "noon") is marked for clean.reason_codes."""
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"raw bars lack columns {missing}")
    starts, start_codes = clean.read_starts(raw["start"])
    values = (_floats(raw[name]) for name in (*PRICES, "volume"))
    return clean.as_stored(BarColumns(starts, *values, start_codes))


def _floats(column: pd.Series) -> np.ndarray:
    dtype = getattr(column, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return column.to_numpy().astype(np.float64)
    return pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()


def _plain_numbers(values: list[object], length: int) -> np.ndarray | None:
    """`values` as pd.to_numeric reads them if all are int, float or None; else None."""
    kinds = set(map(type, values))
    if len(values) != length or not values or not kinds <= {int, float, type(None)}:
        return None
    if kinds == {int}:
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            return None
    array = np.array(values, dtype=np.float64)
    if int in kinds and (np.abs(array) >= 2**53).any():  # pandas' rules for huge ints
        return None
    return array


def _inside(starts: np.ndarray, start: datetime, end: datetime) -> np.ndarray:
    """start <= starts < end, as comparing the start column with pd.Timestamp(...) did."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if lo is pd.NaT or hi is pd.NaT or lo.tz is None or hi.tz is None:
        index = clean.utc_index(starts)  # pandas answers False for NaT, TypeError if naive
        return np.asarray((index >= lo) & (index < hi))
    lo_ns, hi_ns = _ns(lo), _ns(hi)
    # Bounds beyond datetime64[ns] (year 1 or 9999) still compare as instants.
    after = starts >= max(lo_ns, clean.NAT) if lo_ns <= INT64_MAX else np.zeros(len(starts), bool)
    before = starts < max(hi_ns, clean.NAT) if hi_ns <= INT64_MAX else np.ones(len(starts), bool)
    return after & before


def _ns(moment: pd.Timestamp) -> int:
    """Epoch nanoseconds as a Python int: exact, even outside the int64 range."""
    return int(moment.asm8.astype(np.int64)) * _NS_PER[moment.unit]


_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _stamps(starts: np.ndarray) -> list[pd.Timestamp | None]:
    if not len(starts):
        return []
    return [None if pd.isna(stamp) else stamp for stamp in clean.utc_index(starts)]


def _frame(bars: BarColumns) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": clean.utc_index(bars.start),
            **dict(zip((*PRICES, "volume"), bars.values(), strict=True)),
        }
    )
