"""Many processes logging signals for the same ticker and day at once."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest

PROCESSES = 6
SIGNALS_EACH = 15

WORKER = """
import sys, time
from datetime import UTC, datetime, timedelta
from edgeledger import ledger
from edgeledger.database import Database
from edgeledger.core.model import Source
from edgeledger.core.validation import parse_signal

conninfo, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start_at = float(sys.argv[4])
now = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
with Database(conninfo, max_size=1) as db:
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(count):
        created = datetime(2026, 11, 20, 14, 30, tzinfo=UTC) + timedelta(seconds=worker * 1000 + i)
        raw = {"ticker": "NVDA", "trade_type": "day", "direction": "long", "entry": "181.20",
               "stop": "179.90", "target": "184", "confidence": 3, "created_at": created,
               "source_key": f"w{worker}-{i}"}
        ledger.log_signal(db, parse_signal(raw, now=now, default_source=Source.CHANNEL),
                          actor=f"worker-{worker}", now=now)
"""


@pytest.mark.slow
def test_concurrent_writers_get_distinct_trade_ids_and_lose_nothing(db_url):
    start_at = time.time() + 3.0  # let every process import and connect first
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, str(w), str(SIGNALS_EACH), str(start_at)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    failures = [w.stderr.read() for w in workers if w.wait(timeout=120) != 0]
    assert not failures, failures[0]

    with psycopg.connect(db_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT trade_id FROM trade_signals")]
        events = conn.execute("SELECT count(*) FROM signal_events WHERE kind = 'created'")
        created_events = events.fetchone()[0]
    total = PROCESSES * SIGNALS_EACH
    assert len(ids) == len(set(ids)) == total
    assert sorted(ids) == [f"NVDA-20261120-{n:03d}" for n in range(1, total + 1)]
    assert created_events == total
