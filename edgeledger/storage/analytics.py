"""What the analytics read and write: the trades frame, rolling metrics, feedback decisions
and weekly reports.

The trades frame is read packed (one value per column, decoded by numpy) because a report
reads every trade of the ledger: a Python object per row would cost seconds at a million, and
so does aggregating a million rows, so large reads come from blocks of the frame cached in the
database (trade_frame_blocks), rebuilt when their signals change. bench/README.md has figures.
Rows the analytics write arrive as mappings or as their dataclasses (RollingRow, Decision);
this layer needs only their field names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import psycopg.rows
from psycopg import sql
from psycopg.types.json import Jsonb

from edgeledger.core.trades import TRADE_COLUMNS, empty_trades
from edgeledger.storage.rows import named_query

# --- the trades frame ---------------------------------------------------------------------

_FLOATS = ("entry", "stop", "target", "target2", "fill_price", "exit_price", "r", "mfe_r", "mae_r")
_TIMES = ("created_at", "triggered_at", "closed_at")
_TEXTS = ("trade_id", "ticker", "strategy")
# The fixed vocabularies, in the order of trade_frame_packed's lists (sql/0007) and its bits.
_CHOICES: dict[str, tuple[tuple[str | None, ...], int, int]] = {
    # column: (values by position, shift, mask)
    "trade_type": (("day", "swing"), 0, 1),
    "direction": (("long", "short"), 1, 1),
    "source": (("discord", "channel", "api", "import", "backtest"), 2, 7),
    "status": (("PENDING", "OPEN", "WIN", "LOSS", "EXPIRED", "CANCELLED"), 5, 7),
    "exit_reason": (
        (None, "target", "stop", "timeout", "not_triggered", "no_data", "manual"),
        8,
        15,
    ),
}
_SEPARATOR, _NULL = "\x1f", "\x1e"
# timestamptz counts microseconds from 2000-01-01 UTC; -infinity (our NULL) is int64 min.
_PG_EPOCH_US = 946_684_800_000_000
_NO_TIME = np.iinfo(np.int64).min
_TARGET2_HIT = np.array([False, True, None], dtype=object)


# A slice of up to this many signals is aggregated directly (about 6 µs a signal, with
# its decoding); a larger one is read from the cached blocks (sql/0007: trade_frame_blocks,
# about 1.7 s for a million whatever the slice) and cut here. See bench/README.md, Report.
DIRECT_UP_TO = 200_000


def load_trades(
    conn: psycopg.Connection,
    *,
    closed_from: datetime | None = None,
    closed_to: datetime | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The trades frame of edgeledger.core.trades (the same columns, dtypes and values as
    `trades_frame` builds), for the signals closed in [closed_from, closed_to) and created in
    [created_from, created_to) (each bound optional), in the order they were logged.

    `market` is the market the signal named, else its instrument's; `edges` the tuple of its
    edge names; `r` its r_achieved. Every signal is read, backtest and CANCELLED ones too: the
    populations of trades.py choose what counts. `columns` (default: all) keeps only those,
    in the frame's order: text columns cost far more to read than numbers and choices.

    A large slice is read from the cached blocks of the frame, after rebuilding those that
    changed (in the caller's transaction, which then holds their locks until it ends).
    """
    wanted = _wanted(columns)
    bounds = {
        "closed_from": closed_from,
        "closed_to": closed_to,
        "created_from": created_from,
        "created_to": created_to,
    }
    sliced = any(value is not None for value in bounds.values())
    with conn.cursor(row_factory=psycopg.rows.dict_row, binary=True) as cursor:
        count = cursor.execute(named_query("count_trades"), bounds).fetchone() if sliced else None
        fields = sql.SQL(", ").join(map(sql.Identifier, _packed_fields(wanted, sliced)))
        if count is not None and count["count"] <= DIRECT_UP_TO:
            # Only the fields asked for are aggregated: the function is inlined, and the
            # planner drops the aggregates of the columns nobody reads.
            query = sql.SQL(named_query("trades_packed")).format(fields=fields)
            packs = cursor.execute(query, bounds).fetchall()
        else:
            _rebuild_changed_blocks(cursor)
            query = sql.SQL(named_query("trade_blocks")).format(fields=fields)
            packs = cursor.execute(query).fetchall()
        packs = [pack for pack in packs if pack["n"]]
        markets = {}
        if "market" in wanted:
            rows = cursor.execute(named_query("instrument_markets"))
            markets = {row["ticker"]: row["market"] for row in rows}
    if not packs:
        return empty_trades()[wanted]
    decoded = _columns(packs, markets, wanted, sliced)
    keep = _within(decoded, bounds) if sliced else None
    order = _order(decoded["id"] if keep is None else decoded["id"][keep])
    series = {}
    for name in wanted:  # dtype given: pandas would read object text as its str dtype
        column = decoded[name] if keep is None else decoded[name][keep]
        if order is not None:
            column = column[order]
        series[name] = pd.Series(column, dtype=column.dtype, copy=False, name=name)
    for name in set(_TIMES) & set(wanted):
        series[name] = series[name].dt.tz_localize("UTC")
    # Joined, not built as DataFrame(dict), which would copy the object columns into one
    # block (half a second at a million trades); pandas consolidates later if it must.
    return pd.concat(list(series.values()), axis=1)


