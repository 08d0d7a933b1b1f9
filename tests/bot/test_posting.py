"""What the bot posts by itself, through fake channels that fail, rate-limit and succeed:
the weekly report under the week's exactly-once post record, and the close replies."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import discord
import pytest

from bot.capture import Capture
from bot.posting import announce_closes, post_weekly_to_channel
from edgeledger import corrections, report_posting
from edgeledger.errors import ReportPostFailed
from tests.bot.conftest import NOW, SIGNAL_CHANNEL
from tests.bot.test_capture import POST
from tests.fake_interaction import FakeChannel, http_error

WEEK = date(2026, 11, 9)


def run(coro):
    return asyncio.run(coro)


async def no_wait(seconds: float) -> None:
    no_wait.waited.append(seconds)


no_wait.waited = []


def post_state(sql_conn) -> tuple:
    return sql_conn.execute(
        "SELECT posted_at IS NOT NULL, post_message_id, post_attempts, post_error,"
        " post_claimed_at IS NULL FROM weekly_reports WHERE week_start = %s",
        (WEEK,),
    ).fetchone()


def test_the_report_goes_to_the_channel_once_with_its_chart_and_file(ctx, sql_conn):
    channel = FakeChannel(3333)
    result = run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    assert result.built and not result.already and result.left_out == ()
    sent = channel.sent[0]
    assert sent.embeds and {f.filename for f in sent.files} == {
        "equity.png", "edgeledger-weekly-2026-11-09.html"}  # fmt: skip
    assert not sent.allowed_mentions.everyone and not sent.allowed_mentions.users
    assert post_state(sql_conn) == (True, str(sent.id), 1, None, True)
    again = run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    assert again.already and len(channel.sent) == 1
    # the webhook poster sees the same record: it does not post the week again
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_posting, "_send", lambda *a: pytest.fail("posted twice"))
        assert report_posting.post_weekly(ctx.db, WEEK, "https://x/", session=None,
                                          now=NOW).already  # fmt: skip


def test_a_rate_limit_is_waited_out(ctx, sql_conn):
    channel = FakeChannel(3333)
    channel.script = [discord.RateLimited(2.5), discord.RateLimited(1.0)]
    no_wait.waited.clear()
    run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    assert no_wait.waited == [2.5, 1.0] and channel.attempts == 3 and len(channel.sent) == 1
    assert post_state(sql_conn)[0] is True


def test_a_failure_releases_the_claim_with_why_and_the_next_pass_posts(ctx, sql_conn):
    channel = FakeChannel(3333)
    channel.script = [http_error(403, 50013, "Missing Permissions", cls=discord.Forbidden)]
    with pytest.raises(ReportPostFailed, match="403"):
        run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    posted, _, attempts, error, released = post_state(sql_conn)
    assert (posted, attempts, released) == (False, 1, True) and "Missing Permissions" in error
    result = run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    assert result.attempts == 2 and post_state(sql_conn)[0] is True


def test_server_errors_are_retried(ctx, sql_conn):
    channel = FakeChannel(3333)
    channel.script = [http_error(503, 0, "unavailable", cls=discord.DiscordServerError)]
    run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    assert channel.attempts == 2 and post_state(sql_conn)[0] is True


def test_too_large_sheds_the_html_then_the_image(ctx, sql_conn):
    channel = FakeChannel(3333)
    channel.script = [http_error(413, 40005, "Request entity too large")] * 2
    result = run(post_weekly_to_channel(ctx, channel, WEEK, sleep=no_wait))
    assert result.left_out == ("html", "png") and channel.sent[0].files == []
    assert "image" not in channel.sent[0].embeds[0].to_dict()


# --- close replies --------------------------------------------------------------------------


def captured(ctx, channel: FakeChannel, text: str = POST):
    message = channel.post(text)
    assert run(Capture(ctx).on_message(message)) == "logged"
    return message


def closes(ctx, channel: FakeChannel) -> int:
    async def channel_of(channel_id: int):
        assert channel_id == channel.id
        return channel

    return run(announce_closes(ctx, channel_of, sleep=no_wait))


def test_a_close_is_announced_once_under_the_original_message(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    win = captured(ctx, channel)
    loss = captured(ctx, channel, POST.replace("NVDA", "AMD"))
    still_open = captured(ctx, channel, POST.replace("NVDA", "TSLA"))
    earlier = NOW - timedelta(hours=1)
    corrections.override_outcome(ctx.db, "NVDA-20261120-001", status="WIN", exit_price="183.93",
                                 reason="x", actor="ana", now=earlier)  # fmt: skip
    corrections.override_outcome(ctx.db, "AMD-20261120-001", status="LOSS", reason="x",
                                 actor="ana", now=earlier)  # fmt: skip
    assert closes(ctx, channel) == 2
    assert win.replies[-1].content.startswith("WIN +2.1R")
    assert loss.replies[-1].content.startswith("LOSS -1R")
    assert len(still_open.replies) == 1  # only its "Logged as" reply
    assert closes(ctx, channel) == 0  # never twice
    assert len(win.replies) == 2


def test_a_failed_close_reply_is_retried_and_the_switch_turns_them_off(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    message = captured(ctx, channel)
    corrections.override_outcome(ctx.db, "NVDA-20261120-001", status="EXPIRED", reason="x",
                                 actor="ana", now=NOW - timedelta(hours=1))  # fmt: skip
    message.fail_reply = lambda: http_error(503, 0, "down", cls=discord.DiscordServerError)
    assert closes(ctx, channel) == 0
    error = sql_conn.execute("SELECT close_error FROM discord_signal_messages").fetchone()[0]
    assert "503" in error or "down" in error
    message.fail_reply = None
    off = replace(ctx, settings=replace(ctx.settings, discord_close_replies=False))
    assert closes(off, channel) == 0 and len(message.replies) == 1
    assert closes(ctx, channel) == 1
    assert message.replies[-1].content.startswith("EXPIRED")


def test_with_a_public_url_the_bot_links_the_report_by_a_signed_link(db, settings):
    from bot.context import BotContext

    linked = replace(settings, public_url="https://dash.example", dashboard_token="dash-tok")
    channel = FakeChannel(3334)
    run(post_weekly_to_channel(BotContext(db, linked, clock=lambda: NOW), channel, WEEK))
    [embed] = channel.sent[0].embeds
    assert embed.url.startswith("https://dash.example/reports/2026-11-09?exp=")
    assert embed.fields[0].name == "Full report" and embed.url in embed.fields[0].value
