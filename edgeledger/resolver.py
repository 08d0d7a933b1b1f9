"""One resolve run: fetch the bars open signals are missing, apply the rules, record outcomes.

Tickers are taken in groups (`group_tickers`, at most GROUP_SIGNALS signals), and each
step below reads or writes a whole group in a few statements, so database round trips grow
with groups, not tickers. The groups flow through a pipeline: while one is evaluated, the
next one's bars are being stored (on a writer thread, which also records the group before)
and the one after that is downloading (on `fetch_workers` threads).

The order of work is what keeps a run safe to kill and cheap to repeat:
1. Fetch. For each ticker with unresolved signals, ask the provider only for spans not yet
   covered, and store the group's complete bars with their coverage in one transaction.
   A ticker whose prices fail is skipped and reported; the others go on.
2. Evaluate. Only tickers whose bars, signals or expiries changed since their last
   evaluation are re-derived, from the stored bars, by edgeledger.outcome_rules.
3. Drill down. Signals settled pessimistically on an ambiguous bar get finer bars for that
   bar alone, then are derived again.
4. Record. The group's changed outcomes, their events and its tickers' bookkeeping are
   written in one transaction. A run killed anywhere leaves each ticker either before or
   after its write; the rerun re-derives the same outcomes and appends no duplicate event.
If the database refuses a group's write (bad data rather than a lost connection), the
group is written ticker by ticker, so only the offending ticker is skipped and reported.
A run past its time limit starts no more price requests and waits for none in flight:
the tickers still missing prices are reported and left for the next run.
The run holds an advisory lock on a dedicated connection and a job_runs row for its slot,
so two runs started together do the work once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import pandas as pd
import psycopg

from edgeledger import storage
from edgeledger.bars import INTERVALS, BarBatch, BarSeries
from edgeledger.database import Database
from edgeledger.errors import DatabaseUnavailable, EdgeLedgerError
from edgeledger.model import EventKind, Outcome
from edgeledger.outcome_rules import (
    PreparedBars,
    SignalTerms,
    resolve_signal,
    transition_events,
)
from edgeledger.prices import PriceError, PriceProvider, RangeNotAvailable, TickerNotFound
from edgeledger.resolution import (
    ClosedTrade,
    OpenSignal,
    RunReport,
    Span,
    TickerBook,
    TickerResolution,
    ambiguous_bar_spans,
    bar_need,
    drill_requests,
    group_books,
    missing_spans,
    needs_evaluation,
)

log = logging.getLogger(__name__)

JOB_NAME = "resolve"
ACTOR = "resolver"
DEFAULT_INTERVAL = "1h"
DEFAULT_DRILL = ("1m",)
# A group of tickers is fetched, stored, evaluated and recorded together: a few statements
# per group. Groups bound the memory of a run and how much a kill makes the rerun redo.
DEFAULT_GROUP_TICKERS = 50
# Price requests in flight at once. Over the internet a request is mostly waiting, so a
# few workers divide a run's fetch time; providers are safe to call from several threads
# and rate limits (Polygon's free tier) still hold across them.
DEFAULT_FETCH_WORKERS = 4
GROUP_SIGNALS = 5_000

UNKNOWN_TICKER = "its signals expire unfilled on the bars stored so far"

W = TypeVar("W")
R = TypeVar("R")


def lock_key(job_name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    return int.from_bytes(
        hashlib.sha256(f"edgeledger:{job_name}".encode()).digest()[:8], "big", signed=True
    )


@dataclass(frozen=True)
class RunLock:
    """The job's advisory lock, held by one database session for the whole run."""

    key: int
    holder_pid: int  # the backend holding it: if that session dies, so does the lock


