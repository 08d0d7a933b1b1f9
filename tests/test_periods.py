"""Reporting periods are cut in New York time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from edgeledger.core.periods import last_full_week, period_to, week_of

NY = ZoneInfo("America/New_York")


def test_a_week_runs_monday_to_sunday_in_new_york():
    week = week_of(date(2026, 12, 2))  # a Wednesday
    assert (week.start, week.end) == (
        datetime(2026, 11, 30, tzinfo=NY),
        datetime(2026, 12, 7, tzinfo=NY),
    )


def test_the_sunday_evening_report_covers_the_week_ending_that_night():
    sunday_8pm = datetime(2026, 12, 6, 20, tzinfo=NY)
    assert last_full_week(sunday_8pm).start == datetime(2026, 11, 30, tzinfo=NY)


def test_on_a_weekday_the_last_full_week_is_the_one_before():
    tuesday = datetime(2026, 12, 1, 22, tzinfo=UTC)
    assert last_full_week(tuesday).start == datetime(2026, 11, 23, tzinfo=NY)


def test_late_sunday_utc_is_still_sunday_in_new_york():
    # 03:00 UTC on Monday 7 December is 22:00 on Sunday the 6th in New York.
    assert last_full_week(datetime(2026, 12, 7, 3, tzinfo=UTC)).start == datetime(
        2026, 11, 30, tzinfo=NY
    )


def test_periods_and_the_ones_before_them():
    now = datetime(2026, 3, 10, 15, tzinfo=UTC)
    month = period_to("month", now)
    assert (month.start, month.end) == (
        datetime(2026, 3, 1, tzinfo=NY),
        datetime(2026, 4, 1, tzinfo=NY),
    )
    assert month.previous().start == datetime(2026, 2, 1, tzinfo=NY)
    assert period_to("year", now).previous().start == datetime(2025, 1, 1, tzinfo=NY)
    assert period_to("day", now).previous().start == datetime(2026, 3, 9, tzinfo=NY)
    assert period_to("week", now).previous().start == datetime(2026, 3, 2, tzinfo=NY)
    assert period_to("all", now).start is None and period_to("all", now).previous() is None


def test_an_unknown_period_is_refused_by_name():
    with pytest.raises(ValueError, match="period must be one of day, week, month, year, all"):
        period_to("decade", datetime(2026, 3, 10, tzinfo=UTC))
