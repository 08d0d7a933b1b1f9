"""A person's corrections of a signal (sql/queries/corrections.sql); callers own the
transaction, which also appends the correction's event."""

from __future__ import annotations

from typing import Any

import psycopg

from edgeledger.core.model import Outcome, Signal
from edgeledger.storage.rows import named_query, signal_from_row


def signal_for_update(conn: psycopg.Connection, trade_id: str) -> Signal | None:
    """The signal with exactly this id, locked until the transaction ends."""
    row = conn.execute(named_query("signal_for_update"), {"trade_id": trade_id}).fetchone()
    return signal_from_row(row) if row else None


def write_manual_outcome(conn: psycopg.Connection, trade_id: str, outcome: Outcome) -> Signal:
    params: dict[str, Any] = {
        "trade_id": trade_id,
        "status": outcome.status.value,
        "fill_price": outcome.fill_price,
        "triggered_at": outcome.triggered_at,
        "exit_price": outcome.exit_price,
        "closed_at": outcome.closed_at,
        "r_achieved": outcome.r_achieved,
        "ambiguous": outcome.ambiguous,
        "mfe_r": outcome.mfe_r,
        "mae_r": outcome.mae_r,
        "target2_hit": outcome.target2_hit,
    }
    return signal_from_row(conn.execute(named_query("write_manual_outcome"), params).fetchone())


def append_note(conn: psycopg.Connection, trade_id: str, text: str) -> Signal:
    row = conn.execute(named_query("append_note"), {"trade_id": trade_id, "text": text})
    return signal_from_row(row.fetchone())


def set_review_flag(conn: psycopg.Connection, trade_id: str, flagged: bool) -> Signal:
    row = conn.execute(named_query("set_review_flag"), {"trade_id": trade_id, "flagged": flagged})
    return signal_from_row(row.fetchone())


def edge_names_used(
    conn: psycopg.Connection, containing: str | None = None, limit: int = 25
) -> list[str]:
    """Edge names live signals have used, most used first (for autocomplete)."""
    params = {"containing": containing or None, "limit": limit}
    return [row["name"] for row in conn.execute(named_query("edge_names_used"), params)]


def trade_ids_like(conn: psycopg.Connection, text: str, limit: int = 25) -> list[dict[str, Any]]:
    """Newest signals whose trade_id contains `text` (any case): trade_id, ticker, status."""
    params = {"text": text.strip(), "limit": limit}
    return conn.execute(named_query("trade_ids_like"), params).fetchall()
