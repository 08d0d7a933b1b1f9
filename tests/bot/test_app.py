"""The client: its loops start once (setup_hook) and stop with it; the report loop posts the
last full week once it is stored; catch-up runs over every signal channel."""

from __future__ import annotations

import asyncio
from datetime import date

from bot.app import EdgeLedgerBot
from edgeledger import reporting
from tests.bot.conftest import NOW, SIGNAL_CHANNEL
from tests.bot.test_capture import POST
from tests.fake_interaction import FakeChannel

LAST_WEEK = date(2026, 11, 9)  # the last full week before NOW (Friday 2026-11-20)


def test_loops_start_in_setup_hook_and_stop_with_the_client(ctx):
    async def main():
        client = EdgeLedgerBot(ctx)
        await client.setup_hook()
        assert {t.get_name() for t in client._loops} == {"closes", "report", "catch-up"}
        await client.close()
        await asyncio.sleep(0)
        return client._loops

    loops = asyncio.run(main())
    assert all(t.cancelled() or t.done() for t in loops)


def test_the_report_loop_posts_the_stored_week_once(ctx, sql_conn):
    channel = FakeChannel(3333)

    async def main():
        client = EdgeLedgerBot(ctx)

        async def channel_of(channel_id):
            assert channel_id == 3333
            return channel

        client.channel = channel_of
        await client.post_report()  # not built yet: nothing to post
        await asyncio.to_thread(reporting.build_weekly, ctx.db, date(2026, 11, 16), now=NOW)
        await client.post_report()  # built, but the week the loop posts is the last full one
        posted_before = len(channel.sent)
        await asyncio.to_thread(reporting.build_weekly, ctx.db, LAST_WEEK, now=NOW)
        await client.post_report()
        await client.post_report()
        await client.close()
        return posted_before

    assert asyncio.run(main()) == 0
    assert len(channel.sent) == 1
    assert sql_conn.execute(
        "SELECT posted_at IS NOT NULL FROM weekly_reports WHERE week_start = %s", (LAST_WEEK,)
    ).fetchone()[0]


def test_catch_up_all_reads_every_signal_channel(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    channel.post("gm")

    async def main():
        client = EdgeLedgerBot(ctx)

        async def channel_of(channel_id):
            return channel

        client.channel = channel_of
        await client.catch_up_all()  # first start: from the newest message
        channel.post(POST)  # posted while the bot was away
        await client.catch_up_all()
        await client.close()

    asyncio.run(main())
    assert sql_conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0] == 1
