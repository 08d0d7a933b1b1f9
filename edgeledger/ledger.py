"""Logging signals: the one way a signal enters the ledger, whatever the channel.

A signal is written with its `created` event in one transaction. Logging the same signal
again (same trade_id, source key or terms) returns the one already there; a different signal
under a taken trade_id or source key is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from edgeledger import storage
from edgeledger.core.markets import DEFAULT_MARKET
from edgeledger.core.model import EventKind, NewSignal, Signal, Source
from edgeledger.core.signals import fingerprint, format_trade_id, standard_id_number, trade_date
from edgeledger.core.validation import parse_signal
from edgeledger.database import Database
from edgeledger.errors import (
    EdgeLedgerError,
    FieldProblem,
    InvalidOption,
    InvalidSignal,
    SignalConflict,
    SignalNotFound,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class LogResult:
    signal: Signal
    created: bool  # False when the signal was already in the ledger


class _LostRace(Exception):
    """Another writer inserted a matching signal between our check and our insert."""


def log_signal(db: Database, signal: NewSignal, *, actor: str, now: datetime) -> LogResult:
    """Store a validated signal once, with its `created` event."""
    terms_hash = fingerprint(signal)
    for _ in range(MAX_ATTEMPTS):
        try:
            with db.connection() as conn, conn.transaction():
                return _log_once(conn, signal, terms_hash, actor=actor, now=now)
        except _LostRace:
            continue
    raise EdgeLedgerError(f"could not log {signal.ticker}: too many concurrent writers")


# Set by the API itself, not by the body: the source is `api`, the source key the
# Idempotency-Key header.
SET_BY_THE_API = ("source", "source_key")
KEY_HEADER = "Idempotency-Key"


def log_api_signal(
    db: Database,
    raw: Mapping[str, Any],
    *,
    key: str,
    now: datetime,
    default_market: str = DEFAULT_MARKET,
) -> LogResult:
    """A signal posted to the HTTP API under an idempotency key, stored once.

    The key is the signal's source key (source `api`). The same key again returns the
    signal it logged first (created False) and writes nothing, whatever the body: a client
    retrying after a lost answer gets its trade back. A missing `created_at` is `now`.
    """
    with db.connection() as conn:
        existing = _by_api_key(conn, key)
        if existing is not None:
            return LogResult(existing, created=False)
        markets = storage.market_book(conn, default=default_market)
    problems = [FieldProblem(name, "is set by the API, not the body") for name in
                SET_BY_THE_API if name in raw]  # fmt: skip
    fields = {k: v for k, v in raw.items() if k not in SET_BY_THE_API}
    try:
        signal = parse_signal(
            {**fields, "source_key": key},
            now=now,
            default_source=Source.API,
            created_at_defaults_to_now=True,
            markets=markets,
        )
    except InvalidSignal as exc:
        problems += [
            FieldProblem(KEY_HEADER, p.reason) if p.field == "source_key" else p
            for p in exc.problems
        ]
    if problems:
        raise InvalidSignal(problems)
    try:
        return log_signal(db, signal, actor="api", now=now)
    except SignalConflict:
        with db.connection() as conn:  # a request with the same key won the race
            existing = _by_api_key(conn, key)
        if existing is None:
            raise
        return LogResult(existing, created=False)


def _by_api_key(conn: psycopg.Connection, key: str) -> Signal | None:
    rows = storage.signals_matching(
        conn, trade_id=None, source=Source.API.value, source_key=key, fingerprint=""
    )
    return storage.signal_from_row(rows[0]) if rows else None


def _log_once(
    conn: psycopg.Connection, signal: NewSignal, terms_hash: str, *, actor: str, now: datetime
) -> LogResult:
    existing = _already_logged(conn, signal, terms_hash)
    if existing is not None:
        return LogResult(existing, created=False)
    trade_id = signal.trade_id or _new_trade_id(conn, signal)
    if signal.trade_id:
        claimed = standard_id_number(signal.trade_id, signal.ticker)
        if claimed:
            storage.claim_trade_number(conn, signal.ticker, *claimed)
    row = storage.insert_signal(
        conn, signal, trade_id=trade_id, fingerprint=terms_hash, logged_at=now
    )
    if row is None:
        raise _LostRace
    storage.insert_events(
        conn,
        [(trade_id, EventKind.CREATED, _created_payload(signal))],
        actor=actor,
        occurred_at=now,
    )
    log.debug("logged signal", extra={"trade_id": trade_id, "actor": actor})
    return LogResult(storage.signal_from_row(row), created=True)


def _already_logged(conn: psycopg.Connection, signal: NewSignal, terms_hash: str) -> Signal | None:
    rows = storage.signals_matching(
        conn,
        trade_id=signal.trade_id,
        source=signal.source.value,
        source_key=signal.source_key,
        fingerprint=terms_hash,
    )
    for row in rows:
        if row["fingerprint"] == terms_hash:
            continue
        if signal.trade_id and row["trade_id"] == signal.trade_id:
            raise SignalConflict(
                f"trade_id {signal.trade_id} is already used by a different signal"
                f" ({row['ticker']} {row['direction']} entry {row['entry']:f})"
            )
        raise SignalConflict(
            f"source_key {signal.source_key!r} from source {signal.source.value} was already"
            f" logged as {row['trade_id']} with different terms"
        )
    same = next((row for row in rows if row["fingerprint"] == terms_hash), None)
    return storage.signal_from_row(same) if same else None


def _new_trade_id(conn: psycopg.Connection, signal: NewSignal) -> str:
    day = trade_date(signal.created_at)
    return format_trade_id(signal.ticker, day, storage.next_trade_number(conn, signal.ticker, day))


def _created_payload(signal: NewSignal) -> dict[str, Any]:
    payload = {
        "source": signal.source.value,
        "source_key": signal.source_key,
        "strategy": signal.strategy,
    }
    return {key: value for key, value in payload.items() if value is not None}


@dataclass(frozen=True)
class SignalHistory:
    signal: Signal
    events: list[dict[str, Any]]
    instrument: dict[str, Any] | None = None  # its market and where that came from


def signal_history(db: Database, trade_id: str) -> SignalHistory:
    """A signal (its id matched ignoring case), its instrument's market and every event of
    its audit trail, oldest first."""
    with db.connection() as conn:
        signal = storage.signal_by_trade_id(conn, trade_id)
        if signal is None:
            raise SignalNotFound(f"no signal has trade_id {trade_id!r}")
        instrument = storage.instrument_of(conn, signal.terms.ticker)
        events = storage.events_for_signal(conn, signal.trade_id)
        return SignalHistory(signal, events, instrument)


def cancel_signal(db: Database, trade_id: str, *, reason: str, actor: str, now: datetime) -> Signal:
    """A person's decision that a signal does not count: CANCELLED, with a `cancelled`
    event saying who and why. Refused for a signal the rules already settled."""
    if not reason.strip():
        raise InvalidOption("--reason", "is required: say why the signal is cancelled")
    with db.connection() as conn, conn.transaction():
        signal = storage.signal_by_trade_id(conn, trade_id)
        if signal is None:
            raise SignalNotFound(f"no signal has trade_id {trade_id!r}")
        if not storage.cancel_signal(conn, signal.trade_id):
            raise SignalConflict(
                f"{signal.trade_id} is {signal.outcome.status.value}: only a signal the rules"
                " have not settled can be cancelled"
            )
        storage.insert_events(
            conn,
            [(signal.trade_id, EventKind.CANCELLED, {"reason": reason.strip()})],
            actor=actor,
            occurred_at=now,
        )
        cancelled = storage.signal_by_trade_id(conn, signal.trade_id)
    assert cancelled is not None
    return cancelled
