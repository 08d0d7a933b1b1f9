"""The connector: which PostgreSQL to use, a connection pool, and the named SQL queries.

With DATABASE_URL set, that server is used. Without it an embedded PostgreSQL (the `pgserver`
package) is started under the data directory, so a newcomer needs nothing installed.
psycopg errors that mean "the database is not there" become DatabaseUnavailable.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from edgeledger.errors import ConfigError, DatabaseUnavailable
from edgeledger.redaction import Redactor, passwords
from edgeledger.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "edgeledger"
CONNECT_TIMEOUT_SECONDS = 10
_QUERY_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def sql_dir() -> Path:
    """The migrations and named queries: sql/ in a checkout, edgeledger/_sql in a wheel."""
    checkout = Path(__file__).resolve().parent.parent / "sql"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "_sql"


@cache
def queries() -> dict[str, str]:
    """Every `-- name: xxx` block of sql/queries/*.sql, loaded once."""
    found: dict[str, str] = {}
    for path in sorted((sql_dir() / "queries").glob("*.sql")):
        found.update(parse_named_queries(path.read_text()))
    return found


def parse_named_queries(text: str) -> dict[str, str]:
    """Split a file into {name: statement} at each `-- name:` line."""
    parts = _QUERY_NAME.split(text)
    return {
        name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def redact(conninfo: str) -> str:
    """A connection string fit for logs and error messages: no password."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "<unparseable connection string>"
    params.pop("password", None)
    host = params.get("host", "localhost")
    return f"{params.get('dbname', '')}@{host}:{params.get('port', 5432)}"


def _pgserver() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver
    return pgserver


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """start_embedded_server for a block, stopped when the block ends (unless another
    process still uses it): for a server in a directory about to be deleted, which could
    no longer be stopped at exit."""
    conninfo = start_embedded_server(data_dir)
    try:
        yield conninfo
    finally:
        _pgserver().get_server(data_dir / "pgdata").cleanup()


def start_embedded_server(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL under data_dir; return its conninfo.

    The server stops when the last process using it exits.
    """
    pgserver = _pgserver()
    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises whatever initdb/pg_ctl raised
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}"
        ) from exc
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE))
            with suppress(psycopg.errors.DuplicateDatabase):  # another process made it first
                conn.execute(create)
    return make_conninfo(admin, dbname=EMBEDDED_DATABASE)


class Database:
    """A pool of connections to one database, and the one place that maps its failures."""

    def __init__(self, conninfo: str, *, max_size: int = 4) -> None:
        self.conninfo = conninfo
        check_reachable(conninfo)
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max(1, max_size),
            kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
            # A connection is checked as it leaves the pool, so one the server dropped (a
            # restart, a failover) is replaced instead of failing its next statement.
            check=ConnectionPool.check_connection,
            configure=_in_utc,
            open=False,
            name="edgeledger",
        )
        self._pool.open(wait=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        conninfo = settings.database_url or start_embedded_server(settings.data_dir)
        return cls(conninfo, max_size=settings.pool_max_size)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection (dict rows); its transaction commits on clean exit."""
        try:
            with self._pool.connection(timeout=CONNECT_TIMEOUT_SECONDS) as conn:
                conn.row_factory = dict_row
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailable(
                f"no connection to {redact(self.conninfo)} within {CONNECT_TIMEOUT_SECONDS}s"
            ) from exc
        except psycopg.OperationalError as exc:
            if _is_connection_failure(exc):
                raise DatabaseUnavailable(
                    f"lost the database {redact(self.conninfo)}: {exc}"
                ) from exc
            raise

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _in_utc(conn: psycopg.Connection) -> None:
    """Read times in UTC, whatever the server's default zone: the same on every machine, and
    datetimes with a fixed offset are several times cheaper to compare and convert than a
    named zone's."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def check_reachable(conninfo: str) -> None:
    """Fail fast, with the server's own reason, when the database cannot be reached.

    A connection string psycopg cannot parse is a setting to fix, not a crash; its error
    quotes the string whole, password included, so the reason is redacted and the original
    exception is not chained.
    """
    try:
        with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except psycopg.ProgrammingError as exc:
        reason = Redactor.of(passwords(conninfo))(str(exc))
        raise ConfigError(f"invalid database connection string (DATABASE_URL?): {reason}") from None
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {redact(conninfo)}: {reason}") from exc


def _is_connection_failure(exc: psycopg.OperationalError) -> bool:
    return exc.sqlstate is None or exc.sqlstate.startswith("08") or exc.sqlstate.startswith("57P")
