"""`edgeledger instruments ...`: the market each ticker trades on, seen and set."""

from __future__ import annotations

import argparse
from typing import Any

from edgeledger import storage
from edgeledger.cli.base import Context, add_command, add_group
from edgeledger.core.markets import market_named
from edgeledger.errors import InvalidOption

SOURCES = {
    "setting": "set by a person",
    "signal": "named on a signal",
    "provider": "said by the price provider",
    "ticker": "from the ticker's form",
    "default": "the default market",
}


def cmd_instruments_list(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.db().connection() as conn:
        rows = storage.all_instruments(conn)
    for row in rows:
        decided = row["decided_at"].strftime("%Y-%m-%d %H:%M UTC")
        why = SOURCES.get(row["market_source"], row["market_source"])
        print(f"{row['ticker']:<12} {row['market']:<6} {why:<28} {decided}", file=ctx.out)
    if not rows:
        print("no instruments yet: a resolve run decides the market of each ticker", file=ctx.err)
    return 0


def cmd_instruments_set(args: argparse.Namespace, ctx: Context) -> int:
    ticker = args.ticker.strip().upper()
    try:
        market = market_named(args.market)
    except ValueError as exc:
        raise InvalidOption("--market", str(exc)) from None
    with ctx.db().connection() as conn, conn.transaction():
        storage.set_instrument_market(conn, ticker, market, at=ctx.now)
        again = storage.request_rederive(
            conn, [ticker], at=ctx.now, reason=f"market set to {market}"
        )
    note = "; its settled outcomes are derived again by the next run" if again else ""
    print(f"{ticker} trades on {market}{note}", file=ctx.out)
    return 0


def cmd_instruments_clear(args: argparse.Namespace, ctx: Context) -> int:
    ticker = args.ticker.strip().upper()
    with ctx.db().connection() as conn, conn.transaction():
        if not storage.clear_instrument_setting(conn, ticker):
            raise InvalidOption("TICKER", f"{ticker} has no market set by a person")
        storage.request_rederive(conn, [ticker], at=ctx.now, reason="market setting cleared")
    print(f"{ticker}: setting cleared; the next run decides its market again", file=ctx.out)
    return 0


def register(groups: Any) -> None:
    sub = add_group(
        groups,
        "instruments",
        "see and set the market each ticker trades on (docs/markets.md)",
        "edgeledger instruments list",
        "edgeledger instruments set SAP --market XETR",
    )
    add_command(
        sub,
        "list",
        cmd_instruments_list,
        "every ticker with its market and where that came from",
        "edgeledger instruments list",
    )
    set_ = add_command(
        sub,
        "set",
        cmd_instruments_set,
        "set a ticker's market (wins over the provider, the ticker's form and the default)",
        "edgeledger instruments set SAP --market XETR",
        "edgeledger instruments set EURUSD --market 24/5",
    )
    set_.add_argument("ticker")
    set_.add_argument(
        "--market", required=True, help="XNYS, XETR, XLON, XTSE, XTKS, CMES, 24/5, 24/7 ..."
    )
    clear = add_command(
        sub,
        "clear",
        cmd_instruments_clear,
        "forget a ticker's market setting",
        "edgeledger instruments clear SAP",
    )
    clear.add_argument("ticker")
