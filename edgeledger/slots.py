"""Exactly once per slot: a scheduled run claims its (job, slot) row before it works.

Every `edgeledger run` process fires every job; only the process whose claim inserts the
row does the work (sql/0010_job_slots.sql). Resolve also keeps its single-flight lock and
its job_runs record, so a manual or cron run at the same time still does the work once.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from edgeledger import storage
from edgeledger.database import Database


def claimer() -> str:
    """Who claims: this host and process, for whoever reads job_slots."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_slot(db: Database, job: str, slot: datetime, *, now: datetime) -> bool:
    """True when this process claimed the slot and must run it; False when another had."""
    with db.connection() as conn, conn.transaction():
        return storage.claim_job_slot(conn, job, slot, claimed_at=now, claimed_by=claimer())


def finish_slot(
    db: Database,
    job: str,
    slot: datetime,
    *,
    now: datetime,
    error: str | None = None,
    detail: str | None = None,
) -> None:
    """Record how the claimed slot ended: succeeded (with `detail`) or failed (`error`)."""
    with db.connection() as conn, conn.transaction():
        storage.finish_job_slot(
            conn,
            job,
            slot,
            status="failed" if error else "succeeded",
            finished_at=now,
            detail=error or detail,
        )
