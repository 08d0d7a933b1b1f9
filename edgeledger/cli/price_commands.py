"""`edgeledger prices ...`: fetch bars into the bar store, and print them."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from edgeledger import storage
from edgeledger.cli.base import Context, add_command, add_group
from edgeledger.core.bars import INTERVALS, BarBatch
from edgeledger.core.signals import decimal_text
from edgeledger.core.validation import parse_ticker, parse_timestamp
from edgeledger.errors import ConfigError
from edgeledger.exporter import utc_text
from edgeledger.prices import schwab
from edgeledger.prices.http import HttpClient

PRICE_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
# The login is one request a person waits for; PriceSettings are not read, since before the
# first login the configured provider's settings are not complete yet.
LOGIN_TIMEOUT_SECONDS = 30.0


def cmd_prices_fetch(args: argparse.Namespace, ctx: Context) -> int:
    start = parse_timestamp(args.start, "--start")
    end = parse_timestamp(args.end, "--end") if args.end else ctx.now
    provider = ctx.price_provider()
    ticker = parse_ticker(args.ticker)
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
        rows = storage.bars_for_export(conn, parse_ticker(args.ticker), args.interval, start, end)
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


def cmd_prices_schwab_login(args: argparse.Namespace, ctx: Context) -> int:
    key_names = ("EDGELEDGER_SCHWAB_APP_KEY", "EDGELEDGER_SCHWAB_APP_SECRET")
    app_key, app_secret = (ctx.environ.get(name, "").strip() for name in key_names)
    for name, value in zip(key_names, (app_key, app_secret), strict=True):
        if not value:
            raise ConfigError(
                f"{name} is not set: the login needs your Schwab app's key and secret"
            )
    base_url = ctx.environ.get("EDGELEDGER_SCHWAB_URL", "").strip() or schwab.DEFAULT_URL
    if args.redirected is None:
        print(
            "1. Open this address, log in to Schwab and approve the app:\n"
            f"   {schwab.authorize_url(app_key, args.callback_url, base_url)}\n"
            "2. Paste the whole address the browser was sent to (it may not load; that is\n"
            "   fine), within 30 seconds:",
            file=ctx.err,
        )
        pasted = sys.stdin.readline()
    else:
        pasted = args.redirected
    try:
        code = schwab.code_from_redirect(pasted)
    except ValueError as exc:
        source = "the pasted address" if args.redirected is None else "--redirected"
        raise ConfigError(f"{source}: {exc}") from None
    http = HttpClient("schwab", timeout=LOGIN_TIMEOUT_SECONDS)
    login = schwab.exchange_code(
        http,
        app_key=app_key,
        app_secret=app_secret,
        code=code,
        callback_url=args.callback_url,
        now=ctx.now,
        base_url=base_url,
    )
    print(f"EDGELEDGER_SCHWAB_REFRESH_TOKEN={login.refresh_token}", file=ctx.out)
    print(
        "Put that line in your environment file or secret store and restart the jobs. It"
        f" expires {login.expires_at:%Y-%m-%d %H:%M} UTC: log in again before then.",
        file=ctx.err,
    )
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

    login = add_command(
        sub,
        "schwab-login",
        cmd_prices_schwab_login,
        "log in to Schwab (weekly) and print a new EDGELEDGER_SCHWAB_REFRESH_TOKEN",
        "edgeledger prices schwab-login --callback-url https://127.0.0.1 >> .env",
        "edgeledger prices schwab-login --callback-url https://127.0.0.1"
        " --redirected 'https://127.0.0.1/?code=C0.b2F...%40&session=...'",
    )
    login.add_argument(
        "--callback-url", required=True, help="the callback URL registered for your Schwab app"
    )
    login.add_argument(
        "--redirected",
        help="the address Schwab sent the browser to after the login (default: read it from"
        " standard input after printing where to log in)",
    )
