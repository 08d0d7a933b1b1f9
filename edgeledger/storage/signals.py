"""Reading and writing signals and their events, one at a time or in bulk."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import psycopg
import psycopg.rows
from psycopg.types.json import Jsonb

from edgeledger.core.model import (
    EventKind,
    NewSignal,
    Signal,
)
from edgeledger.storage.rows import named_query, signal_from_row, signal_params

# --- reading -----------------------------------------------------------------------------


def signal_by_trade_id(conn: psycopg.Connection, trade_id: str) -> Signal | None:
    """The signal with this id, or the only one whose id matches ignoring case."""
    rows = conn.execute(named_query("signal_by_trade_id"), {"trade_id": trade_id}).fetchall()
    return signal_from_row(rows[0]) if len(rows) == 1 else None


def instrument_of(conn: psycopg.Connection, ticker: str) -> dict[str, Any] | None:
    return conn.execute(named_query("instrument_of"), {"ticker": ticker}).fetchone()


def list_signals(
    conn: psycopg.Connection,
    *,
    status: str | None = None,
    ticker: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    params = {"status": status, "ticker": ticker, "since": since, "limit": limit}
    return conn.execute(named_query("list_signals"), params).fetchall()


def cancel_signal(conn: psycopg.Connection, trade_id: str) -> bool:
    """Mark a signal CANCELLED; False when the rules already settled it."""
    return conn.execute(named_query("cancel_signal"), {"trade_id": trade_id}).fetchone() is not None


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
    return conn.execute(named_query("signals_matching"), params).fetchall()


def events_for_signal(conn: psycopg.Connection, trade_id: str) -> list[dict[str, Any]]:
    return conn.execute(named_query("events_for_signal"), {"trade_id": trade_id}).fetchall()


def export_rows(conn: psycopg.Connection, batch_size: int = 5000) -> Iterator[dict[str, Any]]:
    """Every signal row in creation order, streamed with a server-side cursor."""
    with conn.cursor(name="export_signals") as cursor:
        cursor.itersize = batch_size
        cursor.execute(named_query("export_signals"))
        yield from cursor


# --- writing -----------------------------------------------------------------------------


def next_trade_number(conn: psycopg.Connection, ticker: str, day: date) -> int:
    """The next free number for (ticker, day); the counter row lock serialises writers.

    A number whose id another signal holds is passed over, so the counter moves past it.
    """
    while True:
        row = conn.execute(
            named_query("next_trade_number"), {"ticker": ticker, "trade_date": day}
        ).fetchone()
        if not row["taken"]:
            return row["last_number"]


def claim_trade_number(conn: psycopg.Connection, ticker: str, day: date, number: int) -> None:
    conn.execute(
        named_query("claim_trade_number"), {"ticker": ticker, "trade_date": day, "number": number}
    )


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
    return conn.execute(named_query("insert_signal"), params).fetchone()


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
    conn.execute(named_query("insert_events"), params)


# --- bulk import -------------------------------------------------------------------------


def stage_import(conn: psycopg.Connection, lines: Iterable[bytes]) -> None:
    """COPY rows already in COPY text format (importer.copy_line) into a staging table."""
    conn.execute(named_query("create_import_staging"))
    with conn.cursor() as cursor, cursor.copy(named_query("copy_import_staging")) as copy:
        for line in lines:
            copy.write(line)


def staged_conflicts(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Staged lines whose trade_id or source key the ledger holds for a different signal."""
    return conn.execute(named_query("staged_conflicts")).fetchall()


def unstage(conn: psycopg.Connection, lines: Iterable[int]) -> None:
    """Take refused lines out of the staging table."""
    if lines := list(lines):
        conn.execute(named_query("unstage"), {"lines": lines})


def insert_staged(
    conn: psycopg.Connection, *, actor: str, logged_at: datetime
) -> tuple[int, list[int]]:
    """Number, insert and record `created` events for the staged rows whose terms are new.

    Returns how many were inserted, and the lines passed over although their terms are new
    (another writer took their trade_id or source key meanwhile): every staged row is thus
    inserted, already logged, or one of those lines.
    """
    conn.execute(named_query("drop_already_logged"))
    new = conn.execute(named_query("count_staged")).fetchone()["count"]
    conn.execute(named_query("claim_staged_trade_numbers"))
    unnumbered = conn.execute(named_query("count_unnumbered_staged")).fetchone()["count"]
    while unnumbered:  # each round leaves unnumbered only the rows whose id was taken
        unnumbered -= conn.execute(named_query("number_staged_signals")).rowcount
    cursor = conn.execute(
        named_query("insert_staged_signals"), {"actor": actor, "logged_at": logged_at}
    )
    inserted = cursor.rowcount
    if inserted == new:
        return inserted, []
    return inserted, [row["line"] for row in conn.execute(named_query("staged_passed_over"))]
