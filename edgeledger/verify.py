"""The determinism audit: re-derive every stored outcome from the stored bars.

An outcome written by a resolve run records the as-of time and interval it was derived at.
Re-running the rules on the same stored bars at that moment must give the same outcome;
anything else is reported (a bar changed, the rules changed, or the row was edited).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields

from edgeledger import storage
from edgeledger.database import Database
from edgeledger.markets import DEFAULT_MARKET
from edgeledger.model import Outcome, Signal
from edgeledger.outcome_rules import PreparedBars, SignalTerms
from edgeledger.resolution import PREVIOUS_CLOSE_LOOKBACK
from edgeledger.resolver import derive_outcome, load_series, prepare_bars


@dataclass(frozen=True)
class Difference:
    trade_id: str
    field: str
    stored: object
    derived: object

    def __str__(self) -> str:
        return (
            f"{self.trade_id}: {self.field} stored {self.stored} but the bars give {self.derived}"
        )


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    differences: list[Difference]


def verify_outcomes(db: Database, *, default_market: str = DEFAULT_MARKET) -> VerifyReport:
    """Re-derive each outcome a run stored, reading the bars by each instrument's market and
    the spans its provider answered for, and list every field that differs."""
    with db.connection() as conn:
        signals = storage.settled_signals(conn)
        tickers = sorted({s.terms.ticker for s in signals})
        markets = storage.market_book(conn, tickers, default=default_market)
        coverage = storage.bar_coverage(conn, tickers)
    by_key: dict[tuple[str, str], list[Signal]] = defaultdict(list)
    for signal in signals:
        by_key[(signal.terms.ticker, signal.resolved_interval)].append(signal)
    differences: list[Difference] = []
    for (ticker, interval), group in sorted(by_key.items()):
        start = min(s.terms.created_at for s in group) - PREVIOUS_CLOSE_LOOKBACK[interval]
        end = max(s.resolved_as_of for s in group)
        with db.connection() as conn:
            series = load_series(conn, {ticker: (start, end)}, interval).get(ticker, {})
        answered = coverage.get((ticker, interval), [])
        prepared: dict[str, PreparedBars] = {}
        for signal in group:
            market = markets.choose(ticker, signal.terms.market).market
            if market not in prepared:
                prepared[market] = prepare_bars(series, interval, market=market, answered=answered)
            terms = SignalTerms.from_signal(signal.terms, signal.trade_id)
            derived = derive_outcome(terms, prepared[market], as_of=signal.resolved_as_of)
            differences.extend(compare(signal.trade_id, signal.outcome, derived))
    return VerifyReport(checked=len(signals), differences=differences)


def compare(trade_id: str, stored: Outcome, derived: Outcome) -> list[Difference]:
    return [
        Difference(trade_id, f.name, getattr(stored, f.name), getattr(derived, f.name))
        for f in fields(Outcome)
        if getattr(stored, f.name) != getattr(derived, f.name)
    ]
