"""`edgeledger health`: the database, its migrations and the last run of each job."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from freezegun import freeze_time

from edgeledger.cli import main


def run_health(monkeypatch, url: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    out, err = io.StringIO(), io.StringIO()
    code = main(["health"], out=out, err=err)
    return code, out.getvalue() + err.getvalue()


def test_a_fresh_database_is_healthy_with_no_runs_yet(monkeypatch, db_url):
    code, out = run_health(monkeypatch, db_url)
    assert code == 0, out
    assert "database    reachable" in out
    assert "migrations  current" in out
    assert "none has run yet" in out


@freeze_time("2026-11-20 18:00:00")
def test_each_jobs_last_run_shows_when_how_long_ago_and_its_result(monkeypatch, db_url, sql_conn):
    sql_conn.execute(
        "INSERT INTO job_runs (job_name, scheduled_for, status, started_at, finished_at, counts)"
        " VALUES ('resolve', %s, 'succeeded', %s, %s, '{\"outcomes_changed\": 3}')",
        (datetime(2026, 11, 20, 17, tzinfo=UTC), datetime(2026, 11, 20, 17, 35, tzinfo=UTC),
         datetime(2026, 11, 20, 17, 36, tzinfo=UTC)),
    )  # fmt: skip
    sql_conn.execute(
        "INSERT INTO job_slots (job, slot, claimed_at, claimed_by, status, detail)"
        " VALUES ('weekly-report', %s, %s, 'host:1', 'succeeded', 'week 2026-11-09')",
        (datetime(2026, 11, 16, 2, tzinfo=UTC), datetime(2026, 11, 16, 2, tzinfo=UTC)),
    )
    code, out = run_health(monkeypatch, db_url)
    assert code == 0, out
    assert "resolve          succeeded  2026-11-20T17:35:00Z (25m ago)  (outcomes_changed 3)" in out
    assert "weekly-report    succeeded  2026-11-16T02:00:00Z (4d ago)" in out


def test_a_failed_last_run_exits_non_zero(monkeypatch, db_url, sql_conn):
    sql_conn.execute(
        "INSERT INTO job_runs (job_name, status, error) VALUES ('resolve', 'failed', 'boom')"
    )
    code, out = run_health(monkeypatch, db_url)
    assert code == 1
    assert "failed" in out and "boom" in out


def test_a_pending_migration_exits_non_zero(monkeypatch, db_url, sql_conn):
    sql_conn.execute("DELETE FROM schema_migrations WHERE version = 10")
    code, out = run_health(monkeypatch, db_url)
    assert code == 1
    assert "NOT current: 0010_job_slots (pending)" in out


def test_an_unreachable_database_exits_non_zero_without_its_password(monkeypatch):
    code, out = run_health(monkeypatch, "postgresql://edge:hunter2secret@127.0.0.1:1/ledger")
    assert code == 1
    assert "database    cannot connect" in out
    assert "hunter2secret" not in out


def test_a_secret_in_a_stored_error_is_masked(monkeypatch, db_url, sql_conn):
    monkeypatch.setenv("EDGELEDGER_POLYGON_API_KEY", "polykey12345")
    sql_conn.execute(
        "INSERT INTO job_runs (job_name, status, error)"
        " VALUES ('resolve', 'failed', 'GET /v2/aggs?apiKey=polykey12345: 500')"
    )
    code, out = run_health(monkeypatch, db_url)
    assert code == 1
    assert "polykey12345" not in out and "apiKey=" in out
