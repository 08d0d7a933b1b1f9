"""Breaking the resolve job for real: provider faults over HTTP, two runs at once, kill -9.

Prices come from the Yahoo provider talking to a local HTTP server that plays back
Yahoo-shaped responses; runs that must be killed or raced are real `edgeledger resolve`
processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest

from edgeledger import importer
from edgeledger.errors import EdgeLedgerError
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from tests.factories import export_text, yahoo_chart, yahoo_error, yahoo_rows

AS_OF = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
CHART = "/v8/finance/chart/"


def hourly(base: float) -> list[tuple]:
    """A Friday of hourly bars that fills a long at base and reaches base + 3."""
    return [
        ("2026-11-19T20:30:00Z", base + 0.5, base + 0.9, base + 0.3, base + 0.6),
        ("2026-11-20T15:30:00Z", base + 0.6, base + 0.8, base - 0.2, base + 0.4),
        ("2026-11-20T16:30:00Z", base + 0.4, base + 3.2, base + 0.2, base + 3.0),
        ("2026-11-20T17:30:00Z", base + 3.0, base + 3.5, base + 2.5, base + 3.1),
    ]


def signals_file(tmp_path, tickers: list[str]):
    path = tmp_path / "signals.csv"
    rows = ["ticker,trade_type,direction,entry,stop,target,confidence,edges,created_at"]
    for i, ticker in enumerate(tickers):
        base = 100 + i
        rows.append(
            f"{ticker},swing,long,{base},{base - 2},{base + 3},3,Edge {i % 3},2026-11-20T15:00:00Z"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def serve_prices(server, tickers: list[str]) -> None:
    for i, ticker in enumerate(tickers):
        server.reply(
            CHART + ticker, json_body=yahoo_chart(ticker, "1h", yahoo_rows(hourly(100 + i)))
        )


def yahoo_env(server, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGELEDGER_")}
    env.update(
        DATABASE_URL=db_url,
        EDGELEDGER_PRICE_PROVIDER="yahoo",
        EDGELEDGER_YAHOO_URL=server.url,
        EDGELEDGER_HTTP_TIMEOUT="20",
        EDGELEDGER_LOG_LEVEL="WARNING",
    )
    return env


def resolve_process(env: dict[str, str], *extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "edgeledger",
        "resolve",
        "--as-of",
        AS_OF.isoformat(),
        "--interval",
        "1h",
        "--drill",
        "none",
        *extra,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def final_state(db) -> tuple[str, Counter]:
    """The ledger export and the multiset of events (what happened, not when)."""
    with db.connection() as conn:
        rows = conn.execute("SELECT trade_id, kind, actor, payload FROM signal_events").fetchall()
    kinds = Counter(
        (r["trade_id"], r["kind"], r["actor"], str(sorted(r["payload"].items()))) for r in rows
    )
    return export_text(db, "jsonl"), kinds


def test_provider_faults_skip_only_their_ticker(db, server, tmp_path, sql_conn):
    tickers = ["GOOD", "GONE", "SLOW", "JUNK", "BUSY"]
    importer.import_file(db, signals_file(tmp_path, tickers), now=AS_OF)
    serve_prices(server, ["GOOD"])
    server.reply(CHART + "GONE", status=404, json_body=yahoo_error("http_404_unknown_symbol"))
    server.reply(CHART + "SLOW", delay=1.5, json_body={})
    server.reply(
        CHART + "JUNK", text="<html>not json</html>", headers={"Content-Type": "text/html"}
    )
    server.reply(
        CHART + "BUSY",
        status=429,
        text=yahoo_error("http_429_body_plain_text"),
        headers={"Retry-After": "3"},
    )
    server.reply(CHART + "BUSY", json_body=yahoo_chart("BUSY", "1h", yahoo_rows(hourly(104))))
    slept: list[float] = []
    settings = PriceSettings.from_env(
        {"EDGELEDGER_YAHOO_URL": server.url, "EDGELEDGER_HTTP_TIMEOUT": "0.5"}
    )
    provider = make_provider(settings, sleep=slept.append, clock=lambda: AS_OF)

    report = run_resolve(db, provider, as_of=AS_OF, now=AS_OF, interval="1h", drill=())

    # A ticker the provider does not know has no prices (its signals wait, and expire
    # no_data); the others failed for now and are retried next run.
    assert sorted(report.failed_tickers) == ["JUNK", "SLOW"]
    assert "GONE" in report.no_prices["GONE"] and "404" in report.no_prices["GONE"]
    assert 3.0 in slept  # the 429's Retry-After (3 s, no backoff step) was honoured
    statuses = dict(sql_conn.execute("SELECT ticker, status FROM trade_signals").fetchall())
    assert statuses == {
        "GOOD": "WIN",
        "BUSY": "WIN",
        "GONE": "PENDING",
        "SLOW": "PENDING",
        "JUNK": "PENDING",
    }
    status, counts = sql_conn.execute("SELECT status, counts FROM job_runs").fetchone()
    assert status == "succeeded" and sorted(counts["failed_tickers"]) == ["JUNK", "SLOW"]
    assert list(counts["no_prices"]) == ["GONE"]


@pytest.mark.parametrize("workers", [1, 4])
def test_prices_download_on_as_many_workers_as_configured(db, server, tmp_path, workers):
    tickers = [f"W{i}" for i in range(8)]
    importer.import_file(db, signals_file(tmp_path, tickers), now=AS_OF)
    for i, ticker in enumerate(tickers):  # slow replies, so requests in flight overlap
        body = yahoo_chart(ticker, "1h", yahoo_rows(hourly(100 + i)))
        server.reply(CHART + ticker, delay=0.2, json_body=body)
    provider = make_provider(
        PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": server.url}), clock=lambda: AS_OF
    )
    report = run_resolve(
        db, provider, as_of=AS_OF, now=AS_OF, interval="1h", drill=(), fetch_workers=workers
    )
    assert report.failed_tickers == {} and len(report.closed) == len(tickers)
    assert server.most_in_flight == workers


def test_finer_bars_past_the_providers_lookback_settle_pessimistically_once(
    db, server, tmp_path, sql_conn
):
    importer.import_file(db, signals_file(tmp_path, ["AMD"]), now=AS_OF)
    both_levels = [
        ("2026-11-19T20:30:00Z", 100.5, 100.9, 100.3, 100.6),
        ("2026-11-20T15:30:00Z", 100.6, 103.5, 97.5, 100.4),  # fills, then stop and target
    ]
    server.reply(CHART + "AMD", json_body=yahoo_chart("AMD", "1h", yahoo_rows(both_levels)))
    server.reply(CHART + "AMD", json_body=yahoo_chart("AMD", "1h", yahoo_rows(both_levels)))
    settings = PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": server.url})
    provider = make_provider(settings, sleep=lambda _: None, clock=lambda: AS_OF)
    old = datetime(2027, 1, 5, tzinfo=UTC)  # 1m bars of November are past Yahoo's 30 days
    old_provider = make_provider(settings, sleep=lambda _: None, clock=lambda: old)

    report = run_resolve(db, old_provider, as_of=AS_OF, now=AS_OF, interval="1h", drill=("1m",))
    assert report.failed_tickers == {}
    row = sql_conn.execute("SELECT status, exit_reason, ambiguous FROM trade_signals").fetchone()
    assert row == ("LOSS", "stop", True)
    later = run_resolve(db, provider, as_of=AS_OF, now=AS_OF, interval="1h", drill=("1m",))
    assert later.requests == 0  # the unavailable minutes are not asked for again
    assert [s.query.get("interval") for s in server.seen] == ["1h"]


@pytest.mark.slow
def test_two_runs_started_together_do_the_work_once(db, db_url, server, tmp_path, sql_conn):
    tickers = [f"T{i:02d}" for i in range(12)]
    importer.import_file(db, signals_file(tmp_path, tickers), now=AS_OF)
    serve_prices(server, tickers)
    env = yahoo_env(server, db_url)
    runs = [resolve_process(env, "--slot", "2026-11-20T21:00:00Z") for _ in range(2)]
    outputs = ["".join(run.communicate(timeout=120)) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("skipped" in out for out in outputs) == 1, outputs
    assert len(server.seen) == len(tickers)  # each ticker fetched once, by one run
    kinds = Counter(r[0] for r in sql_conn.execute("SELECT kind FROM signal_events"))
    assert kinds == {"created": 12, "triggered": 12, "resolved": 12}
    rows = sql_conn.execute("SELECT status FROM job_runs").fetchall()
    assert rows == [("succeeded",)]


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_requests", [1, 6, 11])
def test_a_run_killed_mid_way_converges_on_rerun(clone_db, server, tmp_path, kill_after_requests):
    from edgeledger.database import Database

    tickers = [f"K{i:02d}" for i in range(12)]
    path = signals_file(tmp_path, tickers)
    with Database(clone_db()) as reference, Database(clone_db()) as crashed:
        for db in (reference, crashed):
            importer.import_file(db, path, now=AS_OF)

        # The reference run is never interrupted.
        serve_prices(server, tickers)
        run = resolve_process(yahoo_env(server, reference.conninfo))
        assert run.wait(timeout=120) == 0, run.communicate()[1]
        expected = final_state(reference)

        # The same run, killed -9 while it waits on a slow ticker, then run again.
        server.reset()
        serve_prices(server, tickers)
        stuck = tickers[kill_after_requests]
        server.reset_path(CHART + stuck)
        server.reply(CHART + stuck, delay=30, json_body=yahoo_chart(stuck, "1h", []))
        server.reply(
            CHART + stuck,
            json_body=yahoo_chart(stuck, "1h", yahoo_rows(hourly(100 + kill_after_requests))),
        )
        # Groups of two tickers: the kill lands before any group is stored (1), or after
        # three (6) or five (11) groups were recorded.
        run = resolve_process(
            yahoo_env(server, crashed.conninfo) | {"EDGELEDGER_RESOLVE_GROUP": "2"}
        )
        deadline = time.monotonic() + 60
        while not server.to(CHART + stuck) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        assert run.returncode == -signal.SIGKILL

        rerun = resolve_process(yahoo_env(server, crashed.conninfo))
        assert rerun.wait(timeout=120) == 0, rerun.communicate()[1]
        assert final_state(crashed) == expected
        with psycopg.connect(crashed.conninfo) as conn:
            runs = conn.execute("SELECT status FROM job_runs ORDER BY id").fetchall()
        # the killed run's row tells the story: the rerun saw its holder gone and marked it
        assert runs == [("abandoned",), ("succeeded",)]


class InterruptedRun:
    """Two copies of one book: `expected` is the reference copy's state after an
    uninterrupted in-process run, and `run_until_stuck` starts the same run on the other
    copy, on a thread, returning once it waits on a slow reply (group 4 of 6)."""

    def __init__(self, clone_db, server, tmp_path, prefix: str) -> None:
        from edgeledger.database import Database

        self.database, self.server = Database, server
        self.tickers = [f"{prefix}{i:02d}" for i in range(12)]
        path = signals_file(tmp_path, self.tickers)
        self.provider = make_provider(
            PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": server.url}), clock=lambda: AS_OF
        )
        reference, self.url = clone_db(), clone_db()
        for url in (reference, self.url):
            with Database(url) as db:
                importer.import_file(db, path, now=AS_OF)
        serve_prices(server, self.tickers)
        self.resolve(reference)
        self.expected = self.state(reference)
        self.failures: list[BaseException] = []

    def resolve(self, url: str):
        with self.database(url) as db:
            return run_resolve(
                db, self.provider, as_of=AS_OF, now=AS_OF, interval="1h", drill=(), group_tickers=2
            )

    def state(self, url: str):
        with self.database(url) as db:
            return final_state(db)

    def run_until_stuck(self, delay: float) -> threading.Thread:
        self.server.reset()
        serve_prices(self.server, self.tickers)
        stuck = self.tickers[7]
        body = yahoo_chart(stuck, "1h", yahoo_rows(hourly(107)))
        self.server.reset_path(CHART + stuck)
        self.server.reply(CHART + stuck, delay=delay, json_body=body)
        self.server.reply(CHART + stuck, json_body=body)
        run = threading.Thread(target=self._run)
        run.start()
        deadline = time.monotonic() + 30
        while not self.server.to(CHART + stuck) and time.monotonic() < deadline:
            time.sleep(0.02)
        return run

    def _run(self) -> None:
        try:
            self.resolve(self.url)
        except BaseException as exc:
            self.failures.append(exc)


@pytest.mark.slow
def test_a_run_that_loses_the_database_mid_way_converges_on_rerun(clone_db, server, tmp_path):
    book = InterruptedRun(clone_db, server, tmp_path, "L")
    run = book.run_until_stuck(delay=1.0)
    with psycopg.connect(book.url, autocommit=True) as admin:  # a restart or failover
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    run.join(60)
    assert len(book.failures) == 1 and isinstance(book.failures[0], EdgeLedgerError)

    assert book.resolve(book.url).failed_tickers == {}
    assert book.state(book.url) == book.expected
    with psycopg.connect(book.url) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM job_runs ORDER BY id")]
    assert statuses[-1] == "succeeded" and "succeeded" not in statuses[:-1]


@pytest.mark.slow
def test_a_run_that_loses_its_lock_records_nothing_more_while_another_takes_over(
    clone_db, server, tmp_path
):
    book = InterruptedRun(clone_db, server, tmp_path, "R")
    # The first run's lock session dies while it waits on a slow ticker; a second run gets
    # the lock and does all the work while the first one still holds its loaded signals.
    first = book.run_until_stuck(delay=1.5)
    with psycopg.connect(book.url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND database = ("
            "   SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    assert ended == [(True,)]
    second = book.resolve(book.url)
    first.join(60)

    assert second.skipped is None and second.failed_tickers == {}
    assert book.state(book.url) == book.expected  # no event recorded twice
    assert len(book.failures) == 1 and "lost its lock" in str(book.failures[0])
