"""The determinism audit: re-derive every stored outcome from the stored bars.

An outcome written by a resolve run records the as-of time and interval it was derived at.
Re-running the rules on the same stored bars at that moment must give the same outcome;
anything else is reported (a bar changed, the rules changed, or the row was edited).
A bar can also be edited without changing the outcome it gave, so each outcome keeps a
digest of the bars it was derived from, and a digest that no longer matches is reported
too, naming the signal (changed evidence, even where the outcome still follows).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime

from edgeledger import storage
from edgeledger.core.markets import DEFAULT_MARKET
from edgeledger.core.model import Outcome, Signal
from edgeledger.core.outcome_rules import PreparedBars, SignalTerms
from edgeledger.core.resolution import PREVIOUS_CLOSE_LOOKBACK
from edgeledger.database import Database
from edgeledger.resolver import derive_outcome, load_series, prepare_bars


@dataclass(frozen=True)
class Difference:
    trade_id: str
    field: str
    stored: object
    derived: object

    def __str__(self) -> str:
        if self.field == EVIDENCE:
            return (
                f"{self.trade_id}: the stored bars it was derived from changed since"
                f" (digest {self.stored}, now {self.derived})"
            )
        return (
            f"{self.trade_id}: {self.field} stored {self.stored} but the bars give {self.derived}"
        )


EVIDENCE = "evidence"  # the Difference.field of changed evidence


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
        evidence = {row["trade_id"]: row for row in storage.outcome_evidence(conn)}
    by_key: dict[tuple[str, str, datetime | None], list[Signal]] = defaultdict(list)
    for signal in signals:
        # An outcome resolved as of a moment after its run (a backtest) saw no bar from
        # after the run: its bars stop there.
        at = evidence[signal.trade_id]["evidence_at"] if signal.trade_id in evidence else None
        cap = at if at is not None and at < signal.resolved_as_of else None
        by_key[(signal.terms.ticker, signal.resolved_interval, cap)].append(signal)
    differences: list[Difference] = []
    for (ticker, interval, cap), group in sorted(by_key.items(), key=lambda item: item[0][:2]):
        start = min(s.terms.created_at for s in group) - PREVIOUS_CLOSE_LOOKBACK[interval]
        end = cap or max(s.resolved_as_of for s in group)
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
            row = evidence.get(signal.trade_id)
            if row is not None and row["stored"] != row["current"]:
                differences.append(
                    Difference(signal.trade_id, EVIDENCE, row["stored"][:12], row["current"][:12])
                )
    return VerifyReport(checked=len(signals), differences=differences)


def compare(trade_id: str, stored: Outcome, derived: Outcome) -> list[Difference]:
    return [
        Difference(trade_id, f.name, getattr(stored, f.name), getattr(derived, f.name))
        for f in fields(Outcome)
        if getattr(stored, f.name) != getattr(derived, f.name)
    ]
