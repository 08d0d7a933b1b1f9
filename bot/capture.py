"""Channel capture: signal posts in the configured channels are logged, once.

Each post is parsed (bot.parsing); a signal is logged with source `channel` and the
message id as its source key, acknowledged with ✅ and a reply naming its trade_id; a post
that looks like a signal but does not validate gets ⚠️ and a log line saying why; any other
post is passed over. Every handled message moves the channel's cursor, and after downtime
`catch_up` reads the history after it, so no signal is lost; logging a post again finds the
signal already there and changes nothing. No post can crash the bot: every failure is logged.
If the database fails on a post, the channel's cursor stops moving until a catch-up has read
that post again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from bot.context import BotContext
from bot.parsing import parse_post
from edgeledger import discord_records
from edgeledger.core.model import Source
from edgeledger.errors import InvalidSignal, SignalConflict
from edgeledger.logs import one_line

log = logging.getLogger(__name__)

LOGGED = "✅"
REFUSED = "⚠️"
NO_MENTIONS = discord.AllowedMentions.none()


class Capture:
    def __init__(self, ctx: BotContext, bot_user_id: int | None = None) -> None:
        self.ctx = ctx
        self.bot_user_id = bot_user_id
        self.stuck: set[int] = set()  # channels whose cursor waits for a catch-up
        self._catching_up: dict[int, asyncio.Lock] = {}

    def watches(self, channel_id: int) -> bool:
        return channel_id in self.ctx.settings.discord_signal_channel_ids

    async def on_message(self, message: Any) -> str:
        """Handle a new post of a watched channel; what happened, for logs and tests."""
        if not self.watches(message.channel.id):
            return "not watched"
        if self.bot_user_id is not None and message.author.id == self.bot_user_id:
            return "own"
        return await self.handle(message)

    async def handle(self, message: Any, *, catching_up: bool = False) -> str:
        """logged, already, refused, ignored or failed; never raises (but cancellation)."""
        channel_id = message.channel.id
        extra = {"channel_id": channel_id, "message_id": message.id}
        try:
            outcome = await self._handle(message, extra)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("channel post %s not handled: %s", message.id, one_line(exc), extra=extra,
                      exc_info=True)  # fmt: skip
            self.stuck.add(channel_id)
            return "failed"
        if channel_id not in self.stuck or catching_up:
            try:
                await self.ctx.run(
                    discord_records.advance_cursor, self.ctx.db, channel_id, message.id,
                    now=self.ctx.now(),
                )  # fmt: skip
            except Exception as exc:  # the post is handled; a catch-up reads it again
                log.warning("channel cursor not moved: %s", one_line(exc), extra=extra)
        return outcome

    async def _handle(self, message: Any, extra: dict[str, Any]) -> str:
        parsed = parse_post(message.content, message.embeds)
        if not parsed.looks_like_signal:
            return "ignored"
        raw = {
            **parsed.raw,
            "source_key": str(message.id),
            "created_at": message.created_at.isoformat(),
        }
        try:
            result = await self.ctx.run(
                discord_records.log_discord_signal,
                self.ctx.db,
                raw,
                source=Source.CHANNEL,
                actor=f"channel:{message.channel.id}",
                now=self.ctx.now(),
                default_market=self.ctx.settings.default_market,
            )
        except (InvalidSignal, SignalConflict) as exc:
            log.warning("channel post %s looks like a signal but was not logged: %s",
                        message.id, exc, extra=extra)  # fmt: skip
            await _react(message, REFUSED)
            return "refused"
        trade_id = result.signal.trade_id
        await self.ctx.run(
            discord_records.record_message, self.ctx.db, trade_id, message.channel.id,
            message.id, now=self.ctx.now(),
        )  # fmt: skip
        await _react(message, LOGGED)
        if result.created:
            try:
                await message.reply(
                    f"Logged as `{trade_id}`", mention_author=False, allowed_mentions=NO_MENTIONS
                )
            except discord.HTTPException as exc:
                log.warning("could not reply to post %s: %s", message.id, one_line(exc))
        log.info("captured %s from post %s", trade_id, message.id,
                 extra={**extra, "trade_id": trade_id, "new_signal": result.created})  # fmt: skip
        return "logged" if result.created else "already"

    async def catch_up(self, channel: Any) -> dict[str, int]:
        """Read the channel's history after the last message handled, oldest first. Without
        a cursor (a channel never read), start from its newest message."""
        lock = self._catching_up.setdefault(channel.id, asyncio.Lock())
        counts: dict[str, int] = {}
        async with lock:
            after = await self.ctx.run(discord_records.channel_cursor, self.ctx.db, channel.id)
            if after is None:
                last = getattr(channel, "last_message_id", None)
                if last:
                    await self.ctx.run(discord_records.advance_cursor, self.ctx.db, channel.id,
                                       last, now=self.ctx.now())  # fmt: skip
                return counts
            self.stuck.discard(channel.id)
            async for message in channel.history(
                limit=None, after=discord.Object(id=after), oldest_first=True
            ):
                if self.bot_user_id is not None and message.author.id == self.bot_user_id:
                    continue
                outcome = await self.handle(message, catching_up=True)
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome == "failed":
                    break  # the cursor stays before it: the next catch-up starts there
        if counts:
            log.info("caught up channel %s: %s", channel.id, counts)
        return counts


async def _react(message: Any, emoji: str) -> None:
    try:
        await message.add_reaction(emoji)
    except discord.HTTPException as exc:  # missing permission, message deleted
        log.warning("could not react to post %s: %s", message.id, one_line(exc))
