"""What every provider returns, and the one place bars are cleaned and stamped.

Providers differ in how they stamp daily bars, whether they send pre/post-market bars,
and how they fail; settlement must not care. Every provider hands its raw rows to
`normalize_bars`, so a bar means the same thing whichever provider served it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from edgeledger.bars import INTERVALS
from edgeledger.market_calendar import sessions_between

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = ("start", "open", "high", "low", "close", "volume")
PRICES: tuple[str, ...] = ("open", "high", "low", "close")
# Polygon and Alpaca send bars as {"t", "o", "h", "l", "c", "v"}.
SHORT_KEYS: dict[str, str] = {"open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"}
NEW_YORK = ZoneInfo("America/New_York")
SESSION_OPEN = time(9, 30)
SESSION_CLOSE = time(16, 0)
# Hourly US-equity bars start at :30 (09:30, 10:30 ... 15:30), as Yahoo's do.
HOUR_OFFSET = timedelta(minutes=30)

Window = tuple[datetime, datetime]

_CRYPTO = re.compile(r"^[A-Z0-9]+-(USD|USDT|USDC|EUR|GBP|BTC|ETH)$")


def is_24h(ticker: str) -> bool:
    """True for instruments that trade around the clock (crypto, forex, futures).

    Decided from the ticker alone so every provider agrees: a '/' (BTC/USD), a crypto
    quote suffix (BTC-USD, ETH-USDT), or Yahoo's '=X' (forex) and '=F' (futures).
    Everything else is a US equity, index or ETF on the 09:30-16:00 ET session.
    """
    t = ticker.upper()
    return "/" in t or t.endswith(("=X", "=F")) or bool(_CRYPTO.match(t))


@dataclass(frozen=True)
class DroppedBar:
    """A bar we refused to use, and why (kept so the job can report it)."""

    start: pd.Timestamp | None
    reason: str


@dataclass(frozen=True)
class FetchResult:
    """Clean bars, the bars dropped on the way, and which provider served them."""

    bars: pd.DataFrame
    dropped: tuple[DroppedBar, ...] = ()
    source: str = ""


@runtime_checkable
class PriceProvider(Protocol):
    """Anything that can fetch bars: one provider, or one wrapped with a fallback."""

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
    return pd.DataFrame(
        {
            "start": pd.Series([], dtype="datetime64[ns, UTC]"),
            **{c: pd.Series([], dtype="float64") for c in (*PRICES, "volume")},
        }
    )


def raw_bars(
    starts: pd.Series | pd.DatetimeIndex | Sequence[object], columns: dict[str, Iterable[object]]
) -> pd.DataFrame:
    """Build an unchecked frame from a provider's parallel lists (missing columns become NaN)."""
    frame = pd.DataFrame({"start": pd.Series(starts)})
    for name in (*PRICES, "volume"):
        values = list(columns.get(name, [None] * len(frame)))
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
) -> FetchResult:
    """Clean, stamp and window a provider's raw bars.

    raw needs a `start` column (tz-aware or epoch-derived UTC) and open/high/low/close/
    volume. Bad bars are dropped with a logged reason; daily US-equity bars are
    restamped to 09:30 ET of their date in `daily_tz` (the provider's own stamping
    zone); intraday US-equity bars outside 09:30-16:00 ET on weekdays are removed;
    only bars with start <= bar < end are kept, ascending and unique.
    """
    frame = _coerce(raw)
    frame, dropped = _drop_bad(frame)
    equity = not is_24h(ticker)
    if interval == "1d" and equity:
        frame["start"] = restamp_daily(frame["start"], daily_tz)
    elif equity:
        frame = _regular_session(frame, provider, ticker)
    frame = frame[(frame["start"] >= pd.Timestamp(start)) & (frame["start"] < pd.Timestamp(end))]
    frame, duplicates = _order_and_dedupe(frame, provider, ticker)
    dropped.extend(duplicates)
    log_dropped(dropped, provider=provider, ticker=ticker, interval=interval)
    return FetchResult(frame.reset_index(drop=True), tuple(dropped), provider)


