"""The connection pool: what a long-lived process sees when the server drops its sessions."""

from __future__ import annotations

import psycopg


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
