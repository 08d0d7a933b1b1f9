"""The scheduled jobs of `edgeledger run`: their ids, triggers, zones and grace times.

Resolve follows the market calendars (core.schedule); the weekly report runs Sunday 20:00
in Chicago. Either can be overridden by a cron expression (EDGELEDGER_RESOLVE_CRON,
EDGELEDGER_WEEKLY_REPORT_CRON), read in the job's own timezone. `edgeledger jobs` prints
the same triggers the service runs, so what it shows is what will happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from edgeledger.core.markets import is_around_the_clock
from edgeledger.core.schedule import fire_times, next_resolve_slot, slot_of
from edgeledger.errors import ConfigError
from edgeledger.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
RESOLVE = "resolve"
WEEKLY_REPORT = "weekly-report"
WEEKLY_REPORT_CRON = "0 20 * * sun"

# The default misfire grace of one second silently drops a run that starts late (a busy
# loop, a deploy); a run later than this stands down and the next slot carries on.
JOB_OPTIONS = {"coalesce": True, "max_instances": 1}
GRACE = {RESOLVE: timedelta(minutes=15), WEEKLY_REPORT: timedelta(hours=2)}


class CalendarTrigger(BaseTrigger):
    """Fires at the resolve slots of the markets' sessions (core.schedule), in UTC."""

    def __init__(self, markets: tuple[str, ...], timezone: ZoneInfo = NEW_YORK) -> None:
        self.markets = markets
        self.timezone = timezone  # for display; the slots are instants

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = now - timedelta(microseconds=1)
        if previous_fire_time is not None:
            after = max(after, previous_fire_time)
        found = next_resolve_slot(self.markets, after)
        return None if found is None else found.astimezone(self.timezone)

    def __str__(self) -> str:
        return f"calendar[{', '.join(self.markets)}]"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: a stable id, its trigger (with an explicit timezone), its grace."""

    id: str
    trigger: BaseTrigger
    grace: timedelta
    description: str

    @property
    def timezone(self) -> ZoneInfo:
        return self.trigger.timezone

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after`, in UTC."""
        found = self.trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        return None if found is None else found.astimezone(UTC)

    def next_times(self, now: datetime, count: int) -> list[datetime]:
        return fire_times(self.next_fire, now - timedelta(microseconds=1), count)

    def slot_at(self, now: datetime) -> datetime | None:
        """The slot a run starting at `now` stands for (None: no slot within the grace)."""
        return slot_of(self.next_fire, now, self.grace)


def job_specs(settings: Settings) -> list[JobSpec]:
    """The service's scheduled jobs; ConfigError names a cron setting that cannot be read."""
    resolve_zone = (
        ZoneInfo("UTC") if all(map(is_around_the_clock, settings.resolve_markets)) else NEW_YORK
    )
    if settings.resolve_cron:
        resolve_trigger = cron_trigger(
            settings.resolve_cron, resolve_zone, "EDGELEDGER_RESOLVE_CRON"
        )
        resolve_text = f"resolve open signals (cron {settings.resolve_cron})"
    else:
        resolve_trigger = CalendarTrigger(settings.resolve_markets, resolve_zone)
        resolve_text = (
            f"resolve open signals hourly in {', '.join(settings.resolve_markets)} sessions"
            " and after each close"
        )
    weekly_cron = settings.weekly_report_cron or WEEKLY_REPORT_CRON
    return [
        JobSpec(RESOLVE, resolve_trigger, GRACE[RESOLVE], resolve_text),
        JobSpec(
            WEEKLY_REPORT,
            cron_trigger(weekly_cron, CHICAGO, "EDGELEDGER_WEEKLY_REPORT_CRON"),
            GRACE[WEEKLY_REPORT],
            f"build, store and post the weekly report (cron {weekly_cron}, Chicago)",
        ),
    ]


def cron_trigger(expression: str, timezone: ZoneInfo, setting: str) -> CronTrigger:
    """Five fields (minute hour day month weekday) or six, seconds first."""
    fields = expression.split()
    names = ["minute", "hour", "day", "month", "day_of_week"]
    if len(fields) == 6:
        names = ["second", *names]
    if len(fields) != len(names):
        raise ConfigError(f"{setting}: {expression!r} needs five fields, or six with seconds")
    if any(ch.isdigit() for ch in fields[-1]):
        raise ConfigError(
            f"{setting}: write the weekday as names (sun, mon-fri): cron counts 0 as Sunday"
            " but the scheduler as Monday, so a number would be read wrong"
        )
    try:
        return CronTrigger(**dict(zip(names, fields, strict=True)), timezone=timezone)
    except ValueError as exc:
        reason = f"{setting}: {expression!r} is not a valid cron expression: {exc}"
        raise ConfigError(reason) from None
