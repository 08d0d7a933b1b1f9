"""The scheduled jobs' slots (job_slots) and the latest run of each job (job_runs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from edgeledger.storage.rows import named_query


def claim_job_slot(
    conn: psycopg.Connection, job: str, slot: datetime, *, claimed_at: datetime, claimed_by: str
) -> bool:
    """True when this caller claimed (job, slot); False when another process had."""
    params = {"job": job, "slot": slot, "claimed_at": claimed_at, "claimed_by": claimed_by}
    return conn.execute(named_query("claim_job_slot"), params).fetchone() is not None


def finish_job_slot(
    conn: psycopg.Connection,
    job: str,
    slot: datetime,
    *,
    status: str,
    finished_at: datetime,
    detail: str | None,
) -> None:
    params = {
        "job": job,
        "slot": slot,
        "status": status,
        "finished_at": finished_at,
        "detail": detail,
    }
    conn.execute(named_query("finish_job_slot"), params)


def last_job_slots(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return list(conn.execute(named_query("last_job_slots")))


def last_job_runs(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return list(conn.execute(named_query("last_job_runs")))
