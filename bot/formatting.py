"""The bot's answers as Discord embeds, drawn from the core's dataclasses with the report's
own formatting (reports.formatting), every text cut to Discord's limits (reports.discord)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import discord

from edgeledger.core.calibration import Calibration
from edgeledger.core.model import Signal
from edgeledger.core.periods import NEW_YORK, Period
from edgeledger.core.rankings import EdgeRank
from edgeledger.core.signals import decimal_text
from edgeledger.health import Health
from edgeledger.reporting import PeriodStats
from reports import formatting as fmt
from reports.discord import GREEN, RED, escape_markdown, fit_embed, truncate

BLUE = 0x0969DA
NO_MENTIONS = discord.AllowedMentions.none()
"""Every message the bot sends: no user text can ping anyone."""


def price(value: Decimal | None) -> str:
    if value is None:
        return fmt.MISSING
    text = decimal_text(value) or "0"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def planned_rr(signal: Signal) -> str:
    """Reward to risk as planned: |target - entry| / |entry - stop|, e.g. `1:2.15`."""
    t = signal.terms
    risk = abs(t.entry - t.stop)
    return f"1:{abs(t.target - t.entry) / risk:.2f}" if risk else fmt.MISSING


def stamp(moment: datetime | None) -> str:
    """A time every reader sees in their own zone (Discord's timestamp markup)."""
    return fmt.MISSING if moment is None else f"<t:{int(moment.timestamp())}:f>"


def _embed(data: dict[str, Any]) -> discord.Embed:
    return discord.Embed.from_dict(fit_embed(data))


def _field(name: str, value: str, inline: bool = True) -> dict[str, Any]:
    return {"name": name, "value": value or fmt.MISSING, "inline": inline}


def outcome_text(signal: Signal) -> str:
    o = signal.outcome
    text = o.status.value
    if o.r_achieved is not None:
        text += f" {fmt.r(float(o.r_achieved))}"
    if o.exit_reason is not None:
        text += f" ({o.exit_reason.value})"
    return text


def signal_embed(signal: Signal, *, created: bool = True) -> discord.Embed:
    """The reply to /signal and the card of /trade: id, levels, planned R:R, expiry."""
    t, o = signal.terms, signal.outcome
    levels = [
        _field("Entry", price(t.entry)),
        _field("Stop", price(t.stop)),
        _field("Target", price(t.target)),
    ]
    if t.target2 is not None:
        levels.append(_field("Target 2", price(t.target2)))
    fields = [
        *levels,
        _field("Planned R:R", planned_rr(signal)),
        _field("Confidence", fmt.stars(t.confidence)),
        _field("Expires", stamp(t.expires_at)),
        _field("Status", outcome_text(signal)),
    ]
    if t.edges:
        fields.append(_field("Edges", escape_markdown(", ".join(e.name for e in t.edges)), False))
    if t.rationale:
        fields.append(_field("Rationale", escape_markdown(t.rationale), False))
    if signal.user_notes:
        fields.append(_field("Notes", escape_markdown(signal.user_notes), False))
    if o.fill_price is not None:
        fields.append(_field("Filled", f"{price(o.fill_price)} {stamp(o.triggered_at)}"))
    if o.exit_price is not None:
        fields.append(_field("Exited", f"{price(o.exit_price)} {stamp(o.closed_at)}"))
    flag = " · flagged for review" if signal.flagged_for_review else ""
    verb = "logged" if created else "already logged"
    color = {"WIN": GREEN, "LOSS": RED}.get(o.status.value, BLUE)
    return _embed({
        "title": f"{signal.trade_id}",
        "description": f"{t.ticker} {t.trade_type.value} {t.direction.value}{flag}",
        "color": color,
        "fields": fields,
        "footer": {"text": f"{verb} · source {t.source.value}"},
    })  # fmt: skip


def pending_embed(rows: Sequence[dict[str, Any]]) -> discord.Embed:
    lines = [
        f"`{row['trade_id']}` {row['direction']} {row['trade_type']} entry"
        f" {price(row['entry'])} · {row['status']}"
        for row in rows
    ]
    return _embed({
        "title": "Open and pending signals",
        "description": "\n".join(lines) if lines else "No signal is open or pending.",
        "color": BLUE,
    })  # fmt: skip


def span(period: Period) -> str:
    if period.start is None:
        return "all time"
    first = period.start.astimezone(NEW_YORK).date()
    last = period.end.astimezone(NEW_YORK).date()
    return f"{period.name} {first.isoformat()} to {last.isoformat()}"


def stats_embed(stats: PeriodStats, filters_text: str) -> discord.Embed:
    m, s = stats.metrics, stats.signals
    ci = m.win_rate_ci
    lines = [
        f"signals {fmt.count(s.signals)}, triggered {fmt.count(s.triggered)}"
        f" (trigger rate {fmt.pct(s.trigger_rate)})",
        f"closed {fmt.count(m.n)}: {m.wins} wins, {m.losses} losses, {m.timeouts} timed out"
        + (f", {m.manual} set by hand" if m.manual else ""),
        f"win rate {fmt.pct(m.win_rate)}" + (f" (95% {fmt.pct_range(*ci)})" if ci else ""),
        f"avg R {fmt.r(m.avg_r)}, total {fmt.r(m.total_r)}",
        f"profit factor {fmt.number(m.profit_factor)}, max drawdown"
        f" {fmt.r(-m.max_drawdown_r if m.n else None)}",
    ]
    return _embed({
        "title": truncate(f"Stats: {span(stats.period)}{filters_text}", 256),
        "description": "\n".join(lines),
        "color": BLUE,
    })  # fmt: skip


def edges_embed(period: Period, ranks: Sequence[EdgeRank], min_n: int) -> discord.Embed:
    ordered = sorted(ranks, key=lambda e: (not e.ranked, e.rank or 0, -e.n, e.edge))
    lines = [
        f"{e.rank or '-'}. **{escape_markdown(e.edge)}** n={e.n} win {fmt.pct(e.win_rate)}"
        f" avg {fmt.r(e.avg_r)} total {fmt.r(e.total_r)} · {e.verdict}"
        for e in ordered[:25]
    ]
    if len(ordered) > 25:
        lines.append(f"… and {len(ordered) - 25} more")
    return _embed({
        "title": f"Edges: {span(period)} (ranked from {min_n} closed trades)",
        "description": "\n".join(lines) or "No closed trade carries an edge in this period.",
        "color": BLUE,
    })  # fmt: skip


def confidence_embed(period: Period, result: Calibration) -> discord.Embed:
    lines = [
        f"{fmt.stars(level.stars)} n={level.n} win {fmt.pct(level.win_rate)}"
        f" avg {fmt.r(level.avg_r)}"
        for level in result.rows
    ]
    lines.append(result.verdict)
    return _embed({
        "title": f"Confidence: {span(period)}",
        "description": "\n".join(lines),
        "color": BLUE,
    })  # fmt: skip


def health_embed(health: Health, now: datetime) -> discord.Embed:
    if health.database is not None:
        db_line = f"database: unreachable ({health.database})"
    elif health.pending:
        db_line = f"database: migrations not current ({', '.join(health.pending)})"
    else:
        db_line = "database: reachable, migrations current"
    lines = [db_line]
    for job in health.jobs:
        ago = job.ago(now)
        when = "never" if ago is None else f"{stamp(job.started_at)} ({_ago(ago)} ago)"
        note = f" · {job.note}" if job.note else ""
        lines.append(f"**{job.job}**: {job.result}, {when}{note}")
    return _embed({
        "title": "EdgeLedger health",
        "description": "\n".join(lines),
        "color": GREEN if health.ok else RED,
    })  # fmt: skip


def _ago(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def correction_text(signal: Signal, what: str) -> str:
    return f"{what} `{signal.trade_id}` · now {outcome_text(signal)}"
