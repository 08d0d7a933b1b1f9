"""The data access module: every read and write of the ledger goes through here.

Statements live in sql/queries/*.sql; this module binds parameters and turns rows into the
frozen dataclasses of edgeledger.model. Callers own the transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import psycopg.rows
from psycopg.types.json import Jsonb

from edgeledger.database import queries
from edgeledger.model import (
    Direction,
    Edge,
    EventKind,
    ExitReason,
    MarketContext,
    NewSignal,
    Outcome,
    Signal,
    Source,
    Status,
    TradeType,
)
from edgeledger.resolution import merge_spans


def _q(name: str) -> str:
    return queries()[name]


# --- reading -----------------------------------------------------------------------------


def signal_by_trade_id(conn: psycopg.Connection, trade_id: str) -> Signal | None:
    row = conn.execute(_q("signal_by_trade_id"), {"trade_id": trade_id}).fetchone()
    return signal_from_row(row) if row else None


def signals_matching(
    conn: psycopg.Connection,
    *,
    trade_id: str | None,
    source: str,
    source_key: str | None,
    fingerprint: str,
) -> list[dict[str, Any]]:
    """Rows a new signal could be a repeat of (by trade_id, source key or terms)."""
    params = {
        "trade_id": trade_id,
        "source": source,
        "source_key": source_key,
        "fingerprint": fingerprint,
    }
    return conn.execute(_q("signals_matching"), params).fetchall()


def events_for_signal(conn: psycopg.Connection, trade_id: str) -> list[dict[str, Any]]:
    return conn.execute(_q("events_for_signal"), {"trade_id": trade_id}).fetchall()


def count_signals(conn: psycopg.Connection) -> int:
    return conn.execute(_q("count_signals")).fetchone()["n"]


def export_rows(conn: psycopg.Connection, batch_size: int = 5000) -> Iterator[dict[str, Any]]:
    """Every signal row in creation order, streamed with a server-side cursor."""
    with conn.cursor(name="export_signals") as cursor:
        cursor.itersize = batch_size
        cursor.execute(_q("export_signals"))
        yield from cursor


# --- writing -----------------------------------------------------------------------------


def next_trade_number(conn: psycopg.Connection, ticker: str, day: date) -> int:
    """The next free number for (ticker, day); the counter row lock serialises writers."""
    row = conn.execute(_q("next_trade_number"), {"ticker": ticker, "trade_date": day}).fetchone()
    return row["last_number"]


def claim_trade_number(conn: psycopg.Connection, ticker: str, day: date, number: int) -> None:
    conn.execute(_q("claim_trade_number"), {"ticker": ticker, "trade_date": day, "number": number})


def insert_signal(
    conn: psycopg.Connection,
    signal: NewSignal,
    *,
    trade_id: str,
    fingerprint: str,
    logged_at: datetime,
) -> dict[str, Any] | None:
    """Insert one signal; None when a unique key (trade_id, source key, terms) already exists."""
    params = signal_params(signal)
    params.update(
        trade_id=trade_id,
        fingerprint=fingerprint,
        logged_at=logged_at,
        edges=Jsonb(params["edges"]),
        context=Jsonb(params["context"]),
    )
    return conn.execute(_q("insert_signal"), params).fetchone()


def insert_event(
    conn: psycopg.Connection,
    trade_id: str,
    kind: EventKind,
    *,
    actor: str,
    occurred_at: datetime,
    payload: dict[str, Any] | None = None,
) -> int:
    params = {
        "trade_id": trade_id,
        "kind": kind.value,
        "actor": actor,
        "occurred_at": occurred_at,
        "payload": Jsonb(payload or {}),
    }
    return conn.execute(_q("insert_event"), params).fetchone()["id"]


def signal_params(signal: NewSignal) -> dict[str, Any]:
    """A NewSignal as column values (edges as JSON-ready lists)."""
    return {
        "ticker": signal.ticker,
        "trade_type": signal.trade_type.value,
        "direction": signal.direction.value,
        "entry": signal.entry,
        "stop": signal.stop,
        "target": signal.target,
        "target2": signal.target2,
        "confidence": signal.confidence,
        "edges": [edge.to_json() for edge in signal.edges],
        "rationale": signal.rationale,
        "strategy": signal.strategy,
        "source": signal.source.value,
        "source_key": signal.source_key,
        "atr_value": signal.context.atr_value,
        "market_volatility": signal.context.market_volatility,
        "spy_bias": signal.context.spy_bias,
        "context": signal.context.extra,
        "created_at": signal.created_at,
        "expires_at": signal.expires_at,
    }


# --- bulk import -------------------------------------------------------------------------


def stage_import(conn: psycopg.Connection, lines: Iterable[bytes]) -> None:
    """COPY rows already in COPY text format (importer.copy_line) into a staging table."""
    conn.execute(_q("create_import_staging"))
    with conn.cursor() as cursor, cursor.copy(_q("copy_import_staging")) as copy:
        for line in lines:
            copy.write(line)


def staged_trade_id_conflicts(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute(_q("staged_trade_id_conflicts")).fetchall()


def insert_staged(conn: psycopg.Connection, *, actor: str, logged_at: datetime) -> int:
    """Number, insert and record `created` events for the staged rows; return how many."""
    conn.execute(_q("drop_already_logged"))
    conn.execute(_q("claim_staged_trade_numbers"))
    conn.execute(_q("number_staged_signals"))
    cursor = conn.execute(_q("insert_staged_signals"), {"actor": actor, "logged_at": logged_at})
    return cursor.rowcount


# --- rows to dataclasses -----------------------------------------------------------------


def signal_from_row(row: dict[str, Any]) -> Signal:
    terms = NewSignal(
        trade_id=row["trade_id"],
        ticker=row["ticker"],
        trade_type=TradeType(row["trade_type"]),
        direction=Direction(row["direction"]),
        entry=row["entry"],
        stop=row["stop"],
        target=row["target"],
        target2=row["target2"],
        confidence=row["confidence"],
        edges=tuple(_edge(item) for item in row["edges"]),
        rationale=row["rationale"],
        strategy=row["strategy"],
        source=Source(row["source"]),
        source_key=row["source_key"],
        context=MarketContext(
            row["atr_value"], row["market_volatility"], row["spy_bias"], row["context"]
        ),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )
    outcome = Outcome(
        status=Status(row["status"]),
        fill_price=row["fill_price"],
        triggered_at=row["triggered_at"],
        exit_price=row["exit_price"],
        closed_at=row["closed_at"],
        exit_reason=ExitReason(row["exit_reason"]) if row["exit_reason"] else None,
        r_achieved=row["r_achieved"],
        ambiguous=row["ambiguous"],
        mfe_r=row["mfe_r"],
        mae_r=row["mae_r"],
        target2_hit=row["target2_hit"],
    )
    return Signal(
        trade_id=row["trade_id"],
        terms=terms,
        outcome=outcome,
        user_notes=row["user_notes"],
        flagged_for_review=row["flagged_for_review"],
        logged_at=row["logged_at"],
        resolved_as_of=row.get("resolved_as_of"),
        resolved_interval=row.get("resolved_interval"),
    )


def _edge(item: Any) -> Edge:
    if isinstance(item, str):  # tolerate hand-written rows
        return Edge(item)
    item = dict(item)
    return Edge(item.pop("name"), item)


def json_default(value: Any) -> Any:
    """json.dumps fallback for Decimal and datetime values in exports and event payloads."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False)


