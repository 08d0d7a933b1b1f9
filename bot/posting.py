"""What the bot posts by itself: the weekly report to the report channel (under the same
exactly-once record as the webhook post, edgeledger.report_posting), and the close replies
under Discord signals (recorded in discord_signal_messages).

discord.py waits out ordinary 429s itself; a wait longer than its limit surfaces as
discord.RateLimited, which is waited out here a few times before the post is left for the
next pass. A 5xx is retried; anything else fails the post, which releases its claim with
the reason, so the next pass tries again.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import discord

from bot.context import BotContext
from edgeledger import discord_records, report_posting
from edgeledger.errors import ReportPostFailed, ReportTooLarge
from edgeledger.logs import one_line

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
MAX_ATTEMPTS = 4
MAX_WAIT = 60.0  # seconds: the longest rate-limit wait before leaving it to the next pass
TOO_LARGE_CODES = (40005, 50035)
CLOSE_BATCH = 20  # close replies per pass
CLOSE_PACE = 1.0  # seconds between two close replies: a batch stays inside the rate limits

Sleep = Callable[[float], Awaitable[None]]
Send = Callable[..., Awaitable[Any]]


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or (exc.status == 400 and exc.code in TOO_LARGE_CODES)


async def _send_once(send: Send, sleep: Sleep, **kwargs: Any) -> Any:
    """One message, retried on a long rate limit and a server error."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await send(**kwargs)
        except discord.RateLimited as exc:
            if attempt == MAX_ATTEMPTS or exc.retry_after > MAX_WAIT:
                raise ReportPostFailed(
                    f"Discord rate-limited the post (retry after {exc.retry_after:.0f}s);"
                    " the next pass tries again"
                ) from None
            await sleep(exc.retry_after)
        except discord.DiscordServerError as exc:
            if attempt == MAX_ATTEMPTS:
                raise ReportPostFailed(f"Discord failed: {exc.status} {exc.text}") from None
            await sleep(2.0 * attempt)
    raise AssertionError("unreachable")


async def send_report(
    send: Send, message: report_posting.Message, sleep: Sleep = asyncio.sleep
) -> tuple[Any, tuple[str, ...]]:
    """Send the week's message (embed, chart, HTML), then without the HTML, then without the
    image, while Discord refuses it for its size; returns (the message sent, left out)."""
    for dropped in range(len(report_posting.SHEDDING) + 1):
        left_out = report_posting.SHEDDING[:dropped]
        payload = message.payload(left_out)
        embeds = [discord.Embed.from_dict(e) for e in payload["embeds"]]
        sent = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # Files are read as they are sent: each attempt gets fresh ones.
            files = [
                discord.File(io.BytesIO(f.content), filename=f.filename)
                for f in message.files(left_out)
            ]
            try:
                sent = await send(embeds=embeds, files=files, allowed_mentions=NO_MENTIONS)
                return sent, left_out
            except discord.RateLimited as exc:
                if attempt == MAX_ATTEMPTS or exc.retry_after > MAX_WAIT:
                    raise ReportPostFailed(
                        f"Discord rate-limited the weekly report (retry after"
                        f" {exc.retry_after:.0f}s); the next pass tries again"
                    ) from None
                await sleep(exc.retry_after)
            except discord.DiscordServerError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise ReportPostFailed(
                        f"Discord failed {attempt} times ({exc.status}); the next pass tries again"
                    ) from None
                await sleep(2.0 * attempt)
            except discord.HTTPException as exc:
                if _too_large(exc):
                    log.info("Discord refused the weekly report as too large: %s", one_line(exc))
                    break
                raise ReportPostFailed(
                    f"Discord refused the weekly report: {exc.status} {exc.text}"
                ) from None
    raise ReportTooLarge("Discord refused the weekly report as too large, even without files")


async def post_weekly_to_channel(
    ctx: BotContext,
    channel: Any,
    week_start: date,
    *,
    sleep: Sleep = asyncio.sleep,
) -> report_posting.PostResult:
    """Post the week's stored report to `channel`, once, under the week's post record: the
    claim, then the message, then the record (a failure releases the claim with why)."""
    now = ctx.now()
    claim = await ctx.run(report_posting.claim_weekly, ctx.db, week_start, now=now)
    if isinstance(claim, report_posting.PostResult):
        return claim
    try:
        link = report_posting.report_link(ctx.settings, week_start, now=now)
        message = report_posting.message_of(claim.stored, link)
        sent, left_out = await send_report(channel.send, message, sleep)
    except BaseException as exc:  # failed or cancelled: the next pass must be able to retry
        why = str(exc) if isinstance(exc, ReportPostFailed) else one_line(exc)
        await asyncio.shield(ctx.run(report_posting.release_weekly, ctx.db, week_start, now, why))
        raise
    return await ctx.run(
        report_posting.record_weekly, ctx.db, claim, str(sent.id), left_out, now=ctx.now()
    )


async def announce_closes(
    ctx: BotContext,
    channel_of: Callable[[int], Awaitable[Any]],
    *,
    sleep: Sleep = asyncio.sleep,
    limit: int = CLOSE_BATCH,
) -> int:
    """Reply under each Discord signal a run closed (WIN +2.1R, LOSS -1R, EXPIRED), once:
    each close is claimed, replied to, then recorded; a failed reply is released and
    tried by the next pass. Returns how many were announced."""
    if not ctx.settings.discord_close_replies:
        return 0
    claims = await ctx.run(discord_records.claim_close_replies, ctx.db, now=ctx.now(), limit=limit)
    announced = 0
    for n, close in enumerate(claims):
        if n:
            await sleep(CLOSE_PACE)
        try:
            channel = await channel_of(close.channel_id)
            original = channel.get_partial_message(close.message_id)
            reply = await _send_once(
                original.reply,
                sleep,
                content=close.text,
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.NotFound:  # the original message or channel is gone: nothing to reply under
            log.info("close of %s not announced: its message is gone", close.trade_id)
            await ctx.run(discord_records.record_close_reply, ctx.db, close.trade_id, None,
                          now=ctx.now())  # fmt: skip
            continue
        except asyncio.CancelledError:
            await asyncio.shield(ctx.run(
                discord_records.release_close_reply, ctx.db, close.trade_id, "cancelled"
            ))  # fmt: skip
            raise
        except Exception as exc:
            why = one_line(exc)
            log.warning("close of %s not announced yet: %s", close.trade_id, why)
            await ctx.run(discord_records.release_close_reply, ctx.db, close.trade_id, why)
            continue
        await ctx.run(
            discord_records.record_close_reply, ctx.db, close.trade_id, reply.id, now=ctx.now()
        )
        announced += 1
    return announced
