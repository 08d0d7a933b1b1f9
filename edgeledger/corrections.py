"""A person's corrections of a signal: a manual outcome, a note, the review flag.

The shared corrections use case: the CLI (`edgeledger signals override|note|flag|unflag`),
the Discord bot and the dashboard all correct signals through these functions. Each change is
written with its event (`overridden`, `note`, `flag`) saying who (`actor`) and why, in one
transaction, with the signal's row locked, so two corrections of one signal never interleave.

A manual outcome has exit_reason `manual`: the resolve job never re-derives or overwrites it,
`resolve --rederive` leaves it alone, and the statistics count it as manual.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from edgeledger import storage
from edgeledger.core import corrections as rules
from edgeledger.core.model import EventKind, Outcome, Signal, Status
from edgeledger.database import Database
from edgeledger.errors import FieldProblem, InvalidSignal, SignalConflict, SignalNotFound

log = logging.getLogger(__name__)

MAX_ACTOR = 100


def override_outcome(
    db: Database,
    trade_id: str,
    *,
    status: str | Status,
    exit_price: str | Decimal | float | None = None,
    reason: str,
    actor: str,
    now: datetime,
) -> Signal:
    """Set the outcome by hand: WIN, LOSS or EXPIRED, with an optional exit price and a
    required reason (see edgeledger.core.corrections.manual_outcome for the fields).

    InvalidSignal names the field (`status`, `exit_price`, `reason`); SignalNotFound an
    unknown trade id; SignalConflict a cancelled signal, which does not count at all."""
    chosen = rules.manual_status(status.value if isinstance(status, Status) else status)
    price = rules.exit_price_of(exit_price)
    why = rules.text_of("reason", reason, required=True, limit=rules.MAX_REASON)
    who = _actor(actor)
    with db.connection() as conn, conn.transaction():
        signal = _locked(conn, trade_id)
        if signal.outcome.status is Status.CANCELLED:
            raise SignalConflict(
                f"{signal.trade_id} is CANCELLED: a cancelled signal counts in no statistic"
                " and takes no outcome"
            )
        before = signal.outcome
        after = rules.manual_outcome(signal.terms, before, chosen, price, now=now)
        updated = storage.write_manual_outcome(conn, signal.trade_id, after)
        payload = {"reason": why, **_outcome_json(after), "before": _outcome_json(before)}
        storage.insert_events(
            conn, [(signal.trade_id, EventKind.OVERRIDDEN, payload)], actor=who, occurred_at=now
        )
    log.info(
        "outcome set by hand",
        extra={"trade_id": signal.trade_id, "actor": who, "status": chosen.value},
    )
    return updated


def add_note(db: Database, trade_id: str, *, text: str, actor: str, now: datetime) -> Signal:
    """Append a note to the signal's notes, with a `note` event."""
    note = rules.text_of("text", text, required=True, limit=rules.MAX_NOTE)
    assert note is not None
    who = _actor(actor)
    with db.connection() as conn, conn.transaction():
        signal = _locked(conn, trade_id)
        updated = storage.append_note(conn, signal.trade_id, note)
        storage.insert_events(
            conn, [(signal.trade_id, EventKind.NOTE, {"text": note})], actor=who, occurred_at=now
        )
    return updated


def set_flag(
    db: Database,
    trade_id: str,
    *,
    flagged: bool,
    reason: str | None = None,
    actor: str,
    now: datetime,
) -> Signal:
    """Flag the signal for review (or clear the flag), with a `flag` event saying why."""
    why = rules.text_of("reason", reason, required=False, limit=rules.MAX_REASON)
    who = _actor(actor)
    with db.connection() as conn, conn.transaction():
        signal = _locked(conn, trade_id)
        updated = storage.set_review_flag(conn, signal.trade_id, flagged)
        payload: dict[str, Any] = {"flagged": flagged, "was": signal.flagged_for_review}
        if why:
            payload["reason"] = why
        storage.insert_events(
            conn, [(signal.trade_id, EventKind.FLAG, payload)], actor=who, occurred_at=now
        )
    return updated


def _locked(conn: psycopg.Connection, trade_id: str) -> Signal:
    """The signal (its id matched ignoring case), its row locked for the transaction."""
    text = str(trade_id or "").strip()
    found = storage.signal_by_trade_id(conn, text) if text else None
    signal = storage.signal_for_update(conn, found.trade_id) if found else None
    if signal is None:
        raise SignalNotFound(f"trade_id: no signal has trade_id {text!r}")
    return signal


def _actor(actor: str) -> str:
    who = str(actor or "").strip()
    if not who or len(who) > MAX_ACTOR:
        raise InvalidSignal([FieldProblem("actor", f"must be 1 to {MAX_ACTOR} characters")])
    return who


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    def text(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return getattr(value, "value", value)

    return {
        "status": outcome.status.value,
        "fill_price": text(outcome.fill_price),
        "exit_price": text(outcome.exit_price),
        "closed_at": text(outcome.closed_at),
        "exit_reason": text(outcome.exit_reason),
        "r_achieved": text(outcome.r_achieved),
    }
