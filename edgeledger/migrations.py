"""Bring the schema up to date from sql/NNNN_*.sql, safely under concurrent starts.

Each migration runs in its own transaction together with its record in schema_migrations, so
a crash leaves it either fully applied or not at all. A session advisory lock makes a second
process wait instead of migrating twice. A file edited after it was applied is reported by
its checksum, never silently skipped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from edgeledger.database import Database, sql_dir
from edgeledger.errors import MigrationError

MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any fixed 64-bit number works; this one spells "edgeledger migrations" to whoever reads pg_locks.
MIGRATION_LOCK_KEY = 0x6564_6765_6D69_6772

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    """One migration as the database sees it: applied, pending, edited, or unknown."""

    version: int
    name: str
    state: str
    applied_at: datetime | None = None


def discover(directory: Path | None = None) -> list[Migration]:
    """The migration files in version order; a duplicate version is an error."""
    found: dict[int, Migration] = {}
    for path in sorted((directory or sql_dir()).glob("*.sql")):
        match = MIGRATION_FILE.match(path.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations share version {version:04d}: {path.name}")
        found[version] = Migration(version, path.stem, path)
    return [found[v] for v in sorted(found)]


def status(db: Database, directory: Path | None = None) -> list[MigrationState]:
    """Every migration with its state, in version order."""
    with db.connection() as conn:
        conn.execute(CREATE_MIGRATIONS_TABLE)
        applied = _applied(conn)
    files = {m.version: m for m in discover(directory)}
    states = []
    for version in sorted(set(files) | set(applied)):
        migration, record = files.get(version), applied.get(version)
        if record is None:
            states.append(MigrationState(version, migration.name, "pending"))
        elif migration is None:
            states.append(MigrationState(version, record["name"], "unknown", record["applied_at"]))
        elif record["checksum"] != migration.checksum:
            states.append(MigrationState(version, migration.name, "edited", record["applied_at"]))
        else:
            states.append(MigrationState(version, migration.name, "applied", record["applied_at"]))
    return states


def upgrade(db: Database, directory: Path | None = None) -> list[Migration]:
    """Apply every pending migration in order; return those applied by this call."""
    migrations = discover(directory)
    done: list[Migration] = []
    with db.connection() as conn:
        conn.autocommit = True
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            conn.execute(CREATE_MIGRATIONS_TABLE)
            applied = _applied(conn)
            _refuse_edited(migrations, applied)
            for migration in migrations:
                if migration.version in applied:
                    continue
                _apply(conn, migration)
                done.append(migration)
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
            conn.autocommit = False
    return done


def _applied(conn: psycopg.Connection) -> dict[int, dict]:
    rows = conn.execute(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    ).fetchall()
    return {row["version"]: row for row in rows}


def _refuse_edited(migrations: list[Migration], applied: dict[int, dict]) -> None:
    edited = [
        m.path.name
        for m in migrations
        if m.version in applied and applied[m.version]["checksum"] != m.checksum
    ]
    if edited:
        raise MigrationError(
            f"{', '.join(edited)} changed after it was applied; restore the applied version"
            " and put the change in a new migration"
        )


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    try:
        with conn.transaction():
            conn.execute(migration.path.read_text())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as exc:
        raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
