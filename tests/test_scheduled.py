"""The bodies of the scheduled jobs on a real database: claim the slot, work, record."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

from freezegun import freeze_time

from edgeledger import reporting
from edgeledger.clock import utc_now
from edgeledger.core.resolution import RunReport
from edgeledger.settings import Settings
from jobs import scheduled
from jobs.resolve import after_resolve_logged
from tests.fake_discord import TOKEN, serving

SLOT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Sunday 20:00 in Chicago


@freeze_time("2026-11-23 02:00:05")
def test_the_weekly_job_builds_stores_and_posts_once_per_slot(db, sql_conn):
    with serving() as discord:
        settings = Settings(None, Path("unused"), report_webhook_url=discord.webhook_url)
        assert scheduled.weekly_report(db, settings, SLOT) == scheduled.RAN
        assert scheduled.weekly_report(db, settings, SLOT) == scheduled.TAKEN  # another's turn
    assert len(discord.received) == 1
    row = sql_conn.execute("SELECT week_start, revision, posted_at FROM weekly_reports").fetchall()
    assert [(str(week), revision) for week, revision, _ in row] == [("2026-11-16", 1)]
    assert row[0][2] is not None
    slot = sql_conn.execute("SELECT status, detail FROM job_slots").fetchone()
    assert slot[0] == "succeeded" and "; posted (message " in slot[1]
    assert TOKEN not in slot[1]


@freeze_time("2026-11-23 02:00:05")
def test_without_a_webhook_the_weekly_job_builds_and_stores_only(db, sql_conn):
    assert scheduled.weekly_report(db, Settings(None, Path("unused")), SLOT) == scheduled.RAN
    slot = sql_conn.execute("SELECT status, detail FROM job_slots").fetchone()
    assert slot[1].endswith("not posted (DISCORD_REPORT_WEBHOOK_URL is not set)")


def test_a_failed_post_fails_the_slot_and_the_next_resolve_run_posts_it(db, sql_conn):
    with serving() as discord:
        settings = Settings(None, Path("unused"), report_webhook_url=discord.webhook_url)
        discord.then(500, {"message": "Internal Server Error", "code": 0})
        with freeze_time("2026-11-23 02:00:05"):
            assert scheduled.weekly_report(db, settings, SLOT) == scheduled.FAILED
            # before any failure nothing is retried; now the failure is on the report
            assert sql_conn.execute("SELECT posted_at FROM weekly_reports").fetchone()[0] is None
        with freeze_time("2026-11-23 15:35:00"):  # Monday 10:35 in New York: a resolve run
            note = scheduled.retry_weekly_post(db, settings, now=utc_now())
            assert note is not None and note.startswith("posted")
            assert scheduled.retry_weekly_post(db, settings, now=utc_now()) is None
    posted = sql_conn.execute("SELECT posted_at, post_attempts FROM weekly_reports").fetchone()
    assert posted[0] is not None and posted[1] == 2


@freeze_time("2026-11-23 15:35:00")
def test_a_report_built_by_hand_is_not_posted_by_the_retry(db):
    reporting.build_weekly(db, date(2026, 11, 16), now=utc_now())
    settings = Settings(
        None, Path("unused"), report_webhook_url="https://discord.com/api/webhooks/1/never-called"
    )
    assert scheduled.retry_weekly_post(db, settings, now=utc_now()) is None


@freeze_time("2026-11-23 02:00:05")
def test_a_failing_job_is_recorded_on_its_slot_not_raised(db, sql_conn, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the report could not be drawn")

    monkeypatch.setattr(reporting, "build_weekly", broken)
    assert scheduled.weekly_report(db, Settings(None, Path("unused")), SLOT) == scheduled.FAILED
    status, detail = sql_conn.execute("SELECT status, detail FROM job_slots").fetchone()
    assert status == "failed"
    assert detail == "RuntimeError: the report could not be drawn"


def test_a_failure_of_the_rolling_metrics_is_logged_not_fatal(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("metrics broke")

    monkeypatch.setattr(reporting, "after_resolve", broken)
    report = RunReport(as_of=SLOT, interval="1h")
    with caplog.at_level(logging.ERROR):
        after_resolve_logged(None, report, now=SLOT)  # type: ignore[arg-type]
    assert "rolling metrics and feedback failed" in caplog.text
