"""How fast do the analytics read the ledger? storage.load_trades on a million closed trades.

The statistics, the edge rankings and the weekly report all start from the trades frame, so
reading it bounds them all: all time (what `stats --period all` and `edges --period all` read),
one week (what a weekly report reads besides all time), and about 100 trades (what a resolve
run that closed 100 trades recalculates rolling metrics from). The ledger is generated and
COPYed straight into trade_signals, outcomes included, since the importer and the resolver
have benchmarks of their own. Figures are recorded in bench/README.md.

    python -m bench.report --trades 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from bench.common import describe_server, scratch_database, server
from edgeledger import migrations, reporting, storage
from edgeledger.core.periods import NEW_YORK, last_full_week, period_to
from edgeledger.core.resolution import ClosedTrade, RunReport
from edgeledger.database import Database
from edgeledger.storage.rows import named_query

END = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # the newest trade; figures do not move by day
SPAN = timedelta(days=730)  # two years
SEED = 20261201
EDGE_NAMES = [
    "VWAP reclaim", "RS vs SPY", "ORB 15m", "Gap & go", "Bull flag", "Bear flag", "HOD break",
    "LOD break", "Inside day", "NR7", "20EMA bounce", "50SMA bounce", "Volume spike",
    "Earnings drift", "Sector strength", "Short squeeze", "Double bottom", "Double top",
    "Cup & handle", "Ascending triangle", "Descending triangle", "Trend line break", "Pivot",
    "Premarket high", "Premarket low", "Red to green", "Green to red", "ABCD", "Fib 0.618",
    "Mean reversion",
]  # fmt: skip
STRATEGIES = ["momo-v2", "swing-v1", "orb-v3", "revert-v1", "breakout-v2"]
COLUMNS = (
    "trade_id", "ticker", "trade_type", "direction", "entry", "stop", "target", "target2",
    "confidence", "edges", "rationale", "strategy", "source", "fingerprint", "created_at",
    "expires_at", "status", "fill_price", "triggered_at", "exit_price", "closed_at",
    "exit_reason", "r_achieved", "ambiguous", "mfe_r", "mae_r", "target2_hit",
)  # fmt: skip
# Narrower reads, as `stats` and `edges` may ask for them (all time).
NARROW = {
    "all time, numbers and choices only": [
        "trade_type", "direction", "confidence", "source", "status", "exit_reason", "r",
        "mfe_r", "mae_r", "ambiguous", "closed_at",
    ],
    "all time, + edges": ["source", "status", "exit_reason", "r", "closed_at", "edges"],
}  # fmt: skip
SETTINGS_SHOWN = ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")


# --- the ledger --------------------------------------------------------------------------


def generate(count: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """Closed trades as columns: 500 tickers, 30 edge names (1 to 3 a trade), 5 strategies,
    two years, 10% backtest; 45% WIN, 40% LOSS, 15% EXPIRED by timeout."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    tickers = np.unique(["".join(rng.choice(letters, 4)) for _ in range(600)])[:500]
    long = rng.random(count) < 0.6
    sign = np.where(long, 1.0, -1.0)
    entry = np.round(rng.uniform(10, 500, count), 2)
    risk = np.maximum(np.round(entry * rng.uniform(0.005, 0.03, count), 2), 0.01)
    reward = np.maximum(np.round(risk * rng.uniform(1, 3, count), 2), 0.01)
    stop, target = entry - sign * risk, entry + sign * reward
    has_t2 = rng.random(count) < 0.4
    target2 = np.where(has_t2, target + sign * risk, np.nan)
    outcome = rng.choice(3, count, p=[0.45, 0.40, 0.15])  # WIN, LOSS, timeout
    drift = np.round(risk * rng.uniform(-0.9, 0.9, count), 2)
    exit_price = np.select([outcome == 0, outcome == 1], [target, stop], entry + drift)
    r = np.round((exit_price - entry) / (entry - stop), 4)
    end_us = np.datetime64(END.replace(tzinfo=None), "us")
    hour, day = 3_600_000_000, 86_400_000_000
    created = end_us - (rng.random(count) * 730 * day).astype("timedelta64[us]")
    triggered = created + (rng.random(count) * 3 * hour).astype("timedelta64[us]")
    closed = triggered + (600_000_000 + rng.random(count) * 5 * day).astype("timedelta64[us]")
    order = np.argsort(created)
    columns = {
        "ticker": rng.choice(tickers, count),
        "long": long,
        "day": rng.random(count) < 0.65,
        "entry": entry, "stop": stop, "target": target, "target2": target2,
        "confidence": rng.integers(0, 6, count),
        "edge_count": rng.integers(1, 4, count),
        "edges": rng.integers(0, len(EDGE_NAMES), (count, 3)),
        "strategy": rng.integers(0, len(STRATEGIES), count),
        "backtest": rng.random(count) < 0.10,
        "created": created, "triggered": triggered, "closed": closed,
        "outcome": outcome, "exit_price": exit_price, "r": r,
        "mfe": np.round(np.maximum(r, 0) + rng.uniform(0, 0.8, count), 4),
        "mae": np.round(np.minimum(r, 0) - rng.uniform(0, 0.8, count), 4),
        "ambiguous": rng.random(count) < 0.03,
        "t2_hit": has_t2 & (outcome == 0) & (rng.random(count) < 0.3),
        "has_t2": has_t2,
    }  # fmt: skip
    return {name: values[order] for name, values in columns.items()}


