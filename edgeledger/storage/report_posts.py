"""What posting the weekly report reads and writes on its weekly_reports row (sql/0009):
the claim that keeps two runs from both posting, the post's record, and why it failed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
import psycopg.rows

from edgeledger.storage.rows import named_query


def claim_report_post(
    conn: psycopg.Connection, week_start: date, *, now: datetime, stale_before: datetime
) -> dict[str, Any] | None:
    """Claim the week's post for this run and count the attempt; the stored report (data,
    html, revision) when claimed, None when the week is posted, not stored, or being posted
    by a run whose claim is newer than `stale_before`."""
    params = {"week_start": week_start, "now": now, "stale_before": stale_before}
    return _dicts(conn, "claim_report_post", params).fetchone()


def record_report_posted(
    conn: psycopg.Connection,
    week_start: date,
    *,
    posted_at: datetime,
    message_id: str | None,
    revision: int,
) -> bool:
    """Mark the week posted (and release the claim); False if it already was."""
    params = {
        "week_start": week_start,
        "posted_at": posted_at,
        "message_id": message_id,
        "revision": revision,
    }
    return _dicts(conn, "record_report_posted", params).fetchone() is not None


def release_report_post(
    conn: psycopg.Connection, week_start: date, *, claimed_at: datetime, error: str
) -> None:
    """Give this run's claim back after a failed post, keeping why: the next run retries."""
    params = {"week_start": week_start, "claimed_at": claimed_at, "error": error}
    conn.execute(named_query("release_report_post"), params)


def report_post_state(conn: psycopg.Connection, week_start: date) -> dict[str, Any] | None:
    """The week's post as stored: revision, posted_at, posted_revision, post_message_id,
    post_claimed_at, post_attempts, post_error; None when the week's report is not stored."""
    return _dicts(conn, "report_post_state", {"week_start": week_start}).fetchone()


def _dicts(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> psycopg.Cursor:
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(named_query(query), params)
