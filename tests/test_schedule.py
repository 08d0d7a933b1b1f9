"""The resolve slots the market calendars give, and the slot a late run stands for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgeledger.core.schedule import (
    fire_times,
    next_resolve_slot,
    resolve_slots,
    session_slots,
    slot_of,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_full_nyse_day_runs_at_35_past_each_hour_and_just_after_the_close():
    # Friday 2026-11-20, EST: the session is 14:30-21:00 UTC.
    slots = resolve_slots(["XNYS"], utc(2026, 11, 20), utc(2026, 11, 21))
    assert slots == [utc(2026, 11, 20, h, 35) for h in range(15, 21)] + [utc(2026, 11, 20, 21, 5)]


def test_a_summer_day_moves_an_hour_earlier_in_utc():
    slots = resolve_slots(["XNYS"], utc(2026, 7, 15), utc(2026, 7, 16))
    assert slots[0] == utc(2026, 7, 15, 14, 35)  # 10:35 EDT
    assert slots[-1] == utc(2026, 7, 15, 20, 5)  # 16:05 EDT


def test_no_slot_on_a_holiday():
    assert resolve_slots(["XNYS"], utc(2026, 11, 26), utc(2026, 11, 27)) == []  # Thanksgiving


def test_an_early_close_ends_the_day_early():
    # The day after Thanksgiving closes at 13:00 New York (18:00 UTC).
    slots = resolve_slots(["XNYS"], utc(2026, 11, 27), utc(2026, 11, 28))
    assert slots == [utc(2026, 11, 27, 15, 35), utc(2026, 11, 27, 16, 35),
                     utc(2026, 11, 27, 17, 35), utc(2026, 11, 27, 18, 5)]  # fmt: skip


def test_across_the_spring_dst_change_the_new_york_times_stay_put():
    friday = resolve_slots(["XNYS"], utc(2026, 3, 6), utc(2026, 3, 7))
    monday = resolve_slots(["XNYS"], utc(2026, 3, 9), utc(2026, 3, 10))
    assert friday[0] == utc(2026, 3, 6, 15, 35)  # 10:35 EST
    assert monday[0] == utc(2026, 3, 9, 14, 35)  # 10:35 EDT
    assert len(friday) == len(monday) == 7


def test_the_weekend_is_skipped_to_monday():
    assert next_resolve_slot(["XNYS"], utc(2026, 11, 20, 21, 5)) == utc(2026, 11, 23, 15, 35)


def test_crypto_runs_every_hour_around_the_clock():
    slots = resolve_slots(["24/7"], utc(2026, 11, 21), utc(2026, 11, 22))  # a Saturday
    assert slots == [utc(2026, 11, 21, h, 5) for h in range(24)]


def test_markets_together_run_each_slot_once():
    both = resolve_slots(["XNYS", "24/7"], utc(2026, 11, 20), utc(2026, 11, 21))
    assert len(both) == len(set(both))
    assert utc(2026, 11, 20, 15, 35) in both and utc(2026, 11, 20, 3, 5) in both


def test_a_session_shorter_than_an_hour_still_runs_after_its_close():
    assert session_slots(utc(2026, 1, 1, 10), utc(2026, 1, 1, 10, 30)) == [utc(2026, 1, 1, 10, 35)]


def test_a_run_stands_for_the_latest_slot_within_its_grace():
    def hourly(after: datetime) -> datetime:
        return after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    grace = timedelta(minutes=15)
    assert slot_of(hourly, utc(2026, 1, 1, 10, 0, 3), grace) == utc(2026, 1, 1, 10)
    assert slot_of(hourly, utc(2026, 1, 1, 10, 20), grace) is None  # too late: stands down
    assert fire_times(hourly, utc(2026, 1, 1, 10), 2) == [utc(2026, 1, 1, 11), utc(2026, 1, 1, 12)]


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        resolve_slots(["XNYS"], datetime(2026, 1, 1), utc(2026, 1, 2))
