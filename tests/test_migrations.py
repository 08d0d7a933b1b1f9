"""Migrations: applied in order, once, recorded, and never silently diverging."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from edgeledger import migrations
from edgeledger.database import Database, sql_dir
from edgeledger.errors import MigrationError

EXPECTED_TABLES = {
    "trade_signals",
    "signal_events",
    "trade_id_counters",
    "price_bars",
    "weekly_reports",
    "job_runs",
    "job_slots",
    "schema_migrations",
    "bar_coverage",
    "ticker_bar_state",
    "ticker_resolution",
    "instruments",
    "rederive_requests",
    "rolling_metrics",
    "feedback_decisions",
    "trade_frame_blocks",
    "trade_frame_changes",
    "trade_day_summaries",
    "signal_day_counts",
    "trade_day_changes",
    "discord_signal_messages",
    "discord_channel_cursors",
    "trade_day_r_bins",
}


def tables(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "sql"
    shutil.copytree(sql_dir(), folder)
    return folder


def test_upgrade_on_an_empty_database_creates_the_schema(empty_db_url):
    with Database(empty_db_url) as db:
        applied = migrations.upgrade(db)
    assert [m.version for m in applied] == [m.version for m in migrations.discover()]
    assert tables(empty_db_url) == EXPECTED_TABLES


def test_a_second_upgrade_does_nothing(empty_db_url):
    with Database(empty_db_url) as db:
        migrations.upgrade(db)
        assert migrations.upgrade(db) == []
        assert {s.state for s in migrations.status(db)} == {"applied"}


def test_status_lists_pending_migrations_before_upgrade(empty_db_url):
    with Database(empty_db_url) as db:
        states = migrations.status(db)
    assert states and {s.state for s in states} == {"pending"}


def test_an_edited_migration_is_reported_not_skipped(empty_db_url, tmp_path):
    folder = copy_migrations(tmp_path)
    with Database(empty_db_url) as db:
        migrations.upgrade(db, folder)
        first = sorted(folder.glob("0001_*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an afterthought\n")
        assert migrations.status(db, folder)[0].state == "edited"
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrations.upgrade(db, folder)


def test_a_failing_migration_leaves_no_trace(empty_db_url, tmp_path):
    folder = copy_migrations(tmp_path)
    (folder / "0900_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )
    with Database(empty_db_url) as db:
        with pytest.raises(MigrationError, match=r"0900_broken\.sql failed"):
            migrations.upgrade(db, folder)
        assert migrations.status(db, folder)[-1].state == "pending"
    assert "half_done" not in tables(empty_db_url)


def test_two_processes_upgrading_at_once_migrate_once(empty_db_url):
    results: list[list] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def upgrade() -> None:
        try:
            with Database(empty_db_url, max_size=1) as db:
                barrier.wait()
                results.append(migrations.upgrade(db))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(len(r) for r in results) == [0, 0, 0, len(migrations.discover())]


def test_migration_files_are_numbered_without_gaps():
    versions = sorted(m.version for m in migrations.discover())
    assert versions == list(range(1, len(versions) + 1))


def test_markets_migration_stores_daily_bars_as_their_dates_and_asks_for_a_new_look(
    empty_db_url, tmp_path
):
    folder = copy_migrations(tmp_path)
    later = [path for path in folder.glob("*.sql") if path.name >= "0004"]
    held = {path: path.read_text() for path in later}
    for path in later:
        path.unlink()
    with Database(empty_db_url) as db:
        migrations.upgrade(db, folder)  # the schema as it was before markets
        with db.connection() as conn:
            conn.execute(
                "INSERT INTO price_bars (ticker, interval, start, open, high, low, close, provider)"
                " VALUES ('GOOG', '1d', '2026-11-24 14:30Z', 300, 306, 299, 305, 'yahoo'),"
                " ('GOOG', '1h', '2026-11-24 14:30Z', 300, 301, 299, 300, 'yahoo')"
            )
            conn.execute(
                "INSERT INTO trade_signals (trade_id, ticker, trade_type, direction, entry, stop,"
                " target, confidence, source, fingerprint, created_at, expires_at, status,"
                " exit_reason, resolved_as_of) VALUES ('GOOG-20261124-001', 'GOOG', 'swing',"
                " 'long', 300, 295, 310, 3, 'api', 'f', '2026-11-24 16:00Z', '2026-12-01 16:00Z',"
                " 'EXPIRED', 'not_triggered', '2026-12-01 17:00Z')"
            )
        for path, text in held.items():
            path.write_text(text)
        migrations.upgrade(db, folder)
        with db.connection() as conn:
            starts = conn.execute(
                "SELECT interval, start FROM price_bars ORDER BY interval"
            ).fetchall()
            asked = conn.execute("SELECT ticker FROM rederive_requests").fetchall()
    assert [(row["interval"], row["start"].isoformat()) for row in starts] == [
        ("1d", "2026-11-24T00:00:00+00:00"),
        ("1h", "2026-11-24T14:30:00+00:00"),
    ]
    assert [row["ticker"] for row in asked] == ["GOOG"]
