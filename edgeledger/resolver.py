"""One resolve run: fetch the bars open signals are missing, apply the rules, record outcomes.

Tickers are taken in groups (`group_tickers`, at most GROUP_SIGNALS signals), and each
step below reads or writes a whole group in a few statements, so database round trips grow
with groups, not tickers. The groups flow through a pipeline: while one is evaluated, the
next one's bars are being stored (on a writer thread, which also records the group before)
and the one after that is downloading (on `fetch_workers` threads).

The order of work is what keeps a run safe to kill and cheap to repeat:
0. Markets. Each ticker's market is decided once (edgeledger.core.markets: a person's setting, a
   market a signal named, the provider's word, the ticker's form, the default) and kept in
   the instruments table; bars are read by it.
1. Fetch. For each ticker with unresolved signals, ask the provider only for spans not yet
   covered, and store the group's complete bars with their coverage (the spans the
   provider answered for) in one transaction. Prices that do not exist (an unknown ticker,
   a missing file, a span beyond the provider's lookback) are no failure: the ticker's
   signals are judged on what was answered, and expire `no_data` where prices never came.
   A ticker whose prices fail for now (timeout, 5xx, 429, an unreadable answer) is
   skipped and reported; the others go on.
2. Evaluate. Only tickers whose bars, signals or expiries changed since their last
   evaluation are re-derived, from the stored bars, by edgeledger.core.outcome_rules.
3. Drill down. Signals settled pessimistically on an ambiguous bar get finer bars for that
   bar alone, then are derived again. Finer bars that do not exist (no file, an interval
   or span the provider lacks) are recorded as answered with no bars, so the bar is
   settled pessimistically once; only a failure for now leaves the ticker for the next run.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import pandas as pd
import psycopg

from edgeledger import storage
from edgeledger.core.bars import INTERVALS, BarBatch, BarSeries, interval_us
from edgeledger.core.markets import (
    DEFAULT_MARKET,
    MarketBook,
    MarketChoice,
    MarketSource,
    market_named,
    refine,
)
from edgeledger.core.model import EventKind, Outcome, TradeType
from edgeledger.core.outcome_rules import (
    PreparedBars,
    SignalTerms,
    resolve_signal,
    transition_events,
)
from edgeledger.core.resolution import (
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
from edgeledger.database import Database
from edgeledger.errors import DatabaseUnavailable, EdgeLedgerError, InvalidOption
from edgeledger.logs import flat
from edgeledger.prices import PriceError, PriceProvider, RangeNotAvailable, TickerNotFound

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

NO_PRICES = "its signals wait for prices; those that expire without them are marked no_data"
# Prices that do not exist, as opposed to prices that failed for now.
ABSENT = (TickerNotFound, RangeNotAvailable)

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
    interval: str | Mapping[str, str] = DEFAULT_INTERVAL,
    drill: Sequence[str] = DEFAULT_DRILL,
    slot: datetime | None = None,
    group_tickers: int = DEFAULT_GROUP_TICKERS,
    fetch_workers: int = DEFAULT_FETCH_WORKERS,
    default_market: str = DEFAULT_MARKET,
    allow_future_as_of: bool = False,
    time_limit: float | None = None,
) -> RunReport:
    """One pass over every unresolved signal; see the module docstring.

    `time_limit`: seconds after which the run asks for no more prices (None: no limit).

    An `as_of` after `now` would settle live signals on prices nobody knows yet (expiring
    them unfilled, for good), so it is refused unless `allow_future_as_of` (a backtest on
    an offline book). Either way no bar starting at or after `now` is fetched or used.
    """
    passes = interval_passes(interval)
    if as_of > now and not allow_future_as_of:
        raise InvalidOption(
            "--as-of",
            f"{as_of.isoformat()} is after now ({now.isoformat()}): it would settle live "
            "signals on prices not known yet; for a backtest on an offline book, pass "
            "--allow-future-as-of",
        )
    report = RunReport(as_of=as_of, interval=describe_passes(passes))
    with single_flight(db, JOB_NAME) as lock:
        if lock is None:
            report.skipped = "another resolve run is in progress"
            return report
        with db.connection() as conn:
            for dead in storage.abandon_dead_job_runs(
                conn, JOB_NAME, key=lock.key, own_pid=lock.holder_pid, at=now
            ):
                log.warning(
                    "marked run %s (started %s) abandoned: its holder is gone",
                    dead["id"],
                    dead["started_at"].isoformat(),
                )
            run_id = storage.claim_job_run(conn, JOB_NAME, slot, now, holder_pid=lock.holder_pid)
        if run_id is None:
            report.skipped = f"the run for {slot.isoformat()} already succeeded"
            return report
        try:
            limit = TimeLimit.start(time_limit)  # one limit for every pass
            runs = [
                _Run(
                    db,
                    provider,
                    report,
                    lock=lock,
                    now=now,
                    interval=pass_interval,
                    trade_types=trade_types,
                    drill=[d for d in drill if INTERVALS[d] < INTERVALS[pass_interval]],
                    group=group_tickers,
                    workers=fetch_workers,
                    default_market=market_named(default_market),
                    limit=limit,
                )
                for pass_interval, trade_types in passes.items()
            ]
            for run in runs:
                run.execute()
            report.tickers = len(set().union(*(run.tickers_seen for run in runs)))
            _clear_fulfilled_rederives(db, runs, now)
        except BaseException as exc:
            _finish(db, run_id, report, now, error=f"{type(exc).__name__}: {exc}")
            raise
        _finish(db, run_id, report, now)
    return report


def interval_passes(interval: str | Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The primary interval of each trade type, as {interval: trade types}: one pass of the
    run per interval. A single interval serves both day and swing trades."""
    by_type = (
        dict.fromkeys((TradeType.DAY.value, TradeType.SWING.value), interval)
        if isinstance(interval, str)
        else {TradeType(t).value: i for t, i in interval.items()}
    )
    passes: dict[str, tuple[str, ...]] = {}
    for trade_type, chosen in by_type.items():
        if chosen not in INTERVALS:
            raise EdgeLedgerError(
                f"interval {chosen!r} for {trade_type} trades is not one of {', '.join(INTERVALS)}"
            )
        passes[chosen] = (*passes.get(chosen, ()), trade_type)
    return passes