@contextmanager
def single_flight(db: Database, job_name: str) -> Iterator[RunLock | None]:
    """Hold the job's advisory lock for the whole run on a connection of its own.

    Yields None when another run holds it. The lock dies with the connection, so a killed
    run never leaves it behind; and a run whose connection dies (a database restart) has
    lost it, which `storage.holds_run_lock` tells before anything is recorded.
    """
    with db.connection() as conn:
        conn.autocommit = True
        key = lock_key(job_name)
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s) AS got, pg_backend_pid() AS pid", (key,)
        ).fetchone()
        lock = RunLock(key, row["pid"]) if row["got"] else None
        try:
            yield lock
        finally:
            with suppress(psycopg.Error):  # a dead session has released it already
                if lock is not None:
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
    group_tickers: int = DEFAULT_GROUP_TICKERS,
    fetch_workers: int = DEFAULT_FETCH_WORKERS,
    time_limit: float | None = None,
) -> RunReport:
    """One pass over every unresolved signal; see the module docstring.

    `time_limit`: seconds after which the run asks for no more prices (None: no limit).
    """
    if interval not in INTERVALS:
        raise EdgeLedgerError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    drill = [d for d in drill if INTERVALS[d] < INTERVALS[interval]]
    report = RunReport(as_of=as_of, interval=interval)
    with single_flight(db, JOB_NAME) as lock:
        if lock is None:
            report.skipped = "another resolve run is in progress"
            return report
        with db.connection() as conn:
            run_id = storage.claim_job_run(conn, JOB_NAME, slot, now)
        if run_id is None:
            report.skipped = f"the run for {slot.isoformat()} already succeeded"
            return report
        try:
            _Run(
                db,
                provider,
                report,
                lock=lock,
                now=now,
                drill=drill,
                group=group_tickers,
                workers=fetch_workers,
                limit=TimeLimit.start(time_limit),
            ).execute()
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


