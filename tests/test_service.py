"""`edgeledger run` as real processes: each slot runs once across two of them, and SIGTERM
stops one cleanly. Cron settings with seconds make the slots come every few seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from edgeledger import importer
from tests.factories import yahoo_chart, yahoo_rows

STOP_WITHIN = 30.0  # Railway's grace period


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(db_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EDGELEDGER_", "DISCORD_")) and k not in ("DATABASE_URL", "PORT")
    }
    env.update(
        DATABASE_URL=db_url,
        PORT=str(port),
        EDGELEDGER_HOST="127.0.0.1",
        EDGELEDGER_PRICE_PROVIDER="yahoo",
        EDGELEDGER_YAHOO_URL="http://127.0.0.1:9",  # never asked while the ledger is empty
    )
    env.update(extra)
    return env


def start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "edgeledger", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60.0) -> dict:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if process.poll() is not None:
            pytest.fail(f"edgeledger run exited early:\n{process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                return json.loads(reply.read())
        except OSError:
            time.sleep(0.2)
    pytest.fail("edgeledger run did not answer /healthz in time")


def stop(process: subprocess.Popen) -> tuple[int, float, str]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"no exit within {STOP_WITHIN}s of SIGTERM:\n{out}")
    return process.returncode, time.monotonic() - started, out


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_two_processes_run_each_slot_once(db_url, processes):
    fast = {
        "EDGELEDGER_RESOLVE_CRON": "*/2 * * * * *",
        "EDGELEDGER_WEEKLY_REPORT_CRON": "*/3 * * * * *",
        "EDGELEDGER_API_TOKEN": "s3cret-api-token",
    }
    ports = [free_port(), free_port()]
    for port in ports:
        processes.append(start(service_env(db_url, port, **fast)))
    for port, process in zip(ports, processes, strict=True):
        assert wait_healthy(port, process)["status"] == "ok"
    time.sleep(8)
    results = [stop(process) for process in processes]
    logs = "\n".join(out for _, _, out in results)
    assert [code for code, _, _ in results] == [0, 0], logs

    with psycopg.connect(db_url) as conn:
        slots = conn.execute(
            "SELECT job, status, count(*) FROM job_slots GROUP BY job, status"
        ).fetchall()
        counts = {(job, status): n for job, status, n in slots}
        resolve_runs = conn.execute(
            "SELECT count(*), count(DISTINCT scheduled_for) FROM job_runs"
            " WHERE job_name = 'resolve'"
        ).fetchone()
        (revision,) = conn.execute(
            "SELECT coalesce(max(revision), 0) FROM weekly_reports"
        ).fetchone()
    resolved, weekly = (
        counts.get(("resolve", "succeeded"), 0),
        counts.get(("weekly-report", "succeeded"), 0),
    )
    assert resolved >= 2 and weekly >= 2, (counts, logs)
    assert not [key for key in counts if key[1] == "failed"], (counts, logs)
    # The work itself happened once per slot: one resolve run record per slot, and one
    # weekly report rebuild (a revision) per slot.
    assert resolve_runs == (resolved, resolved)
    assert revision == weekly
    # Both processes fired the same slots: each slot claimed by one, the other stood down.
    assert "claimed by another process; left to it" in logs
    assert "s3cret-api-token" not in logs


@pytest.mark.slow
def test_sigterm_lets_the_run_in_hand_finish_then_exits_0(db, db_url, server, tmp_path, processes):
    signals = tmp_path / "signals.csv"
    signals.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "NVDA,swing,long,100,98,103,3,2026-11-20T15:00:00Z\n"
    )
    importer.import_file(db, signals, now=datetime(2026, 11, 20, 16, tzinfo=UTC))
    bars = [("2026-11-20T15:30:00Z", 100.6, 100.8, 99.8, 100.4)]
    # The price request takes 3 s: SIGTERM arrives while the run waits for it.
    body = yahoo_chart("NVDA", "1h", yahoo_rows(bars))
    server.reply("/v8/finance/chart/NVDA", json_body=body, delay=3.0)
    port = free_port()
    env = service_env(
        db_url,
        port,
        EDGELEDGER_RESOLVE_CRON="*/1 * * * * *",
        EDGELEDGER_YAHOO_URL=server.url,
        EDGELEDGER_DRILL_INTERVALS="none",
    )
    processes.append(start(env))
    wait_healthy(port, processes[0])
    deadline = time.monotonic() + 20
    while not server.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.seen, "no resolve run asked for prices"
    code, took, out = stop(processes[0])
    assert code == 0, out
    assert took < 25, out
    assert "stopping on SIGTERM" in out and "waiting for 1 job(s) in hand" in out, out
    with psycopg.connect(db_url) as conn:
        runs = conn.execute("SELECT status FROM job_runs WHERE job_name = 'resolve'").fetchall()
        slots = conn.execute("SELECT status FROM job_slots WHERE job = 'resolve'").fetchall()
        locks = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        ).fetchone()[0]
    assert runs == [("succeeded",)], out  # the run in hand finished; no new run started
    assert slots == [("succeeded",)], out
    assert locks == 0
