"""The day summaries of closed trades and the day counts of signals (sql/0008): kept fresh
by whoever reads them, read as packed columns.

A statement that writes signals lists the New York days it touched; a reader first
recomputes those days from the signals, in the caller's transaction (see refresh), then
reads. So an answer read from summaries is the answer the trades give, as of the
reader's snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import psycopg.rows
from psycopg import sql

from edgeledger.core.metrics import (
    COUNT_COLUMNS,
    SEQUENCE_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_COUNTS,
)
from edgeledger.core.summaries import (
    COUNT_DAY_COLUMNS,
    DAY_COLUMNS,
    DIMENSIONS,
    R_BIN_DAY_COLUMNS,
    day_counts,
    day_r_bins,
    day_summaries,
)
from edgeledger.storage.analytics import _array, _times, load_trades
from edgeledger.storage.rows import named_query

# What day_summaries and day_counts read of the trades frame.
SUMMARY_INPUTS = (
    "trade_id", "trade_type", "direction", "strategy", "confidence", "edges", "source",
    "status", "exit_reason", "fill_price", "r", "mfe_r", "mae_r", "ambiguous", "created_at",
    "closed_at",
)  # fmt: skip
# Beyond this many changed days (or this many separate runs of them), the days are
# recomputed from one read of every signal rather than one read per run of days.
WHOLE_READ_DAYS, WHOLE_READ_RUNS = 90, 12
# A refresh of this many days (a first build, a bulk import) analyzes the tables after.
ANALYZE_AFTER_DAYS = 30
_PG_EPOCH = date(2000, 1, 1)


def refresh(conn: psycopg.Connection) -> int:
    """Recompute the days changed since they were summed up (as far as this snapshot sees),
    and forget those changes; returns how many days were recomputed. Run it in the
    transaction that then reads: it takes a lock that makes concurrent refreshers wait for
    each other until the end of their transactions, and reads the signals after that lock,
    so what it stores is never older than what the previous refresher stored."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        changes = cursor.execute(named_query("trade_day_changes")).fetchall()
        if not changes:
            return 0
        cursor.execute(named_query("lock_day_summaries"))
        days = sorted({row["day"] for row in changes})
        trades = _trades_of(conn, days)
        wanted = set(days)
        summaries, counts = day_summaries(trades, wanted), day_counts(trades, wanted)
        bins = day_r_bins(trades, wanted)
        cursor.execute(named_query("forget_day_summaries"), {"days": days})
        cursor.execute(named_query("forget_day_r_bins"), {"days": days})
        _copy(cursor, "trade_day_summaries", DAY_COLUMNS, summaries)
        _copy(cursor, "signal_day_counts", COUNT_DAY_COLUMNS, counts)
        _copy(cursor, "trade_day_r_bins", R_BIN_DAY_COLUMNS, bins)
        cursor.execute(named_query("forget_trade_day_changes"), {"ids": [r["id"] for r in changes]})
        if len(days) >= ANALYZE_AFTER_DAYS:
            # Fresh statistics, or the planner guesses a few dozen rows where a million
            # trades left 400,000 and sorts them on disk: 0.6 s instead of 0.08 s a query.
            cursor.execute(named_query("analyze_day_summaries"))
    return len(days)


def _trades_of(conn: psycopg.Connection, days: list[date]) -> pd.DataFrame:
    """Every signal logged or closed on one of `days` (others too, when reading everything
    is cheaper: the summaries keep only the days asked for)."""
    runs = _runs_of(days)
    if len(days) > WHOLE_READ_DAYS or len(runs) > WHOLE_READ_RUNS:
        return load_trades(conn, columns=SUMMARY_INPUTS)
    frames = []
    for first, last in runs:
        start, end = _midnight(first), _midnight(last + timedelta(days=1))
        frames.append(load_trades(conn, closed_from=start, closed_to=end, columns=SUMMARY_INPUTS))
        frames.append(load_trades(conn, created_from=start, created_to=end, columns=SUMMARY_INPUTS))
    trades = pd.concat(frames, ignore_index=True)
    return trades.drop_duplicates("trade_id", ignore_index=True)


