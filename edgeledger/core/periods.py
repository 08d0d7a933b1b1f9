"""Reporting periods in US/Eastern: the days, weeks, months and years figures are cut by.

A trader's week runs Monday to Sunday in New York, whatever the server's zone; the report
of a week and the `stats --period week` figures must agree on where it starts. Pure: the
caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
PERIODS = ("day", "week", "month", "year", "all")


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC-aware datetimes; `start` None for all time."""

    name: str
    start: datetime | None
    end: datetime

    def previous(self) -> Period | None:
        """The period of the same length just before (None for all time)."""
        if self.start is None:
            return None
        if self.name == "week":
            return week_of(self.start.astimezone(NEW_YORK).date() - timedelta(days=7))
        local = self.start.astimezone(NEW_YORK).date()
        if self.name == "day":
            return _period("day", local - timedelta(days=1), local)
        if self.name == "month":
            first = (local - timedelta(days=1)).replace(day=1)
            return _period("month", first, local)
        first = local.replace(year=local.year - 1)
        return _period("year", first, local)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=NEW_YORK)


def _period(name: str, first: date, after: date) -> Period:
    return Period(name, _midnight(first), _midnight(after))


def week_of(day: date) -> Period:
    """The Monday-to-Sunday week (New York) holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return _period("week", monday, monday + timedelta(days=7))


def last_full_week(now: datetime) -> Period:
    """The week that ended most recently: on Sunday evening, the week ending that night
    (the Sunday 20:00 report covers Monday to Sunday); otherwise the week before this one."""
    today = now.astimezone(NEW_YORK).date()
    this_week = week_of(today)
    if today.weekday() == 6:  # Sunday: this week is all but over
        return this_week
    return week_of(today - timedelta(days=7))


def period_to(name: str, now: datetime) -> Period:
    """The current day, week, month or year up to its end (New York), or all time."""
    if name not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {name!r}")
    today = now.astimezone(NEW_YORK).date()
    if name == "all":
        return Period("all", None, now)
    if name == "day":
        return _period("day", today, today + timedelta(days=1))
    if name == "week":
        return week_of(today)
    if name == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return _period("month", first, following)
    first = today.replace(month=1, day=1)
    return _period("year", first, first.replace(year=first.year + 1))