# --- the resolve job ---------------------------------------------------------------------


def unresolved_signals(conn: psycopg.Connection) -> list[Signal]:
    """Signals a resolve run must look at (see resolution.is_unresolved)."""
    return [signal_from_row(row) for row in conn.execute(_q("unresolved_signals"))]


def settled_signals(conn: psycopg.Connection) -> list[Signal]:
    """Signals with an outcome derived by a run, for the determinism audit."""
    return [signal_from_row(row) for row in conn.execute(_q("settled_signals"))]


def bar_coverage(
    conn: psycopg.Connection, tickers: Sequence[str]
) -> dict[tuple[str, str], list[tuple[datetime, datetime]]]:
    """{(ticker, interval): [(from, to), ...]}: what providers were already asked for."""
    found: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for row in conn.execute(_q("bar_coverage_for"), {"tickers": list(tickers)}):
        found.setdefault((row["ticker"], row["interval"]), []).append(
            (row["covered_from"], row["covered_to"])
        )
    return found


def bar_versions(conn: psycopg.Connection, tickers: Sequence[str]) -> dict[str, int]:
    rows = conn.execute(_q("ticker_bar_versions"), {"tickers": list(tickers)})
    return {row["ticker"]: row["bars_version"] for row in rows}


def ticker_resolutions(conn: psycopg.Connection, tickers: Sequence[str]) -> dict[str, dict]:
    rows = conn.execute(_q("ticker_resolutions"), {"tickers": list(tickers)})
    return {row["ticker"]: row for row in rows}


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
    inserted = conn.execute(_q("insert_bars"), params).rowcount
    conn.execute(_q("delete_coverage"), {"ticker": ticker, "interval": interval})
    for start, end in merge_spans([*coverage, covered]):
        conn.execute(
            _q("insert_coverage"),
            {"ticker": ticker, "interval": interval, "covered_from": start, "covered_to": end},
        )
    if not inserted:
        return 0, None
    params = {"ticker": ticker, "last_bar_end": covered[1]}
    return inserted, conn.execute(_q("bump_bar_version"), params).fetchone()["bars_version"]


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
        return cursor.execute(_q("load_bars"), params).fetchall()