# The run's time limit ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimeLimit:
    """When a run stops asking for prices (EDGELEDGER_RESOLVE_DEADLINE), on the monotonic
    clock. Every request has its own deadline, but a large book on a slow or rate-limited
    provider must still end in time for the next run, which carries on from where it
    stopped (bar_coverage remembers what was fetched)."""

    seconds: float | None
    ends: float | None

    @classmethod
    def start(cls, seconds: float | None) -> TimeLimit:
        return cls(seconds, None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.ends is None else max(0.0, self.ends - time.monotonic())

    def reached(self) -> bool:
        return self.ends is not None and time.monotonic() >= self.ends

    @property
    def reason(self) -> str:
        return (
            f"left for the next run: the run reached its time limit ({self.seconds:g}s, "
            "EDGELEDGER_RESOLVE_DEADLINE)"
        )


@dataclass
class _Download:
    """What downloading one ticker's missing spans gave."""

    batches: list[BarBatch] = field(default_factory=list)
    requests: int = 0
    error: str | None = None  # why the ticker's prices failed, as reported
    unknown: bool = False  # the provider does not know the ticker at all


_Downloads = dict[str, Future[_Download]]


@dataclass
class _Stored:
    """What storing a group's downloads did, for the main thread to count and report."""

    downloads: dict[str, _Download]
    results: list[dict[str, tuple[int, int]]]  # per committed write: ticker -> (added, version)
    refused: dict[str, str]  # tickers whose bars the database refused, and why


@dataclass
class _Changes:
    """What recording one ticker's new outcomes writes, and what the run reports of it."""

    writes: list[tuple[str, Outcome]] = field(default_factory=list)
    events: list[tuple[str, EventKind, dict]] = field(default_factory=list)
    closed: list[ClosedTrade] = field(default_factory=list)
    changed: int = 0


class _Run:
    """The state of one run; methods follow the numbered steps of the module docstring."""

    def __init__(
        self,
        db: Database,
        provider: PriceProvider,
        report: RunReport,
        *,
        lock: RunLock,
        now: datetime,
        drill: Sequence[str],
        group: int,
        workers: int,
        limit: TimeLimit,
    ) -> None:
        self.db, self.provider, self.report, self.lock = db, provider, report, lock
        self.limit = limit
        self.now, self.drill, self.group = now, list(drill), group
        self.as_of, self.interval = report.as_of, report.interval
        self.coverage: dict[tuple[str, str], list[Span]] = {}
        self.versions: dict[str, int] = {}
        self.last: dict[str, dict] = {}
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="edgeledger-fetch")
        # Finer bars are waited for at once, so they get threads of their own rather than
        # queue behind the prefetch; `slots` keeps the requests in flight to `workers`.
        self.drill_pool = ThreadPoolExecutor(workers, thread_name_prefix="edgeledger-drill")
        self.slots = threading.BoundedSemaphore(workers)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="edgeledger-write")
        self.recording: tuple[Future[tuple[list[None], dict[str, str]]], dict] | None = None

    def execute(self) -> None:
        with self.db.connection() as conn:
            books = storage.unresolved_books(conn)
            tickers = [book.ticker for book in books]
            self.coverage = storage.bar_coverage(conn, tickers)
            self.versions = storage.bar_versions(conn, tickers)
            self.last = storage.ticker_resolutions(conn, tickers)
        self.report.tickers = len(books)
        groups = list(group_books(books, max_signals=GROUP_SIGNALS, max_tickers=self.group))
        try:
            # A pipeline: while group i is evaluated on this thread, group i+1's bars are
            # stored on the writer thread and group i+2's are downloading; group i-1's
            # outcomes are written after that store. Groups share no rows.
            downloads = [self._start_fetch(group) for group in groups[:2]]
            storing = self._start_store(downloads.pop(0)) if groups else None
            for i, group in enumerate(groups):
                assert storing is not None
                failed = self._finish_store(storing.result())
                if i + 1 < len(groups):
                    storing = self._start_store(downloads.pop(0))
                if i + 2 < len(groups):
                    downloads.append(self._start_fetch(groups[i + 2]))
                self._resolve_group(group, failed)
            self._finish_recording()
        finally:
            # Past the time limit, a request still in flight is not waited for (it ends
            # by its own deadline, and its bars are not stored).
            waits = not self.limit.reached()
            self.pool.shutdown(wait=waits, cancel_futures=True)
            self.drill_pool.shutdown(wait=waits, cancel_futures=True)
            self.writer.shutdown(wait=True)
        failed = self.report.failed_tickers
        left = [t for t, r in failed.items() if r == self.limit.reason] if self.limit.ends else []
        if left:
            log.warning(
                "resolve reached its time limit; %d tickers left for the next run",
                len(left),
                extra={"job": JOB_NAME, "count": len(left)},
            )

    def _resolve_group(self, books: list[TickerBook], failed: set[str]) -> None:
        due = [
            book
            for book in books
            if book.ticker not in failed
            and needs_evaluation(
                book,
                _resolution(self.last.get(book.ticker)),
                self.versions.get(book.ticker, 0),
                as_of=self.as_of,
                interval=self.interval,
            )
        ]
        if due:
            self.report.tickers_evaluated += len(due)
            self._evaluate(
                {
                    b.ticker: bar_need(b, self.as_of, self.interval) or _empty_span(self.as_of)
                    for b in due
                }
            )

    # 1. fetch -------------------------------------------------------------------------

    def _start_fetch(self, books: list[TickerBook]) -> _Downloads:
        """Start downloading what each ticker's signals need of the primary interval."""
        wanted: dict[str, list[Span]] = {}
        for book in books:
            need = bar_need(book, self.as_of, self.interval)
            covered = self.coverage.get((book.ticker, self.interval), [])
            if need is not None and (spans := missing_spans(need, covered, self.interval)):
                wanted[book.ticker] = spans
        return self._submit(self.pool, wanted, self.interval)

    def _submit(
        self, pool: ThreadPoolExecutor, wanted: dict[str, list[Span]], interval: str
    ) -> _Downloads:
        return {
            ticker: pool.submit(self._download, ticker, interval, spans)
            for ticker, spans in wanted.items()
        }

    def _download(self, ticker: str, interval: str, spans: list[Span]) -> _Download:
        """Fetch each span (on a worker thread: nothing shared is touched here)."""
        done = _Download()
        primary = interval == self.interval
        for span in spans:
            if self.limit.reached():
                done.error = self.limit.reason
                return done
            done.requests += 1
            try:
                with self.slots:
                    frame = self.provider.fetch_bars(ticker, interval, span[0], span[1])
            except RangeNotAvailable as exc:
                if primary:
                    done.error = str(exc)
                    return done
                # Finer bars that the provider no longer keeps will never come: record the
                # span as asked, so the bar is settled pessimistically, once.
                log.info("finer bars unavailable", extra={"ticker": ticker, "reason": str(exc)})
                frame = pd.DataFrame(columns=["start", "open", "high", "low", "close", "volume"])
            except PriceError as exc:
                log.warning("prices failed", extra={"ticker": ticker, "reason": str(exc)})
                if not primary:
                    done.error = f"finer {interval} bars failed, retried next run: {exc}"
                    return done
                done.error = str(exc)
                # A provider that does not know the ticker (a typo, a delisting) will send
                # no bars: its signals are judged on the bars stored so far, which lets them
                # expire unfilled instead of staying open for ever.
                done.unknown = isinstance(exc, TickerNotFound)
                return done
            done.batches.append(BarBatch.complete(ticker, interval, frame, span))
        return done

    def _start_store(self, downloads: _Downloads) -> Future[_Stored]:
        return self.writer.submit(self._store, downloads)

    def _store(self, downloads: _Downloads) -> _Stored:
        """Wait for the downloads and store their bars with their coverage, in one
        transaction (ticker by ticker if the database refuses one). Runs on the writer
        thread: it only reads the coverage of these tickers, which nothing else changes
        meanwhile, and leaves the bookkeeping to `_finish_store`."""
        done = {ticker: self._downloaded(future) for ticker, future in downloads.items()}
        by_ticker = {ticker: d.batches for ticker, d in done.items() if d.batches}

        def write(
            conn: psycopg.Connection, part: dict[str, list[BarBatch]]
        ) -> dict[str, tuple[int, int]]:
            flat = [batch for ticker_batches in part.values() for batch in ticker_batches]
            return storage.store_bars(
                conn, flat, provider=self.provider.name, fetched_at=self.now, coverage=self.coverage
            )

        results, refused = self._in_transactions(by_ticker, write, "could not store bars")
        return _Stored(done, results, refused)

    def _downloaded(self, future: Future[_Download]) -> _Download:
        """A download's result; past the time limit, one not done yet is left behind."""
        try:
            return future.result(timeout=self.limit.remaining())
        except FutureTimeout:
            future.cancel()  # if it has not started
            return _Download(error=self.limit.reason)

    def _finish_store(self, stored: _Stored) -> set[str]:
        """Count and report what a store did; returns the tickers whose prices failed or
        whose bars were refused. Bars fetched before a ticker failed are kept."""
        failed: set[str] = set()
        for ticker, done in stored.downloads.items():
            self.report.requests += done.requests
            if done.unknown:
                self.report.failed_tickers[ticker] = f"{done.error}; {UNKNOWN_TICKER}"
            elif done.error is not None:
                self.report.failed_tickers[ticker] = done.error
                failed.add(ticker)
        self.report.failed_tickers.update(stored.refused)
        for ticker, done in stored.downloads.items():
            if ticker not in stored.refused:
                for batch in done.batches:
                    covered = self.coverage.setdefault((batch.ticker, batch.interval), [])
                    covered.append(batch.covered)
        for added_versions in stored.results:
            for ticker, (added, version) in added_versions.items():
                self.versions[ticker] = version
                self.report.bars_stored += added
        return failed | set(stored.refused)

    # 2. evaluate ------------------------------------------------------------------------

    def _evaluate(self, spans: dict[str, Span]) -> None:
        """Derive the outcomes of these tickers' signals from their stored bars, drill into
        ambiguous bars, and record the lot."""
        versions = {t: self.versions.get(t, 0) for t in spans}  # read before their bars
        with self.db.connection() as conn:
            signals = storage.open_signals_of(conn, list(spans))
            series = load_series(conn, spans, self.interval)
        bars = {ticker: prepare_bars(series.get(ticker, {}), self.interval) for ticker in signals}
        outcomes = {
            s.trade_id: self._derive(s, bars[ticker])
            for ticker, ticker_signals in signals.items()
            for s in ticker_signals
        }
        ambiguous = {
            ticker: found
            for ticker, ticker_signals in signals.items()
            if (
                found := [
                    s
                    for s in ticker_signals
                    if ambiguous_bar_spans(outcomes[s.trade_id], self.interval)
                ]
            )
        }
        if ambiguous and self.drill:
            asked, failed = self._drill(ambiguous, outcomes)
            for ticker in failed:
                del signals[ticker]  # not settled on the coarse bars alone: retried next run
            if asked - failed:
                drilled = {t: spans[t] for t in asked - failed}
                versions.update({t: self.versions.get(t, 0) for t in drilled})
                with self.db.connection() as conn:  # the primary bars are as they were
                    finer = load_series(conn, drilled, self.interval, finer_only=True)
                for ticker, by_interval in finer.items():
                    series.setdefault(ticker, {}).update(by_interval)
                for ticker in drilled:
                    ticker_bars = prepare_bars(series.get(ticker, {}), self.interval)
                    for signal in ambiguous[ticker]:
                        outcomes[signal.trade_id] = self._derive(signal, ticker_bars)
        self._record(signals, outcomes, versions)

    def _derive(self, signal: OpenSignal, bars: PreparedBars) -> Outcome:
        self.report.signals_evaluated += 1
        return derive_outcome(signal.terms, bars, as_of=self.as_of)

    # 3. drill down ------------------------------------------------------------------------

    def _drill(
        self, ambiguous: dict[str, list[OpenSignal]], outcomes: dict[str, Outcome]
    ) -> tuple[set[str], set[str]]:
        """Fetch finer bars for the ambiguous bars; returns (tickers that asked for a new
        span, tickers whose finer bars failed)."""
        asked: set[str] = set()
        failed: set[str] = set()
        for interval in self.drill:
            wanted: dict[str, list[Span]] = {}
            for ticker, signals in ambiguous.items():
                if ticker in failed:
                    continue
                bars = [
                    span
                    for s in signals
                    for span in ambiguous_bar_spans(outcomes[s.trade_id], self.interval)
                ]
                covered = self.coverage.get((ticker, interval), [])
                spans = [
                    m
                    for span in drill_requests(bars)
                    for m in missing_spans(span, covered, interval)
                ]
                if spans:
                    wanted[ticker] = spans
            asked |= wanted.keys()
            downloads = self._submit(self.drill_pool, wanted, interval)
            failed |= self._finish_store(self._store(downloads))
        return asked, failed

    # 4. record ------------------------------------------------------------------------------

    def _record(
        self,
        signals: dict[str, list[OpenSignal]],
        outcomes: dict[str, Outcome],
        versions: dict[str, int],
    ) -> None:
        changes = {ticker: _changes(found, outcomes) for ticker, found in signals.items()}

        def write(conn: psycopg.Connection, part: dict[str, _Changes]) -> None:
            # In the same transaction as the writes: a run that lost its lock (its session
            # died) may be racing another run by now, and must not append events twice.
            if not storage.holds_run_lock(conn, self.lock.key, self.lock.holder_pid):
                raise DatabaseUnavailable(
                    "the run lost its lock (its database session ended); nothing more is "
                    "recorded, the next run carries on"
                )
            writes = [w for c in part.values() for w in c.writes]
            events = [e for c in part.values() for e in c.events]
            storage.write_outcomes(conn, writes, as_of=self.as_of, interval=self.interval)
            storage.insert_events(conn, events, actor=ACTOR, occurred_at=self.now)
            storage.save_ticker_resolutions(
                conn,
                {ticker: versions[ticker] for ticker in part},
                as_of=self.as_of,
                interval=self.interval,
                resolved_at=self.now,
            )

        # Written on the writer thread while the next group is evaluated: these tickers'
        # rows are not touched by that work.
        future = self.writer.submit(
            self._in_transactions, changes, write, "could not record outcomes"
        )
        self._finish_recording()  # the group before, so at most one write is pending
        self.recording = (future, changes)

    def _finish_recording(self) -> None:
        """Wait for the pending group's write and count what it recorded."""
        if self.recording is None:
            return
        future, changes = self.recording
        self.recording = None
        _, refused = future.result()
        self.report.failed_tickers.update(refused)
        for ticker, change in changes.items():
            if ticker not in refused:
                self.report.outcomes_changed += change.changed
                self.report.events_written += len(change.events)
                self.report.closed.extend(change.closed)

    def _in_transactions(
        self,
        work: dict[str, W],
        write: Callable[[psycopg.Connection, dict[str, W]], R],
        what: str,
    ) -> tuple[list[R], dict[str, str]]:
        """Write a group's work in one transaction. If the database refuses it (bad data,
        not a lost connection, which ends the run), write ticker by ticker so that only the
        offending ticker fails and the others go on.

        Returns what each committed write returned, and why each failed ticker failed (for
        the caller to report: this runs on the writer thread too).
        """
        if not work:
            return [], {}
        try:
            return [self._write(work, write)], {}
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.OperationalError):
                raise
            refused: dict[str, psycopg.Error] = {next(iter(work)): exc}
        results: list[R] = []
        if len(work) > 1:
            refused = {}
            for ticker, item in work.items():
                try:
                    results.append(self._write({ticker: item}, write))
                except psycopg.Error as exc:
                    if isinstance(exc, psycopg.OperationalError):
                        raise
                    refused[ticker] = exc
        for ticker, exc in refused.items():
            log.error(what, extra={"ticker": ticker}, exc_info=exc)
        return results, {ticker: f"{what}: {exc}" for ticker, exc in refused.items()}

    def _write(
        self, part: dict[str, W], write: Callable[[psycopg.Connection, dict[str, W]], R]
    ) -> R:
        with self.db.connection() as conn, conn.transaction():
            return write(conn, part)


