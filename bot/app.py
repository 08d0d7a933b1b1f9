"""The bot's client: the command tree, channel capture, and its two loops (close replies, the
weekly report to the report channel), on the loop of `edgeledger run`.

Commands are registered by `edgeledger discord sync`, never on start (Discord limits
command creation per day). Loops start in `setup_hook`, which runs once; `on_ready` can fire
again after a reconnect, and each time the signal channels are caught up (idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from bot.capture import Capture
from bot.commands import build_tree
from bot.context import BotContext
from bot.posting import announce_closes, post_weekly_to_channel
from edgeledger import storage
from edgeledger.core.periods import NEW_YORK, last_full_week
from edgeledger.errors import EdgeLedgerError, ReportPostBusy
from edgeledger.logs import one_line

log = logging.getLogger(__name__)

CLOSE_EVERY = 60.0  # seconds between passes over closes to announce
REPORT_EVERY = 300.0  # seconds between checks for a weekly report to post
CATCH_UP_EVERY = 300.0  # seconds between catch-ups of channels whose cursor is stuck


def intents() -> discord.Intents:
    """Guilds and guild messages, with their content (a privileged intent: turn on
    "Message Content Intent" in the Developer Portal, docs/discord-bot.md)."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.message_content = True
    return chosen


class EdgeLedgerBot(discord.Client):
    def __init__(self, ctx: BotContext) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
        self.ctx = ctx
        self.tree = build_tree(self, lambda: self.ctx)
        self.capture = Capture(ctx)
        self._loops: list[asyncio.Task] = []

    async def setup_hook(self) -> None:
        self._loops = [
            asyncio.create_task(self._every(CLOSE_EVERY, self.announce_closes), name="closes"),
            asyncio.create_task(self._every(REPORT_EVERY, self.post_report), name="report"),
            asyncio.create_task(self._every(CATCH_UP_EVERY, self.catch_up_stuck), name="catch-up"),
        ]

    async def close(self) -> None:
        for task in self._loops:
            task.cancel()
        await super().close()

    async def on_ready(self) -> None:
        self.capture.bot_user_id = self.user.id if self.user else None
        log.info("Discord bot connected as %s", self.user)
        await self.catch_up_all()

    async def on_message(self, message: discord.Message) -> None:
        await self.capture.on_message(message)

    async def channel(self, channel_id: int) -> Any:
        return self.get_channel(channel_id) or await self.fetch_channel(channel_id)

    async def catch_up_all(self) -> None:
        for channel_id in self.ctx.settings.discord_signal_channel_ids:
            await self._catch_up(channel_id)

    async def catch_up_stuck(self) -> None:
        for channel_id in list(self.capture.stuck):
            await self._catch_up(channel_id)

    async def _catch_up(self, channel_id: int) -> None:
        try:
            await self.capture.catch_up(await self.channel(channel_id))
        except (discord.HTTPException, EdgeLedgerError) as exc:
            log.warning("could not catch up channel %s: %s", channel_id, one_line(exc))

    async def announce_closes(self) -> None:
        await announce_closes(self.ctx, self.channel)

    async def post_report(self) -> None:
        """Post the last full week's report to the report channel once it is stored and not
        posted (the Sunday job builds it and leaves the post to the bot)."""
        channel_id = self.ctx.settings.discord_report_channel_id
        if channel_id is None:
            return
        week = last_full_week(self.ctx.now())
        assert week.start is not None
        monday = week.start.astimezone(NEW_YORK).date()

        def state() -> dict | None:
            with self.ctx.db.connection() as conn:
                return storage.report_post_state(conn, monday)

        found = await self.ctx.run(state)
        if found is None or found["posted_at"] is not None:
            return
        try:
            result = await post_weekly_to_channel(self.ctx, await self.channel(channel_id), monday)
        except ReportPostBusy:
            return
        log.info("weekly report of %s posted to the report channel (message %s)",
                 monday.isoformat(), result.message_id, extra={"job": "weekly-report"})  # fmt: skip

    async def _every(self, seconds: float, work: Any) -> None:
        await self.wait_until_ready()
        while not self.is_closed():
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one failing pass must not stop the loop
                log.error("%s failed: %s", work.__name__, one_line(exc), exc_info=True)
            await asyncio.sleep(seconds)


async def run_bot(ctx: BotContext, token: str) -> EdgeLedgerBot:
    """Start the bot on the running loop (returns once it is started; it runs until closed)."""
    bot = EdgeLedgerBot(ctx)
    task = asyncio.create_task(bot.start(token), name="discord-bot")

    def done(t: asyncio.Task) -> None:
        if not t.cancelled() and t.exception() is not None:
            # discord.py's LoginFailure names no token; one line, never the token itself.
            log.error("the Discord bot stopped: %s", one_line(t.exception()))

    task.add_done_callback(done)
    bot.runner = task  # type: ignore[attr-defined]
    return bot
