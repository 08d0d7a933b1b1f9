"""What the resolve job reads and writes besides bars: signals to settle, outcomes, events,
per-ticker bookkeeping and job runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import psycopg.rows
from psycopg.types.json import Jsonb

from edgeledger.core.bars import INTERVALS
from edgeledger.core.model import Direction, Outcome, Signal
from edgeledger.core.outcome_rules import SignalTerms
from edgeledger.core.resolution import PREVIOUS_CLOSE_LOOKBACK, OpenSignal, TickerBook
from edgeledger.storage.rows import dumps, named_query, outcome_from_columns, signal_from_row

# --- the resolve job ---------------------------------------------------------------------


def unresolved_books(
    conn: psycopg.Connection, *, interval: str, trade_types: Sequence[str]
) -> list[TickerBook]:
    """Per ticker, a summary of its unresolved signals of these trade types, and where its
    resolution on this interval stands (see resolution.TickerBook)."""
    params = {"interval": interval, "trade_types": list(trade_types)}
    return [TickerBook(**row) for row in conn.execute(named_query("unresolved_books"), params)]


def open_signals_of(
    conn: psycopg.Connection, tickers: Sequence[str], trade_types: Sequence[str] = ("day", "swing")
) -> dict[str, list[OpenSignal]]:
    """The unresolved signals of these tickers, each ticker's in the order they were logged.

    Only what resolution needs is read, prices of the terms already as floats: a run loads
    every open signal of every ticker that got new bars.
    """
    found: dict[str, list[OpenSignal]] = {ticker: [] for ticker in tickers}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
        params = {"tickers": list(tickers), "trade_types": list(trade_types)}
        cursor.execute(named_query("open_signals_of"), params)
        rows = cursor.fetchall()
    for row in rows:
        found[row[1]].append(_open_signal(row))
    return found


def _open_signal(row: tuple) -> OpenSignal:
    """A row of open_signals_of: four identity columns, seven of terms, then the outcome's
    (OUTCOME_FIELDS), then resolved_as_of and the market the signal named."""
    trade_id, ticker, strategy, edges, direction, entry, stop, target, target2 = row[:9]
    created_at, expires_at = row[9:11]
    return OpenSignal(
        trade_id=trade_id,
        ticker=ticker,
        strategy=strategy,
        edges=tuple(edges),
        terms=SignalTerms(
            trade_id, Direction(direction), entry, stop, target, target2, created_at, expires_at
        ),
        outcome=outcome_from_columns(*row[11:22]),
        resolved_as_of=row[22],
        market=row[23],
    )


def settled_signals(conn: psycopg.Connection) -> list[Signal]:
    """Signals with an outcome derived by a run, for the determinism audit."""
    return [signal_from_row(row) for row in conn.execute(named_query("settled_signals"))]


def ticker_resolutions(
    conn: psycopg.Connection, tickers: Sequence[str], interval: str
) -> dict[str, dict]:
    """Where resolution of each ticker on this interval stood after its last evaluation."""
    params = {"tickers": list(tickers), "interval": interval}
    return {row["ticker"]: row for row in conn.execute(named_query("ticker_resolutions"), params)}


def write_outcomes(
    conn: psycopg.Connection,
    outcomes: Sequence[tuple[str, Outcome]],
    *,
    as_of: datetime,
    interval: str,
    evidence_at: datetime,
) -> set[str]:
    """Write (trade_id, outcome) pairs, each stamped with the run that derived it; returns
    the trade ids written (not a cancelled signal, nor one a person set by hand meanwhile).

    `evidence_at` is the run's time: with it each outcome keeps a digest of the stored bars
    it was derived from (those stored by then), which `outcomes verify` checks."""
    if not outcomes:
        return set()
    rows = [
        {
            "trade_id": trade_id,
            "status": o.status.value,
            "fill_price": _text(o.fill_price),
            "triggered_at": _text(o.triggered_at),
            "exit_price": _text(o.exit_price),
            "closed_at": _text(o.closed_at),
            "exit_reason": o.exit_reason.value if o.exit_reason else None,
            "r_achieved": _text(o.r_achieved),
            "ambiguous": o.ambiguous,
            "mfe_r": _text(o.mfe_r),
            "mae_r": _text(o.mae_r),
            "target2_hit": o.target2_hit,
        }
        for trade_id, o in outcomes
    ]
    params = {
        "outcomes": json.dumps(rows),
        "resolved_as_of": as_of,
        "resolved_interval": interval,
        "evidence_at": evidence_at,
        "evidence_intervals": evidence_intervals(interval),
        "lookback": PREVIOUS_CLOSE_LOOKBACK[interval],
    }
    return {row["trade_id"] for row in conn.execute(named_query("write_outcomes"), params)}


def evidence_intervals(interval: str) -> list[str]:
    """The intervals an outcome on `interval` bars can be derived from: it and finer ones."""
    return [i for i in INTERVALS if INTERVALS[i] <= INTERVALS[interval]]


def outcome_evidence(conn: psycopg.Connection) -> list[dict]:
    """Per outcome with a digest: trade_id, evidence_at, and the digest of its evidence
    when derived (`stored`) and now (`current`)."""
    params = {
        "intervals": json.dumps({i: evidence_intervals(i) for i in INTERVALS}),
        "lookbacks": json.dumps(
            {i: f"{d.total_seconds()} seconds" for i, d in PREVIOUS_CLOSE_LOOKBACK.items()}
        ),
    }
    return conn.execute(named_query("outcome_evidence"), params).fetchall()


def _text(value: Decimal | datetime | None) -> str | None:
    """Exact text of a Decimal or an ISO time, for a JSON document."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def save_ticker_resolutions(
    conn: psycopg.Connection,
    bars_versions: Mapping[str, int],
    *,
    as_of: datetime,
    interval: str,
    resolved_at: datetime,
    markets: Mapping[str, str],
) -> None:
    """Record, per ticker, the bar version, market and moment its signals were last
    evaluated at on this interval."""
    if not bars_versions:
        return
    conn.execute(
        named_query("save_ticker_resolutions"),
        {
            "tickers": list(bars_versions),
            "versions": list(bars_versions.values()),
            "markets": [markets[t] for t in bars_versions],
            "as_of": as_of,
            "interval": interval,
            "resolved_at": resolved_at,
        },
    )


