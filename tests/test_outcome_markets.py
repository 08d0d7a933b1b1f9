"""The rules read bars by their market: session closes end bars, a daily bar is its
session, and a window the provider never answered for expires `no_data`."""

from __future__ import annotations

from datetime import UTC, datetime

from edgeledger.core.model import ExitReason, Status
from edgeledger.core.outcome_rules import BarSeries
from tests.outcome_builders import long, resolve


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def daily(*rows: tuple) -> BarSeries:
    """Daily bars as stored: at midnight UTC of the date they name."""
    return BarSeries.from_rows("1d", [(utc(day), *prices) for day, *prices in rows])


SWING = long(created_at=utc(24, 16), expires_at=utc(28))  # Tuesday, mid-session


def test_a_daily_bar_that_began_before_the_signal_is_not_used_even_stamped_at_midnight():
    # The 24th's session (14:30-21:00 UTC) began before the signal, which its stamp hides.
    bars = daily((23, 101, 102, 100.5, 101), (24, 101, 111, 99, 105), (25, 105, 106, 104, 105))
    outcome = resolve(SWING, bars, primary="1d", market="XNYS")
    assert outcome.status is Status.EXPIRED and outcome.exit_reason is ExitReason.NOT_TRIGGERED


def test_a_daily_bar_starts_at_its_sessions_open_and_ends_at_its_close():
    bars = daily(
        (24, 101, 102, 100.5, 101), (25, 101, 101.5, 99.5, 100.5), (27, 101, 111, 100, 110)
    )
    outcome = resolve(SWING, bars, primary="1d", market="XNYS")
    assert (outcome.status, outcome.triggered_at) == (Status.WIN, utc(25, 14, 30))
    assert outcome.closed_at == utc(27, 14, 30)  # the early-close session opens as usual


def test_a_daily_bar_ending_after_the_run_is_not_used_until_its_session_closes():
    bars = daily((24, 101, 102, 100.5, 101), (25, 101, 101.5, 99.5, 100.5))
    during = resolve(SWING, bars, primary="1d", market="XNYS", as_of=utc(25, 20))
    after = resolve(SWING, bars, primary="1d", market="XNYS", as_of=utc(25, 21))
    assert (during.status, after.status) == (Status.PENDING, Status.OPEN)


def test_an_ambiguous_daily_bar_is_ordered_by_the_hours_of_its_session():
    bars = daily((24, 101, 102, 100.5, 101), (25, 101, 111, 94, 100))
    hours = BarSeries.from_rows(
        "1h",
        [
            (utc(25, 14, 30), 101, 101.5, 99.5, 100.5),  # fills at 100
            (utc(25, 15, 30), 100.5, 111, 100.2, 110.5),  # the target first
            (utc(25, 16, 30), 110.5, 110.8, 94, 96),
        ],
    )
    outcome = resolve(SWING, bars, hours, primary="1d", market="XNYS")
    assert (outcome.status, outcome.ambiguous) == (Status.WIN, False)
    assert outcome.closed_at == utc(25, 15, 30)


def test_pending_at_expiry_without_prices_for_the_window_is_no_data():
    bars = daily((23, 101, 102, 100.5, 101))
    unanswered = resolve(SWING, bars, primary="1d", market="XNYS", answered=[])
    answered = resolve(SWING, bars, primary="1d", market="XNYS", answered=[(utc(20), utc(28))])
    assert (unanswered.status, unanswered.exit_reason) == (Status.EXPIRED, ExitReason.NO_DATA)
    assert unanswered.fill_price is None and unanswered.r_achieved is None
    assert answered.exit_reason is ExitReason.NOT_TRIGGERED


def test_part_of_the_window_unanswered_is_no_data_too():
    partly = [(utc(20), utc(26))]  # the provider failed for the 26th and 27th
    outcome = resolve(SWING, daily((23, 101, 102, 100.5, 101)), primary="1d", answered=partly)
    assert outcome.exit_reason is ExitReason.NO_DATA


def test_before_expiry_missing_prices_leave_the_signal_pending():
    outcome = resolve(SWING, daily(), primary="1d", answered=[], as_of=utc(26))
    assert outcome.status is Status.PENDING


def test_forex_bars_through_the_night_all_count():
    night = long(created_at=utc(24, 20), expires_at=utc(26))
    hours = BarSeries.from_rows(
        "1h", [(utc(24, 22), 101, 101.5, 99.5, 100.5), (utc(25, 3), 100.5, 110.5, 100, 110)]
    )
    outcome = resolve(night, hours, market="24/5")
    assert (outcome.status, outcome.closed_at) == (Status.WIN, utc(25, 3))
