"""Channel capture on the real database: a signal post is logged once (source `channel`,
the message id as source key) and acknowledged; a bad one gets ⚠️ and a log line; chat is
passed over; after downtime the history is caught up and re-logging changes nothing."""

from __future__ import annotations

import asyncio
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.capture import LOGGED, REFUSED, Capture
from tests.bot.conftest import SIGNAL_CHANNEL
from tests.fake_interaction import FakeChannel, FakeMessage

POST = """Ticker: NVDA
Type: day
Direction: long
Entry: 181.20
Stop: 179.90
Target: 184.00
Confidence: 4
Edges: VWAP reclaim; RS vs SPY
Rationale: Reclaimed VWAP <@&123> @everyone"""


def run(coro):
    return asyncio.run(coro)


def signals(sql_conn) -> list[tuple]:
    return sql_conn.execute(
        "SELECT trade_id, source, source_key FROM trade_signals ORDER BY id"
    ).fetchall()


def test_a_signal_post_is_logged_acknowledged_and_its_message_kept(ctx, sql_conn, caplog):
    channel = FakeChannel(SIGNAL_CHANNEL)
    message = channel.post(POST)
    with caplog.at_level(logging.DEBUG):  # every log line is written, with its extras
        assert run(Capture(ctx).on_message(message)) == "logged"
    assert signals(sql_conn) == [("NVDA-20261120-001", "channel", str(message.id))]
    assert message.reactions == [LOGGED]
    reply = message.replies[0]
    assert "NVDA-20261120-001" in reply.content
    assert not any((reply.allowed_mentions.everyone, reply.allowed_mentions.users,
                    reply.allowed_mentions.roles))  # fmt: skip
    kept = sql_conn.execute("SELECT channel_id, message_id FROM discord_signal_messages").fetchone()
    assert kept == (SIGNAL_CHANNEL, message.id)


def test_the_same_post_again_changes_nothing(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    message = channel.post(POST)
    capture = Capture(ctx)
    run(capture.on_message(message))
    assert run(capture.handle(message)) == "already"
    assert len(signals(sql_conn)) == 1 and len(message.replies) == 1
    events = sql_conn.execute("SELECT count(*) FROM signal_events").fetchone()[0]
    assert events == 1


def test_a_post_that_looks_like_a_signal_but_is_invalid_gets_a_warning(ctx, sql_conn, caplog):
    channel = FakeChannel(SIGNAL_CHANNEL)
    message = channel.post(POST.replace("Stop: 179.90", "Stop: 182.00"))
    with caplog.at_level(logging.WARNING, logger="bot.capture"):
        assert run(Capture(ctx).on_message(message)) == "refused"
    assert message.reactions == [REFUSED] and not message.replies
    assert signals(sql_conn) == []
    assert any("does not" in r.getMessage() or "stop" in r.getMessage() for r in caplog.records)


def test_chat_and_other_channels_are_passed_over(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    chat = channel.post("gm, NVDA looks strong")
    assert run(Capture(ctx).on_message(chat)) == "ignored"
    elsewhere = FakeChannel(1).post(POST)
    assert run(Capture(ctx).on_message(elsewhere)) == "not watched"
    assert chat.reactions == [] and signals(sql_conn) == []


def test_after_downtime_the_missed_history_is_logged_and_again_changes_nothing(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    capture = Capture(ctx)
    first = channel.post(POST)
    run(capture.on_message(first))
    # the bot is down: three posts arrive unseen
    missed = [
        channel.post(POST.replace("NVDA", "AMD")),
        channel.post("lunch?"),
        channel.post(POST.replace("NVDA", "TSLA")),
    ]
    restarted = Capture(ctx)
    counts = run(restarted.catch_up(channel))
    assert counts == {"logged": 2, "ignored": 1}
    assert [s[0].split("-")[0] for s in signals(sql_conn)] == ["NVDA", "AMD", "TSLA"]
    assert missed[0].reactions == [LOGGED] and missed[2].reactions == [LOGGED]
    assert run(restarted.catch_up(channel)) == {}  # nothing after the cursor now
    # reading every post again (the cursor set back) changes nothing
    sql_conn.execute("UPDATE discord_channel_cursors SET last_message_id = %s", (first.id - 1,))
    sql_conn.commit()
    assert run(restarted.catch_up(channel)) == {"already": 3, "ignored": 1}
    assert len(signals(sql_conn)) == 3


def test_a_channel_never_read_starts_from_its_newest_message(ctx, sql_conn):
    channel = FakeChannel(SIGNAL_CHANNEL)
    channel.post(POST)
    assert run(Capture(ctx).catch_up(channel)) == {}
    assert signals(sql_conn) == []


def test_a_database_failure_keeps_the_post_for_the_next_catch_up(ctx, sql_conn, caplog):
    channel = FakeChannel(SIGNAL_CHANNEL)
    capture = Capture(ctx)
    run(capture.on_message(channel.post("gm")))  # the cursor starts here
    db = ctx.db
    ctx.db = None  # the database is gone for a moment
    lost = channel.post(POST)
    with caplog.at_level(logging.ERROR, logger="bot.capture"):
        assert run(capture.on_message(lost)) == "failed"
    later = channel.post("still here")
    ctx.db = db
    assert run(capture.on_message(later)) == "ignored"  # the cursor does not pass `lost`
    assert run(capture.catch_up(channel)) == {"logged": 1, "ignored": 1}
    assert len(signals(sql_conn)) == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.text(max_size=300), field_value=st.text(max_size=40))
def test_no_post_crashes_the_bot(ctx, content, field_value):
    channel = FakeChannel(SIGNAL_CHANNEL)
    message = FakeMessage(
        content=content + f"\nTicker: {field_value}\nEntry: {field_value}\nStop: 1\nTarget: 2",
        embeds=[{"fields": [{"name": "Entry", "value": field_value}]}],
        channel=channel,
    )
    assert run(Capture(ctx).on_message(message)) in {"logged", "already", "refused", "ignored"}
