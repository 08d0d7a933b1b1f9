"""What the benchmarks share: a PostgreSQL server, scratch databases on it, and its settings."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from edgeledger.database import embedded_server


@contextlib.contextmanager
def server(database_url: str | None, data_dir: Path | None) -> Iterator[str]:
    """Conninfo of a server we may create databases on: the one given, or an embedded one."""
    if database_url:
        yield database_url
        return
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_pg_")))
        yield stack.enter_context(embedded_server(data_dir))


def create_database(admin: str, name: str, template: str | None = None) -> str:
    """CREATE DATABASE name (optionally as a copy of template); returns its conninfo."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)
    return make_conninfo(admin, dbname=name)


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def scratch_database(admin: str, prefix: str) -> Iterator[str]:
    """A new, empty database for this run only, dropped afterwards however the run ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_database(admin, name)
    try:
        yield url
    finally:
        drop_database(admin, name)


def describe_server(conninfo: str, settings: Sequence[str]) -> list[str]:
    """The server's version and the settings that move the figures most, to print beside them."""
    with psycopg.connect(conninfo) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        shown = [
            conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
            for name in settings
        ]
    return [version, ", ".join(f"{n}={v}" for n, v in zip(settings, shown, strict=True))]
