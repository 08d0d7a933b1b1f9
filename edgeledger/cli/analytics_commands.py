"""`edgeledger stats`, `edges`, `confidence` and `report weekly [--post]`: the answers, in the
terminal, and the weekly report posted to Discord.

Tables for people, `--json` for machines; every figure comes from edgeledger.reporting
(and the pure core behind it), formatted by reports.formatting as the report formats it.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date
from pathlib import Path
from typing import Any

import requests

from edgeledger import report_posting, reporting
from edgeledger.cli.base import Context, add_command, add_group, examples
from edgeledger.core.metrics import capped_profit_factor
from edgeledger.core.periods import NEW_YORK, PERIODS, Period, last_full_week, period_to
from edgeledger.errors import ConfigError, InvalidOption
from reports import formatting as fmt


def _period(args: argparse.Namespace, ctx: Context) -> Period:
    return period_to(args.period, ctx.now)


def _span(period: Period) -> str:
    if period.start is None:
        return "all time"
    first = period.start.astimezone(NEW_YORK).date()
    last = (period.end.astimezone(NEW_YORK)).date()
    return f"{period.name} {first.isoformat()} to {last.isoformat()} (New York, end excluded)"


def _interval(value: tuple[float, float] | None, kind: str) -> str:
    if value is None:
        return fmt.MISSING
    return fmt.pct_range(*value) if kind == "rate" else fmt.r_range(*value)


def _json(value: Any) -> Any:
    """JSON without NaN or infinity: an infinite profit factor is stored capped."""
    if isinstance(value, float) and value != value:
        return None
    return value


def cmd_stats(args: argparse.Namespace, ctx: Context) -> int:
    filters = reporting.Filters(
        ticker=args.ticker.strip().upper() if args.ticker else None,
        trade_type=args.trade_type,
        strategy=args.strategy,
    )
    stats = reporting.period_stats(ctx.db(), _period(args, ctx), filters)
    m, s = stats.metrics, stats.signals
    if args.json:
        figures = {k: _json(v) for k, v in vars(m).items() if not isinstance(v, tuple)}
        figures["profit_factor"] = capped_profit_factor(m.profit_factor)
        figures["win_rate_ci"] = list(m.win_rate_ci) if m.win_rate_ci else None
        figures["avg_r_ci"] = list(m.avg_r_ci) if m.avg_r_ci else None
        payload = {
            "period": args.period,
            "start": None if stats.period.start is None else stats.period.start.isoformat(),
            "end": stats.period.end.isoformat(),
            "signals": s.signals,
            "by_status": s.by_status,
            "triggered": s.triggered,
            "not_triggered": s.not_triggered,
            "trigger_rate": s.trigger_rate,
            "no_data": s.no_data,
            **figures,
        }
        print(json.dumps(payload, indent=2, default=str), file=ctx.out)
        return 0
    lines = [
        f"{_span(stats.period)}" + _filters_text(filters),
        f"signals {fmt.count(s.signals)}, triggered {fmt.count(s.triggered)}"
        f" (trigger rate {fmt.pct(s.trigger_rate)}), not triggered {fmt.count(s.not_triggered)}"
        + (f", no data {s.no_data}" if s.no_data else ""),
        f"closed {fmt.count(m.n)}: {m.wins} wins, {m.losses} losses, {m.timeouts} timed out"
        + (f", {m.manual} set by hand" if m.manual else ""),
        f"win rate {fmt.pct(m.win_rate)} (95% {_interval(m.win_rate_ci, 'rate')})",
        f"avg R {fmt.r(m.avg_r)} (95% {_interval(m.avg_r_ci, 'r')}), total {fmt.r(m.total_r)}",
        f"profit factor {fmt.number(m.profit_factor)}, payoff {fmt.number(m.payoff)},"
        f" SQN {fmt.number(m.sqn)}, max drawdown {fmt.r(-m.max_drawdown_r if m.n else None)}",
        f"streaks: longest {m.longest_win_streak} wins, {m.longest_loss_streak} losses;"
        f" now {m.current_streak:+d}",
        f"excursions: MFE {fmt.r(m.mfe_mean)}, MAE {fmt.r(m.mae_mean)},"
        f" target capture {fmt.pct(m.target_capture)}; ambiguous {fmt.pct(m.ambiguous_share)}",
    ]
    print("\n".join(lines), file=ctx.out)
    return 0


def _filters_text(filters: reporting.Filters) -> str:
    parts = [
        f"{name} {value}"
        for name, value in (
            ("ticker", filters.ticker),
            ("type", filters.trade_type),
            ("strategy", filters.strategy),
        )
        if value
    ]
    return f" ({', '.join(parts)})" if parts else ""


def cmd_edges(args: argparse.Namespace, ctx: Context) -> int:
    if args.min_n < 1:
        raise InvalidOption("--min-n", f"must be at least 1, got {args.min_n}")
    ranks = reporting.edge_ranking(ctx.db(), _period(args, ctx), min_n=args.min_n)
    ordered = sorted(ranks, key=lambda e: (not e.ranked, e.rank or 0, -e.n, e.edge))
    if args.json:
        payload = [
            {
                "edge": e.edge,
                "n": e.n,
                "wins": e.wins,
                "losses": e.losses,
                "win_rate": e.win_rate,
                "win_rate_ci": list(e.win_rate_ci) if e.win_rate_ci else None,
                "avg_r": e.avg_r,
                "avg_r_ci": list(e.avg_r_ci) if e.avg_r_ci else None,
                "total_r": e.total_r,
                "lift": e.lift,
                "score": e.score,
                "p_value": e.p_value,
                "q_value": e.q_value,
                "verdict": e.verdict,
                "ranked": e.ranked,
                "rank": e.rank,
            }
            for e in ordered
        ]
        print(json.dumps(payload, indent=2), file=ctx.out)
        return 0
    print(f"{_span(_period(args, ctx))}; ranked from {args.min_n} closed trades", file=ctx.out)
    if not ordered:
        print("no closed trades carry an edge in this period", file=ctx.out)
        return 0
    header = f"{'#':>3} {'edge':<28} {'n':>5} {'W-L':>7} {'win rate':>8} {'95%':>13}"
    header += f" {'avg R':>7} {'total R':>8} {'lift':>7}  verdict"
    print(header, file=ctx.out)
    for e in ordered:
        rank = str(e.rank) if e.rank else "-"
        print(
            f"{rank:>3} {e.edge[:28]:<28} {e.n:>5} {f'{e.wins}-{e.losses}':>7}"
            f" {fmt.pct(e.win_rate):>8} {_interval(e.win_rate_ci, 'rate'):>13}"
            f" {fmt.r(e.avg_r):>7} {fmt.r(e.total_r):>8} {fmt.r(e.lift):>7}  {e.verdict}",
            file=ctx.out,
        )
    return 0


def cmd_confidence(args: argparse.Namespace, ctx: Context) -> int:
    result = reporting.confidence(ctx.db(), _period(args, ctx), min_n=args.min_n)
    if args.json:
        payload = {
            "levels": [
                {
                    "stars": level.stars,
                    "n": level.n,
                    "wins": level.wins,
                    "losses": level.losses,
                    "win_rate": level.win_rate,
                    "win_rate_ci": list(level.win_rate_ci) if level.win_rate_ci else None,
                    "avg_r": level.avg_r,
                    "total_r": level.total_r,
                    "verdict": level.verdict,
                }
                for level in result.rows
            ],
            "spearman_rho": result.spearman_rho,
            "spearman_p": result.spearman_p,
            "intervals_separate": result.intervals_separate,
            "verdict": result.verdict,
        }
        print(json.dumps(payload, indent=2), file=ctx.out)
        return 0
    print(_span(_period(args, ctx)), file=ctx.out)
    print(f"{'stars':<7} {'n':>5} {'win rate':>8} {'95%':>13} {'avg R':>7}", file=ctx.out)
    for level in result.rows:
        print(
            f"{fmt.stars(level.stars):<7} {level.n:>5} {fmt.pct(level.win_rate):>8}"
            f" {_interval(level.win_rate_ci, 'rate'):>13} {fmt.r(level.avg_r):>7}",
            file=ctx.out,
        )
    print(result.verdict, file=ctx.out)
    return 0


def cmd_report_weekly(args: argparse.Namespace, ctx: Context) -> int:
    if args.week:
        try:
            monday = date.fromisoformat(args.week)
        except ValueError:
            raise InvalidOption("--week", f"{args.week!r} is not a date (YYYY-MM-DD)") from None
        if monday.weekday() != 0:
            raise InvalidOption("--week", f"{monday.isoformat()} is not a Monday")
    else:
        week = last_full_week(ctx.now)
        assert week.start is not None
        monday = week.start.astimezone(NEW_YORK).date()
    if args.post:
        return _post_weekly(args, ctx, monday)
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise InvalidOption("--out", f"folder {str(out.parent)!r} does not exist")
    built = reporting.build_weekly(ctx.db(), monday, now=ctx.now)
    if out is not None:
        out.write_text(built.html, encoding="utf-8")
    totals = built.report.totals.this_week
    where = f", written to {out}" if out else ""
    print(
        f"weekly report for {monday.isoformat()} (revision {built.revision}{where}):"
        f" {totals.signals} signals, {totals.n_closed} closed, win rate"
        f" {fmt.pct(totals.win_rate)}, total {fmt.r(totals.total_r)}",
        file=ctx.out,
    )
    return 0


_FILES = {"html": "HTML file", "png": "chart image"}


def _post_weekly(args: argparse.Namespace, ctx: Context, monday: date) -> int:
    """Post the week's stored report (built first if it is not stored yet), once."""
    if args.out:
        raise InvalidOption("--out", "not with --post (write the file with a build first)")
    url = ctx.settings.report_webhook_url
    if not url:
        raise ConfigError(
            "DISCORD_REPORT_WEBHOOK_URL is not set: --post needs the Discord webhook to post"
            " the report to (docs/report-posting.md)"
        )
    with requests.Session() as session:
        link = report_posting.report_link(ctx.settings, monday, now=ctx.now)
        result = report_posting.post_weekly(
            ctx.db(), monday, url, session=session, now=ctx.now, report_url=link
        )
    week = f"weekly report for {monday.isoformat()} (revision {result.revision})"
    if result.already:
        print(
            f"{week} was already posted at {result.posted_at.astimezone(UTC):%Y-%m-%d %H:%M}Z"
            f" (message {result.message_id}); not posted again",
            file=ctx.out,
        )
        return 0
    notes = ["built first"] if result.built else []
    notes += [f"without the {_FILES[name]} (too large)" for name in result.left_out]
    print(
        f"{week} posted to Discord (message {result.message_id})"
        + (f"; {', '.join(notes)}" if notes else ""),
        file=ctx.out,
    )
    return 0


