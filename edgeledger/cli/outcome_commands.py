"""`edgeledger resolve` and `edgeledger outcomes ...`: settle signals, audit the results."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from edgeledger.bars import INTERVALS
from edgeledger.cli.base import EXIT_ERROR, Context, add_command, add_group, examples
from edgeledger.resolver import run_resolve
from edgeledger.signals import decimal_text
from edgeledger.validation import parse_timestamp
from edgeledger.verify import verify_outcomes


def cmd_resolve(args: argparse.Namespace, ctx: Context) -> int:
    as_of = parse_timestamp(args.as_of, "--as-of") if args.as_of else ctx.now
    slot = parse_timestamp(args.slot, "--slot") if args.slot else None
    drill = (
        ctx.settings.drill_intervals
        if args.drill is None
        else tuple(d.strip() for d in args.drill.split(",") if d.strip() and d.strip() != "none")
    )
    report = run_resolve(
        ctx.db(),
        ctx.price_provider(),
        as_of=as_of,
        now=ctx.now,
        interval=args.interval or ctx.settings.resolve_interval,
        drill=drill,
        slot=slot,
        group_tickers=ctx.settings.resolve_group,
        fetch_workers=ctx.settings.fetch_workers,
        time_limit=ctx.settings.resolve_deadline,
    )
    if report.skipped:
        print(f"skipped: {report.skipped}", file=ctx.out)
        return 0
    print(
        f"resolved as of {as_of.isoformat()} on {report.interval} bars: "
        f"{report.tickers} tickers ({report.tickers_evaluated} re-evaluated), "
        f"{report.signals_evaluated} signals evaluated, {report.outcomes_changed} outcomes "
        f"changed, {len(report.closed)} closed, {report.requests} price requests, "
        f"{report.bars_stored} bars stored",
        file=ctx.out,
    )
    for trade in report.closed:
        r = f" {decimal_text(Decimal(trade.r_achieved))}R" if trade.r_achieved is not None else ""
        print(f"  closed {trade.trade_id} {trade.status}{r}", file=ctx.out)
    for ticker, reason in sorted(report.failed_tickers.items()):
        print(f"  skipped {ticker}: {reason}", file=ctx.err)
    return EXIT_ERROR if report.failed_tickers and not report.tickers_evaluated else 0


def cmd_outcomes_verify(args: argparse.Namespace, ctx: Context) -> int:
    report = verify_outcomes(ctx.db())
    for difference in report.differences:
        print(f"  {difference}", file=ctx.out)
    print(
        f"verified {report.checked} outcomes: {len(report.differences)} differences", file=ctx.out
    )
    return EXIT_ERROR if report.differences else 0


def register(groups: Any) -> None:
    resolve = groups.add_parser(
        "resolve",
        help="settle open signals against price bars (the main job)",
        description="Fetch the bars open signals are missing, apply the outcome rules, and "
        "record outcomes and events. Safe to run twice at once or after a crash.",
        epilog=examples(
            "edgeledger resolve",
            "edgeledger resolve --as-of 2026-11-20T21:00Z --interval 30m",
            "EDGELEDGER_PRICE_PROVIDER=csv EDGELEDGER_PRICE_DIR=prices"
            " edgeledger resolve --as-of 2026-11-21T00:00Z",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    resolve.set_defaults(func=cmd_resolve)
    resolve.add_argument("--as-of", help="the moment to resolve at (default: now)")
    resolve.add_argument(
        "--interval",
        choices=list(INTERVALS),
        help="primary bar interval (default: EDGELEDGER_RESOLVE_INTERVAL, 1h)",
    )
    resolve.add_argument(
        "--drill",
        help="finer intervals for ambiguous bars, comma-separated,"
        " or 'none' (default: EDGELEDGER_DRILL_INTERVALS, 1m)",
    )
    resolve.add_argument(
        "--slot",
        help="the scheduled time this run stands for; a slot that"
        " already succeeded is not run again (default: a manual run)",
    )

    sub = add_group(groups, "outcomes", "audit settled outcomes", "edgeledger outcomes verify")
    add_command(
        sub,
        "verify",
        cmd_outcomes_verify,
        "re-derive every stored outcome from the stored bars and report differences",
        "edgeledger outcomes verify",
    )
