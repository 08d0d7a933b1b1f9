"""`edgeledger run`, `jobs` and `health`: the service, its schedule, and how it is doing."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from edgeledger import health, service
from edgeledger.cli.base import EXIT_ERROR, Context, examples
from edgeledger.core.validation import parse_timestamp
from edgeledger.database import Database
from edgeledger.errors import DatabaseUnavailable, InvalidOption
from edgeledger.exporter import utc_text
from edgeledger.prices import PriceSettings
from edgeledger.redaction import RedactingStream, Redactor
from jobs.resolve import configure_logging
from jobs.schedule import job_specs

SHOWN_RUNS = 3
MOST_RUNS = 100


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    job_specs(ctx.settings)  # a bad schedule setting is refused before anything starts
    configure_logging()  # the service logs to stdout, where the platform collects it
    return service.serve(ctx.settings, PriceSettings.from_env(ctx.environ))


def cmd_jobs(args: argparse.Namespace, ctx: Context) -> int:
    now = parse_timestamp(args.now, "--now") if args.now else ctx.now
    if not 1 <= args.count <= MOST_RUNS:
        raise InvalidOption("--count", f"must be 1 to {MOST_RUNS}, got {args.count}")
    specs = job_specs(ctx.settings)
    width = max(len(spec.id) for spec in specs)
    print(f"next runs from {short_utc(now.replace(microsecond=0))}", file=ctx.out)
    for spec in specs:
        print(f"{spec.id:<{width}}  {spec.description}", file=ctx.out)
        for at in spec.next_times(now, args.count):
            print(f"{'':<{width}}  {short_utc(at)}  {local_text(at, spec)}", file=ctx.out)
    return 0


def short_utc(at: datetime) -> str:
    """2026-03-09T01:00Z: minutes, as a schedule is read (seconds when it has them)."""
    text = utc_text(at) or ""
    return text.replace(":00Z", "Z") if at.second == 0 and at.microsecond == 0 else text


def local_text(at: datetime, spec: Any) -> str:
    """Sun 20:00 CDT: the time in the job's own zone, with the zone's abbreviation."""
    local = at.astimezone(spec.timezone)
    return local.strftime("%a %Y-%m-%d %H:%M %Z")


def cmd_health(args: argparse.Namespace, ctx: Context) -> int:
    try:
        db: Database | None = ctx.db(migrate=False)
    except DatabaseUnavailable as exc:
        db, found = None, health.unreachable(str(exc))
    if db is not None:
        found = health.check(db)
    # A stored error may quote a URL or a setting: no secret reaches the terminal.
    out = RedactingStream(ctx.out, Redactor.from_environ(ctx.environ))
    print(f"database    {'reachable' if found.database is None else found.database}", file=out)
    if found.database is None:
        state = (
            "current" if found.migrations_current else "NOT current: " + ", ".join(found.pending)
        )
        print(f"migrations  {state}", file=out)
    if found.database is None and not found.pending:
        if not found.jobs:
            print("jobs        none has run yet", file=out)
        for job in found.jobs:
            ago = _ago(job.ago(ctx.now))
            note = f"  ({job.note})" if job.note else ""
            print(
                f"job         {job.job:<16} {job.result:<10} {utc_text(job.started_at)}"
                f" ({ago} ago){note}",
                file=out,
            )
    return 0 if found.ok else EXIT_ERROR


def _ago(span: timedelta | None) -> str:
    if span is None:
        return "never"
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 2 * 3600:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def register(groups: Any) -> None:
    run = groups.add_parser(
        "run",
        help="run the service: HTTP API, health check and the scheduled jobs, until SIGTERM",
        description="One long-running process: /healthz and /api/signals on $PORT, resolve"
        " in market hours and the Sunday weekly report, each slot run once across processes.",
        epilog=examples("edgeledger run", "PORT=8080 EDGELEDGER_API_TOKEN=... edgeledger run"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.set_defaults(func=cmd_run)

    jobs = groups.add_parser(
        "jobs",
        help="list the scheduled jobs and their next run times (UTC and local)",
        description="Each job of `edgeledger run` with its next run times, in UTC and in the"
        " job's own timezone; holidays, early closes and DST changes included.",
        epilog=examples("edgeledger jobs", "edgeledger jobs --now 2026-03-07T12:00Z --count 5"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    jobs.add_argument("--now", help="list the runs after this time (ISO 8601; default: now)")
    jobs.add_argument(
        "--count", type=int, default=SHOWN_RUNS, help=f"runs per job (default {SHOWN_RUNS})"
    )
    jobs.set_defaults(func=cmd_jobs)

    check = groups.add_parser(
        "health",
        help="check the database, the migrations and the last run of each job",
        description="Database reachable, migrations current, and each job's last run: when,"
        " how long ago, its result. Exits 1 when something is wrong.",
        epilog=examples("edgeledger health", "edgeledger health || echo 'look at the jobs'"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.set_defaults(func=cmd_health)
