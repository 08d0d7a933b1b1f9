"""How fast is bulk import? importer.import_file on N generated signals beside a raw COPY.

A raw `COPY ... FROM STDIN (FORMAT csv)` of the same file into a table with the same columns
and no constraints is the floor the server sets on the same machine; the ratio between the two
is what validation, fingerprints, trade-id numbering, the ledger's constraints and indexes and
the `created` events cost on top of moving the bytes. A re-import of the same file shows what
the "adds nothing" path costs. Figures are recorded in bench/README.md.

    python -m bench.import_signals --rows 1000000
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import pstats
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg

from bench.common import describe_server, scratch_database, server
from edgeledger import importer, migrations
from edgeledger.database import Database

# The newest signal in the file; also the import's `now`, so no signal is "in the future" and
# the file (and therefore every figure) is the same whatever day the benchmark runs.
END = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
SEED = 20261121
COLUMNS = (
    "ticker",
    "trade_type",
    "direction",
    "entry",
    "stop",
    "target",
    "target2",
    "confidence",
    "edges",
    "rationale",
    "strategy",
    "created_at",
)
# The same columns in a table with nothing to check: what COPY costs when it only moves bytes.
PLAIN_TABLE = """
CREATE TABLE plain_signals (
    ticker text, trade_type text, direction text, entry numeric, stop numeric,
    target numeric, target2 numeric, confidence numeric, edges text, rationale text,
    strategy text, created_at timestamptz
)
"""
COPY_CHUNK = 1 << 20
SETTINGS_SHOWN = (
    "fsync",
    "synchronous_commit",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
)

KNOWN_TICKERS = (
    "NVDA",
    "AAPL",
    "MSFT",
    "AMZN",
    "META",
    "TSLA",
    "AMD",
    "GOOGL",
    "SPY",
    "QQQ",
    "IWM",
    "BRK.B",
    "BF-B",
    "^GSPC",
    "^VIX",
    "EURUSD=X",
    "GBPUSD=X",
    "ES=F",
)
EDGE_POOL = (
    "VWAP reclaim",
    "RS vs SPY",
    "Opening range breakout",
    "Gap fill",
    "Bull flag",
    "Bear flag",
    "Higher low",
    "Lower high",
    "Base breakout",
    "Failed breakdown",
    "Failed breakout",
    "Volume spike",
    "50 SMA bounce",
    "200 SMA reclaim",
    "Inside day",
    "Outside reversal",
    "Earnings drift",
    "Sector strength",
    "Short squeeze",
    "Double bottom",
    "Double top",
    "Cup and handle",
    "Wedge break",
    "Trend continuation",
    "Mean reversion",
    "Premarket high",
    "Prior day low",
    "Options flow",
    "Breadth thrust",
    "Weekly pivot",
)
SETUPS = (
    "Reclaimed VWAP",
    "Held the opening range",
    "Broke the downtrend line",
    "Tagged prior day high",
    "Rejected at resistance",
    "Bounced off the 20 EMA",
    "Squeezed through premarket high",
    "Faded the gap",
    "Flagged tight after the open",
)
CONTEXTS = (
    "on heavy volume",
    "with SPY green",
    "into earnings",
    "while the sector led",
    "after a failed breakdown",
    "with breadth improving",
    "with risk defined below the low",
    "on a quiet tape",
    "as rates eased",
)
STRATEGIES = ("momo-v2", "orb-5m", "swing-base", "gap-fade", "mean-revert", "trend-follow")
EASTERN_STANDARD = timezone(timedelta(hours=-5))


@dataclass(frozen=True)
class Ticker:
    """A symbol with its typical price and how many decimals it is quoted in."""

    symbol: str
    price: float
    places: int


@dataclass(frozen=True)
class Timing:
    """One line of the results table."""

    label: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


# --- the file ----------------------------------------------------------------------------


def generate_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """Write `rows` valid signals, the same ones for the same seed, so runs can be compared."""
    rng = random.Random(seed)
    tickers = _tickers(rng, 500)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(_signal(rng, tickers) for _ in range(rows))


def _tickers(rng: random.Random, count: int) -> list[Ticker]:
    """A few real symbols of every shape the validator admits, then random stock symbols."""
    symbols = list(KNOWN_TICKERS)
    seen = set(symbols)
    while len(symbols) < count:
        symbol = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=rng.randint(1, 5)))
        if symbol not in seen:
            seen.add(symbol)
            symbols.append(symbol)
    made = []
    for symbol in symbols:
        if symbol.endswith("=X"):
            made.append(Ticker(symbol, rng.uniform(1.0, 1.4), 5))
        else:
            made.append(Ticker(symbol, 2 * 750 ** rng.random(), 2))  # $2 to $1,500, log-uniform
    return made


def _signal(rng: random.Random, tickers: list[Ticker]) -> tuple[str, ...]:
    """One row of COLUMNS. Prices are whole units of the last decimal, so levels stay ordered."""
    ticker = rng.choice(tickers)
    scale = 10**ticker.places
    entry = max(round(ticker.price * rng.uniform(0.8, 1.25) * scale), 100)
    risk = max(round(entry * rng.uniform(0.004, 0.04)), 1)
    reward = max(round(risk * rng.uniform(1.0, 3.5)), 1)
    side = 1 if rng.random() < 0.6 else -1
    stop, target = entry - side * risk, entry + side * reward
    target2 = target + side * (reward // 2 + 1) if rng.random() < 0.4 else None
    created = (
        END.replace(hour=0, minute=0, second=0)
        - timedelta(days=rng.randrange(365))
        + timedelta(seconds=rng.randrange(13 * 3600 + 1800, 21 * 3600))
    )
    stamp = (
        created.astimezone(EASTERN_STANDARD).isoformat()
        if rng.random() < 0.1
        else created.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return (
        ticker.symbol,
        "day" if rng.random() < 0.65 else "swing",
        "long" if side == 1 else "short",
        _price(entry, ticker.places),
        _price(stop, ticker.places),
        _price(target, ticker.places),
        _price(target2, ticker.places) if target2 is not None else "",
        str(rng.randint(0, 5)),
        "; ".join(rng.sample(EDGE_POOL, rng.randint(1, 3))),
        f"{rng.choice(SETUPS)} {rng.choice(CONTEXTS)}" if rng.random() < 0.9 else "",
        rng.choice(STRATEGIES) if rng.random() < 0.8 else "",
        stamp,
    )


def _price(units: int, places: int) -> str:
    whole, fraction = divmod(units, 10**places)
    return f"{whole}.{fraction:0{places}d}"


# --- what is timed -----------------------------------------------------------------------


def timed_import(
    db: Database, path: Path, label: str, profile: Path | None = None
) -> tuple[importer.ImportReport, list[Timing]]:
    """import_file end to end, split at its progress reports into the phases it goes through."""
    last: dict[str, float] = {}

    def progress(stage: str, count: int) -> None:
        last[stage] = time.perf_counter()

    profiler = cProfile.Profile()
    start = time.perf_counter()
    if profile:
        profiler.enable()
    report = importer.import_file(db, path, now=END, progress=progress)
    profiler.disable()
    end = time.perf_counter()
    if profile:
        profiler.dump_stats(profile)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)
    checked, copied = last.get("checked", start), last.get("copied", end)
    return report, [
        Timing(label, report.rows, end - start),
        Timing("  read + validate + spool", report.rows, checked - start),
        Timing("  COPY to staging", report.rows, copied - checked),
        Timing("  number + insert + commit", report.rows, end - copied),
    ]


def timed_raw_copy(conninfo: str, path: Path, rows: int) -> Timing:
    """COPY the same file, header and all, into the unconstrained table; commit included."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(PLAIN_TABLE)
        conn.commit()
        start = time.perf_counter()
        with (
            conn.cursor() as cursor,
            path.open("rb") as source,
            cursor.copy("COPY plain_signals FROM STDIN (FORMAT csv, HEADER)") as copy,
        ):
            while chunk := source.read(COPY_CHUNK):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - start
        copied = conn.execute("SELECT count(*) FROM plain_signals").fetchone()[0]
    if copied != rows:
        raise RuntimeError(f"raw COPY loaded {copied} rows, expected {rows}")
    return Timing("raw COPY (csv, no constraints)", rows, seconds)


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (the server's is not included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def print_table(timings: list[Timing]) -> None:
    print(f"{'':34}{'rows':>10}{'seconds':>10}{'rows/s':>10}")
    for t in timings:
        print(f"{t.label:34}{t.rows:>10,}{t.seconds:>10.1f}{t.rate:>10,.0f}")


# --- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    handle, name = tempfile.mkstemp(prefix="bench_signals_", suffix=".csv")
    os.close(handle)
    path = Path(name)
    try:
        start = time.perf_counter()
        generate_csv(path, args.rows)
        print(
            f"generated {args.rows:,} signals ({path.stat().st_size / 2**20:.0f} MiB) in "
            f"{time.perf_counter() - start:.1f}s: {path}"
        )
        with (
            server(args.database_url, args.data_dir) as admin,
            scratch_database(admin, "bench_import") as url,
        ):
            for line in describe_server(url, SETTINGS_SHOWN):
                print(line)
            with Database(url, max_size=2) as db:
                migrations.upgrade(db)
                rss_before = peak_rss_mib()
                report, first = timed_import(db, path, "import_file", args.profile)
                rss_after = peak_rss_mib()
                raw = timed_raw_copy(url, path, args.rows)
                again, second = timed_import(db, path, "re-import (adds nothing)")
        print(
            f"inserted {report.inserted:,}, duplicates in file {report.duplicates_in_file:,};"
            f" re-import inserted {again.inserted:,}, already present {again.already_present:,}"
        )
        print_table([*first, raw, second[0]])
        print(
            f"import_file takes {first[0].seconds / raw.seconds:.1f}x the raw COPY's time"
            f" ({first[0].rate / raw.rate:.1%} of its rows/s)"
        )
        print(f"peak RSS: {rss_after:.0f} MiB ({rss_before:.0f} MiB before the import)")
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of rows")
    return number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_signals",
        description=__doc__.split("\n\n")[0],
        epilog="example: python -m bench.import_signals --rows 100000 --keep",
    )
    parser.add_argument("--rows", type=_positive, default=1_000_000, help="signals in the file")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or None,
        help="a server to create the scratch database on (default: $BENCH_DATABASE_URL, "
        "else an embedded PostgreSQL)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the embedded server lives (default: a temporary directory)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV file")
    parser.add_argument(
        "--profile", type=Path, help="cProfile the first import into this file; print the top 20"
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
