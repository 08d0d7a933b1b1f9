"""The connection pool: what a long-lived process sees when the server drops its sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from edgeledger.database import Database


def test_a_connection_the_server_dropped_is_replaced_not_handed_out(db, db_url):
    with db.connection() as conn:
        conn.execute("SELECT 1")
    with psycopg.connect(db_url, autocommit=True) as admin:  # a restart or failover
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with db.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1


def test_times_are_read_in_utc_whatever_the_servers_zone(db_url):
    with psycopg.connect(db_url, autocommit=True) as admin:
        name = admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f"ALTER DATABASE \"{name}\" SET TimeZone = 'America/Chicago'")
    with Database(db_url) as db, db.connection() as conn:
        logged = conn.execute("SELECT '2026-11-20 14:30:00+00'::timestamptz AS at").fetchone()["at"]
    assert logged == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert logged.tzinfo is UTC  # a fixed offset, not a named zone
    assert logged.isoformat() == "2026-11-20T14:30:00+00:00"