def prepare_bars(series: dict[str, BarSeries], primary: str) -> PreparedBars:
    """A ticker's stored bars, prepared once for all its signals (a ticker with no stored
    bars has empty ones)."""
    bars = series if primary in series else {primary: BarSeries.empty(primary), **series}
    return PreparedBars(bars, primary)


def derive_outcome(terms: SignalTerms, bars: PreparedBars, *, as_of: datetime) -> Outcome:
    """The rules applied to a stored signal's terms and its ticker's stored bars."""
    return resolve_signal(terms, bars, primary=bars.primary, as_of=as_of)


def load_series(
    conn: psycopg.Connection, spans: dict[str, Span], primary: str, *, finer_only: bool = False
) -> dict[str, dict[str, BarSeries]]:
    """Stored bars of the primary interval and every finer one (those exist only where a run
    drilled down), as BarSeries per ticker and interval; only the finer ones if asked."""
    most = INTERVALS[primary]
    intervals = [
        i for i in INTERVALS if INTERVALS[i] < most or (INTERVALS[i] == most and not finer_only)
    ]
    return {
        ticker: {interval: BarSeries(interval, *arrays) for interval, arrays in by_interval.items()}
        for ticker, by_interval in storage.load_bar_arrays(conn, spans, intervals).items()
    }


