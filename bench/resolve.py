"""How fast is the resolve job? run_resolve on an open book beside a naive per-signal check.

A book of signals (default 20,000 over 500 tickers) is created across the 30 days before the
as-of time, each with an explicit expiry 45 days after it was created and levels wide enough
that most stay PENDING or OPEN through every run; a small share of tight signals settles
quickly, some on an ambiguous hour, so drill-down to 1-minute bars is exercised.

Prices come over real HTTP: a local server on 127.0.0.1, in a process of its own, answers
Yahoo chart v8 requests (/v8/finance/chart/{ticker}?period1&period2&interval) with JSON built
on the fly from seeded random-walk bars: 1-minute bars over the NYSE sessions of the window,
and hourly bars (starting at :30 ET, as Yahoo's do) aggregated from them, so drilling into an
hour finds the same prices. Both the resolver and the naive baseline use the real
YahooProvider from make_provider(PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": url})), its
clock set to the run's as-of time, so both pay the same per request: a loopback round trip,
JSON parsing and the provider's normalization. Nothing sleeps. Timed in one process:

1. a full run on an empty bar store, as of Friday 2026-11-20 15:30 ET;
2. the same run again, five times: nothing is new;
3. an incremental run an hour later, when the session's last hour has become complete;
4. the naive baseline the original plan described, on a copy of the same freshly imported
   book, at the full and incremental moments (and the nothing-new one with
   --naive-nothing-new): per run, one request per open signal for its hourly bars since it
   was created, a simple check of those bars against the stop and target, and one
   autocommitted UPDATE per signal, with no bar store.

A request is counted by the price server; the script also prints the measured cost of one
(HTTP, JSON, normalization) and a modelled speedup with MODELLED_LATENCY added per request.

Figures are recorded in bench/RESOLVE.md.

    python -m bench.resolve
    python -m bench.resolve --tickers 20 --signals-per-ticker 10   # a quick smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import json
import multiprocessing
import os
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd
import psycopg
import requests

from bench.common import create_database, describe_server, drop_database, server
from edgeledger import importer, migrations
from edgeledger.core.bars import INTERVALS, to_epoch_us
from edgeledger.core.markets import sessions_between
from edgeledger.core.resolution import RunReport
from edgeledger.database import Database
from edgeledger.prices import PriceProvider
from edgeledger.prices.factory import PriceSettings, make_provider
from edgeledger.prices.yahoo import chart_query
from edgeledger.resolver import DEFAULT_FETCH_WORKERS, DEFAULT_GROUP_TICKERS, run_resolve

# Friday 15:30 ET: the 14:30 ET hour has just ended. An hour later the session's last hour
# (15:30-16:30 ET by the rules) is complete: one new hourly bar for every ticker.
AS_OF = datetime(2026, 11, 20, 20, 30, tzinfo=UTC)
NEXT_HOUR = AS_OF + timedelta(hours=1)
# Bars are served for the NYSE sessions of the BAR_DAYS before AS_OF (2026-10-21 to
# 2026-11-20: no holiday; daylight saving ends on 2026-11-01); signals are created over the
# same days, after AS_OF - BAR_DAYS, so every hour they can drill into is inside Yahoo's
# 30-day 1m lookback.
BAR_DAYS = 30
EXPIRY = timedelta(days=45)  # every signal's explicit expires_at: created_at + 45 days
TIGHT_SHARE = 0.05  # signals with intraday-sized levels: they settle, some ambiguously
SEED = 20261121
HOUR = INTERVALS["1h"]
NOTHING_NEW_REPEATS = 5
# A round trip to a real provider, for the modelled column only: nothing sleeps.
MODELLED_LATENCY = 0.1
PROBE_REQUESTS = 300
CHART_PATH = "/v8/finance/chart/"
STATS_PATH = "/_bench/stats"
LEDGER_TABLES = (
    "trade_signals",
    "signal_events",
    "price_bars",
    "bar_coverage",
    "ticker_bar_state",
    "ticker_resolution",
    "job_runs",
)
SETTINGS_SHOWN = ("fsync", "synchronous_commit", "shared_buffers", "work_mem")
CSV_COLUMNS = (
    "ticker",
    "trade_type",
    "direction",
    "entry",
    "stop",
    "target",
    "target2",
    "confidence",
    "edges",
    "strategy",
    "created_at",
    "expires_at",
)
EDGES = (
    "VWAP reclaim",
    "RS vs SPY",
    "Opening range breakout",
    "Gap fill",
    "Bull flag",
    "Bear flag",
    "Base breakout",
    "Failed breakdown",
    "Volume spike",
    "Mean reversion",
)
STRATEGIES = ("momo-v2", "orb-5m", "swing-base", "gap-fade", "mean-revert")


# --- the market --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Every session minute of the window (epoch µs) and the hour (:30 ET) each belongs to."""

    minutes: np.ndarray  # int64 starts of 1m bars
    hours: np.ndarray  # int64 starts of 1h bars
    hour_first: np.ndarray  # index into minutes of each hour's first minute
    day_first: np.ndarray  # index into minutes of each session's first minute

    @classmethod
    def between(cls, first: datetime, last: datetime) -> Clock:
        minutes, hours, hour_first, day_first = [], [], [], []
        one_minute = 60_000_000
        for session in sessions_between("XNYS", first.date(), last.date()):
            open_us, close_us = to_epoch_us(session.open), to_epoch_us(session.close)
            day_first.append(len(minutes))
            for start in range(open_us, close_us, one_minute):
                if (start - open_us) % (60 * one_minute) == 0:
                    hours.append(start)
                    hour_first.append(len(minutes))
                minutes.append(start)
        return cls(
            np.array(minutes, dtype=np.int64),
            np.array(hours, dtype=np.int64),
            np.array(hour_first, dtype=np.int64),
            np.array(day_first, dtype=np.int64),
        )


