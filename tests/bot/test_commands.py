"""Each slash command called with a fake Interaction on the real database: what it defers,
what it answers (and privately when it refuses), what it writes."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import discord
from freezegun import freeze_time

from bot.commands import build_tree
from bot.context import BotContext
from edgeledger import corrections, ledger
from edgeledger.core.validation import parse_signal
from tests.bot.conftest import ALLOWED_ROLE, ALLOWED_USER, NOW
from tests.factories import raw_signal
from tests.fake_interaction import FakeInteraction, FakeUser, invoke, role

SIGNAL = {
    "ticker": "nvda", "trade_type": "day", "direction": "long", "entry": "181.20",
    "stop": "179.90", "target": "184.00", "confidence": 4,
    "edges": "VWAP reclaim; RS vs SPY", "rationale": "Reclaimed VWAP on volume @everyone",
}  # fmt: skip


def run(coro):
    return asyncio.run(coro)


def count(sql_conn, table: str) -> int:
    return sql_conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def logged(db, **overrides) -> str:
    signal = parse_signal(raw_signal(**overrides), now=NOW)
    return ledger.log_signal(db, signal, actor="test", now=NOW).signal.trade_id


def silent(mentions) -> bool:
    """AllowedMentions.none(): nobody can be pinged."""
    return mentions is not None and not any(
        (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user)
    )


def fields(embed: discord.Embed) -> dict[str, str]:
    return {f.name: f.value for f in embed.fields}


def test_signal_defers_logs_and_answers_with_the_levels_rr_and_expiry(tree, sql_conn):
    interaction = FakeInteraction()
    run(invoke(tree, "signal", interaction, **SIGNAL))
    assert interaction.log == ["defer", "followup"]
    reply = interaction.reply
    assert not reply.ephemeral and silent(reply.allowed_mentions)
    embed = reply.embeds[0]
    assert embed.title == "NVDA-20261120-001"
    shown = fields(embed)
    assert (shown["Entry"], shown["Stop"], shown["Target"]) == ("181.20", "179.90", "184.00")
    assert shown["Planned R:R"] == "1:2.15"
    assert shown["Expires"].startswith("<t:")
    row = sql_conn.execute(
        "SELECT source, source_key, edges FROM trade_signals WHERE trade_id = 'NVDA-20261120-001'"
    ).fetchone()
    assert row[0] == "discord" and row[1] == str(interaction.id)
    assert [e["name"] for e in row[2]] == ["VWAP reclaim", "RS vs SPY"]
    # where its message is, for the close reply
    assert count(sql_conn, "discord_signal_messages") == 1


def test_signal_with_a_bad_field_is_refused_privately_and_nothing_is_written(tree, sql_conn):
    interaction = FakeInteraction()
    run(invoke(tree, "signal", interaction, **{**SIGNAL, "stop": "182.00"}))
    assert interaction.log == ["send_message"]  # at once, before any deferral
    reply = interaction.reply
    assert reply.ephemeral and "stop" in reply.content
    assert count(sql_conn, "trade_signals") == 0


def test_signal_with_an_unparseable_price_names_the_field(tree, sql_conn):
    interaction = FakeInteraction()
    run(invoke(tree, "signal", interaction, **{**SIGNAL, "entry": "abc"}))
    assert interaction.reply.ephemeral and "entry" in interaction.reply.content
    assert count(sql_conn, "trade_signals") == 0


def test_edges_autocomplete_offers_the_names_used_and_keeps_those_chosen(tree, db):
    logged(db)
    command = tree.get_command("signal")
    complete = command._params["edges"].autocomplete
    choices = run(complete(FakeInteraction(), "VWAP reclaim; rs"))
    assert [c.value for c in choices] == ["VWAP reclaim; RS vs SPY"]


def test_trade_shows_a_signal_privately_and_an_unknown_id_is_named(tree, db):
    trade_id = logged(db)
    interaction = FakeInteraction()
    run(invoke(tree, "trade", interaction, trade_id=trade_id.lower()))
    assert interaction.log == ["defer", "followup"]
    assert interaction.reply.embeds[0].title == trade_id and interaction.reply.ephemeral
    unknown = FakeInteraction()
    run(invoke(tree, "trade", unknown, trade_id="NOPE-1"))
    assert unknown.reply.ephemeral and "NOPE-1" in unknown.reply.content


def test_trade_autocomplete_lists_matching_ids(tree, db):
    trade_id = logged(db)
    complete = tree.get_command("trade")._params["trade_id"].autocomplete
    assert [c.value for c in run(complete(FakeInteraction(), "nvda-2026"))] == [trade_id]


def test_pending_lists_unsettled_signals(tree, db):
    trade_id = logged(db)
    interaction = FakeInteraction()
    run(invoke(tree, "pending", interaction))
    assert trade_id in interaction.reply.embeds[0].description


def test_stats_edges_and_confidence_answer_from_the_analytics(tree, db):
    trade_id = logged(db)
    corrections.override_outcome(db, trade_id, status="WIN", exit_price="183.93", reason="x",
                                 actor="ana", now=NOW - timedelta(hours=1))  # fmt: skip
    stats = FakeInteraction()
    run(invoke(tree, "stats", stats, period="week"))
    text = stats.reply.embeds[0].description
    assert "closed 1: 1 wins" in text and "1 set by hand" in text and "+2.10R" in text
    edges = FakeInteraction()
    run(invoke(tree, "edges", edges, period="all", min_n=1))
    assert "VWAP reclaim" in edges.reply.embeds[0].description
    confidence = FakeInteraction()
    run(invoke(tree, "confidence", confidence, period="all"))
    assert "4★" in confidence.reply.embeds[0].description


def test_report_posts_the_stored_report_building_it_when_missing(tree, sql_conn):
    interaction = FakeInteraction()
    run(invoke(tree, "report", interaction, week="2026-11-09"))
    assert interaction.log == ["defer", "followup"]
    reply = interaction.reply
    assert reply.embeds and {f.filename for f in reply.files} == {
        "equity.png", "edgeledger-weekly-2026-11-09.html"}  # fmt: skip
    assert count(sql_conn, "weekly_reports") == 1
    # showing it is not posting it: the post record is untouched
    assert sql_conn.execute("SELECT posted_at FROM weekly_reports").fetchone()[0] is None


def test_report_with_a_week_that_is_not_a_monday_is_refused_privately(tree):
    interaction = FakeInteraction()
    run(invoke(tree, "report", interaction, week="2026-11-10"))
    assert interaction.log == ["send_message"]
    assert interaction.reply.ephemeral and "not a Monday" in interaction.reply.content


def test_health_says_the_database_is_reachable(tree):
    interaction = FakeInteraction()
    run(invoke(tree, "health", interaction))
    assert "reachable, migrations current" in interaction.reply.embeds[0].description


def test_outcome_by_an_allowed_role_is_recorded_with_who(tree, db, sql_conn):
    trade_id = logged(db)
    interaction = FakeInteraction(user=FakeUser(id=5, name="ana", roles=[role(ALLOWED_ROLE)]))
    run(invoke(tree, "outcome", interaction, trade_id=trade_id, status="LOSS",
               exit_price="180.55", reason="stopped by hand"))  # fmt: skip
    assert interaction.log == ["defer", "followup"] and interaction.reply.ephemeral
    assert "LOSS -0.50R (manual)" in interaction.reply.content
    kind, actor, payload = sql_conn.execute(
        "SELECT kind, actor, payload FROM signal_events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert (kind, actor, payload["reason"]) == ("overridden", "discord:ana (5)", "stopped by hand")


def test_outcome_with_a_bad_price_is_refused_before_deferring(tree, db, sql_conn):
    trade_id = logged(db)
    interaction = FakeInteraction(user=FakeUser(id=ALLOWED_USER))
    run(invoke(tree, "outcome", interaction, trade_id=trade_id, status="WIN", exit_price="x"))
    assert interaction.log == ["send_message"] and "exit_price" in interaction.reply.content
    assert count(sql_conn, "signal_events") == 1


def test_corrections_are_refused_for_others_and_the_refusal_is_logged(tree, db, sql_conn, caplog):
    trade_id = logged(db)
    outsider = FakeUser(id=6, name="eve", roles=[role(12345)])
    for name, options in (
        ("outcome", {"trade_id": trade_id, "status": "WIN"}),
        ("note", {"trade_id": trade_id, "text": "hi"}),
        ("flag", {"trade_id": trade_id}),
        ("unflag", {"trade_id": trade_id}),
    ):
        interaction = FakeInteraction(user=outsider)
        with caplog.at_level(logging.WARNING, logger="bot.commands"):
            run(invoke(tree, name, interaction, **options))
        assert interaction.log == ["send_message"] and interaction.reply.ephemeral
        assert "only for the traders allowed" in interaction.reply.content
        assert any(f"refused /{name} for user 6" in r.getMessage() for r in caplog.records)
    assert count(sql_conn, "signal_events") == 1  # only `created`


def test_note_flag_and_unflag_by_an_allowed_user(tree, db, sql_conn):
    trade_id = logged(db)
    user = FakeUser(id=ALLOWED_USER, name="bo")
    for name, options in (
        ("note", {"text": "late fill <@123>"}),
        ("flag", {"reason": "check"}),
        ("unflag", {}),
    ):
        interaction = FakeInteraction(user=user)
        run(invoke(tree, name, interaction, trade_id=trade_id, **options))
        assert interaction.reply.ephemeral, name
        assert silent(interaction.reply.allowed_mentions)
    kinds = [r[0] for r in sql_conn.execute("SELECT kind FROM signal_events ORDER BY id")]
    assert kinds == ["created", "note", "flag", "flag"]


def test_an_unexpected_error_is_logged_with_a_reference_the_user_gets(tree, ctx, caplog):
    ctx.db = None  # the handler's database calls fail in an unexpected way
    interaction = FakeInteraction()
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        run(invoke(tree, "pending", interaction))
    reply = interaction.reply
    assert reply.ephemeral and "reference `" in reply.content
    ref = reply.content.split("`")[1]
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)


def test_the_clock_is_the_projects(db, settings, sql_conn):
    ctx = BotContext(db, settings)  # edgeledger.clock.utc_now, frozen here
    tree = build_tree(discord.Client(intents=discord.Intents.none()), lambda: ctx)
    with freeze_time("2026-11-20 16:00:00", real_asyncio=True):
        run(invoke(tree, "signal", FakeInteraction(), **SIGNAL))
    logged_at = sql_conn.execute("SELECT logged_at FROM trade_signals").fetchone()[0]
    assert logged_at == NOW