def copy_lines(columns: dict[str, np.ndarray]) -> Iterator[str]:
    """The trades as COPY text rows of COLUMNS."""
    edge_json = [json.dumps({"name": name}) for name in EDGE_NAMES]
    statuses = ("WIN", "LOSS", "EXPIRED")
    reasons = ("target", "stop", "timeout")
    rationale = "Reclaimed VWAP on rising volume after a morning flush; SPY green"

    def prices(values: np.ndarray, places: int = 2) -> list[str]:
        return [f"{v:.{places}f}" if v == v else "\\N" for v in values.tolist()]

    def times(values: np.ndarray) -> list[str]:
        return np.datetime_as_string(values, unit="us", timezone="UTC").tolist()

    week = np.timedelta64(7, "D")
    text = {
        "entry": prices(columns["entry"]), "stop": prices(columns["stop"]),
        "target": prices(columns["target"]), "target2": prices(columns["target2"]),
        "exit": prices(columns["exit_price"]), "r": prices(columns["r"], 4),
        "mfe": prices(columns["mfe"], 4), "mae": prices(columns["mae"], 4),
        "created": times(columns["created"]), "expires": times(columns["created"] + week),
        "triggered": times(columns["triggered"]), "closed": times(columns["closed"]),
    }  # fmt: skip
    tickers = columns["ticker"].tolist()
    edges, edge_count = columns["edges"].tolist(), columns["edge_count"].tolist()
    flags = zip(
        columns["day"].tolist(), columns["long"].tolist(), columns["confidence"].tolist(),
        columns["strategy"].tolist(), columns["backtest"].tolist(), columns["outcome"].tolist(),
        columns["ambiguous"].tolist(), columns["has_t2"].tolist(), columns["t2_hit"].tolist(),
        strict=True,
    )  # fmt: skip
    for i, (day, long, stars, strategy, backtest, outcome, ambiguous, has_t2, t2_hit) in enumerate(
        flags
    ):
        picked = dict.fromkeys(edges[i][: edge_count[i]])
        yield "\t".join(
            (
                f"{tickers[i]}-{i + 1:07d}", tickers[i], "day" if day else "swing",
                "long" if long else "short", text["entry"][i], text["stop"][i],
                text["target"][i], text["target2"][i], str(stars),
                "[" + ", ".join(edge_json[e] for e in picked) + "]",
                rationale if i % 10 else "\\N", STRATEGIES[strategy],
                "backtest" if backtest else "import", f"bench-{i}", text["created"][i],
                text["expires"][i], statuses[outcome], text["entry"][i], text["triggered"][i],
                text["exit"][i], text["closed"][i], reasons[outcome], text["r"][i],
                "t" if ambiguous else "f", text["mfe"][i], text["mae"][i],
                ("t" if t2_hit else "f") if has_t2 else "\\N",
            )
        ) + "\n"  # fmt: skip