@dataclass(frozen=True)
class Bars:
    """One ticker's bars of one interval as arrays (prices rounded to cents)."""

    starts: np.ndarray  # epoch µs
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def random_walk(rng: np.random.Generator, clock: Clock, price: float) -> tuple[Bars, Bars]:
    """Seeded 1m bars (a random walk with drift, overnight gaps and wicks) and the 1h bars
    they add up to, so every hour's minutes have the hour's open, high, low and close."""
    n = len(clock.minutes)
    sigma = rng.uniform(0.0004, 0.0008)  # per minute: an hour's range is ~0.5-1%
    steps = rng.normal(rng.normal(0, sigma * 0.005), sigma, n)  # drift: ~0.1%/day
    gaps = np.zeros(n)
    gaps[clock.day_first] = rng.normal(0, 0.004, len(clock.day_first))
    gaps[0] = 0.0
    close = np.round(price * np.exp(np.cumsum(steps + gaps)), 2)
    opens = np.empty(n)
    opens[1:] = close[:-1]
    opens[0] = round(price, 2)
    first = clock.day_first[clock.day_first > 0]
    opens[first] = np.round(close[first - 1] * np.exp(gaps[first]), 2)
    top, bottom = np.maximum(opens, close), np.minimum(opens, close)
    high = np.round(top * np.exp(np.abs(rng.normal(0, sigma * 0.6, n))), 2)
    low = np.round(bottom * np.exp(-np.abs(rng.normal(0, sigma * 0.6, n))), 2)
    volume = rng.integers(100, 20_000, n).astype(np.float64)
    minute = Bars(clock.minutes, opens, high, low, close, volume)
    cuts = clock.hour_first
    last = np.append(cuts[1:], n) - 1
    hour = Bars(
        clock.hours,
        opens[cuts],
        np.maximum.reduceat(high, cuts),
        np.minimum.reduceat(low, cuts),
        close[last],
        np.add.reduceat(volume, cuts),
    )
    return minute, hour


