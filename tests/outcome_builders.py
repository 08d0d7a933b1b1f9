"""Literal signals and bars for the outcome-rule tests.

A long has entry 100, stop 95, target 110 (risk 5), is created at 14:00 and expires at
22:00 on Monday 2026-03-02; the short mirrors it (stop 105, target 90). Bar rows are
(UTC hour or "HH:MM", open, high, low, close).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edgeledger.core.model import Direction, Outcome
from edgeledger.core.outcome_rules import BarSeries, PreparedBars, SignalTerms, resolve_signal

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(when: int | str) -> datetime:
    """A UTC time on DAY: 14 or "14:05"."""
    hour, _, minute = str(when).partition(":")
    return DAY + timedelta(hours=int(hour), minutes=int(minute or 0))


def bars(interval: str, *rows: tuple) -> BarSeries:
    return BarSeries.from_rows(interval, [(at(when), *prices) for when, *prices in rows])


def long(**changes: object) -> SignalTerms:
    terms = {
        "trade_id": "L1",
        "direction": Direction.LONG,
        "entry": 100,
        "stop": 95,
        "target": 110,
        "target2": None,
        "created_at": at(14),
        "expires_at": at(22),
    }
    return SignalTerms(**(terms | changes))


def short(**changes: object) -> SignalTerms:
    return long(trade_id="S1", direction=Direction.SHORT, stop=105, target=90, **changes)


def resolve(
    terms: SignalTerms,
    *series: BarSeries,
    as_of: datetime | None = None,
    primary: str = "1h",
    market: str | None = None,
    answered: list[tuple[datetime, datetime]] | None = None,
) -> Outcome:
    """The rules over these bars, as of the expiry unless told otherwise; read by a market
    when one is given (else each bar lasts its interval), and with the spans the provider
    answered for when given (else all of them)."""
    prepared = PreparedBars(
        {s.interval: s for s in series}, primary, market=market, answered=answered
    )
    return resolve_signal(terms, prepared, primary=primary, as_of=as_of or terms.expires_at)
