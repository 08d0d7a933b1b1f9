"""NYSE sessions: when day signals expire and when the market is open.

Pure functions over the exchange_calendars "XNYS" calendar (holidays and 13:00 ET early
closes included), built once on first use.

The calendar is built for a fixed range, SESSIONS_FROM to SESSIONS_TO, rather than the
library's default of "20 years back to one year ahead of today": the default would make
answers depend on the day the process started (and on a test's frozen clock). Future
sessions come from the holiday rules, so a one-off closure announced later (a day of
mourning) is only known after upgrading exchange_calendars. Dates outside the range raise
ValueError naming the date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars.errors import DateOutOfBounds

from edgeledger.model import TradeType

EASTERN = ZoneInfo("America/New_York")
SESSIONS_FROM = date(2000, 1, 3)
SESSIONS_TO = date(2045, 12, 29)
SWING_LIFETIME = timedelta(days=7)


@cache
def _calendar() -> xcals.ExchangeCalendar:
    """The XNYS calendar, built on first use (not at import) and then shared."""
    return xcals.get_calendar("XNYS", start=SESSIONS_FROM.isoformat(), end=SESSIONS_TO.isoformat())


def _aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} {at.isoformat()} is naive: pass a timezone-aware datetime")


def _in_range(day: date) -> None:
    if not SESSIONS_FROM <= day <= SESSIONS_TO:
        raise ValueError(
            f"{day.isoformat()} is outside the NYSE calendar's range "
            f"{SESSIONS_FROM.isoformat()}..{SESSIONS_TO.isoformat()}"
        )


def _utc(stamp: pd.Timestamp) -> datetime:
    return stamp.tz_convert("UTC").to_pydatetime().astimezone(UTC)


@cache
def session_bounds(day: date) -> tuple[datetime, datetime] | None:
    """Open and close (UTC) of the regular session on this US/Eastern date, or None.

    Cached per date: a lookup goes through pandas (about 100 µs), and an import of a
    million day signals or a provider's session filter asks about the same few hundred days.
    """
    _in_range(day)
    calendar = _calendar()
    label = pd.Timestamp(day)
    if not calendar.is_session(label):
        return None
    return _utc(calendar.session_open(label)), _utc(calendar.session_close(label))


@cache
def _next_session(day: date) -> date:
    """The first session strictly after `day`."""
    following = day + timedelta(days=1)
    _in_range(following)
    try:
        label = _calendar().date_to_session(pd.Timestamp(following), direction="next")
    except DateOutOfBounds as error:  # past the last session in range
        raise ValueError(f"no NYSE session known after {day.isoformat()}") from error
    return label.date()


def session_close_for(created_at: datetime) -> datetime:
    """When a day signal created at `created_at` expires: that day's regular close.

    The day is the US/Eastern date of creation. Created at or after that close, or on a
    weekend or holiday, it is the next session's close (13:00 ET on early-close days).
    """
    _aware(created_at, "created_at")
    day = created_at.astimezone(EASTERN).date()
    bounds = session_bounds(day)
    if bounds is not None and created_at < bounds[1]:
        return bounds[1]
    next_bounds = session_bounds(_next_session(day))
    assert next_bounds is not None
    return next_bounds[1]


def default_expires_at(trade_type: TradeType, created_at: datetime) -> datetime:
    """Expiry when the signal gives none: swing 7 days on, day at the session's close."""
    _aware(created_at, "created_at")
    if TradeType(trade_type) is TradeType.SWING:
        return created_at + SWING_LIFETIME
    return session_close_for(created_at)


def is_market_open(at: datetime) -> bool:
    """True during a regular session: from the open (included) to the close (excluded)."""
    _aware(at, "at")
    bounds = session_bounds(at.astimezone(EASTERN).date())
    return bounds is not None and bounds[0] <= at < bounds[1]


class Session(NamedTuple):
    """One regular NYSE session: its US/Eastern date and its open and close in UTC."""

    day: date
    open: datetime
    close: datetime


def sessions_between(start: date, end: date) -> list[Session]:
    """Every regular session from `start` to `end` (inclusive US/Eastern dates): what a
    scheduler needs to plan runs in market hours, early closes included."""
    if end < start:
        return []
    _in_range(start)
    _in_range(end)
    calendar = _calendar()
    labels = calendar.sessions_in_range(pd.Timestamp(start), pd.Timestamp(end))
    return [
        Session(
            label.date(),
            _utc(calendar.session_open(label)),
            _utc(calendar.session_close(label)),
        )
        for label in labels
    ]
