"""Posting the weekly report to Discord: `edgeledger report weekly --post` and the Sunday job.

The message is drawn from the stored report (its data as the embed and the equity PNG,
reports/discord.py; its HTML as a file), never recomputed; a week not stored yet is built
first. The post is recorded on the week's row (sql/0009): a run claims it in one UPDATE
before it sends, so two runs (a deploy overlap, cron beside the service) never both post;
a failure releases the claim with its reason, and the next run retries. A claim older than
CLAIM_LEASE belongs to a run that died before it could release it, and is taken over.

One gap stays open, as with any post to a system outside the database: if Discord took the
message but the run died (or timed out reading the answer) before recording it, the next
run posts it again. The read timeout is generous so that this needs a real outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from edgeledger import discord_webhook, reporting, storage
from edgeledger.core import links
from edgeledger.core.report_data import WeeklyReport
from edgeledger.database import Database
from edgeledger.discord_webhook import File
from edgeledger.errors import ReportPostBusy, ReportPostFailed, ReportTooLarge
from edgeledger.logs import one_line
from edgeledger.redaction import Redactor
from edgeledger.settings import Settings
from reports.discord import discord_summary

log = logging.getLogger(__name__)

JOB = "weekly-report"
# What is left out, in turn, when Discord refuses the message as too large.
SHEDDING = ("html", "png")
# The longest one post can take: every size variant, each with all its attempts, each
# attempt waiting out its timeouts and the longest rate-limit wait. A claim older than this
# (with room to spare) is a dead run's.
LONGEST_POST = timedelta(
    seconds=(len(SHEDDING) + 1)
    * discord_webhook.MAX_ATTEMPTS
    * (sum(discord_webhook.TIMEOUT) + discord_webhook.MAX_WAIT)
)
CLAIM_LEASE = timedelta(minutes=20)


@dataclass(frozen=True)
class PostResult:
    """What happened to the week's post. `already` means an earlier run had posted it and
    nothing was sent now; `left_out` names the files dropped to fit Discord's limits;
    `attempts` counts the runs that have tried to post the week, this one included."""

    week_start: date
    revision: int
    posted_at: datetime
    message_id: str | None
    already: bool = False
    built: bool = False
    left_out: tuple[str, ...] = ()
    attempts: int = 1


def post_weekly(
    db: Database,
    week_start: date,
    webhook_url: str,
    *,
    session: requests.Session,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    report_url: str | None = None,
) -> PostResult:
    """Post the stored report of the week starting `week_start` (a Monday) to the webhook,
    once; the summary links to `report_url` (report_link's signed link) when given.
    Raises ReportPostBusy while another run posts it, and a ReportPostFailed that says why
    when Discord did not take it (the next run retries)."""
    claim = claim_weekly(db, week_start, now=now)
    if isinstance(claim, PostResult):
        return claim
    extra = {"job": JOB, "week": week_start.isoformat(), "attempt": claim.attempts}
    try:
        message_id, left_out = _send(session, webhook_url, claim.stored, sleep, report_url)
    except BaseException as exc:  # cancelled or failed: the next run must be able to retry
        why = Redactor.of([webhook_url])(
            str(exc) if isinstance(exc, ReportPostFailed) else one_line(exc)
        )
        release_weekly(db, week_start, now, why)
        # The caller reports the failure (the CLI's one error line, the job's log line).
        log.debug("weekly report not posted: %s", why, extra=extra, exc_info=True)
        raise
    return record_weekly(db, claim, message_id, left_out, now=now)


@dataclass(frozen=True)
class Claim:
    """A week's post claimed by this run: the stored row (report data, HTML, revision)."""

    week_start: date
    stored: dict[str, Any]
    built: bool

    @property
    def revision(self) -> int:
        return self.stored["revision"]

    @property
    def attempts(self) -> int:
        return self.stored["post_attempts"]


def claim_weekly(db: Database, week_start: date, *, now: datetime) -> Claim | PostResult:
    """Claim the week's post before sending it (building the report first if it is not
    stored): a Claim to send, or the PostResult of the run that already posted it. Raises
    ReportPostBusy while another run holds the claim. Every sender (the webhook, the bot)
    goes through this, then record_weekly or release_weekly."""
    built = False
    with db.connection() as conn:
        state = storage.report_post_state(conn, week_start)
    if state is None:
        reporting.build_weekly(db, week_start, now=now)
        built = True
    with db.connection() as conn, conn.transaction():
        claimed = storage.claim_report_post(
            conn, week_start, now=now, stale_before=now - CLAIM_LEASE
        )
        state = None if claimed else storage.report_post_state(conn, week_start)
    if claimed is None:
        assert state is not None  # the row exists: it was read or built above
        if state["posted_at"] is not None:
            return _already(state, built)
        raise ReportPostBusy(
            f"the report of the week of {week_start.isoformat()} is being posted by another run"
            f" (since {state['post_claimed_at'].astimezone(UTC):%Y-%m-%d %H:%M:%S}Z); nothing"
            " was sent"
        )
    return Claim(week_start, claimed, built)


def record_weekly(
    db: Database,
    claim: Claim,
    message_id: str | None,
    left_out: tuple[str, ...],
    *,
    now: datetime,
) -> PostResult:
    """Record that Discord took the claimed post."""
    extra = {"job": JOB, "week": claim.week_start.isoformat(), "attempt": claim.attempts}
    with db.connection() as conn, conn.transaction():
        recorded = storage.record_report_posted(
            conn, claim.week_start, posted_at=now, message_id=message_id, revision=claim.revision
        )
    if not recorded:  # our claim was taken over as stale and the other run posted too
        log.warning("weekly report was posted twice (a stale claim was taken over)", extra=extra)
    log.debug("weekly report posted", extra={**extra, "left_out": list(left_out)})
    return PostResult(
        week_start=claim.week_start,
        revision=claim.revision,
        posted_at=now,
        message_id=message_id,
        built=claim.built,
        left_out=left_out,
        attempts=claim.attempts,
    )


@dataclass(frozen=True)
class Message:
    """The week's message as stored: the summary (embed payload and PNG) and the HTML file."""

    summary: Any  # reports.discord.DiscordSummary
    png: File
    html: File

    def files(self, left_out: tuple[str, ...]) -> list[File]:
        return [f for f, name in ((self.png, "png"), (self.html, "html")) if name not in left_out]

    def payload(self, left_out: tuple[str, ...]) -> dict[str, Any]:
        return _payload(
            self.summary.payload, self.files(left_out), with_image="png" not in left_out
        )


def report_link(settings: Settings, week_start: date, *, now: datetime) -> str | None:
    """The signed link that opens the week's report on the dashboard, without a login, for
    EDGELEDGER_REPORT_LINK_DAYS; None unless EDGELEDGER_PUBLIC_URL and the dashboard token
    are set (docs/dashboard.md)."""
    if not settings.public_url or not settings.dashboard_token:
        return None
    key = links.derive_key(settings.dashboard_token, settings.dashboard_secret)
    expires = now + timedelta(days=settings.report_link_days)
    query = links.report_link_query(key, week_start, expires)
    return f"{settings.public_url}/reports/{week_start.isoformat()}?{urlencode(query)}"


def message_of(stored: dict[str, Any], report_url: str | None = None) -> Message:
    """The message of a stored report row; ReportPostFailed when its data cannot be read."""
    try:
        report = WeeklyReport.from_json(stored["data"])
    except ValueError as exc:
        week = stored["week_start"].isoformat()
        raise ReportPostFailed(
            f"the stored report of the week of {week} cannot be read ({exc}); rebuild it with"
            f" `edgeledger report weekly --week {week}`"
        ) from None
    summary = discord_summary(report, url=report_url)
    html = File(
        f"edgeledger-weekly-{report.week_start.isoformat()}.html",
        stored["html"].encode("utf-8"),
        "text/html; charset=utf-8",
    )
    return Message(summary, File(summary.filename, summary.png, "image/png"), html)


def _send(
    session: requests.Session,
    url: str,
    stored: dict[str, Any],
    sleep: Callable[[float], None],
    report_url: str | None = None,
) -> tuple[str | None, tuple[str, ...]]:
    """Send the full message, then without the HTML, then without the image, while Discord
    refuses it for its size."""
    message = message_of(stored, report_url)
    refused: ReportTooLarge | None = None
    for dropped in range(len(SHEDDING) + 1):
        left_out = SHEDDING[:dropped]
        files = message.files(left_out)
        try:
            message_id = discord_webhook.execute(
                session, url, message.payload(left_out), files, sleep=sleep
            )
        except ReportTooLarge as exc:
            log.info("Discord refused the weekly report as too large: %s", exc)
            refused = exc
            continue
        return message_id, left_out
    raise ReportTooLarge(f"{refused}, even without the HTML file and the image")


def _payload(summary: dict[str, Any], files: list[File], *, with_image: bool) -> dict[str, Any]:
    """The summary's payload with one attachment entry per file sent (ids as `files[n]`),
    and without the embed's image when the PNG is not sent."""
    embeds = [dict(embed) for embed in summary["embeds"]]
    if not with_image:
        for embed in embeds:
            embed.pop("image", None)
    return {
        **summary,
        "embeds": embeds,
        "attachments": [{"id": n, "filename": f.filename} for n, f in enumerate(files)],
    }


def _already(state: dict[str, Any], built: bool) -> PostResult:
    return PostResult(
        week_start=state["week_start"],
        revision=state["posted_revision"] or state["revision"],
        posted_at=state["posted_at"],
        message_id=state["post_message_id"],
        already=True,
        built=built,
        attempts=state["post_attempts"],
    )


def release_weekly(db: Database, week_start: date, claimed_at: datetime, error: str) -> None:
    """Give the claim back with why it failed; if even that fails, the claim goes stale."""
    try:
        with db.connection() as conn, conn.transaction():
            storage.release_report_post(conn, week_start, claimed_at=claimed_at, error=error)
    except Exception:
        log.warning("could not release the weekly report's post claim", exc_info=True)


def stored_report(db: Database, week_start: date, *, now: datetime) -> dict[str, Any]:
    """The week's stored report row (data, HTML, revision), built and stored first when the
    week was never built; for showing it (the bot's /report), not for the recorded post."""
    with db.connection() as conn:
        stored = storage.weekly_report(conn, week_start)
    if stored is None:
        reporting.build_weekly(db, week_start, now=now)
        with db.connection() as conn:
            stored = storage.weekly_report(conn, week_start)
    assert stored is not None
    return stored