def register(groups: Any) -> None:
    def period_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--period", choices=PERIODS, default="all", help="in New York time (default all)"
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    stats = groups.add_parser(
        "stats",
        help="win rate, R, drawdown and more for a period",
        description="The period's signals and the metrics of its closed live trades.",
        epilog=examples(
            "edgeledger stats --period week",
            "edgeledger stats --ticker NVDA --type day --json",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stats.set_defaults(func=cmd_stats)
    period_options(stats)
    stats.add_argument("--ticker", help="only this ticker")
    stats.add_argument("--type", dest="trade_type", choices=("day", "swing"))
    stats.add_argument("--strategy", help="only this strategy")

    edges = groups.add_parser(
        "edges",
        help="edges ranked, with n, intervals and what survives many comparisons",
        description="Every edge of the period's closed live trades, ranked by a score that"
        " shrinks small samples; below --min-n an edge is listed as not enough data.",
        epilog=examples("edgeledger edges --period month", "edgeledger edges --min-n 20 --json"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    edges.set_defaults(func=cmd_edges)
    period_options(edges)
    edges.add_argument("--min-n", type=int, default=10, help="closed trades to be ranked")

    conf = groups.add_parser(
        "confidence",
        help="do more stars mean better trades",
        description="Per star level: n, win rate with its interval, avg R; and whether higher"
        " stars really do better.",
        epilog=examples("edgeledger confidence --period year"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    conf.set_defaults(func=cmd_confidence)
    period_options(conf)
    conf.add_argument("--min-n", type=int, default=10, help="closed trades a level needs")

    sub = add_group(
        groups,
        "report",
        "build reports",
        "edgeledger report weekly --out week.html",
    )
    weekly = add_command(
        sub,
        "weekly",
        cmd_report_weekly,
        "build, store and write the weekly report (HTML)",
        "edgeledger report weekly --out week.html",
        "edgeledger report weekly --week 2026-11-23",
        "edgeledger report weekly --post   # to DISCORD_REPORT_WEBHOOK_URL, once",
    )
    weekly.add_argument("--week", help="its Monday, YYYY-MM-DD (default: the week just ended)")
    weekly.add_argument("--out", help="write the HTML to this file")
    weekly.add_argument(
        "--post",
        action="store_true",
        help="post the stored report (built first if missing) to DISCORD_REPORT_WEBHOOK_URL;"
        " a week already posted is not posted again",
    )