def load(conn: psycopg.Connection, columns: dict[str, np.ndarray]) -> None:
    """COPY the trades into trade_signals, and their tickers into instruments."""
    statement = f"COPY trade_signals ({', '.join(COLUMNS)}) FROM STDIN"
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        block: list[str] = []
        for line in copy_lines(columns):
            block.append(line)
            if len(block) == 20_000:
                copy.write("".join(block))
                block.clear()
        copy.write("".join(block))
    conn.execute(
        "INSERT INTO instruments (ticker, market, market_source)"
        " SELECT DISTINCT ticker, 'XNYS', 'ticker' FROM trade_signals"
    )


# --- timing ------------------------------------------------------------------------------------


def timed(action: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def slices(conn: psycopg.Connection) -> dict[str, dict[str, datetime | None]]:
    """The periods timed: all time, the last full week, and about 100 trades that closed
    together (as a resolve run that closed 100 trades would recalculate)."""
    week_end = datetime(2026, 11, 16, 5, 0, tzinfo=UTC)  # Monday 00:00 New York
    closes = conn.execute(
        "SELECT closed_at FROM trade_signals WHERE closed_at >= %s ORDER BY closed_at LIMIT 101",
        (week_end - timedelta(days=3),),
    ).fetchall()
    return {
        "all time": {},
        "one year (closed)": {"closed_from": week_end - timedelta(days=365), "closed_to": week_end},
        "30 days (closed)": {"closed_from": week_end - timedelta(days=30), "closed_to": week_end},
        "one week (closed)": {"closed_from": week_end - timedelta(days=7), "closed_to": week_end},
        "~100 trades (closed)": {"closed_from": closes[0][0], "closed_to": closes[-1][0]},
    }


def row(label: str, trades: int, seconds: list[float]) -> None:
    print(f"{label:34}{trades:>10,}{statistics.median(seconds):>10.3f}{min(seconds):>10.3f}")


def measure(conn: psycopg.Connection, repeat: int) -> None:
    """load_trades for each period, the cache's first build and its rebuild after a run, and
    what the all-time read is made of (the server's part: fetching the packed blocks)."""
    print(f"{'load_trades':34}{'trades':>10}{'median s':>10}{'best s':>10}")
    first, frame = timed(lambda: storage.load_trades(conn), 1)
    row("all time, first (builds the cache)", len(frame), first)
    for label, period in slices(conn).items():
        seconds, frame = timed(lambda p=period: storage.load_trades(conn, **p), repeat)
        row(label, len(frame), seconds)
    after: list[float] = []
    for _ in range(repeat):  # a run that closed 100 trades: their block is rebuilt
        conn.execute(
            "UPDATE trade_signals SET user_notes = coalesce(user_notes, '') || '.'"
            " WHERE id IN (SELECT id FROM trade_signals ORDER BY id DESC LIMIT 100)"
        )
        seconds, frame = timed(lambda: storage.load_trades(conn), 1)
        after += seconds
    row("all time, after 100 trades changed", len(frame), after)
    every = sql.SQL(named_query("trade_blocks")).format(fields=sql.SQL("*"))
    with conn.cursor(binary=True) as cursor:
        fetch, _ = timed(lambda: cursor.execute(every).fetchall(), repeat)
    row("  of which: fetching the blocks", len(frame), fetch)
    for label, columns in NARROW.items():
        seconds, frame = timed(lambda c=columns: storage.load_trades(conn, columns=c), repeat)
        row(label, len(frame), seconds)


def measure_reporting(db: Database, repeat: int) -> None:
    """What a trader waits for: `stats` and `edges --period all`, the weekly report built,
    drawn and stored, and the rolling metrics after a run that closed 100 trades."""
    # After every generated close (the newest closes on Nov 26): all time ends at whole days.
    now = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    everything = period_to("all", now)
    print(f"{'reporting':34}{'':>10}{'median s':>10}{'best s':>10}")
    seconds, days = timed(lambda: reporting.refresh_summaries(db), 1)
    row("day summaries, first build (days)", days, seconds)
    seconds, stats = timed(lambda: reporting.period_stats(db, everything), repeat)
    row("stats --period all", stats.metrics.n, seconds)
    seconds, ranks = timed(lambda: reporting.edge_ranking(db, everything), repeat)
    row("edges --period all", sum(e.n for e in ranks), seconds)
    seconds, stars = timed(lambda: reporting.confidence(db, everything), repeat)
    row("confidence --period all", stars.n, seconds)
    monday = last_full_week(now).start.astimezone(NEW_YORK).date()
    seconds, built = timed(lambda: reporting.build_weekly(db, monday, now=now), repeat)
    row("report weekly (build, draw, store)", built.report.totals.all_time.n_closed, seconds)
    print(f"  the HTML: {len(built.html.encode()) / 1024:.0f} KiB")
    with db.connection() as conn:
        recent = conn.execute(
            "SELECT trade_id, ticker, strategy, edges FROM trade_signals"
            " WHERE source <> 'backtest' ORDER BY closed_at DESC LIMIT 100"
        ).fetchall()
    closed = [
        ClosedTrade(
            trade_id=r["trade_id"], ticker=r["ticker"], strategy=r["strategy"],
            edges=tuple(e if isinstance(e, str) else e["name"] for e in r["edges"]),
            status="WIN", r_achieved="1",
        )
        for r in recent
    ]  # fmt: skip
    run = RunReport(as_of=now, interval="1h", closed=closed)
    seconds, _ = timed(lambda: reporting.after_resolve(db, run, now=now), repeat)
    row("rolling + feedback after 100 closed", len(closed), seconds)
    after: list[float] = []
    for _ in range(repeat):  # a run settled 100 trades: their days are summed up again
        with db.connection() as conn:
            conn.execute(
                "UPDATE trade_signals SET mfe_r = mfe_r + 0.01 WHERE id IN"
                " (SELECT id FROM trade_signals ORDER BY closed_at DESC LIMIT 100)"
            )
        seconds, stats = timed(lambda: reporting.period_stats(db, everything), 1)
        after += seconds
    row("stats --period all, after 100 closed", stats.metrics.n, after)


def explain(conn: psycopg.Connection) -> None:
    """Where the server's time goes when a block is aggregated."""
    plan = conn.execute(
        "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM trade_frame_packed(0, 16384, NULL, NULL,"
        " NULL, NULL)"
    ).fetchall()
    print("\n".join(line[0] for line in plan))


def run(args: argparse.Namespace) -> None:
    with (
        server(args.database_url, args.data_dir) as admin,
        scratch_database(admin, "bench_report") as url,
    ):
        for line in describe_server(url, SETTINGS_SHOWN):
            print(line)
        with Database(url, max_size=2) as db:
            migrations.upgrade(db)
        start = time.perf_counter()
        columns = generate(args.trades)
        print(f"generated {args.trades:,} closed trades in {time.perf_counter() - start:.1f}s")
        with psycopg.connect(url, autocommit=True) as conn:
            start = time.perf_counter()
            with conn.transaction():
                load(conn, columns)
            conn.execute("VACUUM (ANALYZE) trade_signals")
            size = conn.execute("SELECT pg_size_pretty(pg_table_size('trade_signals'))").fetchone()[
                0
            ]
            print(f"loaded by COPY in {time.perf_counter() - start:.1f}s (table: {size})")
            measure(conn, args.repeat)
            if args.explain:
                explain(conn)
        with Database(url, max_size=3) as db:
            measure_reporting(db, args.repeat)


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.report",
        description=__doc__.split("\n\n")[0],
        epilog="example: python -m bench.report --trades 100000 --explain",
    )
    parser.add_argument("--trades", type=_positive, default=1_000_000, help="closed trades")
    parser.add_argument("--repeat", type=_positive, default=5, help="timings per period")
    parser.add_argument("--explain", action="store_true", help="print a block's query plan")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or None,
        help="a server to create the scratch database on (default: $BENCH_DATABASE_URL, "
        "else an embedded PostgreSQL)",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="where the embedded server lives (default: a temporary one)"
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
