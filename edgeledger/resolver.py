"""One resolve run: fetch the bars open signals are missing, apply the rules, record outcomes.

The order of work is what keeps a run safe to kill and cheap to repeat:
1. Fetch. For each ticker with unresolved signals, ask the provider only for spans not yet
   covered, and store the complete bars with their coverage in one transaction per fetch.
   A ticker whose prices fail is skipped and reported; the others go on.
2. Evaluate. Only tickers whose bars, signals or expiries changed since their last
   evaluation are re-derived, from the stored bars, by edgeledger.outcome_rules.
3. Drill down. Signals settled pessimistically on an ambiguous bar get finer bars for that
   bar alone, then are derived again.
4. Record. Per ticker, changed outcomes, their events and the ticker's bookkeeping are
   written in one transaction. A run killed anywhere leaves each ticker either before or
   after its write; the rerun re-derives the same outcomes and appends no duplicate event.
The run holds an advisory lock on a dedicated connection and a job_runs row for its slot,
so two runs started together do the work once.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg

from edgeledger import storage
from edgeledger.bars import INTERVALS, BarSeries, complete_bar_rows
from edgeledger.database import Database
from edgeledger.errors import DatabaseUnavailable, EdgeLedgerError
from edgeledger.model import EventKind, Outcome, Signal
from edgeledger.outcome_rules import SignalTerms, resolve_signal, transition_events
from edgeledger.prices import PriceError, PriceProvider, RangeNotAvailable
from edgeledger.resolution import (
    ClosedTrade,
    RunReport,
    Span,
    TickerResolution,
    ambiguous_bar_spans,
    bar_need,
    drill_requests,
    missing_spans,
    needs_evaluation,
    subtract_spans,
)

log = logging.getLogger(__name__)

JOB_NAME = "resolve"
ACTOR = "resolver"
DEFAULT_INTERVAL = "1h"
DEFAULT_DRILL = ("1m",)


def lock_key(job_name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    return int.from_bytes(
        hashlib.sha256(f"edgeledger:{job_name}".encode()).digest()[:8], "big", signed=True
    )


@contextmanager
def single_flight(db: Database, job_name: str) -> Iterator[bool]:
    """Hold the job's advisory lock for the whole run on a connection of its own.

    Yields False when another run holds it. The lock dies with the connection, so a
    killed run never leaves it behind.
    """
    with db.connection() as conn:
        conn.autocommit = True
        key = lock_key(job_name)
        got = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (key,)).fetchone()["got"]
        try:
            yield got
        finally:
            if got and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            conn.autocommit = False


def run_resolve(
    db: Database,
    provider: PriceProvider,
    *,
    as_of: datetime,
    now: datetime,
    interval: str = DEFAULT_INTERVAL,
    drill: Sequence[str] = DEFAULT_DRILL,
    slot: datetime | None = None,
) -> RunReport:
    """One pass over every unresolved signal; see the module docstring."""
    if interval not in INTERVALS:
        raise EdgeLedgerError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    drill = [d for d in drill if INTERVALS[d] < INTERVALS[interval]]
    report = RunReport(as_of=as_of, interval=interval)
    with single_flight(db, JOB_NAME) as got_lock:
        if not got_lock:
            report.skipped = "another resolve run is in progress"
            return report
        with db.connection() as conn:
            run_id = storage.claim_job_run(conn, JOB_NAME, slot, now)
        if run_id is None:
            report.skipped = f"the run for {slot.isoformat()} already succeeded"
            return report
        try:
            _Run(db, provider, report, now=now, drill=drill).execute()
        except BaseException as exc:
            _finish(db, run_id, report, now, error=f"{type(exc).__name__}: {exc}")
            raise
        _finish(db, run_id, report, now)
    return report


def _finish(
    db: Database, run_id: int, report: RunReport, now: datetime, error: str | None = None
) -> None:
    try:
        with db.connection() as conn:
            storage.finish_job_run(
                conn,
                run_id,
                status="failed" if error else "succeeded",
                finished_at=now,
                counts=report.counts(),
                error=error,
            )
    except (DatabaseUnavailable, psycopg.Error):
        if error is None:
            raise
        log.warning("could not record the failed run", exc_info=True)


class _DrillFailed(Exception):
    """Finer bars could not be fetched for now (the ticker is reported and retried)."""


class _Run:
    """The state of one run; methods follow the numbered steps of the module docstring."""

    def __init__(
        self,
        db: Database,
        provider: PriceProvider,
        report: RunReport,
        *,
        now: datetime,
        drill: Sequence[str],
    ) -> None:
        self.db, self.provider, self.report = db, provider, report
        self.now, self.drill = now, list(drill)
        self.as_of, self.interval = report.as_of, report.interval
        self.coverage: dict[tuple[str, str], list[Span]] = {}
        self.versions: dict[str, int] = {}

    def execute(self) -> None:
        with self.db.connection() as conn:
            books = storage.unresolved_books(conn)
            tickers = [book.ticker for book in books]
            self.coverage = storage.bar_coverage(conn, tickers)
            self.versions = storage.bar_versions(conn, tickers)
            last = storage.ticker_resolutions(conn, tickers)
        self.report.tickers = len(books)
        for book in books:
            ticker = book.ticker
            need = bar_need(book, self.as_of, self.interval)
            if need is not None and not self._fetch(ticker, self.interval, [need]):
                continue
            if needs_evaluation(
                book,
                _resolution(last.get(ticker)),
                self.versions.get(ticker, 0),
                as_of=self.as_of,
                interval=self.interval,
            ):
                self.report.tickers_evaluated += 1
                self._evaluate_ticker(ticker, need or _empty_span(self.as_of))

    # 1. fetch -------------------------------------------------------------------------

    def _fetch(self, ticker: str, interval: str, needed: list[Span]) -> bool:
        """Fetch what is missing of `needed`; False (and the ticker reported) on failure."""
        covered = self.coverage.setdefault((ticker, interval), [])
        for need in needed:
            for span in missing_spans(need, covered, interval):
                try:
                    frame = self.provider.fetch_bars(ticker, interval, span[0], span[1])
                except RangeNotAvailable as exc:
                    if interval == self.interval:
                        self.report.failed_tickers[ticker] = str(exc)
                        return False
                    # Finer bars that the provider no longer keeps will never come: record
                    # the span as asked, so the bar is settled pessimistically, once.
                    log.info("finer bars unavailable", extra={"ticker": ticker, "reason": str(exc)})
                    frame = pd.DataFrame(
                        columns=["start", "open", "high", "low", "close", "volume"]
                    )
                except PriceError as exc:
                    log.warning("prices failed", extra={"ticker": ticker, "reason": str(exc)})
                    self.report.failed_tickers[ticker] = (
                        str(exc)
                        if interval == self.interval
                        else f"finer {interval} bars failed, retried next run: {exc}"
                    )
                    return False
                finally:
                    self.report.requests += 1
                self._store(ticker, interval, frame, span)
        return True

    def _store(self, ticker: str, interval: str, frame: pd.DataFrame, span: Span) -> None:
        rows = complete_bar_rows(frame, interval, span[1])
        covered = self.coverage[(ticker, interval)]
        with self.db.connection() as conn, conn.transaction():
            stored, version = storage.store_bars(
                conn,
                ticker,
                interval,
                rows,
                provider=self.provider.name,
                fetched_at=self.now,
                covered=span,
                coverage=covered,
            )
        covered.append(span)
        if version is not None:
            self.versions[ticker] = version
        self.report.bars_stored += stored

    # 2. evaluate ------------------------------------------------------------------------

    def _load(self, spans: dict[str, Span]) -> dict[str, dict[str, BarSeries]]:
        with self.db.connection() as conn:
            return load_series(conn, spans, self.interval)

    def _evaluate_ticker(self, ticker: str, span: Span) -> None:
        version = self.versions.get(ticker, 0)  # read before the bars it stands for
        with self.db.connection() as conn:
            signals = storage.unresolved_signals_of(conn, ticker)
            series = load_series(conn, {ticker: span}, self.interval).get(ticker, {})
        outcomes = {s.trade_id: self._derive(s, series) for s in signals}
        ambiguous = [s for s in signals if ambiguous_bar_spans(outcomes[s.trade_id], self.interval)]
        try:
            drilled = bool(ambiguous and self.drill and self._drill(ticker, ambiguous, outcomes))
        except _DrillFailed:
            return  # not settled on the coarse bars alone: the next run tries again
        if drilled:
            version = self.versions.get(ticker, 0)
            series = self._load({ticker: span}).get(ticker, {})
            for signal in ambiguous:
                outcomes[signal.trade_id] = self._derive(signal, series)
        self._record(ticker, signals, outcomes, version)

    def _derive(self, signal: Signal, series: dict[str, BarSeries]) -> Outcome:
        self.report.signals_evaluated += 1
        return derive_outcome(signal, series, primary=self.interval, as_of=self.as_of)

    # 3. drill down ------------------------------------------------------------------------

    def _drill(self, ticker: str, signals: list[Signal], outcomes: dict[str, Outcome]) -> bool:
        """Fetch finer bars for the ambiguous bars; True when any new span was asked for."""
        spans = [
            span
            for s in signals
            for span in ambiguous_bar_spans(outcomes[s.trade_id], self.interval)
        ]
        asked = False
        for interval in self.drill:
            covered = self.coverage.get((ticker, interval), [])
            wanted = [span for span in drill_requests(spans) if subtract_spans(span, covered)]
            if wanted:
                asked = True
                if not self._fetch(ticker, interval, wanted):
                    raise _DrillFailed
        return asked

    # 4. record ------------------------------------------------------------------------------

    def _record(
        self, ticker: str, signals: list[Signal], outcomes: dict[str, Outcome], version: int
    ) -> None:
        writes: list[tuple[str, Outcome]] = []
        events: list[tuple[str, EventKind, dict]] = []
        closed: list[ClosedTrade] = []
        changed = 0
        for signal in signals:
            after = outcomes[signal.trade_id]
            before = signal.outcome
            if after == before and signal.resolved_as_of is not None:
                continue
            writes.append((signal.trade_id, after))
            changed += after != before
            for kind, payload in transition_events(before, after):
                events.append((signal.trade_id, kind, payload))
                if kind is EventKind.RESOLVED and not before.status.is_settled:
                    closed.append(_closed(signal, after))
        try:
            with self.db.connection() as conn, conn.transaction():
                storage.write_outcomes(conn, writes, as_of=self.as_of, interval=self.interval)
                storage.insert_events(conn, events, actor=ACTOR, occurred_at=self.now)
                storage.save_ticker_resolution(
                    conn,
                    ticker,
                    bars_version=version,
                    as_of=self.as_of,
                    interval=self.interval,
                    resolved_at=self.now,
                )
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError):
                raise
            log.error("could not record outcomes", extra={"ticker": ticker}, exc_info=True)
            self.report.failed_tickers[ticker] = f"could not record outcomes: {exc}"
            return
        self.report.outcomes_changed += changed
        self.report.events_written += len(events)
        self.report.closed.extend(closed)


def derive_outcome(
    signal: Signal, series: dict[str, BarSeries], *, primary: str, as_of: datetime
) -> Outcome:
    """The rules applied to one stored signal (a ticker with no stored bars has empty ones)."""
    bars = series if primary in series else {primary: BarSeries.empty(primary), **series}
    terms = SignalTerms.from_signal(signal.terms, signal.trade_id)
    return resolve_signal(terms, bars, primary=primary, as_of=as_of)


def load_series(
    conn: psycopg.Connection, spans: dict[str, Span], primary: str
) -> dict[str, dict[str, BarSeries]]:
    """Stored bars of the primary interval and every finer one (those exist only where a run
    drilled down), as BarSeries per ticker and interval."""
    intervals = [i for i in INTERVALS if INTERVALS[i] <= INTERVALS[primary]]
    return bar_series_by_ticker(storage.load_bar_arrays(conn, spans, intervals))


def bar_series_by_ticker(rows: list[tuple]) -> dict[str, dict[str, BarSeries]]:
    """Rows of (ticker, interval, start_us, o, h, l, c), sorted, into BarSeries per ticker."""
    found: dict[str, dict[str, BarSeries]] = defaultdict(dict)
    if not rows:
        return found
    keys = [(r[0], r[1]) for r in rows]
    data = np.array([r[2:] for r in rows], dtype=np.float64)
    starts = np.array([r[2] for r in rows], dtype=np.int64)
    boundaries = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]] + [len(keys)]
    for lo, hi in itertools.pairwise(boundaries):
        ticker, interval = keys[lo]
        found[ticker][interval] = BarSeries(
            interval, starts[lo:hi], data[lo:hi, 1], data[lo:hi, 2], data[lo:hi, 3], data[lo:hi, 4]
        )
    return found


def _resolution(row: dict | None) -> TickerResolution | None:
    if row is None:
        return None
    return TickerResolution(row["bars_version"], row["as_of"], row["interval"])


def _empty_span(as_of: datetime) -> Span:
    return (as_of, as_of)


def _closed(signal: Signal, outcome: Outcome) -> ClosedTrade:
    return ClosedTrade(
        trade_id=signal.trade_id,
        ticker=signal.terms.ticker,
        strategy=signal.terms.strategy,
        edges=tuple(e.name for e in signal.terms.edges),
        status=outcome.status.value,
        r_achieved=None if outcome.r_achieved is None else str(outcome.r_achieved),
    )