def _runs_of(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _midnight(day: date) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize("America/New_York")


def _copy(cursor: psycopg.Cursor, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    """COPY the rows in as CSV written by pandas (a few seconds for the half a million rows
    of a first build, where a row at a time takes half a minute). In CSV an unquoted empty
    field is NULL, so an empty text key could not be told from none: none is stored."""
    if frame.empty:
        return
    for name in ("key", "exit_reason"):
        if name in frame and (frame[name].to_numpy(dtype=object) == "").any():
            raise ValueError(f"{table}: an empty {name} cannot be stored (NULL means none)")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    plain = pd.DataFrame({name: _plain(name, frame[name]) for name in columns})
    text = plain.to_csv(header=False, index=False, lineterminator="\n")
    with cursor.copy(statement) as copy:
        copy.write(text)


def _plain(name: str, column: pd.Series) -> pd.Series:
    """A column as the CSV writer should see it: counts as integers, times in UTC."""
    if name in ("last_closed_at", "last_created_at"):
        return pd.to_datetime(column, utc=True)
    if name in SUMMARY_COUNTS or name == "n":
        return column.astype(np.int64)
    if name in SUMMARY_COLUMNS:
        return column.astype(float)
    return column


# --- reading ----------------------------------------------------------------------------------


def _slice(
    population: str, dimension: str, first_day: date | None, end_day: date | None
) -> dict[str, object]:
    """The parameters of the day-summary queries, the dimension checked first."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")
    return {
        "population": population,
        "dimension": dimension,
        "first_day": first_day,
        "end_day": end_day,
    }


def summary_rows(
    conn: psycopg.Connection,
    population: str,
    dimension: str,
    first_day: date | None = None,
    end_day: date | None = None,
) -> pd.DataFrame:
    """The stored day summaries of one population and dimension for the days in
    [first_day, end_day) (None: unbounded), ordered by key then day: the columns key, day,
    last_closed_at and SUMMARY_COLUMNS."""
    fields = sql.SQL(", ").join(
        sql.SQL("array_send(array_agg({}))").format(sql.Identifier(name))
        for name in ("day", "last_closed_at", *SUMMARY_COLUMNS)
    )
    query = sql.SQL(named_query("day_summary_rows")).format(fields=fields)
    params = _slice(population, dimension, first_day, end_day)
    with conn.cursor(binary=True, row_factory=psycopg.rows.tuple_row) as cursor:
        row = cursor.execute(query, params).fetchone()
    assert row is not None
    count, keys, packed = row[0], row[1], row[2:]
    names = ("day", "last_closed_at", *SUMMARY_COLUMNS)
    if not count:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in ("key", *names)})
    columns: dict[str, Any] = {}
    parts = keys.split("\x1f")
    columns["key"] = np.array([None if p == "\x1e" else p for p in parts], dtype=object)
    for name, data in zip(names, packed, strict=True):
        if name == "day":
            offsets = _array(data, ">i4").astype("int64")
            columns[name] = np.datetime64(_PG_EPOCH, "D") + offsets.astype("timedelta64[D]")
        elif name == "last_closed_at":
            columns[name] = _times(_array(data, ">i8"))
        elif name in SUMMARY_COUNTS:
            columns[name] = _array(data, ">i4").astype(np.int64)
        else:
            columns[name] = _array(data, ">f8").astype(np.float64)
    order = np.lexsort((columns["day"], _sort_keys(columns["key"])))
    frame = pd.DataFrame({name: values[order] for name, values in columns.items()})
    frame["last_closed_at"] = frame["last_closed_at"].dt.tz_localize("UTC")
    return frame


def summary_totals(
    conn: psycopg.Connection,
    population: str,
    dimension: str,
    first_day: date | None = None,
    end_day: date | None = None,
) -> tuple[list[str | None], pd.DataFrame, pd.Timestamp | None]:
    """The day summaries of one population and dimension for the days in [first_day,
    end_day) totalled per key by the database: the keys (sorted, a missing key last), one
    summary row each without the SEQUENCE_COLUMNS, and the latest close among them."""
    added = [name for name in SUMMARY_COLUMNS if name not in (*SEQUENCE_COLUMNS, "m2_r")]
    fields = sql.SQL(", ").join(
        sql.SQL("sum({0}) AS {0}").format(sql.Identifier(name)) for name in added
    )
    query = sql.SQL(named_query("day_summary_totals")).format(fields=fields)
    params = _slice(population, dimension, first_day, end_day)
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        rows = cursor.execute(query, params).fetchall()
    rows.sort(key=lambda row: (row["key"] is None, row["key"] or ""))
    frame = pd.DataFrame(
        {
            name: np.array(
                [row[name] for row in rows], dtype=np.int64 if name in SUMMARY_COUNTS else float
            )
            for name in added
        }
    )
    n = frame["n"].to_numpy(dtype=float)
    squares = np.array([row["squares"] for row in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["m2_r"] = np.maximum(squares - frame["sum_r"].to_numpy() ** 2 / n, 0.0)
    latest = max((row["last_closed_at"] for row in rows), default=None)
    return [row["key"] for row in rows], frame, None if latest is None else pd.Timestamp(latest)


def _sort_keys(keys: np.ndarray) -> np.ndarray:
    """Keys as sortable codes: names in Python's order, a missing key last."""
    labels = sorted({k for k in keys if k is not None})
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index.get(k, len(labels)) for k in keys], dtype=np.int64)


def count_rows_between(
    conn: psycopg.Connection, population: str, first_day: date | None, end_day: date | None
) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """The signals of one population logged in [first_day, end_day), as count rows
    (COUNT_COLUMNS), and the latest logging time among them (None without signals)."""
    params = {"population": population, "first_day": first_day, "end_day": end_day}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        rows = cursor.execute(named_query("day_count_rows"), params).fetchall()
    frame = pd.DataFrame(rows, columns=[*COUNT_COLUMNS, "last_created_at"])
    latest = frame["last_created_at"].max() if len(frame) else None
    frame["n"] = frame["n"].astype(np.int64)
    return frame[list(COUNT_COLUMNS)], (None if latest is None else pd.Timestamp(latest))


def r_bins_between(
    conn: psycopg.Connection, population: str, first_day: date | None, end_day: date | None
) -> dict[int, int]:
    """The closed trades of one population closed on the days in [first_day, end_day), per
    R bin (sql/0012): {bin: count}."""
    params = {"population": population, "first_day": first_day, "end_day": end_day}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
        rows = cursor.execute(named_query("day_r_bins"), params).fetchall()
    return {int(b): int(n) for b, n in rows}
