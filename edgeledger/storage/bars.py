"""The bar store: stored bars, what providers were asked for, and each ticker's bar version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
import psycopg.rows

from edgeledger.core.bars import BarBatch, merge_spans
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
    batches: Sequence[BarBatch],
    *,
    provider: str,
    fetched_at: datetime,
    coverage: Mapping[tuple[str, str], Sequence[tuple[datetime, datetime]]],
) -> dict[str, tuple[int, int]]:
    """Store complete bars and record each batch's span as asked for, in a few statements.

    `coverage` is what was covered before, by (ticker, interval); the union with the new
    spans is written back merged. A ticker that gains bars takes a new bar version, which
    tells the resolver to look again. The first stored version of a bar is kept. Returns
    {ticker: (bars added, new bar version)} for the tickers that gained bars.
    """
    if not batches:
        return {}
    keys = list(dict.fromkeys((b.ticker, b.interval) for b in batches))
    sizes = [len(b) for b in batches]
    inserted = conn.execute(
        named_query("insert_bars"),
        {
            "tickers": [b.ticker for b in batches],
            "intervals": [b.interval for b in batches],
            "batch": _array(np.repeat(np.arange(1, len(batches) + 1), sizes)),
            "starts": _array(np.concatenate([b.starts for b in batches])),
            "opens": _array(np.concatenate([b.open for b in batches])),
            "highs": _array(np.concatenate([b.high for b in batches])),
            "lows": _array(np.concatenate([b.low for b in batches])),
            "closes": _array(np.concatenate([b.close for b in batches])),
            "volumes": _array(np.concatenate([b.volume for b in batches])),
            "provider": provider,
            "fetched_at": fetched_at,
        },
    ).fetchall()
    added = {(row["ticker"], row["interval"]): row["added"] for row in inserted}

    spans: list[tuple[str, str, datetime, datetime]] = []
    for ticker, interval in keys:
        asked = [b.covered for b in batches if (b.ticker, b.interval) == (ticker, interval)]
        for start, end in merge_spans([*coverage.get((ticker, interval), ()), *asked]):
            spans.append((ticker, interval, start, end))
    conn.execute(
        named_query("delete_coverage"),
        {"tickers": [k[0] for k in keys], "intervals": [k[1] for k in keys]},
    )
    conn.execute(
        named_query("insert_coverage"),
        {
            "tickers": [s[0] for s in spans],
            "intervals": [s[1] for s in spans],
            "froms": [s[2] for s in spans],
            "tos": [s[3] for s in spans],
        },
    )

    last_bar_end: dict[str, datetime] = {}
    for b in batches:
        if added.get((b.ticker, b.interval)):
            last_bar_end[b.ticker] = max(b.covered[1], last_bar_end.get(b.ticker, b.covered[1]))
    if not last_bar_end:
        return {}
    versions = conn.execute(
        named_query("bump_bar_versions"),
        {"tickers": list(last_bar_end), "ends": list(last_bar_end.values())},
    ).fetchall()
    counts: dict[str, int] = {}
    for (ticker, _), n in added.items():
        counts[ticker] = counts.get(ticker, 0) + n
    return {row["ticker"]: (counts[row["ticker"]], row["bars_version"]) for row in versions}


def _array(values: np.ndarray) -> str:
    """A numeric column as a PostgreSQL array literal, NaN as NULL.

    repr() writes the shortest text that reads back as the same float, so numeric gets
    the provider's digits; one text parameter per column is far cheaper to build than an
    object per bar.
    """
    texts = map(repr, values.tolist())
    if values.dtype.kind == "f" and np.isnan(values).any():
        texts = ("NULL" if t == "nan" else t for t in texts)
    return "{" + ",".join(texts) + "}"


BarArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""starts, open, high, low, close."""

_PACKED = (np.dtype(">i8"), *[np.dtype(">f8")] * 4)  # load_bars' columns, as PostgreSQL sends


def load_bar_arrays(
    conn: psycopg.Connection,
    spans: dict[str, tuple[datetime, datetime]],
    intervals: Sequence[str],
) -> dict[str, dict[str, BarArrays]]:
    """Each ticker's stored bars in its span, by interval: starts (int64 epoch µs) and
    open, high, low, close (float64), sorted by start."""
    if not spans:
        return {}
    tickers = list(spans)
    params = {
        "tickers": tickers,
        "froms": [spans[t][0] for t in tickers],
        "tos": [spans[t][1] for t in tickers],
        "intervals": list(intervals),
    }
    found: dict[str, dict[str, BarArrays]] = {}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
        rows = cursor.execute(named_query("load_bars"), params).fetchall()
    for ticker, interval, *packed in rows:
        starts, *prices = (
            np.frombuffer(column, dtype=dtype).astype(dtype.newbyteorder("="))
            for column, dtype in zip(packed, _PACKED, strict=True)
        )
        found.setdefault(ticker, {})[interval] = (starts, *prices)
    return found


def bars_for_export(
    conn: psycopg.Connection,
    ticker: str,
    interval: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    params = {"ticker": ticker, "interval": interval, "start": start, "end": end}
    return conn.execute(named_query("bars_for_export"), params).fetchall()
