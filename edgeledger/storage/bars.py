"""The bar store: stored bars, what providers were asked for, and each ticker's bar version."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import psycopg.rows

from edgeledger.resolution import merge_spans
from edgeledger.storage.rows import named_query


def bar_coverage(
    conn: psycopg.Connection, tickers: Sequence[str]
) -> dict[tuple[str, str], list[tuple[datetime, datetime]]]:
    """{(ticker, interval): [(from, to), ...]}: what providers were already asked for."""
    found: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for row in conn.execute(named_query("bar_coverage_for"), {"tickers": list(tickers)}):
        found.setdefault((row["ticker"], row["interval"]), []).append(
            (row["covered_from"], row["covered_to"])
        )
    return found


def bar_versions(conn: psycopg.Connection, tickers: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(named_query("ticker_bar_versions"), {"tickers": list(tickers)})
    return {row["ticker"]: row["bars_version"] for row in rows}


def store_bars(
    conn: psycopg.Connection,
    ticker: str,
    interval: str,
    rows: Iterable[tuple[datetime, float, float, float, float, float | None]],
    *,
    provider: str,
    fetched_at: datetime,
    covered: tuple[datetime, datetime],
    coverage: Sequence[tuple[datetime, datetime]],
) -> tuple[int, int | None]:
    """Store complete bars and record the span as asked for.

    `coverage` is what was covered before; the union is written back merged. A batch that
    adds bars takes a new bar version for the ticker, which tells the resolver to look
    again. Returns (bars added, the ticker's new bar version or None when nothing was added).
    """
    bars = [
        {
            "start": start.isoformat(),
            "open": _number(o),
            "high": _number(h),
            "low": _number(lw),
            "close": _number(c),
            "volume": _number(v),
        }
        for start, o, h, lw, c, v in rows
    ]
    params = {
        "ticker": ticker,
        "interval": interval,
        "provider": provider,
        "fetched_at": fetched_at,
        "bars": json.dumps(bars),
    }
    inserted = conn.execute(named_query("insert_bars"), params).rowcount
    conn.execute(named_query("delete_coverage"), {"ticker": ticker, "interval": interval})
    for start, end in merge_spans([*coverage, covered]):
        conn.execute(
            named_query("insert_coverage"),
            {"ticker": ticker, "interval": interval, "covered_from": start, "covered_to": end},
        )
    if not inserted:
        return 0, None
    params = {"ticker": ticker, "last_bar_end": covered[1]}
    return inserted, conn.execute(named_query("bump_bar_version"), params).fetchone()[
        "bars_version"
    ]


def _number(value: float | Decimal | None) -> float | str | None:
    """A price for a JSON document: json writes a float as repr() does, the shortest text
    that reads back as the same float, so numeric gets the provider's digits. NaN and
    infinities, which JSON lacks, and Decimals travel as text numeric reads."""
    if isinstance(value, float) and math.isfinite(value):
        return float(value)  # numpy's float64 too
    return None if value is None else str(value)


def load_bar_arrays(
    conn: psycopg.Connection,
    spans: dict[str, tuple[datetime, datetime]],
    intervals: Sequence[str],
) -> list[tuple]:
    """(ticker, interval, start_us, open, high, low, close) rows for each ticker's span."""
    if not spans:
        return []
    tickers = list(spans)
    params = {
        "tickers": tickers,
        "froms": [spans[t][0] for t in tickers],
        "tos": [spans[t][1] for t in tickers],
        "intervals": list(intervals),
    }
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
        return cursor.execute(named_query("load_bars"), params).fetchall()


def bars_for_export(
    conn: psycopg.Connection,
    ticker: str,
    interval: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    params = {"ticker": ticker, "interval": interval, "start": start, "end": end}
    return conn.execute(named_query("bars_for_export"), params).fetchall()