def describe_passes(passes: Mapping[str, Sequence[str]]) -> str:
    """'1h', or 'day 5m, swing 1h' when the trade types are settled on different bars."""
    if len(passes) == 1:
        return next(iter(passes))
    return ", ".join(f"{'/'.join(types)} {interval}" for interval, types in passes.items())


def _clear_fulfilled_rederives(db: Database, runs: Sequence[_Run], now: datetime) -> None:
    """Drop the requests to derive settled outcomes again that every pass fulfilled; a
    ticker a pass skipped (its prices failed) keeps its request for the next run, and so
    does a ticker whose market the provider changed in this run (it asked anew)."""
    asked = set().union(*(run.rederive_asked for run in runs))
    unfulfilled = set().union(*(run.rederive_asked - run.recorded for run in runs))
    moved = set().union(*(run.moved for run in runs))
    done = sorted(asked - unfulfilled - moved)
    if done:
        with db.connection() as conn:
            storage.clear_rederive(conn, done, before=now)


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
    error: str | None = None  # why the ticker's prices failed for now, as reported
    absent: str | None = None  # why some of the prices asked for do not exist
    dropped: dict[str, int] = field(default_factory=dict)  # bars dropped, by reason
    said: str | None = None  # the market the provider says the instrument trades on


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
    changed: set[str] = field(default_factory=set)  # trade ids whose outcome changed


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
        interval: str,
        trade_types: Sequence[str],
        drill: Sequence[str],
        group: int,
        workers: int,
        default_market: str = DEFAULT_MARKET,
        limit: TimeLimit | None = None,
    ) -> None:
        self.db, self.provider, self.report, self.lock = db, provider, report, lock
        self.limit = limit or TimeLimit.start(None)
        self.default_market = default_market
        self.markets: dict[str, MarketChoice] = {}
        self.answered_more: set[str] = set()  # tickers the provider answered more spans for
        self.heard: set[str] = set()  # tickers whose market the provider named this run
        self.moved: set[str] = set()  # of those, tickers whose market changed
        self.rederive_asked: set[str] = set()  # tickers asked to derive settled outcomes again
        self.recorded: set[str] = set()  # tickers whose evaluation this pass recorded
        self.tickers_seen: set[str] = set()
        self.short_windows: set[str] = set()  # signals whose window is shorter than a bar
        self.now, self.drill, self.group = now, list(drill), group
        self.as_of, self.interval = report.as_of, interval
        self.trade_types = tuple(trade_types)
        self.bars_until = min(self.as_of, now)  # never a bar from the future, whatever as_of
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
            books = storage.unresolved_books(
                conn, interval=self.interval, trade_types=self.trade_types
            )
            tickers = [book.ticker for book in books]
            self.markets = self._decide_markets(conn, books)
            self.coverage = storage.bar_coverage(conn, tickers)
            self.versions = storage.bar_versions(conn, tickers)
            self.last = storage.ticker_resolutions(conn, tickers, self.interval)
        self.rederive_asked = {book.ticker for book in books if book.rederive}
        self.tickers_seen = set(tickers)
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
            if self.short_windows:
                self.report.warnings.append(
                    f"{len(self.short_windows)} {'/'.join(self.trade_types)} signal(s) have a "
                    f"window shorter than one {self.interval} bar: they can only expire; settle"
                    f" them on finer bars (EDGELEDGER_RESOLVE_INTERVAL_DAY or _SWING)"
                )
            self.writer.shutdown(wait=True)
        failed = self.report.failed_tickers
        left = [t for t, r in failed.items() if r == self.limit.reason] if self.limit.ends else []
        if left:
            log.warning(
                "resolve reached its time limit; %d tickers left for the next run",
                len(left),
                extra={"job": JOB_NAME, "count": len(left)},
            )

    def _decide_markets(
        self, conn: psycopg.Connection, books: list[TickerBook]
    ) -> dict[str, MarketChoice]:
        """Each ticker's market as decided so far; new decisions are stored at once, so
        `instruments list` shows every instrument a run has seen."""
        known = storage.market_book(conn, [b.ticker for b in books], default=self.default_market)
        rules = MarketBook({}, self.default_market)
        chosen: dict[str, MarketChoice] = {}
        for book in books:
            choice = known.instruments.get(book.ticker)
            # The ticker's form and the default are decided again: the rules or the default
            # setting may have changed; a person, a signal or the provider are not.
            if (
                choice is None
                or choice.source.rank > MarketSource.PROVIDER.rank
                or (book.named_market and choice.source.rank > MarketSource.SIGNAL.rank)
            ):
                choice = rules.choose(book.ticker, book.named_market)
            chosen[book.ticker] = choice
        new = {t: c for t, c in chosen.items() if known.instruments.get(t) != c}
        for ticker, choice in storage.record_markets(conn, new, at=self.now).items():
            chosen[ticker] = choice
            self.report.markets[ticker] = f"{choice.market} ({choice.source.value})"
        return chosen

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
                market=self.markets[book.ticker].market,
                answered_more=book.ticker in self.answered_more,
            )
        ]
        if due:
            self.report.tickers_evaluated += len(due)
            self._evaluate(
                {
                    b.ticker: bar_need(b, self.bars_until, self.interval)
                    or _empty_span(self.bars_until)
                    for b in due
                }
            )

    # 1. fetch -------------------------------------------------------------------------

    def _start_fetch(self, books: list[TickerBook]) -> _Downloads:
        """Start downloading what each ticker's signals need of the primary interval."""
        wanted: dict[str, list[Span]] = {}
        for book in books:
            need = bar_need(book, self.bars_until, self.interval)
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
        market = self.markets.get(ticker)
        for span in spans:
            if self.limit.reached():
                done.error = self.limit.reason
                return done
            done.requests += 1
            try:
                with self.slots:
                    result = self.provider.fetch(ticker, interval, *span, market=market)
            except ABSENT as exc:
                if primary:
                    # Not answered, so not covered: the signals wait, and those that expire
                    # without prices are marked no_data, never "not triggered".
                    done.absent = str(exc)
                    return done
                # Finer bars that do not exist will never come: record the span as answered
                # with no bars, so the bar is settled pessimistically, once.
                log.info("no finer bars", extra={"ticker": ticker, "reason": str(exc)})
                frame = pd.DataFrame(columns=["start", "open", "high", "low", "close", "volume"])
            except PriceError as exc:
                log.debug("prices failed", extra={"ticker": ticker, "reason": str(exc)})
                which = "" if primary else f"finer {interval} bars: "
                done.error = f"{which}{exc} (retried next run)"
                return done
            else:
                frame = result.bars
                done.said = done.said or result.market
                for bar in result.dropped:
                    done.dropped[bar.reason] = done.dropped.get(bar.reason, 0) + 1
            read_by = None if market is None else refine(market, done.said).market
            done.batches.append(BarBatch.complete(ticker, interval, frame, span, read_by))
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
            if done.absent is not None:
                self.report.no_prices[ticker] = f"{done.absent}; {NO_PRICES}"
            elif done.error is not None:
                self.report.failed_tickers[ticker] = done.error
                failed.add(ticker)
            if done.dropped:
                self.report.count_dropped(ticker, done.dropped)
            if done.said is not None and ticker in self.markets:
                self._heard(ticker, done.said)
        self.report.failed_tickers.update(stored.refused)
        for ticker, done in stored.downloads.items():
            if ticker not in stored.refused:
                for batch in done.batches:
                    covered = self.coverage.setdefault((batch.ticker, batch.interval), [])
                    covered.append(batch.covered)
                    if batch.interval == self.interval:
                        self.answered_more.add(ticker)
        for added_versions in stored.results:
            for ticker, (added, version) in added_versions.items():
                self.versions[ticker] = version
                self.report.bars_stored += added
        return failed | set(stored.refused)

    def _heard(self, ticker: str, said: str) -> None:
        """The provider named the instrument's market: it outranks the ticker rules and the
        default (stored with the ticker's outcomes)."""
        before = self.markets[ticker]
        after = refine(before, said)
        if after != before:
            self.markets[ticker] = after
            self.heard.add(ticker)
            if after.market != before.market:  # read differently from now on
                self.moved.add(ticker)
                self.report.markets[ticker] = f"{after.market} ({after.source.value})"

    # 2. evaluate ------------------------------------------------------------------------

    def _evaluate(self, spans: dict[str, Span]) -> None:
        """Derive the outcomes of these tickers' signals from their stored bars, drill into
        ambiguous bars, and record the lot."""
        versions = {t: self.versions.get(t, 0) for t in spans}  # read before their bars
        with self.db.connection() as conn:
            signals = storage.open_signals_of(conn, list(spans), self.trade_types)
            series = load_series(conn, spans, self.interval)
        bars = {ticker: self._prepare(ticker, series) for ticker in signals}
        outcomes = {
            s.trade_id: self._derive(s, bars[ticker])
            for ticker, ticker_signals in signals.items()
            for s in ticker_signals
        }
        ambiguous = {
            ticker: found
            for ticker, ticker_signals in signals.items()
            if (found := [s for s in ticker_signals if self._ambiguous_spans(s, outcomes)])
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
                    ticker_bars = self._prepare(ticker, series)
                    for signal in ambiguous[ticker]:
                        outcomes[signal.trade_id] = self._derive(signal, ticker_bars)
        self._record(signals, outcomes, versions)

    def _prepare(self, ticker: str, series: dict[str, dict[str, BarSeries]]) -> _TickerBars:
        return _TickerBars(
            series.get(ticker, {}),
            self.interval,
            self.markets[ticker].market,
            self.coverage.get((ticker, self.interval), []),
        )

    def _ambiguous_spans(self, signal: OpenSignal, outcomes: dict[str, Outcome]) -> list[Span]:
        market = signal.market or self.markets[signal.ticker].market
        return ambiguous_bar_spans(outcomes[signal.trade_id], self.interval, market)

    def _derive(self, signal: OpenSignal, bars: _TickerBars) -> Outcome:
        self.report.signals_evaluated += 1
        if signal.terms.expires_us - signal.terms.created_us < interval_us(self.interval):
            self.short_windows.add(signal.trade_id)
        return derive_outcome(signal.terms, bars.read_by(signal.market), as_of=self.as_of)

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
                bars = [span for s in signals for span in self._ambiguous_spans(s, outcomes)]
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

        def write(conn: psycopg.Connection, part: dict[str, _Changes]) -> set[str]:
            """Record a part of the group; returns the outcomes not written (set by hand
            while the run derived them)."""
            # In the same transaction as the writes: a run that lost its lock (its session
            # died) may be racing another run by now, and must not append events twice.
            if not storage.holds_run_lock(conn, self.lock.key, self.lock.holder_pid):
                raise DatabaseUnavailable(
                    "the run lost its lock (its database session ended); nothing more is "
                    "recorded, the next run carries on"
                )
            writes = [w for c in part.values() for w in c.writes]
            written = storage.write_outcomes(
                conn, writes, as_of=self.as_of, interval=self.interval, evidence_at=self.now
            )
            # No event for an outcome not written: a person set it by hand meanwhile.
            events = [e for c in part.values() for e in c.events if e[0] in written]
            storage.insert_events(conn, events, actor=ACTOR, occurred_at=self.now)
            heard = {t: self.markets[t] for t in part if t in self.heard}
            if heard:
                storage.record_markets(conn, heard, at=self.now)
            if moved := [t for t in part if t in self.moved]:
                storage.request_rederive(
                    conn, moved, at=self.now, reason="the provider named another market"
                )
            storage.save_ticker_resolutions(
                conn,
                {ticker: versions[ticker] for ticker in part},
                as_of=self.as_of,
                interval=self.interval,
                resolved_at=self.now,
                markets={ticker: self.markets[ticker].market for ticker in part},
            )
            return {trade_id for trade_id, _ in writes} - written

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
        results, refused = future.result()
        self.report.failed_tickers.update(refused)
        kept = set().union(*results)  # outcomes a person set meanwhile: not written
        for ticker, change in changes.items():
            if ticker not in refused:
                self.recorded.add(ticker)
                self.report.outcomes_changed += len(change.changed - kept)
                self.report.events_written += sum(e[0] not in kept for e in change.events)
                self.report.closed.extend(c for c in change.closed if c.trade_id not in kept)

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
        return results, {ticker: f"{what}: {flat(str(exc))}" for ticker, exc in refused.items()}

    def _write(
        self, part: dict[str, W], write: Callable[[psycopg.Connection, dict[str, W]], R]
    ) -> R:
        with self.db.connection() as conn, conn.transaction():
            return write(conn, part)


def prepare_bars(
    series: dict[str, BarSeries],
    primary: str,
    *,
    market: str | None = None,
    answered: Sequence[Span] | None = None,
) -> PreparedBars:
    """A ticker's stored bars, prepared once for all its signals (a ticker with no stored
    bars has empty ones), read by its market, with the spans the provider answered for."""
    bars = series if primary in series else {primary: BarSeries.empty(primary), **series}
    return PreparedBars(bars, primary, market=market, answered=answered)


class _TickerBars:
    """A ticker's bars prepared for its market, and for any other market a signal names
    (each made once, on first use)."""

    def __init__(
        self, series: dict[str, BarSeries], primary: str, market: str, answered: Sequence[Span]
    ) -> None:
        self.series, self.primary, self.market, self.answered = series, primary, market, answered
        self._by_market: dict[str, PreparedBars] = {}

    def read_by(self, named: str | None) -> PreparedBars:
        market = named or self.market
        if market not in self._by_market:
            self._by_market[market] = prepare_bars(
                self.series, self.primary, market=market, answered=self.answered
            )
        return self._by_market[market]


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
    return TickerResolution(row["bars_version"], row["as_of"], row["interval"], row["market"])


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
        if after != before:
            change.changed.add(signal.trade_id)
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
        exit_reason=None if outcome.exit_reason is None else outcome.exit_reason.value,
    )
