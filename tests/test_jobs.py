"""The scheduled jobs: their declaration, their triggers across DST and holidays, and what
`edgeledger jobs` prints."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from edgeledger.cli import main
from edgeledger.errors import ConfigError
from edgeledger.settings import Settings
from jobs import scheduler
from jobs.resolve import hour_slot
from jobs.schedule import RESOLVE, WEEKLY_REPORT, job_specs


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def specs(**env: str) -> dict:
    return {spec.id: spec for spec in job_specs(Settings.from_env(env))}


def test_a_run_stands_for_the_hour_it_starts_in():
    assert hour_slot(utc(2026, 11, 20, 15, 35, 12)) == utc(2026, 11, 20, 15, 0)


def test_every_job_has_an_explicit_timezone_and_a_real_grace():
    for spec in specs().values():
        assert spec.timezone is not None
        assert spec.grace >= timedelta(minutes=5)
    assert str(specs()[WEEKLY_REPORT].timezone) == "America/Chicago"
    assert str(specs()[RESOLVE].timezone) == "America/New_York"


def test_the_weekly_report_runs_sunday_at_8pm_chicago_across_the_dst_change():
    weekly = specs()[WEEKLY_REPORT]
    # DST starts Sunday 2026-03-08 at 02:00: that evening is CDT (UTC-5), the week before CST.
    assert weekly.next_times(utc(2026, 2, 28), 2) == [utc(2026, 3, 2, 2), utc(2026, 3, 9, 1)]
    # ... and ends Sunday 2026-11-01: that evening is CST (UTC-6) again.
    assert weekly.next_times(utc(2026, 10, 24), 2) == [utc(2026, 10, 26, 1), utc(2026, 11, 2, 2)]


def test_resolve_follows_the_calendar_past_a_holiday():
    resolve = specs()[RESOLVE]
    after_wednesday = resolve.next_times(utc(2026, 11, 25, 21, 6), 1)
    assert after_wednesday == [utc(2026, 11, 27, 15, 35)]  # Thanksgiving skipped


def test_with_crypto_resolve_runs_on_a_saturday():
    resolve = specs(EDGELEDGER_RESOLVE_MARKETS="XNYS, crypto")[RESOLVE]
    assert resolve.next_times(utc(2026, 11, 21, 10), 1) == [utc(2026, 11, 21, 10, 5)]


def test_a_cron_setting_overrides_a_schedule_in_the_jobs_zone():
    weekly = specs(EDGELEDGER_WEEKLY_REPORT_CRON="30 7 * * mon")[WEEKLY_REPORT]
    assert weekly.next_times(utc(2026, 11, 20), 1) == [utc(2026, 11, 23, 13, 30)]  # 07:30 CST
    fast = specs(EDGELEDGER_RESOLVE_CRON="*/5 * * * * *")[RESOLVE]  # six fields: seconds first
    assert fast.next_times(utc(2026, 11, 20, 10, 0, 1), 2) == [
        utc(2026, 11, 20, 10, 0, 5),
        utc(2026, 11, 20, 10, 0, 10),
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [("0 20 * * 0", "weekday as names"), ("61 * * * *", "not a valid cron"), ("0 20", "cron")],
)
def test_a_bad_cron_setting_is_named(value, reason):
    with pytest.raises(ConfigError, match=reason) as caught:
        specs(EDGELEDGER_WEEKLY_REPORT_CRON=value)
    assert "EDGELEDGER_WEEKLY_REPORT_CRON" in str(caught.value)


def test_a_job_late_past_its_grace_stands_down():
    resolve = specs()[RESOLVE]
    assert resolve.slot_at(utc(2026, 11, 20, 15, 35, 2)) == utc(2026, 11, 20, 15, 35)
    assert resolve.slot_at(utc(2026, 11, 20, 15, 55)) is None


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out, err=io.StringIO())
    return code, out.getvalue()


def test_jobs_lists_next_runs_in_utc_and_local_time(monkeypatch):
    monkeypatch.delenv("EDGELEDGER_WEEKLY_REPORT_CRON", raising=False)
    monkeypatch.delenv("EDGELEDGER_RESOLVE_CRON", raising=False)
    monkeypatch.delenv("EDGELEDGER_RESOLVE_MARKETS", raising=False)
    code, out = run_cli("jobs", "--now", "2026-03-07T12:00Z", "--count", "2")
    assert code == 0
    assert "2026-03-09T01:00Z  Sun 2026-03-08 20:00 CDT" in out  # the first CDT Sunday
    assert "2026-03-09T14:35Z  Mon 2026-03-09 10:35 EDT" in out


@pytest.mark.parametrize("argv", [("--now", "tomorrow"), ("--count", "0")])
def test_jobs_refuses_a_bad_option(argv):
    code, _ = run_cli("jobs", *argv)
    assert code == 2


def test_the_old_scheduler_entry_becomes_edgeledger_run():
    assert scheduler.command()[-3:] == ["-m", "edgeledger", "run"]
