"""The data access module: every read and write of the ledger goes through here.

Statements live in sql/queries/*.sql; this module binds parameters and turns rows into the
frozen dataclasses of edgeledger.model. Callers own the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import psycopg
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

SIGNAL_COLUMNS = (
    "trade_id", "ticker", "trade_type", "direction", "entry", "stop", "target", "target2",
    "confidence", "edges", "rationale", "strategy", "source", "source_key", "atr_value",
    "market_volatility", "spy_bias", "context", "created_at", "expires_at", "logged_at",
    "status", "fill_price", "triggered_at", "exit_price", "closed_at", "exit_reason",
    "r_achieved", "ambiguous", "mfe_r", "mae_r", "target2_hit", "user_notes",
    "flagged_for_review",
)


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
    params = {"trade_id": trade_id, "source": source, "source_key": source_key,
              "fingerprint": fingerprint}
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
    params = {"trade_id": trade_id, "kind": kind.value, "actor": actor,
              "occurred_at": occurred_at, "payload": Jsonb(payload or {})}
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
        context=MarketContext(row["atr_value"], row["market_volatility"], row["spy_bias"],
                              row["context"]),
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
