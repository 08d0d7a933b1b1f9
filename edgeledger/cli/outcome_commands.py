"""`edgeledger resolve` and `edgeledger outcomes ...`: settle signals, audit the results."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from edgeledger import reporting, storage
from edgeledger.cli.base import EXIT_ERROR, Context, add_command, add_group, examples
from edgeledger.core.bars import INTERVALS
from edgeledger.core.resolution import RunReport
from edgeledger.core.signals import decimal_text
from edgeledger.core.validation import parse_timestamp
from edgeledger.errors import InvalidOption
from edgeledger.exporter import utc_text
from edgeledger.resolver import run_resolve
from edgeledger.verify import verify_outcomes


def cmd_resolve(args: argparse.Namespace, ctx: Context) -> int:
    as_of = parse_timestamp(args.as_of, "--as-of") if args.as_of else ctx.now
    slot = parse_timestamp(args.slot, "--slot") if args.slot else None
    drill = ctx.settings.drill_intervals if args.drill is None else _drill_intervals(args.drill)
    db = ctx.db()
    if args.rederive is not None:
        named = [] if args.rederive == ALL else [args.rederive.strip().upper()]
        with db.connection() as conn:
            asked = storage.request_rederive(
                conn, named, at=ctx.now, reason="edgeledger resolve --rederive"
            )
        if named and not asked:
            raise InvalidOption("--rederive", f"{named[0]} has no settled outcome to derive again")
    report = run_resolve(
        db,
        ctx.price_provider(),
        as_of=as_of,
        now=ctx.now,
        interval=args.interval or ctx.settings.resolve_intervals,
        drill=drill,
        slot=slot,
        group_tickers=ctx.settings.resolve_group,
        fetch_workers=ctx.settings.fetch_workers,
        default_market=ctx.settings.default_market,
        allow_future_as_of=args.allow_future_as_of,
        time_limit=ctx.settings.resolve_deadline,
    )
    if report.skipped:
        print(f"skipped: {report.skipped}", file=ctx.out)
        return 0
    reporting.after_resolve(db, report, now=ctx.now)
    _print_report(report, ctx)
    return EXIT_ERROR if report.failed_tickers and not report.tickers_evaluated else 0


ALL = "*"


def _drill_intervals(text: str) -> tuple[str, ...]:
    """--drill: finer intervals, comma-separated, or 'none'."""
    names = tuple(d.strip() for d in text.split(",") if d.strip())
    if names in ((), ("none",)):
        return ()
    unknown = [d for d in names if d not in INTERVALS]
    if unknown:
        raise InvalidOption(
            "--drill", f"{', '.join(unknown)} is not one of {', '.join(INTERVALS)} or none"
        )
    return names


def _print_report(report: RunReport, ctx: Context) -> None:
    """What a trader reads after a run: the counts, each closed trade with its reason, and
    every ticker that was skipped, had no prices, dropped bars or got a market."""
    as_of = utc_text(report.as_of.replace(microsecond=0))
    print(
        f"resolved as of {as_of} on {report.interval} bars: "
        f"{report.tickers} tickers ({report.tickers_evaluated} re-evaluated), "
        f"{report.signals_evaluated} signals evaluated, {report.outcomes_changed} outcomes "
        f"changed, {len(report.closed)} closed, {report.requests} price requests, "
        f"{report.bars_stored} bars stored",
        file=ctx.out,
    )
    for trade in report.closed:
        r = f" {decimal_text(Decimal(trade.r_achieved))}R" if trade.r_achieved is not None else ""
        reason = f" ({trade.exit_reason})" if trade.exit_reason else ""
        print(f"  closed {trade.trade_id} {trade.status}{r}{reason}", file=ctx.out)
    for ticker, market in sorted(report.markets.items()):
        print(f"  market {ticker}: {market}", file=ctx.out)
    for ticker, reasons in sorted(report.dropped_bars.items()):
        listed = "; ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        print(f"  dropped {ticker} bars: {listed}", file=ctx.out)
    for ticker, reason in sorted(report.no_prices.items()):
        print(f"  no prices for {ticker}: {reason}", file=ctx.err)
    for ticker, reason in sorted(report.failed_tickers.items()):
        print(f"  skipped {ticker}: {reason}", file=ctx.err)
    for warning in report.warnings:
        print(f"  warning: {warning}", file=ctx.err)


def cmd_outcomes_verify(args: argparse.Namespace, ctx: Context) -> int:
    report = verify_outcomes(ctx.db(), default_market=ctx.settings.default_market)
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
            "edgeledger resolve --interval 1d --drill none",
            "edgeledger resolve --rederive WSU.DE",
            "EDGELEDGER_PRICE_PROVIDER=csv EDGELEDGER_PRICE_DIR=prices"
            " edgeledger resolve --as-of 2026-11-21T00:00Z",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    resolve.set_defaults(func=cmd_resolve)
    resolve.add_argument("--as-of", help="the moment to resolve at, not after now (default: now)")
    resolve.add_argument(
        "--allow-future-as-of",
        action="store_true",
        help="allow an --as-of after now, for a backtest on an offline book: signals"
        " expire as of that time, on bars up to now only (never on a live book)",
    )
    resolve.add_argument(
        "--interval",
        choices=list(INTERVALS),
        help="primary bar interval for day and swing trades alike (default: per trade type,"
        " EDGELEDGER_RESOLVE_INTERVAL_DAY / _SWING, else EDGELEDGER_RESOLVE_INTERVAL, 1h)",
    )
    resolve.add_argument(
        "--drill",
        help="finer intervals for ambiguous bars, comma-separated,"
        " or 'none' (default: EDGELEDGER_DRILL_INTERVALS, 1m)",
    )
    resolve.add_argument(
        "--rederive",
        nargs="?",
        const=ALL,
        metavar="TICKER",
        help="derive settled outcomes again from the stored bars (one ticker's, or all),"
        " recording every change as an event",
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
