"""What the Discord bot keeps (sql/0011): each Discord signal's message, the replies that
announced its close, and how far each signal channel has been read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from edgeledger.storage.rows import named_query


def record_signal_message(
    conn: psycopg.Connection, trade_id: str, channel_id: int, message_id: int, *, at: datetime
) -> None:
    """Where the signal was posted (kept once: the first message that logged it)."""
    params = {"trade_id": trade_id, "channel_id": channel_id, "message_id": message_id,
              "recorded_at": at}  # fmt: skip
    conn.execute(named_query("record_signal_message"), params)


def claim_close_replies(
    conn: psycopg.Connection, *, now: datetime, stale_before: datetime, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` settled Discord signals whose close is to be announced, claimed."""
    params = {"now": now, "stale_before": stale_before, "limit": limit}
    return conn.execute(named_query("claim_close_replies"), params).fetchall()


def record_close_reply(
    conn: psycopg.Connection, trade_id: str, reply_id: int | None, *, at: datetime
) -> None:
    params = {"trade_id": trade_id, "reply_id": reply_id, "at": at}
    conn.execute(named_query("record_close_reply"), params)


def release_close_reply(conn: psycopg.Connection, trade_id: str, error: str) -> None:
    conn.execute(named_query("release_close_reply"), {"trade_id": trade_id, "error": error})


def channel_cursor(conn: psycopg.Connection, channel_id: int) -> int | None:
    """The last message of the channel handled, else the last one a signal was logged from."""
    row = conn.execute(named_query("channel_cursor"), {"channel_id": channel_id}).fetchone()
    if row is not None:
        return row["last_message_id"]
    row = conn.execute(
        named_query("last_logged_channel_message"), {"channel_id": channel_id}
    ).fetchone()
    return row["message_id"] if row else None


def advance_channel_cursor(
    conn: psycopg.Connection, channel_id: int, message_id: int, *, at: datetime
) -> None:
    params = {"channel_id": channel_id, "message_id": message_id, "at": at}
    conn.execute(named_query("advance_channel_cursor"), params)
