"""The bodies of the service's scheduled jobs: claim the slot, do the work, record it.

Each runs in a worker thread (the service awaits it with asyncio.to_thread) and reads the
clock once. A slot another process claimed is left to it. A failure is logged and recorded
on the slot, never raised into the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

import requests

from edgeledger import report_posting, reporting, slots, storage
from edgeledger.clock import utc_now
from edgeledger.core.periods import NEW_YORK, last_full_week
from edgeledger.database import Database
from edgeledger.errors import EdgeLedgerError, ReportPostBusy
from edgeledger.exporter import utc_text
from edgeledger.logs import one_line
from edgeledger.prices import PriceSettings
from edgeledger.settings import Settings
from jobs.resolve import resolve_with
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
        report = resolve_with(db, settings, prices, now=now, slot=slot)
        if report.skipped:
            return f"skipped: {report.skipped}"
        counts = report.counts()
        shown = [f"{k} {v}" for k, v in counts.items() if isinstance(v, int) and v]
        retried = retry_weekly_post(db, settings, now=now)
        return ", ".join([*shown, *([retried] if retried else [])]) or "nothing to resolve"

    return run_slot(db, RESOLVE, slot, work)


def post_weekly(db: Database, settings: Settings, monday: date, *, now: datetime) -> str:
    """Post the week's stored report to DISCORD_REPORT_WEBHOOK_URL (once: see
    edgeledger.report_posting); a note for the job's log. A failed post raises, so the slot
    is recorded as failed, and the hourly resolve run retries it (retry_weekly_post)."""
    if settings.bot_posts_report:
        return "left to the Discord bot (DISCORD_REPORT_CHANNEL_ID)"
    url = settings.report_webhook_url
    if not url:
        return "not posted (DISCORD_REPORT_WEBHOOK_URL is not set)"
    with requests.Session() as session:
        try:
            link = report_posting.report_link(settings, monday, now=now)
            result = report_posting.post_weekly(
                db, monday, url, session=session, now=now, report_url=link
            )
        except ReportPostBusy:
            return "being posted by another run"
    if result.already:
        return f"already posted (message {result.message_id})"
    left_out = f", without {' and '.join(result.left_out)}" if result.left_out else ""
    return f"posted (message {result.message_id}{left_out})"


def retry_weekly_post(db: Database, settings: Settings, *, now: datetime) -> str | None:
    """Post the last full week's report again when a run tried and failed to post it;
    None when there is nothing to retry. Failures are logged, never raised: this rides on
    the resolve run."""
    if not settings.report_webhook_url or settings.bot_posts_report:
        return None
    week = last_full_week(now)
    assert week.start is not None
    monday = week.start.astimezone(NEW_YORK).date()
    with db.connection() as conn:
        state = storage.report_post_state(conn, monday)
    if state is None or state["posted_at"] is not None or not state["post_attempts"]:
        return None
    try:
        return post_weekly(db, settings, monday, now=now)
    except Exception as exc:  # the resolve run carries on
        log.error("weekly report post retry failed: %s", one_line(exc), extra={"job": RESOLVE})
        return f"weekly report post retry failed: {one_line(exc)}"


def weekly_report(db: Database, settings: Settings, slot: datetime) -> str:
    def work(now: datetime) -> str:
        week = last_full_week(now)
        assert week.start is not None
        monday = week.start.astimezone(NEW_YORK).date()
        built = reporting.build_weekly(db, monday, now=now)
        posted = post_weekly(db, settings, monday, now=now)
        totals = built.report.totals.this_week
        return (
            f"week {monday.isoformat()} revision {built.revision}: {totals.signals} signals,"
            f" {totals.n_closed} closed; {posted}"
        )

    return run_slot(db, WEEKLY_REPORT, slot, work)