def bars_for_export(
    conn: psycopg.Connection,
    ticker: str,
    interval: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    params = {"ticker": ticker, "interval": interval, "start": start, "end": end}
    return conn.execute(_q("bars_for_export"), params).fetchall()


def write_outcomes(
    conn: psycopg.Connection,
    outcomes: Sequence[tuple[str, Outcome]],
    *,
    as_of: datetime,
    interval: str,
) -> None:
    """Write (trade_id, outcome) pairs, each stamped with the run that derived it."""
    if not outcomes:
        return
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
    params = {"outcomes": json.dumps(rows), "resolved_as_of": as_of, "resolved_interval": interval}
    conn.execute(_q("write_outcomes"), params)


def insert_events(
    conn: psycopg.Connection,
    events: Sequence[tuple[str, EventKind, dict[str, Any]]],
    *,
    actor: str,
    occurred_at: datetime,
) -> None:
    """Append (trade_id, kind, payload) events, their ids in the order given."""
    if not events:
        return
    rows = [
        {"trade_id": trade_id, "kind": kind.value, "payload": payload or {}}
        for trade_id, kind, payload in events
    ]
    params = {"events": json.dumps(rows), "actor": actor, "occurred_at": occurred_at}
    conn.execute(_q("insert_events"), params)


def _text(value: Decimal | datetime | None) -> str | None:
    """Exact text of a Decimal or an ISO time, for a JSON document."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def save_ticker_resolution(
    conn: psycopg.Connection,
    ticker: str,
    *,
    bars_version: int,
    as_of: datetime,
    interval: str,
    resolved_at: datetime,
) -> None:
    conn.execute(
        _q("save_ticker_resolution"),
        {
            "ticker": ticker,
            "bars_version": bars_version,
            "as_of": as_of,
            "interval": interval,
            "resolved_at": resolved_at,
        },
    )


def claim_job_run(
    conn: psycopg.Connection, job_name: str, scheduled_for: datetime | None, started_at: datetime
) -> int | None:
    """The job_runs row for this slot, or None when the slot already succeeded.

    A manual run (no slot) always gets a row of its own.
    """
    if scheduled_for is None:
        params = {"job_name": job_name, "started_at": started_at}
        return conn.execute(_q("start_manual_job_run"), params).fetchone()["id"]
    row = conn.execute(
        _q("claim_job_run"),
        {
            "job_name": job_name,
            "scheduled_for": scheduled_for,
            "started_at": started_at,
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
        _q("finish_job_run"),
        {
            "id": run_id,
            "status": status,
            "finished_at": finished_at,
            "counts": Jsonb(counts, dumps=dumps),
            "error": error,
        },
    )
