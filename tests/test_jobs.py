"""The scheduled entry points: when they fire, and what slot a run stands for."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun import freeze_time

from edgeledger.prices import PriceSettings
from edgeledger.settings import Settings
from jobs import scheduler
from jobs.resolve import hour_slot


def test_a_run_stands_for_the_hour_it_starts_in():
    assert hour_slot(datetime(2026, 11, 20, 15, 35, 12, tzinfo=UTC)) == datetime(
        2026, 11, 20, 15, 0, tzinfo=UTC
    )


def test_the_hourly_job_is_declared_with_safe_defaults():
    built = scheduler.build_scheduler(Settings.from_env({}), PriceSettings())
    (job,) = built.get_jobs()
    assert job.id == "resolve-hourly"
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 900)
    assert str(job.trigger.timezone) == "America/New_York"


def test_the_hourly_job_fires_at_35_past_in_new_york_through_the_session():
    built = scheduler.build_scheduler(Settings.from_env({}), PriceSettings())
    (job,) = built.get_jobs()
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 11, 20, 14, 0, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 11, 20, 15, 35, tzinfo=UTC)  # 10:35 ET
    after_close = job.trigger.get_next_fire_time(None, datetime(2026, 11, 20, 21, 40, tzinfo=UTC))
    assert after_close.astimezone(UTC) == datetime(2026, 11, 23, 15, 35, tzinfo=UTC)  # Monday


@freeze_time("2026-11-26 16:35:00")  # Thanksgiving: the exchange is closed
def test_no_run_on_a_market_holiday(monkeypatch):
    calls = []
    monkeypatch.setattr(scheduler, "run_once", lambda *args: calls.append(args))
    scheduler.resolve_if_session(Settings.from_env({}), PriceSettings())
    assert calls == []


@freeze_time("2026-11-27 16:35:00")  # the day after: an early close, but a session
def test_a_run_on_an_exchange_day(monkeypatch):
    calls = []
    monkeypatch.setattr(scheduler, "run_once", lambda *args: calls.append(args))
    scheduler.resolve_if_session(Settings.from_env({}), PriceSettings())
    assert len(calls) == 1
