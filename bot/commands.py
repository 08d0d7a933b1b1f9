"""The slash commands: each parses its options, calls the core (in a worker thread, after
deferring), formats and responds. Errors are raised, and the tree's one error handler
(bot.errors) turns them into private replies.

`build_tree` works without a token or a database (`edgeledger discord commands --json`):
the handlers reach the context only when they run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from typing import Literal

import discord
from discord import app_commands

from bot import formatting as fmt
from bot.context import BotContext
from bot.errors import Refused, on_app_command_error
from bot.posting import send_report
from edgeledger import corrections, discord_records, health, ledger, report_posting, reporting
from edgeledger.core import corrections as correction_rules
from edgeledger.core.model import Source
from edgeledger.core.periods import NEW_YORK, last_full_week, period_to
from edgeledger.core.validation import parse_signal
from edgeledger.errors import InvalidOption

log = logging.getLogger(__name__)

NO_MENTIONS = fmt.NO_MENTIONS
AUTOCOMPLETE_WAIT = 2.0  # seconds: Discord drops an autocomplete answer after 3
Period = Literal["day", "week", "month", "year", "all"]
COMMAND_NAMES = ("signal", "trade", "pending", "stats", "edges", "confidence", "report",
                 "health", "outcome", "note", "flag", "unflag")  # fmt: skip


def actor_of(interaction: discord.Interaction) -> str:
    """Who did it, as the audit trail records it: `discord:name (id)`."""
    user = interaction.user
    return f"discord:{getattr(user, 'name', user)} ({user.id})"[:100]


def allowed(interaction: discord.Interaction, ctx: BotContext) -> bool:
    """Corrections are for the configured user ids and role ids only."""
    s = ctx.settings
    user = interaction.user
    if user.id in s.discord_allowed_user_ids:
        return True
    roles = {role.id for role in getattr(user, "roles", ())}
    return bool(roles & set(s.discord_allowed_role_ids))


def _gate(interaction: discord.Interaction, ctx: BotContext, command: str) -> None:
    if not allowed(interaction, ctx):
        log.warning(
            "refused /%s for user %s: not in DISCORD_ALLOWED_USER_IDS or DISCORD_ALLOWED_ROLE_IDS",
            command,
            interaction.user.id,
            extra={"command": command, "user_id": interaction.user.id},
        )
        raise Refused(
            f"/{command} is only for the traders allowed to correct the ledger; ask an admin"
            " to add your role or user id."
        )


async def _choices(
    ctx: BotContext, work: Callable[[], list[app_commands.Choice[str]]]
) -> list[app_commands.Choice[str]]:
    """Autocomplete answers from the database, or none when it is slow: never an error."""
    try:
        return await asyncio.wait_for(ctx.run(work), AUTOCOMPLETE_WAIT)
    except Exception:  # a suggestion list is a convenience: never an error for the user
        log.debug("autocomplete gave no suggestions", exc_info=True)
        return []


def make_commands(get_ctx: Callable[[], BotContext]) -> list[app_commands.Command]:
    """Every command; `get_ctx` is called only when a command runs."""

    async def edge_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        ctx = get_ctx()
        done, _, last = current.rpartition(";")
        prefix = f"{done.strip()}; " if done.strip() else ""

        def work() -> list[app_commands.Choice[str]]:
            names = discord_records.edge_names(ctx.db, last.strip() or None, 25)
            values = [f"{prefix}{name}"[:100] for name in names]
            return [app_commands.Choice(name=v, value=v) for v in dict.fromkeys(values)]

        return await _choices(ctx, work)

    async def trade_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        ctx = get_ctx()

        def work() -> list[app_commands.Choice[str]]:
            rows = discord_records.trade_ids(ctx.db, current, 25)
            return [
                app_commands.Choice(
                    name=f"{r['trade_id']} · {r['status']}"[:100], value=r["trade_id"]
                )
                for r in rows
            ]

        return await _choices(ctx, work)

    @app_commands.command(name="signal", description="Log a trade signal in the ledger")
    @app_commands.rename(trade_type="type")
    @app_commands.describe(
        ticker="e.g. NVDA, BRK.B, EURUSD=X",
        trade_type="day or swing",
        direction="long or short",
        entry="entry price, e.g. 181.20",
        stop="stop price",
        target="target price",
        confidence="stars, 0 to 5",
        edges="edge names, separated by ;",
        rationale="why the trade",
        target2="second target (optional)",
        market="its market, e.g. XNYS, 24/7 (optional)",
        strategy="the generator and version (optional)",
    )
    @app_commands.autocomplete(edges=edge_autocomplete)
    async def signal(
        interaction: discord.Interaction,
        ticker: app_commands.Range[str, 1, 24],
        trade_type: Literal["day", "swing"],
        direction: Literal["long", "short"],
        entry: app_commands.Range[str, 1, 32],
        stop: app_commands.Range[str, 1, 32],
        target: app_commands.Range[str, 1, 32],
        confidence: app_commands.Range[int, 0, 5],
        edges: app_commands.Range[str, 0, 1000],
        rationale: app_commands.Range[str, 1, 1000],
        target2: app_commands.Range[str, 1, 32] | None = None,
        market: app_commands.Range[str, 1, 16] | None = None,
        strategy: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        ctx = get_ctx()
        raw = {
            "ticker": ticker, "trade_type": trade_type, "direction": direction,
            "entry": entry, "stop": stop, "target": target, "target2": target2,
            "confidence": confidence, "edges": edges, "rationale": rationale,
            "market": market, "strategy": strategy, "source_key": str(interaction.id),
        }  # fmt: skip
        raw = {k: v for k, v in raw.items() if v is not None}
        # Checked before deferring (pure, no I/O): a bad field gets a private reply at once.
        parse_signal(raw, now=ctx.now(), default_source=Source.DISCORD,
                     created_at_defaults_to_now=True)  # fmt: skip
        await interaction.response.defer()
        result = await ctx.run(
            discord_records.log_discord_signal,
            ctx.db,
            raw,
            source=Source.DISCORD,
            actor=actor_of(interaction),
            now=ctx.now(),
            default_market=ctx.settings.default_market,
        )
        sent = await interaction.followup.send(
            embed=fmt.signal_embed(result.signal, created=result.created),
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        if result.created and sent is not None:
            await ctx.run(
                discord_records.record_message,
                ctx.db,
                result.signal.trade_id,
                sent.channel.id,
                sent.id,
                now=ctx.now(),
            )

    @app_commands.command(name="trade", description="One signal: its levels, outcome and notes")
    @app_commands.describe(trade_id="e.g. NVDA-20261120-001")
    @app_commands.autocomplete(trade_id=trade_autocomplete)
    async def trade(interaction: discord.Interaction, trade_id: str) -> None:
        ctx = get_ctx()
        await interaction.response.defer(ephemeral=True)
        history = await ctx.run(ledger.signal_history, ctx.db, trade_id.strip())
        await interaction.followup.send(
            embed=fmt.signal_embed(history.signal), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="pending", description="Signals still open or pending")
    async def pending(interaction: discord.Interaction) -> None:
        ctx = get_ctx()
        await interaction.response.defer(ephemeral=True)
        rows = await ctx.run(discord_records.pending_signals, ctx.db, 20)
        await interaction.followup.send(
            embed=fmt.pending_embed(rows), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="stats", description="Win rate, R and more for a period")
    @app_commands.rename(trade_type="type")
    @app_commands.describe(
        period="default: week", ticker="only this ticker", trade_type="day or swing"
    )
    async def stats(
        interaction: discord.Interaction,
        period: Period = "week",
        ticker: app_commands.Range[str, 1, 24] | None = None,
        trade_type: Literal["day", "swing"] | None = None,
    ) -> None:
        ctx = get_ctx()
        filters = reporting.Filters(
            ticker=ticker.strip().upper() if ticker else None, trade_type=trade_type
        )
        await interaction.response.defer(ephemeral=True)
        span = period_to(period, ctx.now())
        result = await ctx.run(reporting.period_stats, ctx.db, span, filters)
        shown = [f"{k} {v}" for k, v in (("ticker", filters.ticker), ("type", trade_type)) if v]
        text = f" ({', '.join(shown)})" if shown else ""
        await interaction.followup.send(
            embed=fmt.stats_embed(result, text), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="edges", description="Edges ranked by what they earned")
    @app_commands.describe(period="default: all", min_n="closed trades an edge needs to be ranked")
    async def edges(
        interaction: discord.Interaction,
        period: Period = "all",
        min_n: app_commands.Range[int, 1, 1000] = 10,
    ) -> None:
        ctx = get_ctx()
        await interaction.response.defer(ephemeral=True)
        span = period_to(period, ctx.now())
        ranks = await ctx.run(reporting.edge_ranking, ctx.db, span, min_n=min_n)
        await interaction.followup.send(
            embed=fmt.edges_embed(span, ranks, min_n), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="confidence", description="Do more stars mean better trades?")
    @app_commands.describe(period="default: all")
    async def confidence(interaction: discord.Interaction, period: Period = "all") -> None:
        ctx = get_ctx()
        await interaction.response.defer(ephemeral=True)
        span = period_to(period, ctx.now())
        result = await ctx.run(reporting.confidence, ctx.db, span)
        await interaction.followup.send(
            embed=fmt.confidence_embed(span, result), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="report", description="The weekly report (built when missing)")
    @app_commands.describe(week="its Monday, YYYY-MM-DD (default: the last full week)")
    async def report(
        interaction: discord.Interaction, week: app_commands.Range[str, 10, 10] | None = None
    ) -> None:
        ctx = get_ctx()
        monday = _monday(week, ctx)
        await interaction.response.defer()
        stored = await ctx.run(report_posting.stored_report, ctx.db, monday, now=ctx.now())
        link = report_posting.report_link(ctx.settings, monday, now=ctx.now())
        message = await ctx.run(report_posting.message_of, stored, link)

        async def send(**kwargs: object) -> discord.Message | None:
            return await interaction.followup.send(wait=True, **kwargs)

        await send_report(send, message)

    @app_commands.command(name="health", description="Database status and the last run of each job")
    async def health_(interaction: discord.Interaction) -> None:
        ctx = get_ctx()
        await interaction.response.defer(ephemeral=True)
        found = await ctx.run(health.check, ctx.db)
        await interaction.followup.send(
            embed=fmt.health_embed(found, ctx.now()), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(
        name="outcome", description="Set a signal's outcome by hand (allowed roles)"
    )
    @app_commands.describe(
        trade_id="e.g. NVDA-20261120-001",
        status="WIN, LOSS or EXPIRED",
        exit_price="where it was closed (default: target for WIN, stop for LOSS)",
        reason="why the rules' outcome is wrong",
    )
    @app_commands.autocomplete(trade_id=trade_autocomplete)
    async def outcome(
        interaction: discord.Interaction,
        trade_id: str,
        status: Literal["WIN", "LOSS", "EXPIRED"],
        exit_price: app_commands.Range[str, 1, 32] | None = None,
        reason: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        ctx = get_ctx()
        _gate(interaction, ctx, "outcome")
        correction_rules.exit_price_of(exit_price)  # a bad price: a private reply at once
        await interaction.response.defer(ephemeral=True)
        updated = await ctx.run(
            corrections.override_outcome,
            ctx.db,
            trade_id,
            status=status,
            exit_price=exit_price,
            reason=reason or "set on Discord",
            actor=actor_of(interaction),
            now=ctx.now(),
        )
        await interaction.followup.send(
            fmt.correction_text(updated, "Outcome set on"), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip

    @app_commands.command(name="note", description="Add a note to a signal (allowed roles)")
    @app_commands.describe(trade_id="e.g. NVDA-20261120-001", text="the note")
    @app_commands.autocomplete(trade_id=trade_autocomplete)
    async def note(
        interaction: discord.Interaction, trade_id: str, text: app_commands.Range[str, 1, 2000]
    ) -> None:
        ctx = get_ctx()
        _gate(interaction, ctx, "note")
        await interaction.response.defer(ephemeral=True)
        updated = await ctx.run(
            corrections.add_note, ctx.db, trade_id, text=text, actor=actor_of(interaction),
            now=ctx.now(),
        )  # fmt: skip
        await interaction.followup.send(
            fmt.correction_text(updated, "Note added to"), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip

    def flag_command(name: str, flagged: bool, description: str) -> app_commands.Command:
        @app_commands.describe(trade_id="e.g. NVDA-20261120-001", reason="why")
        @app_commands.autocomplete(trade_id=trade_autocomplete)
        async def flag(
            interaction: discord.Interaction,
            trade_id: str,
            reason: app_commands.Range[str, 1, 500] | None = None,
        ) -> None:
            ctx = get_ctx()
            _gate(interaction, ctx, name)
            await interaction.response.defer(ephemeral=True)
            updated = await ctx.run(
                corrections.set_flag, ctx.db, trade_id, flagged=flagged, reason=reason,
                actor=actor_of(interaction), now=ctx.now(),
            )  # fmt: skip
            state = "Flagged for review:" if updated.flagged_for_review else "Flag cleared on"
            await interaction.followup.send(
                fmt.correction_text(updated, state), ephemeral=True, allowed_mentions=NO_MENTIONS
            )

        return app_commands.Command(name=name, description=description, callback=flag)

    return [
        signal, trade, pending, stats, edges, confidence, report, health_, outcome, note,
        flag_command("flag", True, "Flag a signal for review (allowed roles)"),
        flag_command("unflag", False, "Clear a signal's review flag (allowed roles)"),
    ]  # fmt: skip


def _monday(week: str | None, ctx: BotContext) -> date:
    if not week:
        span = last_full_week(ctx.now())
        assert span.start is not None
        return span.start.astimezone(NEW_YORK).date()
    try:
        monday = date.fromisoformat(week.strip())
    except ValueError:
        raise InvalidOption("week", f"{week!r} is not a date (YYYY-MM-DD)") from None
    if monday.weekday() != 0:
        raise InvalidOption("week", f"{monday.isoformat()} is not a Monday")
    return monday


def build_tree(
    client: discord.Client, get_ctx: Callable[[], BotContext]
) -> app_commands.CommandTree:
    """The command tree with every command and the one error handler."""
    tree = app_commands.CommandTree(client)
    for command in make_commands(get_ctx):
        tree.add_command(command)
    tree.error(on_app_command_error)
    return tree


def payload(tree: app_commands.CommandTree) -> list[dict]:
    """What `discord sync` registers: every command as Discord receives it."""
    return [command.to_dict(tree) for command in tree.get_commands()]
