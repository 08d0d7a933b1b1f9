"""`edgeledger prices ...`: fetch bars into the bar store, and print them."""

from __future__ import annotations

import argparse
import csv
import json
from typing import Any

from edgeledger import storage
from edgeledger.bars import INTERVALS, BarBatch
from edgeledger.cli.base import Context, add_command, add_group
from edgeledger.exporter import utc_text
from edgeledger.signals import decimal_text
from edgeledger.validation import parse_timestamp

PRICE_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def cmd_prices_fetch(args: argparse.Namespace, ctx: Context) -> int:
    start = parse_timestamp(args.start, "--start")
    end = parse_timestamp(args.end, "--end") if args.end else ctx.now
    provider = ctx.price_provider()
    ticker = args.ticker.upper()
    frame = provider.fetch_bars(ticker, args.interval, start, end)
    batch = BarBatch.complete(ticker, args.interval, frame, (start, min(end, ctx.now)))
    with ctx.db().connection() as conn, conn.transaction():
        coverage = storage.bar_coverage(conn, [ticker])
        stored = storage.store_bars(
            conn, [batch], provider=provider.name, fetched_at=ctx.now, coverage=coverage
        )
    added = stored.get(ticker, (0, None))[0]
    print(
        f"fetched {len(frame)} {args.interval} bars of {ticker} from "
        f"{provider.name}; {added} new, {len(frame) - len(batch)} still forming",
        file=ctx.out,
    )
    return 0


def cmd_prices_export(args: argparse.Namespace, ctx: Context) -> int:
    start = parse_timestamp(args.start, "--start") if args.start else None
    end = parse_timestamp(args.end, "--end") if args.end else None
    with ctx.db().connection() as conn:
        rows = storage.bars_for_export(conn, args.ticker.upper(), args.interval, start, end)
    records = [
        {
            "timestamp": utc_text(r["start"]),
            "open": decimal_text(r["open"]),
            "high": decimal_text(r["high"]),
            "low": decimal_text(r["low"]),
            "close": decimal_text(r["close"]),
            "volume": decimal_text(r["volume"]),
        }
        for r in rows
    ]
    if args.format == "csv":
        writer = csv.DictWriter(ctx.out, PRICE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        for record in records:
            print(json.dumps(record), file=ctx.out)
    return 0


def register(groups: Any) -> None:
    sub = add_group(
        groups,
        "prices",
        "fetch and print price bars",
        "edgeledger prices export NVDA --interval 1h",
    )
    fetch = add_command(
        sub,
        "fetch",
        cmd_prices_fetch,
        "fetch bars from the configured provider into the bar store",
        "edgeledger prices fetch NVDA --interval 1h --start 2026-11-16T00:00Z"
        " --end 2026-11-21T00:00Z",
        "EDGELEDGER_PRICE_PROVIDER=csv EDGELEDGER_PRICE_DIR=prices"
        " edgeledger prices fetch AAPL --interval 5m --start 2026-11-20T14:30Z",
    )
    fetch.add_argument("ticker")
    fetch.add_argument("--interval", choices=list(INTERVALS), default="1h")
    fetch.add_argument("--start", required=True, help="ISO 8601 with offset or Z")
    fetch.add_argument("--end", help="ISO 8601 with offset or Z (default: now)")

    export = add_command(
        sub,
        "export",
        cmd_prices_export,
        "print stored bars as CSV or JSON lines",
        "edgeledger prices export NVDA --interval 1h > NVDA.csv",
        "edgeledger prices export NVDA --interval 1m --format jsonl",
    )
    export.add_argument("ticker")
    export.add_argument("--interval", choices=list(INTERVALS), default="1h")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--start", help="ISO 8601 with offset or Z")
    export.add_argument("--end", help="ISO 8601 with offset or Z")
