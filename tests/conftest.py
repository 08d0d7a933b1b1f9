"""Shared fixtures: a real PostgreSQL for storage tests, cloned from a migrated template.

The server is TEST_DATABASE_URL when set, otherwise an embedded PostgreSQL (pgserver) started
once per test session in a temporary directory. The schema is migrated once into a template
database; every test gets its own clone, so tests are isolated and fast.
"""

from __future__ import annotations

import itertools
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import freezegun
import hypothesis
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from edgeledger import migrations
from edgeledger.database import Database
from tests.fake_http import FakeServer, serving

# Frozen time is for our code; the connection pool's timers must keep running.
freezegun.configure(extend_ignore_list=["psycopg_pool", "psycopg"])

# Property tests judge correctness, not speed: a busy 2-core machine must not fail them.
# In CI they are also derandomized, so a red run can be repeated exactly.
hypothesis.settings.register_profile(
    "default", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.register_profile(
    "ci", parent=hypothesis.settings.get_profile("default"), derandomize=True
)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "default")

TESTS_DIR = Path(__file__).resolve().parent
FIXTURES = TESTS_DIR / "fixtures"
_clone_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A superuser-ish connection string to a server the tests may create databases on."""
    configured = os.environ.get("TEST_DATABASE_URL", "").strip()
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="delete")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        # Throwaway test data: durability buys nothing and costs seconds.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        conn.execute("SELECT pg_reload_conf()")
    yield url


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    """A database with every migration applied, cloned by each test; dropped at the end."""
    name = f"edgeledger_tpl_{uuid.uuid4().hex[:10]}"
    _create_database(pg_admin_url, name)
    with Database(make_conninfo(pg_admin_url, dbname=name), max_size=1) as db:
        migrations.upgrade(db)
    yield name
    _drop_database(pg_admin_url, name)


@pytest.fixture
def clone_db(pg_admin_url: str, template_db: str) -> Iterator[Callable[[], str]]:
    """Make fresh, migrated databases for this test (dropped after it); returns conninfo."""
    made: list[str] = []

    def clone() -> str:
        name = f"{template_db}_t{os.getpid()}_{next(_clone_numbers)}"
        _create_database(pg_admin_url, name, template=template_db)
        made.append(name)
        return make_conninfo(pg_admin_url, dbname=name)

    yield clone
    for name in made:
        _drop_database(pg_admin_url, name)


@pytest.fixture
def db_url(clone_db: Callable[[], str]) -> str:
    """A fresh, migrated database of this test's own."""
    return clone_db()


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    name = f"edgeledger_empty_{uuid.uuid4().hex[:10]}"
    _create_database(pg_admin_url, name)
    yield make_conninfo(pg_admin_url, dbname=name)
    _drop_database(pg_admin_url, name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with Database(db_url, max_size=4) as database:
        yield database


@pytest.fixture
def sql_conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A plain autocommit connection for poking at the database directly."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 10:00 in New York


def _create_database(admin_url: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            if conn.info.server_version >= 150000:
                statement += sql.SQL(" STRATEGY file_copy")
        conn.execute(statement)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def _http_server() -> Iterator[FakeServer]:
    with serving() as fake:
        yield fake


@pytest.fixture
def server(_http_server: FakeServer) -> Iterator[FakeServer]:
    """A local HTTP server playing back queued replies (see tests/fake_http.py)."""
    _http_server.reset()
    yield _http_server
    _http_server.reset()
