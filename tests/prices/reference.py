"""The pandas implementation normalize_bars had before it moved to numpy, kept as the oracle.

Straightforward and slow (about 6 ms a request): one mask-and-copy per rule, a calendar
query per call, a sort and pandas' drop_duplicates. test_clean.py checks that the fast
code gives the same bars, the same dropped bars, the same log records and the same errors.
Only the logger's name differs. Prices are rounded as price_bars stores them, one Decimal
at a time (tests/test_bar_store.py checks that rounding against PostgreSQL).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal

import numpy as np
import pandas as pd

from edgeledger.core.markets import SESSIONS_FROM, SESSIONS_TO, sessions_between
from edgeledger.prices.base import COLUMNS, PRICES, DroppedBar, FetchResult

logger = logging.getLogger("tests.prices.reference")


def raw_bars(
    starts: pd.Series | pd.DatetimeIndex | Sequence[object], columns: dict[str, Iterable[object]]
) -> pd.DataFrame:
    frame = pd.DataFrame({"start": pd.Series(starts)})
    for name in (*PRICES, "volume"):
        values = list(columns.get(name, [None] * len(frame)))
        frame[name] = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
    return frame


def yahoo_starts(stamps: list[object]) -> pd.Series:
    return pd.to_datetime(pd.Series(stamps, dtype="int64"), unit="s", utc=True)


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
    frame = _coerce(raw)
    frame, dropped = _drop_bad(frame)
    if interval == "1d":
        frame["start"] = restamp_daily(frame["start"], daily_tz)
    elif sessions is not None:
        frame, outside = _in_sessions(frame, sessions)
        dropped.extend(outside)
    if interval == "1d":  # a day is in the window from its date on
        start = pd.Timestamp(start).floor("D").to_pydatetime()
    frame = frame[(frame["start"] >= pd.Timestamp(start)) & (frame["start"] < pd.Timestamp(end))]
    frame, duplicates = _order_and_dedupe(frame, provider, ticker)
    dropped.extend(duplicates)
    log_dropped(dropped, provider=provider, ticker=ticker, interval=interval)
    return FetchResult(frame.reset_index(drop=True), tuple(dropped), provider)


def restamp_daily(starts: pd.Series, source_tz: str) -> pd.Series:
    if starts.empty:
        return starts
    dates = starts.dt.tz_convert(source_tz).dt.tz_localize(None).dt.normalize()
    return dates.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")


def log_dropped(
    dropped: Sequence[DroppedBar], *, provider: str, ticker: str, interval: str
) -> None:
    reasons: dict[str, list[DroppedBar]] = {}
    for bar in dropped:
        reasons.setdefault(bar.reason, []).append(bar)
    for reason, bars in reasons.items():
        sample = ", ".join(str(b.start) for b in bars[:3]) + (" ..." if len(bars) > 3 else "")
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


def _coerce(raw: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"raw bars lack columns {missing}")
    frame = raw.loc[:, list(COLUMNS)].copy()
    frame["start"] = pd.to_datetime(frame["start"], utc=True).astype("datetime64[ns, UTC]")
    for name in (*PRICES, "volume"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in PRICES:
        frame[name] = [_stored(value) for value in frame[name]]
    slack = frame["high"].abs() * 1e-9
    for name in ("open", "close"):
        near_high = (frame[name] > frame["high"]) & (frame[name] <= frame["high"] + slack)
        frame[name] = frame[name].mask(near_high, frame["high"])
        near_low = (frame[name] < frame["low"]) & (frame[name] >= frame["low"] - slack)
        frame[name] = frame[name].mask(near_low, frame["low"])
    return frame


def round_like_numeric(value: float) -> float:
    """As numeric(20, 8) rounds the text the bar store sends: repr, to 8 places, half up."""
    if not np.isfinite(value) or abs(value) >= 1e20:
        return value
    places = Decimal(repr(float(value))).quantize(
        Decimal("1e-8"), rounding=ROUND_HALF_UP, context=Context(prec=60)
    )
    return float(places)


def _stored(value: float) -> float:
    rounded = round_like_numeric(value)
    return value if rounded == 0 else rounded


_RULES: tuple[tuple[str, Callable[[pd.DataFrame], pd.Series]], ...] = (
    ("missing timestamp", lambda f: f["start"].isna()),
    ("all prices missing", lambda f: f[list(PRICES)].isna().all(axis=1)),
    ("some prices missing", lambda f: f[list(PRICES)].isna().any(axis=1)),
    ("price not finite", lambda f: ~np.isfinite(f[list(PRICES)]).all(axis=1)),
    ("zero or negative price", lambda f: (f[list(PRICES)] <= 0).any(axis=1)),
    (
        "price out of range",
        lambda f: ((f[list(PRICES)] < 1e-8) | (f[list(PRICES)] >= 1e12)).any(axis=1),
    ),
    ("high below low", lambda f: f["high"] < f["low"]),
    ("open or close outside [low, high]", lambda f: _outside_range(f)),
    ("negative or infinite volume", lambda f: (f["volume"] < 0) | np.isinf(f["volume"])),
    ("volume out of range", lambda f: f["volume"] >= 1e20),
)


def _outside_range(frame: pd.DataFrame) -> pd.Series:
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


def _in_sessions(frame: pd.DataFrame, market: str) -> tuple[pd.DataFrame, list[DroppedBar]]:
    """Bar by bar: keep a bar inside one of the market's sessions, or beyond the calendar."""
    if frame.empty or market in ("24/5", "24/7"):
        return frame, []
    every = sessions_between(market, SESSIONS_FROM, SESSIONS_TO)
    opens = [s.open for s in every]

    def keep(start: pd.Timestamp) -> bool:
        moment = start.to_pydatetime(warn=False)
        if not SESSIONS_FROM <= moment.date() <= SESSIONS_TO:  # UTC dates: no session to judge by
            return True
        i = bisect_right(opens, moment) - 1
        return i >= 0 and moment < every[i].close

    mask = frame["start"].map(keep).astype(bool)
    reason = f"outside the {market} sessions (extended hours)"
    dropped = [DroppedBar(stamp, reason) for stamp in frame.loc[~mask, "start"]]
    return frame[mask], dropped


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
    frame = frame.drop_duplicates(keep="last")
    duplicated = frame["start"].duplicated(keep="last")
    dropped = [
        DroppedBar(stamp, "duplicate timestamp (kept the last)")
        for stamp in frame.loc[duplicated, "start"]
    ]
    return frame[~duplicated], dropped
