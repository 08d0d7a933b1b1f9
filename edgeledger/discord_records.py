"""The Discord bot's use cases over the ledger: logging a signal from Discord with where its
message is, the close replies to send (claimed, recorded, released), and how far each signal
channel has been read. Blocking: the bot calls these in a worker thread.

A signal from a channel post has source `channel` and the message id as its source key, so
logging the same post again (a catch-up after downtime, a redelivered event) finds the
signal already there and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from edgeledger import ledger, storage
from edgeledger.core.markets import DEFAULT_MARKET
from edgeledger.core.model import Source
from edgeledger.core.validation import TICKER_PATTERN, parse_signal
from edgeledger.database import Database

log = logging.getLogger(__name__)

# A claimed close reply not recorded after this long belongs to a process that died.
CLOSE_CLAIM_LEASE = timedelta(minutes=10)


def validate(
    db: Database,
    raw: Mapping[str, Any],
    *,
    source: Source,
    now: datetime,
    default_market: str = DEFAULT_MARKET,
):
    """The signal `raw` describes, validated (InvalidSignal names each bad field)."""
    ticker = str(raw.get("ticker") or "").strip().upper()
    known = [ticker] if TICKER_PATTERN.match(ticker) else []  # a bad one: validation names it
    with db.connection() as conn:
        markets = storage.market_book(conn, known, default=default_market)
    return parse_signal(
        raw, now=now, default_source=source, created_at_defaults_to_now=True, markets=markets
    )


def log_discord_signal(
    db: Database,
    raw: Mapping[str, Any],
    *,
    source: Source,
    actor: str,
    now: datetime,
    default_market: str = DEFAULT_MARKET,
) -> ledger.LogResult:
    """Validate and log a signal from Discord (nothing is written when it is invalid)."""
    signal = validate(db, raw, source=source, now=now, default_market=default_market)
    return ledger.log_signal(db, signal, actor=actor, now=now)


def record_message(
    db: Database, trade_id: str, channel_id: int, message_id: int, *, now: datetime
) -> None:
    """Where a Discord signal's message is: a run that closes it replies under it."""
    with db.connection() as conn, conn.transaction():
        storage.record_signal_message(conn, trade_id, channel_id, message_id, at=now)


def channel_cursor(db: Database, channel_id: int) -> int | None:
    with db.connection() as conn:
        return storage.channel_cursor(conn, channel_id)


def advance_cursor(db: Database, channel_id: int, message_id: int, *, now: datetime) -> None:
    with db.connection() as conn, conn.transaction():
        storage.advance_channel_cursor(conn, channel_id, message_id, at=now)


@dataclass(frozen=True)
class CloseReply:
    """A close to announce under the signal's message."""

    trade_id: str
    channel_id: int
    message_id: int
    status: str
    r_achieved: Decimal | None
    exit_reason: str | None

    @property
    def text(self) -> str:
        """WIN +2.1R, LOSS -1R, EXPIRED (with the trade id)."""
        if self.status in ("WIN", "LOSS") and self.r_achieved is not None:
            r = f"{self.r_achieved:+.2f}".rstrip("0").rstrip(".")
            outcome = f"{self.status} {r}R"
        elif self.status == "EXPIRED" and self.r_achieved is not None:
            r = f"{self.r_achieved:+.2f}".rstrip("0").rstrip(".")
            outcome = f"EXPIRED {r}R"
        else:
            outcome = self.status
        manual = " (set by hand)" if self.exit_reason == "manual" else ""
        return f"{outcome}{manual} · {self.trade_id}"


def claim_close_replies(db: Database, *, now: datetime, limit: int = 20) -> list[CloseReply]:
    """Up to `limit` closes of Discord signals not announced yet, claimed for this sender."""
    with db.connection() as conn, conn.transaction():
        rows = storage.claim_close_replies(
            conn, now=now, stale_before=now - CLOSE_CLAIM_LEASE, limit=limit
        )
    return [CloseReply(**row) for row in rows]


def record_close_reply(db: Database, trade_id: str, reply_id: int | None, *, now: datetime) -> None:
    with db.connection() as conn, conn.transaction():
        storage.record_close_reply(conn, trade_id, reply_id, at=now)


def release_close_reply(db: Database, trade_id: str, error: str) -> None:
    """Give the claim back (the next pass retries), with why it failed."""
    with db.connection() as conn, conn.transaction():
        storage.release_close_reply(conn, trade_id, error[:500])


def edge_names(db: Database, containing: str | None = None, limit: int = 25) -> list[str]:
    with db.connection() as conn:
        return storage.edge_names_used(conn, containing, limit)


def trade_ids(db: Database, text: str, limit: int = 25) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return storage.trade_ids_like(conn, text, limit)


def pending_signals(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """Unsettled signals (PENDING then OPEN), newest first."""
    with db.connection() as conn:
        open_ = storage.list_signals(conn, status="OPEN", limit=limit)
        pending = storage.list_signals(conn, status="PENDING", limit=limit)
    return (open_ + pending)[:limit]
