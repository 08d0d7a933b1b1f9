"""Planning a resolve run: which bars are missing, which tickers need another look.

Pure functions over plain data (spans of time, open signals, the stored bookkeeping), so the
job's decisions can be tested without a database or a provider. The job (jobs/resolve.py
through edgeledger.resolver) does the I/O these plans call for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edgeledger.core.bars import INTERVALS, Span, interval_us, merge_spans
from edgeledger.core.markets import bar_span
from edgeledger.core.model import Outcome
from edgeledger.core.outcome_rules import SignalTerms

# How far before the first signal to ask for bars, so the bar that gives the "previous
# close" is stored too, across a weekend plus a holiday.
PREVIOUS_CLOSE_LOOKBACK = {
    "1m": timedelta(days=4),
    "5m": timedelta(days=4),
    "15m": timedelta(days=4),
    "30m": timedelta(days=4),
    "1h": timedelta(days=4),
    "1d": timedelta(days=7),
}
# Spans of finer bars closer than this are fetched with one request.
DRILL_MERGE_GAP = timedelta(days=1)


# --- spans -----------------------------------------------------------------------------


def subtract_spans(need: Span, covered: Sequence[Span]) -> list[Span]:
    """The parts of `need` no covered span includes."""
    missing: list[Span] = []
    cursor, end = need
    for c_start, c_end in merge_spans(covered):
        if c_end <= cursor or c_start >= end:
            continue
        if c_start > cursor:
            missing.append((cursor, c_start))
        cursor = max(cursor, c_end)
        if cursor >= end:
            break
    if cursor < end:
        missing.append((cursor, end))
    return missing


def missing_spans(need: Span, covered: Sequence[Span], interval: str) -> list[Span]:
    """What to ask a provider for, given what it was already asked for.

    A piece that starts where covered time ends reaches back one interval: the bar that
    was still forming at the end of the last fetch was not stored then, and is now.
    """
    step = INTERVALS[interval]
    ends = {c_end for _, c_end in covered}
    return [
        (start - step if start in ends else start, end)
        for start, end in subtract_spans(need, covered)
    ]


@dataclass(frozen=True)
class OpenSignal:
    """An unresolved signal as a run sees it: the terms the rules need, the outcome stored
    so far (to tell what changed), and what a trade that closes is reported with."""

    trade_id: str
    ticker: str
    strategy: str | None
    edges: tuple[str, ...]
    terms: SignalTerms
    outcome: Outcome
    resolved_as_of: datetime | None  # None: never evaluated by a run
    market: str | None = None  # the market the signal named; None: its instrument's


@dataclass(frozen=True)
class TickerBook:
    """A ticker's unresolved signals in summary: enough to plan its part of a run without
    loading a single signal, so a run where nothing changed reads one row per ticker."""

    ticker: str
    signals: int
    first_created: datetime
    last_expiry: datetime
    unevaluated: bool  # some signal has never been evaluated by a run
    next_expiry: datetime | None  # the earliest expiry after the ticker's last evaluation
    named_market: str | None = None  # the market the latest signal named, if any
    waiting_for_prices: bool = False  # some signal expired `no_data`
    rederive: bool = False  # its settled outcomes are to be derived again


def bar_need(book: TickerBook, as_of: datetime, interval: str) -> Span | None:
    """The bars the ticker's unresolved signals can use: from just before the first was
    created (for its previous close) to the last expiry, or now if sooner."""
    start = book.first_created - PREVIOUS_CLOSE_LOOKBACK[interval]
    end = min(as_of, book.last_expiry)
    return (start, end) if end > start else None


def group_books(
    books: Iterable[TickerBook], *, max_signals: int, max_tickers: int
) -> Iterator[list[TickerBook]]:
    """Consecutive groups of tickers to resolve together: each group's bars are stored,
    its signals loaded and its outcomes recorded in a few statements. A group closes at
    `max_tickers`, or once it holds `max_signals` signals (a ticker is never split)."""
    chunk: list[TickerBook] = []
    signals = 0
    for book in books:
        chunk.append(book)
        signals += book.signals
        if len(chunk) >= max_tickers or signals >= max_signals:
            yield chunk
            chunk, signals = [], 0
    if chunk:
        yield chunk


# --- which tickers need evaluating ---------------------------------------------------------


@dataclass(frozen=True)
class TickerResolution:
    """Where resolution of a ticker stood after its last evaluation."""

    bars_version: int
    as_of: datetime
    interval: str
    market: str | None = None


def needs_evaluation(
    book: TickerBook,
    last: TickerResolution | None,
    bars_version: int,
    *,
    as_of: datetime,
    interval: str,
    market: str,
    answered_more: bool = False,
) -> bool:
    """Whether anything could have changed for this ticker's signals since last time.

    Outcomes depend only on the stored bars, the spans the provider answered for, the
    signal, its market and the as-of time; so with the same bars, interval and market, no
    new signal, no expiry passed and no `no_data` signal whose prices may have come
    (`answered_more`: the provider answered for more of its spans), the answer is unchanged.
    """
    if last is None or last.interval != interval or last.bars_version != bars_version:
        return True
    if last.market != market or book.rederive:
        return True
    if book.waiting_for_prices and answered_more:
        return True
    if as_of < last.as_of:
        return True  # replaying an earlier moment
    if book.unevaluated:
        return True
    return book.next_expiry is not None and book.next_expiry <= as_of


# --- drill-down ------------------------------------------------------------------------------


def ambiguous_bar_spans(outcome: Outcome, interval: str, market: str) -> list[Span]:
    """The primary bars whose order of prices the outcome could not settle, as their market
    reads them (a daily bar is its session).

    Only the trigger bar and the exit bar can be settled pessimistically, so those are the
    spans worth fetching finer bars for.
    """
    if not outcome.ambiguous:
        return []
    step = interval_us(interval)
    starts = {at for at in (outcome.triggered_at, outcome.closed_at) if at is not None}
    return [bar_span(market, step, interval == "1d", start) for start in sorted(starts)]


def drill_requests(spans: Iterable[Span]) -> list[Span]:
    """Requests for finer bars: nearby ambiguous bars share one request."""
    return merge_spans(spans, DRILL_MERGE_GAP)


# --- what a run reports ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedTrade:
    """A trade that settled in this run: what changed, for rolling metrics."""

    trade_id: str
    ticker: str
    strategy: str | None
    edges: tuple[str, ...]
    status: str
    r_achieved: str | None
    exit_reason: str | None = None


@dataclass
class RunReport:
    """What one resolve run did, recorded in job_runs and printed by the CLI."""

    as_of: datetime
    interval: str
    tickers: int = 0
    tickers_evaluated: int = 0
    signals_evaluated: int = 0
    outcomes_changed: int = 0
    events_written: int = 0
    requests: int = 0
    bars_stored: int = 0
    failed_tickers: dict[str, str] = field(default_factory=dict)  # retried next run
    no_prices: dict[str, str] = field(default_factory=dict)  # prices that do not exist (yet)
    dropped_bars: dict[str, dict[str, int]] = field(default_factory=dict)  # ticker: reason: n
    markets: dict[str, str] = field(default_factory=dict)  # markets decided or changed
    warnings: list[str] = field(default_factory=list)
    closed: list[ClosedTrade] = field(default_factory=list)
    skipped: str | None = None

    def count_dropped(self, ticker: str, reasons: dict[str, int]) -> None:
        counts = self.dropped_bars.setdefault(ticker, {})
        for reason, n in reasons.items():
            counts[reason] = counts.get(reason, 0) + n

    @property
    def strategies_touched(self) -> list[str]:
        return sorted({c.strategy for c in self.closed if c.strategy})

    @property
    def edges_touched(self) -> list[str]:
        return sorted({edge for c in self.closed for edge in c.edges})

    def counts(self) -> dict:
        """JSON for job_runs.counts."""
        return {
            "as_of": self.as_of.isoformat(),
            "interval": self.interval,
            "tickers": self.tickers,
            "tickers_evaluated": self.tickers_evaluated,
            "signals_evaluated": self.signals_evaluated,
            "outcomes_changed": self.outcomes_changed,
            "events_written": self.events_written,
            "requests": self.requests,
            "bars_stored": self.bars_stored,
            "failed_tickers": self.failed_tickers,
            "no_prices": self.no_prices,
            "dropped_bars": self.dropped_bars,
            "markets": self.markets,
            "warnings": self.warnings,
            "closed": [c.trade_id for c in self.closed],
            "strategies_touched": self.strategies_touched,
            "edges_touched": self.edges_touched,
        }
