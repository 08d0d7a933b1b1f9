"""NYSE sessions: when day signals expire, when the market is open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edgeledger.market_calendar import (
    Session,
    default_expires_at,
    is_market_open,
    session_bounds,
    session_close_for,
    sessions_between,
)
from edgeledger.model import TradeType

ET = ZoneInfo("America/New_York")


def et(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ET)


def test_a_day_signal_expires_at_that_days_close():
    # Tuesday 2026-03-03, EST: the close is 16:00 ET = 21:00 UTC.
    assert session_close_for(et(2026, 3, 3, 10, 15)) == datetime(2026, 3, 3, 21, tzinfo=UTC)


def test_created_before_the_open_expires_at_the_same_days_close():
    assert session_close_for(et(2026, 3, 3, 7, 0)) == et(2026, 3, 3, 16)


def test_created_after_the_close_rolls_to_the_next_session():
    assert session_close_for(et(2026, 3, 3, 16, 30)) == et(2026, 3, 4, 16)


def test_created_exactly_at_the_close_rolls_to_the_next_session():
    assert session_close_for(et(2026, 3, 3, 16, 0)) == et(2026, 3, 4, 16)


def test_friday_evening_rolls_to_monday():
    assert session_close_for(et(2026, 3, 13, 18, 0)) == et(2026, 3, 16, 16)


def test_weekend_rolls_to_monday():
    assert session_close_for(et(2026, 3, 14, 11, 0)) == et(2026, 3, 16, 16)


def test_thanksgiving_rolls_to_the_early_close_the_day_after():
    # 2026-11-26 is Thanksgiving (closed); Friday 11-27 closes at 13:00 ET (18:00 UTC).
    assert session_close_for(et(2026, 11, 26, 10, 0)) == datetime(2026, 11, 27, 18, tzinfo=UTC)


def test_an_early_close_day_expires_at_one_pm():
    assert session_close_for(et(2026, 11, 27, 9, 45)) == et(2026, 11, 27, 13)


def test_created_after_an_early_close_rolls_to_the_next_session():
    assert session_close_for(et(2026, 11, 27, 13, 30)) == et(2026, 11, 30, 16)


def test_christmas_eve_closes_early():
    assert session_close_for(et(2026, 12, 24, 10, 0)) == et(2026, 12, 24, 13)


def test_close_follows_daylight_saving_time():
    # Clocks went forward on Sunday 2026-03-08: 16:00 ET is 21:00 UTC on Friday the
    # 6th and 20:00 UTC on Monday the 9th.
    assert session_close_for(et(2026, 3, 6, 11)) == datetime(2026, 3, 6, 21, tzinfo=UTC)
    assert session_close_for(et(2026, 3, 6, 17)) == datetime(2026, 3, 9, 20, tzinfo=UTC)
    assert session_close_for(et(2026, 3, 9, 11)) == datetime(2026, 3, 9, 20, tzinfo=UTC)


def test_the_eastern_date_decides_the_day_not_the_utc_date():
    # 01:00 UTC on Wednesday is still Tuesday evening in New York: after Tuesday's close.
    assert session_close_for(datetime(2026, 3, 4, 1, 0, tzinfo=UTC)) == et(2026, 3, 4, 16)


def test_a_swing_signal_expires_seven_days_after_creation():
    created = datetime(2026, 3, 3, 15, 17, tzinfo=UTC)
    assert default_expires_at(TradeType.SWING, created) == created + timedelta(days=7)


def test_a_day_signal_defaults_to_the_session_close():
    assert default_expires_at(TradeType.DAY, et(2026, 3, 3, 10)) == et(2026, 3, 3, 16)


def test_the_market_is_open_from_the_open_until_the_close():
    assert is_market_open(et(2026, 3, 3, 9, 30)) is True
    assert is_market_open(et(2026, 3, 3, 15, 59)) is True
    assert is_market_open(et(2026, 3, 3, 16, 0)) is False
    assert is_market_open(et(2026, 3, 3, 9, 29)) is False


def test_the_market_is_closed_on_holidays_and_after_early_closes():
    assert is_market_open(et(2026, 11, 26, 11)) is False
    assert is_market_open(et(2026, 11, 27, 13, 30)) is False


def test_sessions_between_lists_open_and_close_of_each_session():
    assert sessions_between(date(2026, 11, 25), date(2026, 11, 27)) == [
        Session(date(2026, 11, 25), et(2026, 11, 25, 9, 30), et(2026, 11, 25, 16)),
        Session(date(2026, 11, 27), et(2026, 11, 27, 9, 30), et(2026, 11, 27, 13)),
    ]


def test_a_holiday_has_no_session_bounds():
    assert session_bounds(date(2026, 11, 26)) is None


def test_dates_beyond_the_calendar_are_refused_by_name():
    with pytest.raises(ValueError, match="2060-01-05 is outside the NYSE calendar"):
        session_close_for(et(2060, 1, 5, 10))


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        session_close_for(datetime(2026, 3, 3, 10, 0))
