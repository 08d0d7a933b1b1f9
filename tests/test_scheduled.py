"""The bodies of the scheduled jobs on a real database: claim the slot, work, record."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from freezegun import freeze_time

from edgeledger import reporting
from edgeledger.core.resolution import RunReport
from jobs import scheduled
from jobs.resolve import after_resolve_logged

SLOT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Sunday 20:00 in Chicago


@freeze_time("2026-11-23 02:00:05")
def test_the_weekly_job_builds_stores_and_calls_the_post_hook_once_per_slot(
    db, sql_conn, monkeypatch
):
    posted = []
    monkeypatch.setattr(
        scheduled, "post_weekly", lambda db, built, now: posted.append(built) or "posted"
    )
    assert scheduled.weekly_report(db, SLOT) == scheduled.RAN
    assert scheduled.weekly_report(db, SLOT) == scheduled.TAKEN  # another process's turn
    assert [built.report.week_start.isoformat() for built in posted] == ["2026-11-16"]
    row = sql_conn.execute("SELECT week_start, revision FROM weekly_reports").fetchall()
    assert [(str(week), revision) for week, revision in row] == [("2026-11-16", 1)]
    slot = sql_conn.execute("SELECT status, detail FROM job_slots").fetchone()
    assert slot[0] == "succeeded" and slot[1].endswith("; posted")


@freeze_time("2026-11-23 02:00:05")
def test_a_failing_job_is_recorded_on_its_slot_not_raised(db, sql_conn, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the report could not be drawn")

    monkeypatch.setattr(reporting, "build_weekly", broken)
    assert scheduled.weekly_report(db, SLOT) == scheduled.FAILED
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