def _resolution(row: dict | None) -> TickerResolution | None:
    if row is None:
        return None
    return TickerResolution(row["bars_version"], row["as_of"], row["interval"])


def _empty_span(as_of: datetime) -> Span:
    return (as_of, as_of)


def _changes(signals: list[OpenSignal], outcomes: dict[str, Outcome]) -> _Changes:
    """The outcomes to write and events to append for one ticker's newly derived outcomes.

    An unchanged outcome is written again only to stamp a signal never evaluated before.
    """
    change = _Changes()
    for signal in signals:
        after = outcomes[signal.trade_id]
        before = signal.outcome
        if after == before and signal.resolved_as_of is not None:
            continue
        change.writes.append((signal.trade_id, after))
        change.changed += after != before
        for kind, payload in transition_events(before, after):
            change.events.append((signal.trade_id, kind, payload))
            if kind is EventKind.RESOLVED and not before.status.is_settled:
                change.closed.append(_closed(signal, after))
    return change


def _closed(signal: OpenSignal, outcome: Outcome) -> ClosedTrade:
    return ClosedTrade(
        trade_id=signal.trade_id,
        ticker=signal.ticker,
        strategy=signal.strategy,
        edges=signal.edges,
        status=outcome.status.value,
        r_achieved=None if outcome.r_achieved is None else str(outcome.r_achieved),
    )