def _rebuild_changed_blocks(cursor: psycopg.Cursor) -> None:
    """Rebuild the blocks changed since they were built, and forget the changes seen.

    A change not yet committed is not seen: it stays listed, and the next reader rebuilds
    its block. The blocks are locked before they are aggregated, in a statement of its own,
    so under READ COMMITTED the aggregate sees everything committed before the lock.
    """
    changes = cursor.execute(named_query("trade_frame_changes")).fetchall()
    if not changes:
        return
    blocks = sorted({row["block"] for row in changes})
    cursor.execute(named_query("add_trade_blocks"), {"blocks": blocks})
    cursor.execute(named_query("lock_trade_blocks"), {"blocks": blocks})
    cursor.execute(named_query("rebuild_trade_blocks"), {"blocks": blocks})
    cursor.execute(named_query("forget_trade_frame_changes"), {"ids": [r["id"] for r in changes]})


def _wanted(columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(TRADE_COLUMNS)
    unknown = sorted(set(columns) - set(TRADE_COLUMNS))
    if unknown:
        raise ValueError(f"not columns of the trades frame: {', '.join(unknown)}")
    return [name for name in TRADE_COLUMNS if name in columns]


# The packed fields each column of the frame is decoded from.
_SOURCES: dict[str, tuple[str, ...]] = {
    **{name: ("kinds",) for name in (*_CHOICES, "confidence", "ambiguous", "target2_hit")},
    "market": ("named_market", "ticker"),
}


def _packed_fields(wanted: list[str], sliced: bool) -> list[str]:
    """The blocks' fields to fetch for these columns (and the times a slice is cut by)."""
    fields = ["id"]
    for name in [*wanted, *(("closed_at", "created_at") if sliced else ())]:
        fields += [f for f in _SOURCES.get(name, (name,)) if f not in fields]
    return fields


def _columns(
    packs: list[dict[str, Any]], markets: dict[str, str], wanted: list[str], sliced: bool
) -> dict[str, np.ndarray]:
    """The wanted columns of the frame (and `id`, and the times a slice is cut by) from
    packed parts, in the parts' order."""
    n = sum(pack["n"] for pack in packs)
    needed = {*wanted, "id", *(("closed_at", "created_at") if sliced else ())}

    def joined(name: str) -> str:
        return _SEPARATOR.join(pack[name] for pack in packs)

    def array(name: str, dtype: str) -> np.ndarray:
        return np.concatenate([_array(pack[name], dtype) for pack in packs])

    columns: dict[str, np.ndarray] = {"id": array("id", ">i8")}
    for name in _TEXTS:
        if name in needed or (name == "ticker" and "market" in needed):
            columns[name] = _texts(joined(name), n, name)
    if "market" in needed:
        named = _texts(joined("named_market"), n, "market")
        columns["market"] = _markets(named, columns["ticker"], markets)
    if "edges" in needed:
        columns["edges"] = _edges(joined("edges"), n)
    if needed & set(_SOURCES) - {"market"}:
        kinds = array("kinds", ">i4").astype(np.int64)
        for name, (values, shift, mask) in _CHOICES.items():
            columns[name] = np.array(values, dtype=object)[(kinds >> shift) & mask]
        columns["confidence"] = (kinds >> 12) & 7
        columns["ambiguous"] = ((kinds >> 15) & 1).astype(bool)
        columns["target2_hit"] = _TARGET2_HIT[kinds >> 16]
    for name in needed & set(_FLOATS):
        columns[name] = array(name, ">f8").astype(np.float64)
    for name in needed & set(_TIMES):
        columns[name] = _times(array(name, ">i8"))
    return columns


def _markets(named: np.ndarray, tickers: np.ndarray, markets: dict[str, str]) -> np.ndarray:
    """The market each signal named, else its instrument's (None when it has neither)."""
    unnamed = pd.isna(named)
    if unnamed.any():
        found = pd.Series(tickers[unnamed], dtype=object).map(markets).to_numpy(dtype=object)
        named[unnamed] = np.where(pd.isna(found), None, found)
    return named


def _within(columns: dict[str, np.ndarray], bounds: dict[str, datetime | None]) -> np.ndarray:
    """Which rows fall in the slice (as the SQL reads it: a missing time is in no range)."""
    keep = np.ones(len(columns["id"]), dtype=bool)
    for name, column in (("closed_from", "closed_at"), ("created_from", "created_at")):
        if (start := bounds[name]) is not None:
            keep &= columns[column] >= _datetime64(start)
    for name, column in (("closed_to", "closed_at"), ("created_to", "created_at")):
        if (end := bounds[name]) is not None:
            keep &= columns[column] < _datetime64(end)
    return keep


def _datetime64(moment: datetime) -> np.datetime64:
    return np.datetime64(pd.Timestamp(moment).tz_convert("UTC").tz_localize(None), "ns")


def _array(packed: bytes, dtype: str) -> np.ndarray:
    """The values of a one-dimensional array without NULLs in PostgreSQL's binary format:
    a 20-byte header, then each element as its length (int4) and its bytes."""
    if np.frombuffer(packed, dtype=">i4", count=2, offset=0).tolist() != [1, 0]:
        raise ValueError("expected a one-dimensional array without NULLs")
    elements = np.frombuffer(packed, dtype=[("length", ">i4"), ("value", dtype)], offset=20)
    return elements["value"]


def _order(ids: np.ndarray) -> np.ndarray | None:
    """How to put the rows in logging order, or None when the server sent them so."""
    if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return None
    return np.argsort(ids, kind="stable")


def _texts(joined: str, n: int, name: str) -> np.ndarray:
    parts = joined.split(_SEPARATOR)
    if len(parts) != n:
        raise ValueError(f"{name}: a stored value holds U+001F, so the column cannot be read")
    if _NULL in joined:
        parts = [None if part == _NULL else part for part in parts]
    return np.array(parts, dtype=object)  # text only: never read as more than one dimension


def _edges(joined: str, n: int) -> np.ndarray:
    """Tuples of edge names, each distinct list decoded once: trades share their edges, and
    numbering the texts through a dict (which keeps their hashes) beats a factorize."""
    parts = joined.split(_SEPARATOR)
    if len(parts) != n:
        raise ValueError("edges: a stored value holds U+001F, so the column cannot be read")
    index: dict[str, int] = {}
    codes = np.array([index.setdefault(text, len(index)) for text in parts], dtype=np.int64)
    lists = np.empty(len(index), dtype=object)
    for code, text in enumerate(index):  # one by one: numpy reads equal tuples as a 2-D array
        lists[code] = tuple(e if isinstance(e, str) else e["name"] for e in json.loads(text))
    return lists[codes]


def _times(packed: np.ndarray) -> np.ndarray:
    micros = packed.astype(np.int64)
    missing = micros == _NO_TIME
    micros += _PG_EPOCH_US
    micros[missing] = _NO_TIME  # NaT
    return micros.view("datetime64[us]").astype("datetime64[ns]")


# --- rolling metrics ------------------------------------------------------------------------

ROLLING_FIELDS = ("scope", "key", "window_days", "as_of", "figures")
DECISION_FIELDS = ("scope", "key", "action", "findings", "figures", "rule_version", "decided_at")


def upsert_rolling_metrics(
    conn: psycopg.Connection, rows: Iterable[Any], *, at: datetime | None = None
) -> int:
    """Store each (scope, key, window_days) row, replacing the one it recalculates; returns
    how many were written. `at` stamps updated_at (default: the database's time)."""
    items = [_fields(row, ROLLING_FIELDS) for row in rows]
    if not items:
        return 0
    params = {"rows": _json_array(items), "at": at}
    return _dicts(conn, "upsert_rolling_metrics", params).rowcount


def rolling_metrics(conn: psycopg.Connection, scope: str | None = None) -> list[dict[str, Any]]:
    """The stored rows (of one scope, or all) by scope, key and window: dicts of scope, key,
    window_days, as_of, figures and updated_at."""
    return _dicts(conn, "rolling_metrics", {"scope": scope}).fetchall()


# --- feedback decisions -----------------------------------------------------------------------


def insert_feedback_decisions(conn: psycopg.Connection, decisions: Iterable[Any]) -> list[int]:
    """Append decisions (never changed afterwards); returns their ids in the order given."""
    items = [_fields(decision, DECISION_FIELDS) for decision in decisions]
    if not items:
        return []
    for item in items:
        item["findings"] = list(item["findings"] or [])
        item["figures"] = dict(item["figures"] or {})
    rows = _dicts(conn, "insert_feedback_decisions", {"decisions": _json_array(items)})
    return [row["id"] for row in rows]


def feedback_decisions(
    conn: psycopg.Connection, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Decisions (those decided at or after `since`, or all) oldest first: dicts of id,
    scope, key, action, findings, figures, rule_version and decided_at."""
    return _dicts(conn, "feedback_decisions", {"since": since}).fetchall()


# --- weekly reports -----------------------------------------------------------------------------


def save_weekly_report(
    conn: psycopg.Connection,
    week_start: date,
    summary: Mapping[str, Any],
    data: Mapping[str, Any],
    html: str,
    generated_at: datetime,
) -> int:
    """Store the week's report, replacing an earlier build of it; returns its revision
    (1 for the first build, one more for each rebuild)."""
    params = {
        "week_start": week_start,
        "summary": Jsonb(dict(summary), dumps=_strict_dumps),
        "data": Jsonb(dict(data), dumps=_strict_dumps),
        "html": html,
        "generated_at": generated_at,
    }
    return _dicts(conn, "save_weekly_report", params).fetchone()["revision"]


def weekly_report(conn: psycopg.Connection, week_start: date) -> dict[str, Any] | None:
    """The week's stored report: week_start, generated_at, summary, data, html, revision and
    posted_at; None when the week was never built."""
    return _dicts(conn, "weekly_report", {"week_start": week_start}).fetchone()


def weekly_reports(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every stored report, newest week first, without its HTML: week_start, generated_at,
    summary, revision and posted_at."""
    return _dicts(conn, "weekly_reports").fetchall()


# --- plumbing -------------------------------------------------------------------------------------


def _dicts(
    conn: psycopg.Connection, query: str, params: Mapping[str, Any] | None = None
) -> psycopg.Cursor:
    """A named query's cursor with dict rows, whatever rows the connection makes."""
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(named_query(query), params)


def _fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    """The named fields of a mapping or of an object (a dataclass) that has them."""
    if isinstance(row, Mapping):
        missing = [name for name in names if name not in row]
        if missing:
            raise ValueError(f"row lacks fields: {', '.join(missing)}")
        return {name: row[name] for name in names}
    return {name: getattr(row, name) for name in names}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{value.isoformat()} has no UTC offset")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)  # Decimal, enums


def _strict_dumps(value: Any) -> str:
    """JSON that PostgreSQL accepts: a non-finite number (an uncapped profit factor, say) is
    refused here by name rather than stored as invalid JSON."""
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"cannot store as JSON: {exc} (cap infinite figures first)") from None


def _json_array(items: list[dict[str, Any]]) -> str:
    return _strict_dumps(items)


__all__ = [
    "feedback_decisions",
    "insert_feedback_decisions",
    "load_trades",
    "rolling_metrics",
    "save_weekly_report",
    "upsert_rolling_metrics",
    "weekly_report",
    "weekly_reports",
]


def rationales_closed_between(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> dict[str, str]:
    """{trade_id: rationale} of the signals closed in [start, end)."""
    rows = conn.execute(named_query("rationales_closed_between"), {"start": start, "end": end})
    return {row["trade_id"]: row["rationale"] for row in rows}


def job_run_counts(
    conn: psycopg.Connection, job_name: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The `counts` of each run of a job that finished in [start, end)."""
    params = {"job_name": job_name, "start": start, "end": end}
    return [dict(row["counts"]) for row in conn.execute(named_query("job_run_counts"), params)]
