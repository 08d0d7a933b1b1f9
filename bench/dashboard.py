"""The dashboard at a million trades: the overview and the trade table's first pages,
served over HTTP by the app of `edgeledger run`, each under 300 ms.

The trades are bench/report.py's (generated with its seed, COPYed straight into
trade_signals, outcomes included). The app runs in this process on 127.0.0.1 with a real
login; each page is asked for `--repeat` times after one warm-up (the first read after a
bulk load builds the day summaries, timed on its own). What each overview is made of is
timed beside it, to show what dominates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from bench.common import describe_server, scratch_database, server
from bench.report import SETTINGS_SHOWN, generate, load
from edgeledger import dashboard, migrations, reporting, storage
from edgeledger.core.dashboard_data import R_BIN
from edgeledger.core.periods import period_to
from edgeledger.database import Database
from edgeledger.settings import Settings
from edgeledger.web import make_app

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # after the last close of the generated trades
TOKEN = "bench-dashboard-token"
BUDGET = 0.300  # seconds a page may take
PAGES = (
    "/overview?period=all",
    "/overview?period=week",
    "/overview?period=month",
    "/overview?period=year",
    "/trades",
    "/trades?ticker={ticker}",
    "/trades?status=WIN&type=swing",
    "/trades?edge=VWAP%20reclaim",
)


def line(label: str, seconds: list[float], note: str = "") -> None:
    median, best = statistics.median(seconds), min(seconds)
    print(f"{label:40}{median * 1000:>10.0f}{best * 1000:>10.0f}  {note}")


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


async def serve_pages(db: Database, repeat: int, ticker: str) -> dict[str, list[float]]:
    settings = replace(Settings.from_env({}), dashboard_token=TOKEN)
    app = make_app(db, settings, clock=lambda: NOW)
    found: dict[str, list[float]] = {}
    jar = CookieJar(unsafe=True)
    async with TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=jar) as client:
        form = await (await client.get("/login")).text()
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        await client.post("/login", data={"token": TOKEN, "csrf": csrf})
        start = time.perf_counter()
        first = await client.get("/overview?period=all")
        assert first.status == 200, first.status
        html = await first.text()
        found["first overview"] = [time.perf_counter() - start]
        shown = html.split('data-figure="n">', 1)[1].split("<", 1)[0]
        print(f"the overview shows {shown} closed trades of all time")
        for path in (p.format(ticker=ticker) for p in PAGES):
            seconds = []
            for i in range(repeat + 1):
                start = time.perf_counter()
                response = await client.get(path)
                body = await response.read()
                assert response.status == 200, (path, response.status)
                if i:  # the first is the warm-up
                    seconds.append(time.perf_counter() - start)
            found[path] = seconds
            if path == "/trades":
                cursor = body.decode().split('rel="next"', 1)[0].rsplit('href="', 1)[1]
                nxt = cursor.split('"', 1)[0].replace("&amp;", "&")
                found["/trades, the next page"] = [await _get(client, nxt) for _ in range(repeat)]
    return found


async def _get(client: TestClient, path: str) -> float:
    start = time.perf_counter()
    response = await client.get(path)
    await response.read()
    assert response.status == 200
    return time.perf_counter() - start


def parts(db: Database, repeat: int) -> None:
    """What the all-time overview is made of, each part on its own."""
    period = period_to("all", NOW)
    first, end_day = reporting.days_of(period)

    def summary_rows() -> None:
        with db.connection() as conn, conn.transaction():
            storage.refresh_day_summaries(conn)
            storage.summary_rows(conn, "live", "all", first, end_day)

    def r_bins() -> None:
        with db.connection() as conn:
            storage.r_bins_between(conn, "live", first, end_day)

    def r_rows() -> None:
        with db.connection() as conn:
            storage.r_bin_counts(conn, R_BIN, period.start, period.end)

    print(f"\n{'the all-time overview, by part':40}{'median ms':>10}{'best ms':>10}")
    line(
        "  period_stats (day summaries)", timed(lambda: reporting.period_stats(db, period), repeat)
    )
    line(
        "  edge_ranking (day summaries)", timed(lambda: reporting.edge_ranking(db, period), repeat)
    )
    line("  win rate over time (summary rows)", timed(summary_rows, repeat))
    line("  R bins (day bins, sql/0012)", timed(r_bins, repeat))
    line("  (R bins counted from the rows instead)", timed(r_rows, 1))
    line("  the use case in all", timed(lambda: dashboard.overview(db, "all", now=NOW), repeat))
    line("  trade_page, first page", timed(lambda: dashboard.trade_page(db, {}), repeat))


def run(args: argparse.Namespace) -> None:
    with (
        server(args.database_url, args.data_dir) as admin,
        scratch_database(admin, "bench_dashboard") as url,
    ):
        for text in describe_server(url, SETTINGS_SHOWN):
            print(text)
        with Database(url, max_size=2) as db:
            migrations.upgrade(db)
        columns = generate(args.trades)
        with psycopg.connect(url, autocommit=True) as conn:
            start = time.perf_counter()
            with conn.transaction():
                load(conn, columns)
            conn.execute("VACUUM (ANALYZE) trade_signals")
            print(f"{args.trades:,} trades loaded by COPY in {time.perf_counter() - start:.1f}s")
            closed = conn.execute(
                "SELECT count(*) FROM trade_signals WHERE source <> 'backtest'"
                " AND status IN ('WIN', 'LOSS', 'EXPIRED') AND fill_price IS NOT NULL"
                " AND r_achieved IS NOT NULL AND exit_reason IS DISTINCT FROM 'no_data'"
            ).fetchone()[0]
            print(f"of which {closed:,} live trades filled and closed (what the overview counts)")
            ticker = conn.execute(  # a ticker of the book, with its share of the trades
                "SELECT ticker FROM trade_signals ORDER BY id DESC LIMIT 1"
            ).fetchone()[0]
        with Database(url, max_size=2) as db:  # as `db upgrade` (the release step) does
            start = time.perf_counter()
            days = reporting.refresh_summaries(db)
            print(f"{days} days summed up in {time.perf_counter() - start:.1f}s")
        with Database(url, max_size=4) as db:
            found = asyncio.run(serve_pages(db, args.repeat, ticker))
            print(f"\n{'served over HTTP (login, render)':40}{'median ms':>10}{'best ms':>10}")
            for label, seconds in found.items():
                slow = statistics.median(seconds) > BUDGET and not label.startswith("first")
                line(label, seconds, "OVER 300 ms" if slow else "")
            parts(db, args.repeat)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard",
        description=__doc__.split("\n\n")[0],
        epilog="example: python -m bench.dashboard --trades 100000",
    )
    parser.add_argument("--trades", type=int, default=1_000_000, help="trades to load")
    parser.add_argument("--repeat", type=int, default=5, help="timings per page")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or None,
        help="a server to create the scratch database on (default: an embedded PostgreSQL)",
    )
    parser.add_argument("--data-dir", type=Path, help="where the embedded server lives")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