def clear_rederive(conn: psycopg.Connection, tickers: Sequence[str], *, before: datetime) -> None:
    """Drop the requests to derive these tickers' settled outcomes again that a run made
    before `before` has fulfilled."""
    conn.execute(named_query("clear_rederive"), {"tickers": list(tickers), "before": before})


def request_rederive(
    conn: psycopg.Connection, tickers: Sequence[str], *, at: datetime, reason: str
) -> list[str]:
    """Ask the next run to derive these tickers' settled outcomes again (every ticker's when
    none is named); returns the tickers asked for."""
    rows = conn.execute(
        named_query("request_rederive"),
        {"tickers": list(tickers), "requested_at": at, "reason": reason},
    ).fetchall()
    return sorted(row["ticker"] for row in rows)


def holds_run_lock(conn: psycopg.Connection, key: int, pid: int) -> bool:
    """Whether backend `pid` still holds the advisory lock `key` (a signed 64-bit key)."""
    params = {"pid": pid, **_lock_key_parts(key)}
    return conn.execute(named_query("holds_run_lock"), params).fetchone()["held"]


def _lock_key_parts(key: int) -> dict[str, int]:
    """A bigint advisory key as pg_locks shows it: classid (high 32 bits), objid (low)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}


def abandon_dead_job_runs(
    conn: psycopg.Connection, job_name: str, *, key: int, own_pid: int, at: datetime
) -> list[dict]:
    """Mark 'abandoned' (when: `at`; why: in `error`) the job's rows left 'running' by runs
    whose lock holder is gone, which will never finish them; returns those rows.

    `own_pid` is the backend holding the lock for the caller, which has not claimed a row yet.
    """
    params = {"job_name": job_name, "own_pid": own_pid, "at": at, **_lock_key_parts(key)}
    return conn.execute(named_query("abandon_dead_job_runs"), params).fetchall()


def claim_job_run(
    conn: psycopg.Connection,
    job_name: str,
    scheduled_for: datetime | None,
    started_at: datetime,
    *,
    holder_pid: int | None = None,
) -> int | None:
    """The job_runs row for this slot, or None when the slot already succeeded.

    A manual run (no slot) always gets a row of its own. `holder_pid` is the backend holding
    the run's lock: while it holds it, the run is alive.
    """
    if scheduled_for is None:
        params = {"job_name": job_name, "started_at": started_at, "holder_pid": holder_pid}
        return conn.execute(named_query("start_manual_job_run"), params).fetchone()["id"]
    row = conn.execute(
        named_query("claim_job_run"),
        {
            "job_name": job_name,
            "scheduled_for": scheduled_for,
            "started_at": started_at,
            "holder_pid": holder_pid,
        },
    ).fetchone()
    return row["id"] if row else None


def finish_job_run(
    conn: psycopg.Connection,
    run_id: int,
    *,
    status: str,
    finished_at: datetime,
    counts: dict[str, Any],
    error: str | None = None,
) -> None:
    conn.execute(
        named_query("finish_job_run"),
        {
            "id": run_id,
            "status": status,
            "finished_at": finished_at,
            "counts": Jsonb(counts, dumps=dumps),
            "error": error,
        },
    )
