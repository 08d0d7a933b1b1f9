"""The bodies of the service's scheduled jobs: claim the slot, do the work, record it.

Each runs in a worker thread (the service awaits it with asyncio.to_thread) and reads the
clock once. A slot another process claimed is left to it. A failure is logged and recorded
on the slot, never raised into the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from edgeledger import reporting, slots
from edgeledger.clock import utc_now
from edgeledger.core.periods import NEW_YORK, last_full_week
from edgeledger.database import Database
from edgeledger.errors import EdgeLedgerError
from edgeledger.exporter import utc_text
from edgeledger.logs import one_line
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.reporting import BuiltReport
from edgeledger.resolver import run_resolve
from edgeledger.settings import Settings
from jobs.resolve import after_resolve_logged
from jobs.schedule import RESOLVE, WEEKLY_REPORT

log = logging.getLogger(__name__)

# What a run of a slot came to.
RAN, FAILED, TAKEN = "ran", "failed", "taken"


def run_slot(db: Database, job: str, slot: datetime, work: Callable[[datetime], str]) -> str:
    """Claim (job, slot) and run `work(now)` when this process got it; see the module."""
    now = utc_now()
    extra = {"job": job, "slot": slot.isoformat()}
    name = f"{job} {utc_text(slot)}"
    try:
        claimed = slots.claim_slot(db, job, slot, now=now)
    except EdgeLedgerError as exc:  # the database is away: the next slot tries again
        log.error("%s: could not claim the slot: %s", name, one_line(exc), extra=extra)
        return FAILED
    if not claimed:
        log.info("%s: claimed by another process; left to it", name, extra=extra)
        return TAKEN
    log.info("%s: claimed; running", name, extra=extra)
    try:
        detail = work(now)
    except Exception as exc:
        log.exception("%s: failed", name, extra=extra)
        slots.finish_slot(db, job, slot, now=utc_now(), error=one_line(exc))
        return FAILED
    slots.finish_slot(db, job, slot, now=utc_now(), detail=detail)
    log.info("%s: done: %s", name, detail, extra=extra)
    return RAN


def resolve(db: Database, settings: Settings, prices: PriceSettings, slot: datetime) -> str:
    def work(now: datetime) -> str:
        report = run_resolve(
            db,
            make_provider(prices),
            as_of=now,
            now=now,
            interval=settings.resolve_intervals,
            drill=settings.drill_intervals,
            slot=slot,
            group_tickers=settings.resolve_group,
            fetch_workers=settings.fetch_workers,
            default_market=settings.default_market,
            time_limit=settings.resolve_deadline,
        )
        if report.skipped:
            return f"skipped: {report.skipped}"
        after_resolve_logged(db, report, now=now)
        counts = report.counts()
        shown = [f"{k} {v}" for k, v in counts.items() if isinstance(v, int) and v]
        return ", ".join(shown) or "nothing to resolve"

    return run_slot(db, RESOLVE, slot, work)


def post_weekly(db: Database, built: BuiltReport, *, now: datetime) -> str | None:
    """THE HOOK for posting the weekly report (DISCORD_REPORT_WEBHOOK_URL), built in parallel
    under issue 11 (`report weekly --post`). Until it lands the report is built and stored
    only; replace this body with a call to the poster, which records the post on the report
    (never twice; a failed post retried by the next run). Returns a note for the job's log."""
    return "not posted (the webhook poster is not built yet)"


def weekly_report(db: Database, slot: datetime) -> str:
    def work(now: datetime) -> str:
        week = last_full_week(now)
        assert week.start is not None
        monday = week.start.astimezone(NEW_YORK).date()
        built = reporting.build_weekly(db, monday, now=now)
        posted = post_weekly(db, built, now=now)
        totals = built.report.totals.this_week
        return (
            f"week {monday.isoformat()} revision {built.revision}: {totals.signals} signals,"
            f" {totals.n_closed} closed; {posted}"
        )

    return run_slot(db, WEEKLY_REPORT, slot, work)
