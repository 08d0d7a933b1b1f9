"""Instruments: the market each ticker trades on, and where that came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from edgeledger.core.markets import DEFAULT_MARKET, MarketBook, MarketChoice, MarketSource
from edgeledger.storage.rows import named_query


def _choice(row: Mapping[str, Any]) -> MarketChoice:
    return MarketChoice(row["market"], MarketSource(row["market_source"]))


def all_instruments(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every instrument with its market, source and when it was decided, by ticker."""
    return conn.execute(named_query("all_instruments")).fetchall()


def market_book(
    conn: psycopg.Connection, tickers: Sequence[str] | None = None, *, default: str = DEFAULT_MARKET
) -> MarketBook:
    """What decides markets without a provider: the stored instruments (all, or these
    tickers') and the default market."""
    if tickers is None:
        rows = all_instruments(conn)
    else:
        rows = conn.execute(named_query("instruments_of"), {"tickers": list(tickers)}).fetchall()
    return MarketBook({row["ticker"]: _choice(row) for row in rows}, default)


def record_markets(
    conn: psycopg.Connection, choices: Mapping[str, MarketChoice], *, at: datetime
) -> dict[str, MarketChoice]:
    """Keep each ticker's market unless a stronger source already decided it; returns the
    choices that were stored (new or changed)."""
    if not choices:
        return {}
    tickers = list(choices)
    rows = conn.execute(
        named_query("record_markets"),
        {
            "tickers": tickers,
            "markets": [choices[t].market for t in tickers],
            "sources": [choices[t].source.value for t in tickers],
            "decided_at": [at] * len(tickers),
        },
    ).fetchall()
    return {row["ticker"]: _choice(row) for row in rows}


def set_instrument_market(
    conn: psycopg.Connection, ticker: str, market: str, *, at: datetime
) -> None:
    conn.execute(
        named_query("set_instrument_market"),
        {"ticker": ticker, "market": market, "decided_at": at},
    )


def clear_instrument_setting(conn: psycopg.Connection, ticker: str) -> bool:
    """Forget a person's setting for the ticker; False if it had none."""
    return (
        conn.execute(named_query("clear_instrument_setting"), {"ticker": ticker}).fetchone()
        is not None
    )