def restamp_daily(starts: pd.Series, source_tz: str) -> pd.Series:
    """Stamp each daily bar at 09:30 America/New_York of its date in `source_tz`.

    Polygon and Alpaca stamp a day at midnight ET, Schwab at midnight CT, Yahoo at the
    open; taking the calendar date where the provider stamped it makes them agree.
    """
    if starts.empty:
        return starts
    dates = starts.dt.tz_convert(source_tz).dt.tz_localize(None).dt.normalize()
    opens = (dates + pd.Timedelta(hours=9, minutes=30)).dt.tz_localize(NEW_YORK)
    return opens.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


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
        logger.warning(
            "%s: dropped %d %s %s bar(s): %s [%s]",
            provider,
            len(bars),
            ticker,
            interval,
            reason,
            sample,
            extra={"ticker": ticker, "provider": provider, "reason": reason, "count": len(bars)},
        )


def _coerce(raw: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"raw bars lack columns {missing}")
    frame = raw.loc[:, list(COLUMNS)].copy()
    frame["start"] = pd.to_datetime(frame["start"], utc=True).astype("datetime64[ns, UTC]")
    for name in (*PRICES, "volume"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame


# Checked in order; a bar is dropped for the first rule it breaks.
_RULES: tuple[tuple[str, Callable[[pd.DataFrame], pd.Series]], ...] = (
    ("missing timestamp", lambda f: f["start"].isna()),
    ("all prices missing", lambda f: f[list(PRICES)].isna().all(axis=1)),
    ("some prices missing", lambda f: f[list(PRICES)].isna().any(axis=1)),
    ("price not finite", lambda f: ~np.isfinite(f[list(PRICES)]).all(axis=1)),
    ("zero or negative price", lambda f: (f[list(PRICES)] <= 0).any(axis=1)),
    ("high below low", lambda f: f["high"] < f["low"]),
    ("open or close outside [low, high]", lambda f: _outside_range(f)),
    ("negative or infinite volume", lambda f: (f["volume"] < 0) | np.isinf(f["volume"])),
)


def _outside_range(frame: pd.DataFrame) -> pd.Series:
    # Allow float noise (Yahoo sends float32 values widened to float64).
    slack = frame["high"].abs() * 1e-9
    low, high = frame["low"] - slack, frame["high"] + slack
    return (
        (frame["open"] < low)
        | (frame["open"] > high)
        | (frame["close"] < low)
        | (frame["close"] > high)
    )


def _drop_bad(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[DroppedBar]]:
    dropped: list[DroppedBar] = []
    for reason, rule in _RULES:
        bad = rule(frame).fillna(False).astype(bool)
        for stamp in frame.loc[bad, "start"]:
            dropped.append(DroppedBar(None if pd.isna(stamp) else stamp, reason))
        frame = frame[~bad]
    return frame, dropped


def _regular_session(frame: pd.DataFrame, provider: str, ticker: str) -> pd.DataFrame:
    """Keep bars starting inside an NYSE regular session (early closes and holidays included)."""
    if frame.empty:
        return frame
    days = frame["start"].dt.tz_convert(NEW_YORK).dt.date
    try:
        sessions = sessions_between(min(days), max(days))
    except ValueError:  # outside the calendar's years: weekdays 09:30-16:00 ET
        local = frame["start"].dt.tz_convert(NEW_YORK)
        clock = local.dt.time
        keep = (local.dt.day_of_week < 5) & (clock >= SESSION_OPEN) & (clock < SESSION_CLOSE)
    else:
        opens = pd.to_datetime(days.map({s.day: s.open for s in sessions}), utc=True)
        closes = pd.to_datetime(days.map({s.day: s.close for s in sessions}), utc=True)
        keep = (frame["start"] >= opens) & (frame["start"] < closes)
    if not keep.all():
        logger.debug(
            "%s: removed %d %s bars outside the regular session",
            provider,
            int((~keep).sum()),
            ticker,
            extra={"ticker": ticker, "provider": provider},
        )
    return frame[keep]


def _order_and_dedupe(
    frame: pd.DataFrame, provider: str, ticker: str
) -> tuple[pd.DataFrame, list[DroppedBar]]:
    if not frame["start"].is_monotonic_increasing:
        logger.info(
            "%s: %s bars arrived out of order; sorted",
            provider,
            ticker,
            extra={"ticker": ticker, "provider": provider},
        )
        frame = frame.sort_values("start", kind="mergesort")
    # Identical copies (overlapping request windows) are harmless; conflicting ones are not.
    frame = frame.drop_duplicates(keep="last")
    duplicated = frame["start"].duplicated(keep="last")
    dropped = [
        DroppedBar(stamp, "duplicate timestamp (kept the last)")
        for stamp in frame.loc[duplicated, "start"]
    ]
    return frame[~duplicated], dropped
