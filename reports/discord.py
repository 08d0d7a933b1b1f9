"""The weekly report as a Discord message: one embed (within every limit of
shared/docs/discord.md) and the equity curve as a PNG attached as `equity.png`.

Drawn from the same WeeklyReport as the HTML; the webhook post and the bot only send it.
Discord refuses an oversize embed with a 400 and discord.py does not check beforehand, so
`fit_embed` enforces each limit here: text is cut with an ellipsis, lists lose their last
lines ("… and 3 more"), and fields are dropped from the end until the 6000 total holds.
Lengths are counted in UTF-16 code units, never fewer than Discord's count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgeledger.core.report_data import EdgeRow, Finding, TradeRow, WeeklyReport
from reports import charts, formatting

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000

IMAGE_NAME = "equity.png"
ELLIPSIS = "…"
GREEN, RED, GREY = 0x1A7F37, 0xCF222E, 0x57606A
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
"""User text (rationale, edge names) must never ping anyone (discord.md)."""

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]#])")


@dataclass(frozen=True)
class DiscordSummary:
    """What a webhook or the bot sends: `payload` as the JSON body (`payload_json` of a
    multipart request) and `png` as the file named `filename`."""

    payload: dict[str, Any]
    png: bytes
    filename: str = IMAGE_NAME


def discord_summary(report: WeeklyReport, *, url: str | None = None) -> DiscordSummary:
    """The embed payload and the equity PNG of the week (all time when the week is empty,
    so the image still says something)."""
    points = report.equity_curve.week or report.equity_curve.all_time
    which = "this week" if report.equity_curve.week else "all time"
    png = charts.equity_png(points, title=f"Cumulative R, {which}", timezone=report.timezone)
    return DiscordSummary(payload=summary_payload(report, url=url), png=png)


def summary_payload(report: WeeklyReport, *, url: str | None = None) -> dict[str, Any]:
    """The message body: one embed, the attachment it shows, and no mentions."""
    return {
        "embeds": [summary_embed(report, url=url)],
        "attachments": [{"id": 0, "filename": IMAGE_NAME}],
        "allowed_mentions": NO_MENTIONS,
    }


def summary_embed(report: WeeklyReport, *, url: str | None = None) -> dict[str, Any]:
    """The week at a glance, within Discord's limits."""
    week = report.totals.this_week
    fields: list[dict[str, Any]] = []
    if report.empty:
        description = "No signals were logged and no trades closed this week."
        colour = GREY
    else:
        description = "\n".join(
            [
                f"**{formatting.r(week.total_r)}** over {formatting.count(week.n_closed)} "
                f"closed trades · win rate {formatting.pct(week.win_rate)} "
                f"({formatting.count(week.wins)}W–{formatting.count(week.losses)}L, "
                f"{formatting.count(week.expired)} expired) · avg {formatting.r(week.avg_r)}",
                f"{formatting.count(week.signals)} signals logged, "
                f"{formatting.count(week.triggered)} triggered",
            ]
        )
        colour = GREEN if week.total_r > 0 else RED if week.total_r < 0 else GREY
        fields += [
            _field("Best edges", [_edge_line(e) for e in report.best_edges]),
            _field("Worst edges", [_edge_line(e) for e in report.worst_edges]),
            _field("Top trades", [_trade_line(t) for t in report.top_trades]),
            _field("Bottom trades", [_trade_line(t) for t in report.bottom_trades]),
        ]
    prev, total = report.totals.previous_week, report.totals.all_time
    fields.insert(
        0,
        _field(
            "Previous week · all time",
            [
                f"Previous: {formatting.r(prev.total_r)}, {formatting.pct(prev.win_rate)} "
                f"over {formatting.count(prev.n_closed)}",
                f"All time: {formatting.r(total.total_r)}, {formatting.pct(total.win_rate)} "
                f"over {formatting.count(total.n_closed)}",
            ],
        ),
    )
    if url:  # first: the embed's title links there too, but a field is plainly a link
        fields.insert(0, _field("Full report", [f"[Open the full report]({url})"]))
    fields += [
        _field("Recommendations", [_finding_line(f) for f in report.recommendations]),
        _field("Suggested adjustments", [_finding_line(f) for f in report.suggestions]),
        _field("Confidence", [escape_markdown(report.confidence.verdict)]),
        _field("Data quality", [f"• {escape_markdown(n)}" for n in report.data_quality]),
    ]
    embed: dict[str, Any] = {
        "title": "Weekly report · " + formatting.week_span(report.week_start, report.week_end),
        "description": description,
        "color": colour,
        "fields": [f for f in fields if f["value"]],
        "image": {"url": f"attachment://{IMAGE_NAME}"},
        "footer": {
            "text": f"EdgeLedger · {report.timezone} · generated "
            f"{formatting.when(report.generated_at, report.timezone)} · full report in HTML"
        },
        "timestamp": report.generated_at.isoformat(),
    }
    if url:
        embed["url"] = url
    return fit_embed(embed)


