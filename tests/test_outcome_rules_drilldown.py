"""Drill-down: finer bars order the prices inside a bar that would otherwise be ambiguous.

Long entry 100, stop 95, target 110 (risk 5), created 14:00, expiring 22:00 on Monday
2026-03-02; 1h bars are primary; rows are (UTC "HH:MM", open, high, low, close).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from edgeledger.core.model import Direction, Status
from edgeledger.core.outcome_rules import BarSeries
from tests.outcome_builders import at, bars, long, resolve

PREV_101 = ("13:00", 101, 102, 100.5, 101)
FILL_AT_14 = ("14:00", 101, 101.5, 99.8, 100.5)
BOTH_AT_15 = ("15:00", 100, 111, 94, 100)  # reaches stop and target: order unknown
HOURLY = bars("1h", PREV_101, FILL_AT_14, BOTH_AT_15)


# An OPEN bar that reaches both levels -----------------------------------------------------


def test_finer_bars_showing_target_first_make_the_ambiguous_bar_a_win():
    five = bars(
        "5m",
        ("15:00", 100, 105, 99, 104),
        ("15:05", 104, 111, 103, 109),  # target
        ("15:10", 109, 109.5, 94, 96),  # stop, too late
    )
    outcome = resolve(long(), HOURLY, five)
    assert (outcome.status, outcome.exit_price) == (Status.WIN, Decimal("110"))
    assert outcome.closed_at == at("15:05")
    assert outcome.ambiguous is False


def test_finer_bars_showing_stop_first_make_the_ambiguous_bar_a_clean_loss():
    five = bars(
        "5m",
        ("15:00", 100, 100.5, 94, 96),  # stop
        ("15:05", 96, 111, 96, 109),
    )
    outcome = resolve(long(), HOURLY, five)
    assert (outcome.status, outcome.exit_price, outcome.closed_at) == (
        Status.LOSS,
        Decimal("95"),
        at("15:00"),
    )
    assert outcome.ambiguous is False


def test_a_finer_bar_still_reaching_both_is_settled_as_an_ambiguous_loss():
    five = bars("5m", ("15:00", 100, 101, 99, 100), ("15:05", 100, 111, 94, 100))
    outcome = resolve(long(), HOURLY, five)
    assert (outcome.status, outcome.closed_at, outcome.ambiguous) == (
        Status.LOSS,
        at("15:05"),
        True,
    )


def test_drill_down_recurses_from_hours_to_five_minutes_to_minutes():
    five = bars("5m", ("15:00", 100, 101, 99, 100), ("15:05", 100, 111, 94, 100))
    minutes = bars(
        "1m",
        ("15:05", 100, 102, 99, 101),
        ("15:06", 101, 105, 100, 104),
        ("15:07", 104, 111, 103, 108),  # target
        ("15:08", 108, 108, 94, 95),  # stop
        ("15:09", 95, 100, 95, 100),
    )
    outcome = resolve(long(), HOURLY, five, minutes)
    assert (outcome.status, outcome.closed_at, outcome.ambiguous) == (
        Status.WIN,
        at("15:07"),
        False,
    )


def test_drill_down_skips_to_the_next_finer_interval_that_has_bars_inside():
    minutes = bars("1m", ("15:00", 100, 100.5, 94, 96), ("15:01", 96, 111, 96, 110))
    outcome = resolve(long(), HOURLY, bars("5m", ("16:00", 1, 1, 1, 1)), minutes)
    assert (outcome.status, outcome.closed_at, outcome.ambiguous) == (
        Status.LOSS,
        at("15:00"),
        False,
    )


def test_finer_bars_that_miss_a_level_the_bar_reached_are_not_used():
    # Only the first ten minutes are known and they never reach the stop the hour reached.
    partial = bars("5m", ("15:00", 100, 111, 99, 109), ("15:05", 109, 109, 104, 105))
    outcome = resolve(long(), HOURLY, partial)
    assert (outcome.status, outcome.closed_at, outcome.ambiguous) == (
        Status.LOSS,
        at("15:00"),
        True,
    )


def test_finer_bars_are_not_consulted_for_an_unambiguous_bar():
    hourly = bars("1h", PREV_101, FILL_AT_14, ("15:00", 101, 111, 100, 110))
    five = bars("5m", ("15:00", 101, 101, 94, 95), ("15:05", 95, 111, 95, 110))
    outcome = resolve(long(), hourly, five)
    assert (outcome.status, outcome.closed_at) == (Status.WIN, at("15:00"))


def test_coarser_intervals_than_the_primary_are_ignored():
    five = bars("5m", ("14:00", 101, 101.5, 99.8, 100.5), ("14:05", 100, 110.5, 100, 110))
    outcome = resolve(long(), HOURLY, five, primary="5m")
    assert (outcome.status, outcome.closed_at) == (Status.WIN, at("14:05"))


# A trigger bar that also reaches the stop or the target ----------------------------------


def test_finer_bars_showing_stop_before_the_fill_leave_the_trade_open():
    prev_97 = ("13:00", 97, 97.5, 96.5, 97)
    hourly = bars("1h", prev_97, ("14:00", 97, 100.5, 94, 100))
    five = bars(
        "5m",
        ("14:00", 97, 97.5, 94, 95),  # stop level first, while still pending
        ("14:05", 95, 98, 95, 98),
        ("14:10", 98, 100.5, 97.5, 100),  # then the fill
    )
    outcome = resolve(long(), hourly, five, as_of=at(15))
    assert (outcome.status, outcome.triggered_at, outcome.ambiguous) == (
        Status.OPEN,
        at("14:10"),
        False,
    )


def test_finer_bars_showing_stop_after_the_fill_make_a_clean_loss():
    hourly = bars("1h", PREV_101, ("14:00", 101, 101.5, 94, 96))
    five = bars("5m", ("14:00", 101, 101.5, 99.5, 99.8), ("14:05", 99.8, 100, 94, 96))
    outcome = resolve(long(), hourly, five)
    assert (outcome.status, outcome.triggered_at, outcome.closed_at) == (
        Status.LOSS,
        at("14:00"),
        at("14:05"),
    )
    assert outcome.ambiguous is False


def test_finer_bars_showing_target_before_the_fill_leave_the_trade_open():
    hourly = bars("1h", PREV_101, ("14:00", 101, 111, 99.5, 100))
    five = bars("5m", ("14:00", 101, 111, 100.5, 108), ("14:05", 108, 108, 99.5, 100))
    outcome = resolve(long(), hourly, five, as_of=at(15))
    assert (outcome.status, outcome.triggered_at, outcome.ambiguous) == (
        Status.OPEN,
        at("14:05"),
        False,
    )


def test_finer_bars_showing_target_after_the_fill_make_a_win():
    hourly = bars("1h", PREV_101, ("14:00", 101, 111, 99.5, 109))
    five = bars("5m", ("14:00", 101, 101, 99.5, 100.5), ("14:05", 100.5, 111, 100.5, 109))
    outcome = resolve(long(), hourly, five)
    assert (outcome.status, outcome.exit_price, outcome.closed_at) == (
        Status.WIN,
        Decimal("110"),
        at("14:05"),
    )
    assert outcome.ambiguous is False


def test_previous_close_is_carried_into_the_finer_bars():
    # The hour gapped from 101 to 99 across entry: the first 5-minute bar (high 99.5)
    # only fills because it is compared with the previous hour's close.
    hourly = bars("1h", PREV_101, ("14:00", 99, 99.5, 94, 95))
    five = bars("5m", ("14:00", 99, 99.5, 98, 98.5), ("14:05", 98.5, 98.8, 94, 95))
    outcome = resolve(long(), hourly, five)
    assert (outcome.fill_price, outcome.closed_at) == (Decimal("99"), at("14:05"))
    assert (outcome.r_achieved, outcome.ambiguous) == (Decimal("-0.8000"), False)


def test_excursions_use_the_finer_bars_from_the_one_that_filled():
    prev_97 = ("13:00", 97, 97.5, 96.5, 97)
    hourly = bars("1h", prev_97, ("14:00", 97, 100.5, 94, 100))
    five = bars(
        "5m",
        ("14:00", 97, 97.5, 94, 95),
        ("14:05", 95, 98, 95, 98),
        ("14:10", 98, 100.5, 97.5, 100),
    )
    outcome = resolve(long(), hourly, five, as_of=at(15))
    assert (outcome.mfe_r, outcome.mae_r) == (Decimal("0.1000"), Decimal("-0.5000"))


# Shorts and daily bars ---------------------------------------------------------------------


def test_short_drill_down_mirrors_the_long():
    terms = long(direction=Direction.SHORT, stop=105, target=90)
    hourly = bars(
        "1h",
        ("13:00", 99, 99.5, 98.5, 99),
        ("14:00", 99, 100.2, 98.5, 99.5),
        ("15:00", 100, 106, 89, 100),
    )
    five = bars("5m", ("15:00", 100, 101, 89.5, 91), ("15:05", 91, 106, 91, 104))
    outcome = resolve(terms, hourly, five)
    assert (outcome.status, outcome.exit_price, outcome.closed_at) == (
        Status.WIN,
        Decimal("90"),
        at("15:00"),
    )
    assert outcome.ambiguous is False


def test_a_daily_bar_drills_into_the_hours_of_its_session():
    # Daily bars are stamped at the session open (14:30 UTC in winter) and last 24 hours.
    def utc(day: int, hhmm: str) -> datetime:
        hour, minute = map(int, hhmm.split(":"))
        return datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    terms = long(created_at=utc(2, "14:30"), expires_at=utc(9, "14:30"))
    daily = BarSeries.from_rows(
        "1d",
        [
            (utc(2, "14:30"), 101, 101.5, 99.8, 100.5),
            (utc(3, "14:30"), 100, 111, 94, 100),
        ],
    )
    hourly = BarSeries.from_rows(
        "1h",
        [
            (utc(3, "14:30"), 100, 102, 99, 101),
            (utc(3, "15:30"), 101, 111, 100.5, 109),  # target first
            (utc(3, "16:30"), 109, 109, 94, 96),
        ],
    )
    outcome = resolve(terms, daily, hourly, primary="1d")
    assert (outcome.status, outcome.closed_at) == (Status.WIN, utc(3, "15:30"))
