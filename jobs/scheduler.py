"""`python -m jobs.scheduler`: the long-running jobs process (Procfile `jobs`).

Resolves open signals every hour of the NYSE session, at :35 New York time, when the
hour's :30 bar has just completed, and once more at 16:35 for the last half hour. Days the
exchange is closed are skipped by the calendar, not by the cron expression.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from edgeledger.clock import utc_now
from edgeledger.core.markets import session_bounds
from edgeledger.prices import PriceSettings
from edgeledger.settings import Settings
from jobs.resolve import configure_logging, run_once

log = logging.getLogger("jobs.scheduler")
NEW_YORK = "America/New_York"

# The default misfire grace of one second silently drops a run that starts late.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60}


def resolve_if_session(settings: Settings, prices: PriceSettings) -> None:
    """The hourly job: runs on exchange days only; failures are logged, not fatal."""
    if session_bounds("XNYS", utc_now().astimezone(ZoneInfo(NEW_YORK)).date()) is None:
        log.info("market closed today; no resolve run", extra={"job": "resolve"})
        return
    try:
        run_once(settings, prices)
    except Exception:
        log.exception("resolve run failed", extra={"job": "resolve"})


def build_scheduler(settings: Settings, prices: PriceSettings) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=NEW_YORK, job_defaults=JOB_DEFAULTS)
    scheduler.add_job(
        resolve_if_session,
        CronTrigger(day_of_week="mon-fri", hour="10-16", minute=35, timezone=NEW_YORK),
        args=(settings, prices),
        id="resolve-hourly",
        replace_existing=True,
        **JOB_DEFAULTS,
    )
    return scheduler


def main() -> int:
    configure_logging()
    settings, prices = Settings.from_env(), PriceSettings.from_env(os.environ)
    scheduler = build_scheduler(settings, prices)
    log.info("scheduler started", extra={"jobs": [job.id for job in scheduler.get_jobs()]})
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