def fit_embed(embed: dict[str, Any]) -> dict[str, Any]:
    """A copy of `embed` within every per-part limit and the 6000 total, trimmed as Discord
    trims (leading and trailing whitespace) before it is counted."""
    out = dict(embed)
    for key, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if key in out:
            out[key] = truncate(out[key], limit)
    for key, sub, limit in (("footer", "text", FOOTER_MAX), ("author", "name", AUTHOR_MAX)):
        if key in out:
            out[key] = {**out[key], sub: truncate(out[key][sub], limit)}
    fields = []
    for f in out.get("fields", [])[:FIELDS_MAX]:
        name, value = truncate(f["name"], FIELD_NAME_MAX), truncate(f["value"], FIELD_VALUE_MAX)
        if name and value:
            fields.append({**f, "name": name, "value": value})
    out["fields"] = fields
    while embed_length(out) > EMBED_TOTAL_MAX and out["fields"]:
        out["fields"] = out["fields"][:-1]
    if embed_length(out) > EMBED_TOTAL_MAX and "description" in out:
        room = EMBED_TOTAL_MAX - (embed_length(out) - units(out["description"]))
        out["description"] = truncate(out["description"], max(1, room))
    return out


def embed_length(embed: dict[str, Any]) -> int:
    """What counts toward the 6000 total: title, description, field names and values,
    footer text and author name."""
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [p for f in embed.get("fields", []) for p in (f["name"], f["value"])]
    parts += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
    return sum(units(p.strip()) for p in parts)


def units(text: str) -> int:
    """Length in UTF-16 code units: an emoji outside the BMP counts two, as it may there."""
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int) -> str:
    """`text` stripped and, if longer than `limit`, cut to fit with an ellipsis, never
    leaving half of a markdown escape."""
    text = text.strip()
    if units(text) <= limit:
        return text
    cut = text[: limit - 1]  # a character is at least one unit: at most a few too many
    while units(cut) > limit - 1:
        cut = cut[:-1]
    cut = cut.rstrip()
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS


def escape_markdown(text: str) -> str:
    """User text as literal text: markdown and masked-link characters escaped, newlines
    folded, so an edge name cannot restyle the message or hide a link."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _field(name: str, lines: Sequence[str], *, inline: bool = False) -> dict[str, Any]:
    """A field holding as many whole lines as fit, then how many were left out."""
    kept: list[str] = []
    for i, line in enumerate(lines):
        line = truncate(line, 300)
        rest = len(lines) - i - 1
        tail = f"\n{ELLIPSIS} and {rest} more" if rest else ""
        if units("\n".join([*kept, line]) + tail) > FIELD_VALUE_MAX:
            kept.append(f"{ELLIPSIS} and {len(lines) - i} more")
            break
        kept.append(line)
    return {"name": name, "value": "\n".join(kept), "inline": inline}


def _edge_line(e: EdgeRow) -> str:
    return (
        f"{escape_markdown(e.name)}: {formatting.r(e.avg_r)} avg, "
        f"{formatting.pct(e.win_rate)} (n {formatting.count(e.n)})"
    )


def _trade_line(t: TradeRow) -> str:
    edges = ", ".join(escape_markdown(e) for e in t.edges) or "no edge"
    return (
        f"**{escape_markdown(t.ticker)}** {formatting.r(t.r)} · {t.trade_type} {t.direction}"
        f" · {edges}"
    )


def _finding_line(f: Finding) -> str:
    return f"• {escape_markdown(f.text)}"
