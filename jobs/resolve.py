"""`python -m jobs.resolve`: one resolve run for the current hour, for cron or the scheduler.

The run stands for the hour it starts in (its slot), so cron and the in-process scheduler
firing in the same hour, or two replicas during a deploy, do the work once.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime

from edgeledger import logs, migrations, reporting
from edgeledger.clock import utc_now
from edgeledger.core.resolution import RunReport
from edgeledger.database import Database
from edgeledger.errors import EdgeLedgerError
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.redaction import Redactor
from edgeledger.resolver import run_resolve
from edgeledger.settings import Settings

log = logging.getLogger("jobs.resolve")


def hour_slot(now: datetime) -> datetime:
    """The slot a run started at `now` stands for: the start of its hour."""
    return now.replace(minute=0, second=0, microsecond=0)


def run_once(settings: Settings, prices: PriceSettings) -> RunReport:
    now = utc_now()
    with Database.from_settings(settings) as db:
        migrations.upgrade(db)
        report = resolve_with(db, settings, prices, now=now, slot=hour_slot(now))
    log.info("resolve finished", extra={"job": "resolve", **report.counts()})
    return report


def resolve_with(
    db: Database, settings: Settings, prices: PriceSettings, *, now: datetime, slot: datetime
) -> RunReport:
    """One resolve run as the settings configure it, then (unless another run held the
    lock) the rolling metrics and feedback: what cron and the scheduler both run."""
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
    if not report.skipped:
        after_resolve_logged(db, report, now=now)
    return report


def after_resolve_logged(db: Database, report: RunReport, *, now: datetime) -> None:
    """The rolling metrics and feedback decisions of a run that closed trades. Their failure
    is logged, not fatal: the run's outcomes are stored already, and the next run that
    closes trades brings the figures up to date."""
    try:
        decisions = reporting.after_resolve(db, report, now=now)
    except Exception:
        log.exception("rolling metrics and feedback failed", extra={"job": "rolling-metrics"})
        return
    if report.closed:
        log.info(
            "rolling metrics updated",
            extra={"job": "rolling-metrics", "closed": len(report.closed), "decisions": decisions},
        )


def configure_logging() -> None:
    """Job processes log to stdout, where Railway and cron collect it: redacted, and with
    tracebacks only at DEBUG."""
    level = os.environ.get("EDGELEDGER_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    logs.configure_logging(
        level=level,
        stream=sys.stdout,
        redactor=Redactor.from_environ(os.environ),
        debug=level == "DEBUG",
    )


def main() -> int:
    configure_logging()
    try:
        report = run_once(Settings.from_env(), PriceSettings.from_env(os.environ))
    except EdgeLedgerError as exc:
        log.error("resolve failed: %s", exc)
        return 1
    if report.skipped:
        log.info("resolve skipped: %s", report.skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