class Market:
    """Deterministic 1m and 1h bars for a fixed set of tickers."""

    def __init__(self, tickers: list[str], clock: Clock, seed: int = SEED) -> None:
        rng = np.random.default_rng(seed)
        self.clock = clock
        self.bars: dict[tuple[str, str], Bars] = {}
        for ticker in tickers:
            price = float(10 * 50 ** rng.random())  # $10 to $500, log-uniform
            minute, hour = random_walk(rng, clock, price)
            self.bars[(ticker, "1m")] = minute
            self.bars[(ticker, "1h")] = hour
        self.seconds = {"1m": clock.minutes // 1_000_000, "1h": clock.hours // 1_000_000}


# --- the price server --------------------------------------------------------------------


def chart_body(market: Market, ticker: str, interval: str, period1: int, period2: int) -> dict:
    """A Yahoo chart v8 body for the bars starting in [period1, period2) (epoch seconds),
    shaped like a real one (tests/factories.yahoo_chart); no bars means no `timestamp`."""
    meta = {
        "currency": "USD",
        "symbol": ticker,
        "exchangeName": "NMS",
        "instrumentType": "EQUITY",
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "dataGranularity": interval,
    }
    bars = market.bars[(ticker, interval)]
    lo, hi = np.searchsorted(market.seconds[interval], [period1, period2], "left")
    result: dict[str, Any] = {"meta": meta, "indicators": {"quote": [{}]}}
    if hi > lo:
        result["timestamp"] = market.seconds[interval][lo:hi].tolist()
        result["indicators"]["quote"][0] = {
            "open": bars.open[lo:hi].tolist(),
            "high": bars.high[lo:hi].tolist(),
            "low": bars.low[lo:hi].tolist(),
            "close": bars.close[lo:hi].tolist(),
            "volume": bars.volume[lo:hi].astype(np.int64).tolist(),
        }
    return {"chart": {"result": [result], "error": None}}


NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class _ChartServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], market: Market, latency: float) -> None:
        super().__init__(address, _ChartHandler)
        self.market = market
        self.latency = latency  # seconds each chart reply waits, as a network round trip would
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.bytes_sent = 0
        self.busy = 0.0  # seconds spent building replies

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _ChartHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, headers and body in one write, no Nagle: a lean loopback server."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ChartServer

    def do_GET(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        srv = self.server
        if parts.path == STATS_PATH:
            with srv.lock:
                body = {"requests": dict(srv.requests), "bytes": srv.bytes_sent, "busy": srv.busy}
            self._send(200, json.dumps(body).encode())
            return
        if not parts.path.startswith(CHART_PATH):
            self._send(404, b'{"finance": {"error": {"description": "no such path"}}}')
            return
        if srv.latency:
            time.sleep(srv.latency)  # each connection waits on its own, like a network
            started = time.perf_counter()
        ticker = unquote(parts.path[len(CHART_PATH) :])
        query = dict(parse_qsl(parts.query))
        interval = query.get("interval", "")
        if (ticker, interval) in srv.market.bars:
            period1, period2 = int(query["period1"]), int(query["period2"])
            status, body = 200, chart_body(srv.market, ticker, interval, period1, period2)
        else:
            status, body = 404, NOT_FOUND
        payload = json.dumps(body, separators=(",", ":")).encode()
        self._send(status, payload)
        with srv.lock:
            srv.requests[interval] += 1
            srv.bytes_sent += len(payload)
            srv.busy += time.perf_counter() - started

    def _send(self, status: int, payload: bytes) -> None:
        head = (
            f"HTTP/1.1 {status} {self.responses[status][0]}\r\n"
            "Content-Type: application/json;charset=utf-8\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        try:
            self.wfile.write(head + payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class ServerStats:
    requests: Counter[str]
    bytes_sent: int
    busy: float

    def __sub__(self, other: ServerStats) -> ServerStats:
        return ServerStats(
            self.requests - other.requests,
            self.bytes_sent - other.bytes_sent,
            self.busy - other.busy,
        )


class ChartServer:
    """The price server, in a process of its own (forked, so it shares the generated bars)."""

    def __init__(self, market: Market, latency: float = 0.0) -> None:
        self._httpd = _ChartServer(("127.0.0.1", 0), market, latency)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._process = multiprocessing.get_context("fork").Process(
            target=self._httpd.serve_forever, name="bench-chart-server", daemon=True
        )
        self._stats = requests.Session()

    def __enter__(self) -> ChartServer:
        self._process.start()
        self._httpd.socket.close()  # the child listens on its own copy
        for _ in range(100):
            with contextlib.suppress(requests.ConnectionError):
                self.stats()
                return self
            time.sleep(0.05)
        raise RuntimeError("the price server did not start")

    def __exit__(self, *exc: object) -> None:
        self._stats.close()
        self._process.terminate()
        self._process.join(10)

    def stats(self) -> ServerStats:
        body = self._stats.get(self.url + STATS_PATH, timeout=10).json()
        return ServerStats(Counter(body["requests"]), body["bytes"], body["busy"])


class BenchClock:
    """The provider's clock: the as-of time of the run (Yahoo's lookback is counted from it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def yahoo(url: str, clock: BenchClock) -> PriceProvider:
    """The real YahooProvider, configured as the job configures it, pointed at our server."""
    return make_provider(PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": url}), clock=clock)


@dataclass(frozen=True)
class Probe:
    label: str
    bars: float  # mean bars per reply
    fetch_ms: float  # median fetch_bars: HTTP, JSON, normalization
    http_ms: float  # median of the HTTP round trip and JSON parse alone
    server_ms: float  # mean time the server spent building a reply


def probe(server: ChartServer, market: Market, tickers: list[str], seed: int) -> list[Probe]:
    """The cost of one request as the jobs make them, measured before the runs."""
    rng = random.Random(seed)
    clock = BenchClock(AS_OF)
    provider = yahoo(server.url, clock)
    session = requests.Session()
    kinds = (
        ("1h, 15 days (a naive request)", "1h", timedelta(days=15)),
        ("1h, 34 days (a full run's)", "1h", timedelta(days=34)),
        ("1h, 2 hours (an incremental run's)", "1h", timedelta(hours=2)),
        ("1m, 1 hour (a drill-down)", "1m", timedelta(hours=1)),
    )
    found = []
    for label, interval, span in kinds:
        fetch, http, bars = [], [], []
        before = server.stats()
        for i in range(PROBE_REQUESTS):
            ticker = rng.choice(tickers)
            if interval == "1m":  # a random hour of the last 20 sessions
                hours = market.clock.hours[-140:]
                start = datetime.fromtimestamp(int(rng.choice(hours)) / 1e6, UTC)
                end = start + span
            else:
                start, end = AS_OF - span, AS_OF
            params = chart_query(start, end, interval)
            if i % 2:
                t0 = time.perf_counter()
                frame = provider.fetch_bars(ticker, interval, start, end)
                fetch.append(time.perf_counter() - t0)
                bars.append(len(frame))
            else:
                t0 = time.perf_counter()
                session.get(f"{server.url}{CHART_PATH}{ticker}", params=params, timeout=10).json()
                http.append(time.perf_counter() - t0)
        busy = (server.stats() - before).busy
        found.append(
            Probe(
                label,
                statistics.mean(bars),
                statistics.median(fetch) * 1000,
                statistics.median(http) * 1000,
                busy / PROBE_REQUESTS * 1000,
            )
        )
    session.close()
    return found


# --- the book ----------------------------------------------------------------------------


def ticker_symbols(rng: random.Random, count: int) -> list[str]:
    symbols: set[str] = set()
    while len(symbols) < count:
        symbols.add("".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=rng.randint(2, 4))))
    return sorted(symbols)


def write_book(path: Path, market: Market, tickers: list[str], per_ticker: int, seed: int) -> None:
    """Swing signals at random session minutes after AS_OF - BAR_DAYS, expiring 45 days
    after creation; levels set from the price then (see `_signal`)."""
    rng = random.Random(seed)
    book_from = to_epoch_us(AS_OF - timedelta(days=BAR_DAYS))
    as_of_us = to_epoch_us(AS_OF)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for ticker in tickers:
            minute, hour = market.bars[(ticker, "1m")], market.bars[(ticker, "1h")]
            first, last = np.searchsorted(minute.starts, [book_from, as_of_us], "left")
            for _ in range(per_ticker):
                k = rng.randrange(int(first), int(last))
                created_us = int(minute.starts[k]) + rng.randrange(60) * 1_000_000
                price = float(minute.open[k])  # the last trade before the signal
                current = int(np.searchsorted(hour.starts, created_us, "right")) - 1
                done = slice(max(0, current - 14), max(1, current))  # the last 14 hours
                atr = float((hour.high[done] - hour.low[done]).mean())
                writer.writerow(_signal(rng, ticker, created_us, price, atr))


def _signal(
    rng: random.Random, ticker: str, created_us: int, price: float, atr: float
) -> tuple[str, ...]:
    """Most signals (1 - TIGHT_SHARE): 70% enter near the price (within ±0.6 hourly ATR), 30%
    on a pullback 1-4% away; the stop is 6-15% from the entry, the target 1-3 R. The tight
    ones enter within ±0.6 ATR with a stop 0.5-2 ATR away and a target 1-3 R. 40% have a
    target2 0.5-1.5 R beyond the target; 60% are long."""
    side = 1 if rng.random() < 0.6 else -1
    if rng.random() < TIGHT_SHARE:
        entry = round((price + rng.uniform(-0.6, 0.6) * atr) * 100)
        risk = max(1, round(rng.uniform(0.5, 2.0) * atr * 100))
    else:
        if rng.random() < 0.7:
            entry = round((price + rng.uniform(-0.6, 0.6) * atr) * 100)
        else:
            entry = round(price * (1 - side * rng.uniform(0.01, 0.04)) * 100)
        risk = max(1, round(entry * rng.uniform(0.06, 0.15)))
    reward = max(1, round(rng.uniform(1.0, 3.0) * risk))
    target2 = entry + side * (reward + max(1, round(rng.uniform(0.5, 1.5) * risk)))
    created = datetime.fromtimestamp(created_us / 1_000_000, UTC)
    return (
        ticker,
        "swing",
        "long" if side == 1 else "short",
        _cents(entry),
        _cents(entry - side * risk),
        _cents(entry + side * reward),
        _cents(target2) if rng.random() < 0.4 else "",
        str(rng.randint(1, 5)),
        "; ".join(rng.sample(EDGES, rng.randint(1, 3))),
        rng.choice(STRATEGIES),
        created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (created + EXPIRY).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _cents(units: int) -> str:
    return f"{units // 100}.{units % 100:02d}"


@dataclass(frozen=True)
class Writes:
    """Rows inserted, updated and deleted in the ledger's tables (pg_stat_user_tables)."""

    by_table: dict[str, tuple[int, int, int]]

    def __sub__(self, other: Writes) -> Writes:
        return Writes(
            {
                t: tuple(a - b for a, b in zip(v, other.by_table.get(t, (0, 0, 0)), strict=True))
                for t, v in self.by_table.items()
            }
        )

    @property
    def totals(self) -> tuple[int, int, int]:
        values = self.by_table.values()
        return sum(v[0] for v in values), sum(v[1] for v in values), sum(v[2] for v in values)

    def describe(self) -> str:
        parts = [f"{t} +{i}/~{u}/-{d}" for t, (i, u, d) in self.by_table.items() if i or u or d]
        return ", ".join(parts) or "none"


def table_writes(conninfo: str) -> Writes:
    """Write counters once every other client of the database has gone: a backend flushes
    its statistics before it leaves pg_stat_activity, so the figures are complete."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(200):
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not others:
                break
            time.sleep(0.05)
        rows = conn.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
            " WHERE relname = ANY(%s)",
            (list(LEDGER_TABLES),),
        ).fetchall()
    found = {name: (i, u, d) for name, i, u, d in rows}
    return Writes({t: found.get(t, (0, 0, 0)) for t in LEDGER_TABLES})


@dataclass(frozen=True)
class Book:
    """Where a book stands: unresolved as the resolver counts them (PENDING, OPEN, or a WIN
    still watching target2) and as the naive baseline does (PENDING or OPEN)."""

    statuses: dict[str, int]
    unresolved: int
    pending_open: int
    ambiguous: int
    minute_bars: int
    hours_drilled: int

    def describe(self) -> str:
        statuses = ", ".join(f"{k} {v:,}" for k, v in self.statuses.items())
        return (
            f"{self.unresolved:,} unresolved ({self.pending_open:,} PENDING/OPEN); {statuses};"
            f" {self.ambiguous} ambiguous; 1m bars stored {self.minute_bars:,} in"
            f" {self.hours_drilled} hours"
        )


def book_state(conninfo: str) -> Book:
    with psycopg.connect(conninfo) as conn:
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM trade_signals GROUP BY status ORDER BY status"
            ).fetchall()
        )
        unresolved, pending_open, ambiguous = conn.execute(
            "SELECT count(*) FILTER (WHERE status IN ('PENDING', 'OPEN') OR (status = 'WIN'"
            "   AND target2 IS NOT NULL AND target2_hit IS NULL)),"
            " count(*) FILTER (WHERE status IN ('PENDING', 'OPEN')),"
            " count(*) FILTER (WHERE ambiguous)"
            " FROM trade_signals"
        ).fetchone()
        minute_bars, hours = conn.execute(
            "SELECT count(*), count(DISTINCT (ticker,"
            "   floor((extract(epoch FROM start) - 1800) / 3600)))"
            " FROM price_bars WHERE interval = '1m'"
        ).fetchone()
    return Book(statuses, unresolved, pending_open, ambiguous, minute_bars, hours)


# --- what is timed -----------------------------------------------------------------------


@dataclass
class NaiveReport:
    signals: int = 0
    closed: int = 0
    provider_seconds: float = 0.0
    check_seconds: float = 0.0
    update_seconds: float = 0.0


@dataclass
class Measured:
    label: str
    seconds: float
    http: ServerStats  # what the price server saw
    writes: Writes
    before: Book
    after: Book
    report: RunReport | None = None
    naive: NaiveReport | None = None
    fetches: Counter[str] = field(default_factory=Counter)  # fetch_bars calls by interval
    provider_seconds: float = 0.0  # inside the provider: HTTP, JSON, normalization

    @property
    def http_requests(self) -> int:
        return sum(self.http.requests.values())


class CountingProvider:
    """Counts and times fetch_bars calls by interval on the way to the real provider.

    The resolver calls it from several threads at once: `seconds` adds up every call's
    time, so it can exceed the run's wall time.
    """

    def __init__(self, inner: PriceProvider) -> None:
        self.inner, self.name = inner, inner.name
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0
        self._lock = threading.Lock()

    def fetch_bars(self, ticker: str, interval: str, start: datetime, end: datetime, **kw: Any):
        return self.fetch(ticker, interval, start, end, **kw).bars

    def fetch(self, ticker: str, interval: str, start: datetime, end: datetime, **kw: Any):
        started = time.perf_counter()
        try:
            return self.inner.fetch(ticker, interval, start, end, **kw)
        finally:
            with self._lock:
                self.calls[interval] += 1
                self.seconds += time.perf_counter() - started

    def plan_requests(self, *args: Any) -> Any:
        return self.inner.plan_requests(*args)


@dataclass
class Before:
    """A timed run's starting point: the rows written and the book so far, and a fresh
    counting provider (a job process starts with one)."""

    conninfo: str
    provider: CountingProvider
    writes: Writes
    book: Book

    @classmethod
    def take(cls, conninfo: str, prices: ChartServer, as_of: datetime) -> Before:
        provider = CountingProvider(yahoo(prices.url, BenchClock(as_of)))
        return cls(conninfo, provider, table_writes(conninfo), book_state(conninfo))

    def measured(self, label: str, seconds: float, http: ServerStats, **run: Any) -> Measured:
        """The figures of the run since, `run` being its report= or naive=."""
        return Measured(
            label,
            seconds,
            http,
            table_writes(self.conninfo) - self.writes,
            self.book,
            book_state(self.conninfo),
            fetches=self.provider.calls,
            provider_seconds=self.provider.seconds,
            **run,
        )


def timed_resolve(
    conninfo: str,
    prices: ChartServer,
    label: str,
    *,
    as_of: datetime,
    workers: int = DEFAULT_FETCH_WORKERS,
    profile: Path | None = None,
) -> Measured:
    """One run_resolve on a fresh, warmed pool and a fresh provider (a job process starts
    with both), timed."""
    before = Before.take(conninfo, prices, as_of)
    provider = before.provider
    with Database(conninfo, max_size=4) as db:
        # the run holds three at once: its lock, its work and its writer thread's
        with db.connection() as a, db.connection() as b, db.connection() as c:
            for conn in (a, b, c):
                conn.execute("SELECT 1")
        profiler = cProfile.Profile() if profile else None
        before_http = prices.stats()
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        report = run_resolve(
            db,
            provider,
            as_of=as_of,
            now=as_of,
            interval="1h",
            drill=("1m",),
            fetch_workers=workers,
        )
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
        http = prices.stats() - before_http
    if profiler and profile:
        profiler.dump_stats(profile)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    if report.requests != sum(provider.calls.values()):
        raise RuntimeError(f"the run reports {report.requests} requests, made {provider.calls}")
    if report.failed_tickers:
        raise RuntimeError(f"tickers failed: {dict(list(report.failed_tickers.items())[:5])}")
    return before.measured(label, seconds, http, report=report)


NAIVE_OPEN = """
SELECT trade_id, ticker, direction, entry, stop, target, created_at, expires_at
FROM trade_signals WHERE status IN ('PENDING', 'OPEN') ORDER BY id
"""
NAIVE_WRITE = """
UPDATE trade_signals
SET status = %s, fill_price = %s, triggered_at = %s, exit_price = %s, closed_at = %s,
    exit_reason = %s, r_achieved = %s
WHERE trade_id = %s
"""


def naive_run(conn: psycopg.Connection, provider: PriceProvider, as_of: datetime) -> NaiveReport:
    """The original plan: per open signal, ask for its prices, check them, write its status."""
    report = NaiveReport()
    for row in conn.execute(NAIVE_OPEN).fetchall():
        started = time.perf_counter()
        frame = provider.fetch_bars(row[1], "1h", row[6], as_of)
        fetched = time.perf_counter()
        values = naive_check(row, frame, as_of)
        checked = time.perf_counter()
        conn.execute(NAIVE_WRITE, (*values, row[0]))
        report.provider_seconds += fetched - started
        report.check_seconds += checked - fetched
        report.update_seconds += time.perf_counter() - checked
        report.signals += 1
        report.closed += values[0] in ("WIN", "LOSS", "EXPIRED")
    return report


def naive_check(row: tuple, frame: pd.DataFrame, as_of: datetime) -> tuple:
    """Walk the hours since creation: fill on a touch of the entry, then stop or target,
    expiry at the end. No gaps, no ambiguity, no drill-down: a cost baseline, not the rules."""
    _, _, direction, entry, stop, target, _, expires_at = row
    end = pd.Timestamp(min(as_of, expires_at))
    usable = frame[frame["start"] + HOUR <= end]
    sign = 1 if direction == "long" else -1
    e, s, t = sign * float(entry), sign * float(stop), sign * float(target)
    highs, lows = usable["high"].to_numpy(), usable["low"].to_numpy()
    if sign < 0:
        highs, lows = -lows, -highs
    starts = usable["start"].tolist()
    status, fill_at = "PENDING", None
    for i, start in enumerate(starts):
        if status == "PENDING":
            if lows[i] <= e <= highs[i]:
                status, fill_at = "OPEN", start.to_pydatetime()
            continue
        if lows[i] <= s:
            return _naive_closed("LOSS", entry, fill_at, stop, start, "stop", -1)
        if highs[i] >= t:
            return _naive_closed("WIN", entry, fill_at, target, start, "target", (t - e) / (e - s))
    if as_of < expires_at:
        return (status, entry if fill_at else None, fill_at, None, None, None, None)
    if status == "PENDING":
        return ("EXPIRED", None, None, None, None, "not_triggered", None)
    last_close = Decimal(repr(float(usable["close"].iloc[-1])))
    r = (sign * float(last_close) - e) / (e - s)
    return _naive_closed("EXPIRED", entry, fill_at, last_close, starts[-1], "timeout", r)


def _naive_closed(
    status: str,
    fill: Decimal,
    fill_at: datetime,
    price: Decimal,
    at: pd.Timestamp,
    reason: str,
    r: float,
) -> tuple:
    r_achieved = Decimal(repr(r)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
    return (status, fill, fill_at, price, at.to_pydatetime(), reason, r_achieved)


def timed_naive(conninfo: str, prices: ChartServer, label: str, *, as_of: datetime) -> Measured:
    before = Before.take(conninfo, prices, as_of)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT 1")
        before_http = prices.stats()
        start = time.perf_counter()
        report = naive_run(conn, before.provider, as_of)
        seconds = time.perf_counter() - start
        http = prices.stats() - before_http
    return before.measured(label, seconds, http, naive=report)


# --- output --------------------------------------------------------------------------------


@dataclass
class Results:
    full: Measured
    nothing_new: list[Measured]
    incremental: Measured
    naive_full: Measured | None  # None with --resolver-only
    naive_nothing_new: Measured | None
    naive_incremental: Measured | None

    @property
    def nothing_new_seconds(self) -> float:
        return statistics.median(m.seconds for m in self.nothing_new)

    def speedups(self) -> list[tuple[str, float, float]]:
        """(run, measured speedup, speedup with MODELLED_LATENCY added per HTTP request)."""
        if self.naive_full is None or self.naive_incremental is None:
            return []
        pairs = [("full", self.naive_full, [self.full])]
        if self.naive_nothing_new:
            pairs.append(("nothing new", self.naive_nothing_new, self.nothing_new))
        else:  # the naive baseline has no "nothing new": any later run costs what this one did
            pairs.append(("nothing new (vs naive +1 h)", self.naive_incremental, self.nothing_new))
        pairs.append(("incremental", self.naive_incremental, [self.incremental]))
        found = []
        for name, naive, ours in pairs:
            seconds = statistics.median(m.seconds for m in ours)
            requests_ = statistics.median(m.http_requests for m in ours)
            modelled = (naive.seconds + naive.http_requests * MODELLED_LATENCY) / (
                seconds + requests_ * MODELLED_LATENCY
            )
            found.append((name, naive.seconds / seconds, modelled))
        return found


def print_probes(probes: list[Probe]) -> None:
    print(
        f"\nper-request cost, {PROBE_REQUESTS} requests each (half through"
        " YahooProvider.fetch_bars, half as a bare GET + JSON parse):"
    )
    print(
        f"| {'request':<36} | {'bars':>5} | {'fetch_bars ms':>13} | {'GET+json ms':>11}"
        f" | {'server ms':>9} |"
    )
    print(f"|{'-' * 38}|{'-' * 7}|{'-' * 15}|{'-' * 13}|{'-' * 11}|")
    for p in probes:
        print(
            f"| {p.label:<36} | {p.bars:>5.0f} | {p.fetch_ms:>13.2f} | {p.http_ms:>11.2f}"
            f" | {p.server_ms:>9.2f} |"
        )


def print_table(rows: list[Measured]) -> None:
    head = (
        f"| {'run':<26} | {'seconds':>7} | {'provider s, all threads':>23} "
        f"| {'HTTP 1h':>7} | {'HTTP 1m':>7} | {'fetch 1m':>8} "
        f"| {'tickers':>7} | {'evaluated':>9} | {'bars stored':>11} | {'changed':>7} "
        f"| {'events':>6} | {'unresolved before→after':>23} | {'rows +ins/~upd/-del':>21} |"
    )
    print(head)
    print("|" + "|".join("-" * len(cell) for cell in head.split("|")[1:-1]) + "|")
    for m in rows:
        ins, upd, dele = m.writes.totals
        if m.report:
            r = m.report
            cells = (
                f"{r.tickers_evaluated}/{r.tickers}",
                f"{r.signals_evaluated:,}",
                f"{r.bars_stored:,}",
                f"{r.outcomes_changed:,}",
                f"{r.events_written:,}",
            )
            opened = f"{m.before.unresolved:,}→{m.after.unresolved:,}"
        else:
            assert m.naive is not None
            cells = ("-", f"{m.naive.signals:,}", "-", "-", "-")
            opened = f"{m.before.pending_open:,}→{m.after.pending_open:,}"
        print(
            f"| {m.label:<26} | {m.seconds:>7.3f} | {m.provider_seconds:>23.2f} "
            f"| {m.http.requests['1h']:>7,} "
            f"| {m.http.requests['1m']:>7,} | {m.fetches['1m']:>8,} | {cells[0]:>7} "
            f"| {cells[1]:>9} | {cells[2]:>11} | {cells[3]:>7} | {cells[4]:>6} | {opened:>23} "
            f"| {f'+{ins:,}/~{upd:,}/-{dele:,}':>21} |"
        )


def print_targets(results: Results) -> None:
    full, incremental = results.full, results.incremental
    speedups = results.speedups()
    print()
    print(
        "speedup over the naive baseline, measured, and modelled"
        f" ({MODELLED_LATENCY * 1000:.0f} ms added per HTTP request; nothing sleeps):"
    )
    for name, measured, modelled in speedups:
        print(f"  {name:<28} {measured:7.1f}x measured  {modelled:8.1f}x modelled")
    checks = [
        ("full run < 10 s", full.seconds < 10, f"{full.seconds:.2f} s"),
        (
            "nothing-new run < 0.5 s",
            results.nothing_new_seconds < 0.5,
            f"median {results.nothing_new_seconds:.3f} s",
        ),
    ]
    checks += [
        (f"{name} run >= 20x faster than naive (measured)", measured >= 20, f"{measured:.1f}x")
        for name, measured, _ in speedups
    ]
    for m in (full, results.nothing_new[0], incremental):
        assert m.report is not None
        hourly, minute = m.http.requests["1h"], m.http.requests["1m"]
        checks.append(
            (
                f"{m.label}: 1h (primary) requests <= tickers with open signals",
                hourly <= m.report.tickers,
                f"{hourly} for {m.report.tickers} tickers",
            )
        )
        checks.append(
            (
                f"{m.label}: all requests, drill-down included, <= tickers with open signals",
                hourly + minute <= m.report.tickers,
                f"{hourly + minute} ({hourly} 1h + {minute} 1m) for {m.report.tickers} tickers",
            )
        )
    for name, met, figure in checks:
        print(f"  [{'met' if met else 'MISSED'}] {name}: {figure}")


# --- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    tickers = ticker_symbols(rng, args.tickers)
    clock = Clock.between(AS_OF - timedelta(days=BAR_DAYS), AS_OF)
    market = Market(tickers, clock, args.seed)
    complete = int((clock.hours < to_epoch_us(AS_OF)).sum())
    print(
        f"{len(tickers)} tickers, each with {len(clock.hours)} hourly and {len(clock.minutes):,}"
        f" 1-minute bars over {len(clock.day_first)} sessions ({complete} hours complete at"
        f" {AS_OF:%Y-%m-%d %H:%M} UTC); generated in {time.perf_counter() - t0:.1f}s"
    )
    # The price server forks before any thread (psycopg pools) exists in this process.
    with ChartServer(market, args.latency_ms / 1000) as prices, contextlib.ExitStack() as stack:
        print(
            f"price server {prices.url} (pid {prices._process.pid}), chart replies delayed"
            f" {args.latency_ms:g} ms; the resolver fetches with {args.fetch_workers} workers"
            f" in groups of {DEFAULT_GROUP_TICKERS} tickers"
        )
        handle, name = tempfile.mkstemp(prefix="bench_resolve_", suffix=".csv")
        os.close(handle)
        path = Path(name)
        stack.callback(path.unlink, missing_ok=True)
        write_book(path, market, tickers, args.signals_per_ticker, args.seed)
        admin = stack.enter_context(server(args.database_url, args.data_dir))
        suffix = uuid.uuid4().hex[:8]
        ours, naive = f"bench_resolve_{suffix}", f"bench_resolve_{suffix}_naive"
        stack.callback(drop_database, admin, naive)
        stack.callback(drop_database, admin, ours)
        url = create_database(admin, ours)
        for line in describe_server(url, SETTINGS_SHOWN):
            print(line)
        with Database(url, max_size=2) as db:
            migrations.upgrade(db)
            start = time.perf_counter()
            imported = importer.import_file(db, path, now=AS_OF)
            print(f"imported {imported.inserted:,} signals in {time.perf_counter() - start:.1f}s")
        naive_url = create_database(admin, naive, template=ours)  # the same book, untouched
        probes = probe(prices, market, tickers, args.seed)
        print_probes(probes)
        results = measure(url, naive_url, prices, args)

    rows = [
        results.full,
        *results.nothing_new,
        results.incremental,
        *(
            m
            for m in (results.naive_full, results.naive_nothing_new, results.naive_incremental)
            if m
        ),
    ]
    print()
    for m in rows:
        if m is results.full or m is results.naive_full:
            print(f"before {m.label}: {m.before.describe()}")
        print(f"after {m.label}: {m.after.describe()}")
    print()
    print_table(rows)
    print()
    for m in rows:
        served = m.http.bytes_sent / max(1, m.http_requests) / 1024
        print(
            f"{m.label}: {m.writes.describe()}; server {m.http.busy:.2f} s building"
            f" {m.http_requests:,} replies ({served:.1f} KiB each)"
        )
        if m.naive:
            n = m.naive
            rest = m.seconds - n.provider_seconds - n.check_seconds - n.update_seconds
            print(
                f"  {n.signals:,} signals checked, {n.closed:,} closed; provider"
                f" {n.provider_seconds:.2f} s ({n.provider_seconds / max(1, n.signals) * 1000:.2f}"
                f" ms a request), check {n.check_seconds:.2f} s, UPDATEs {n.update_seconds:.2f} s,"
                f" the rest {rest:.2f} s"
            )
    print_targets(results)
    print(f"\nbenchmark wall time {time.perf_counter() - t0:.0f}s")


def measure(url: str, naive_url: str, prices: ChartServer, args: argparse.Namespace) -> Results:
    """Every timed run, in order."""

    def profile(run: str) -> Path | None:
        return args.profile if args.profile_run == run else None

    def done(m: Measured) -> Measured:
        print(f"  {m.label}: {m.seconds:.3f} s", file=sys.stderr, flush=True)
        return m

    workers = args.fetch_workers
    full = done(
        timed_resolve(url, prices, "full", as_of=AS_OF, workers=workers, profile=profile("full"))
    )
    nothing_new = [
        done(
            timed_resolve(
                url,
                prices,
                f"nothing new #{i + 1}",
                as_of=AS_OF,
                workers=workers,
                profile=profile("nothing-new") if i == 0 else None,
            )
        )
        for i in range(NOTHING_NEW_REPEATS)
    ]
    incremental = done(
        timed_resolve(
            url,
            prices,
            "incremental (+1 h)",
            as_of=NEXT_HOUR,
            workers=workers,
            profile=profile("incremental"),
        )
    )
    if args.resolver_only:
        return Results(full, nothing_new, incremental, None, None, None)
    naive_full = done(timed_naive(naive_url, prices, "naive full", as_of=AS_OF))
    naive_nothing_new = None
    if args.naive_nothing_new:
        naive_nothing_new = done(timed_naive(naive_url, prices, "naive nothing new", as_of=AS_OF))
    naive_incremental = done(
        timed_naive(naive_url, prices, "naive incremental (+1 h)", as_of=NEXT_HOUR)
    )
    return Results(full, nothing_new, incremental, naive_full, naive_nothing_new, naive_incremental)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python -m bench.resolve --tickers 20 --signals-per-ticker 10",
    )
    parser.add_argument("--tickers", type=int, default=500, help="tickers in the book")
    parser.add_argument("--signals-per-ticker", type=int, default=40, help="signals per ticker")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of prices and signals")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or None,
        help="a server to create the scratch databases on (default: $BENCH_DATABASE_URL, "
        "else an embedded PostgreSQL)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the embedded server lives (default: a temporary directory)",
    )
    parser.add_argument(
        "--fetch-workers",
        type=int,
        default=DEFAULT_FETCH_WORKERS,
        help=f"the resolver's download threads (default {DEFAULT_FETCH_WORKERS}, as shipped)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay every chart reply this long, as a network round trip would (default 0: "
        "loopback only); measured, unlike the modelled figures",
    )
    parser.add_argument(
        "--naive-nothing-new",
        action="store_true",
        help="also time the naive baseline at the nothing-new moment (about 3 minutes at full "
        "size; it makes the same requests and UPDATEs as its incremental run)",
    )
    parser.add_argument(
        "--resolver-only",
        action="store_true",
        help="time the resolver's runs only, not the naive baseline (for iterating on the "
        "resolver; no speedups are printed)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="cProfile one run (--profile-run) into this file; print the top functions to stderr",
    )
    parser.add_argument(
        "--profile-run",
        choices=("full", "nothing-new", "incremental"),
        default="full",
        help="which run --profile profiles (default: full)",
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
