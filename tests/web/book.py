"""A known book for the dashboard's tests: signals with outcomes inserted as any writer
might have left them, bars for one trade, and a stored weekly report; and a client that
serves the whole app on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer

from edgeledger import reporting
from edgeledger.database import Database
from edgeledger.settings import Settings
from edgeledger.web import make_app
from edgeledger.web.dashboard import ACCESS

TOKEN = "dash-token-for-tests"
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday
WEEK = date(2026, 11, 16)  # the Monday of the stored report's week
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def settings(**changes: Any) -> Settings:
    base = replace(Settings.from_env({}), dashboard_token=TOKEN)
    return replace(base, **changes)


def insert(conn: psycopg.Connection, trade_id: str, **changes: Any) -> None:
    row: dict[str, Any] = dict(
        trade_id=trade_id,
        ticker="NVDA",
        trade_type="day",
        direction="long",
        confidence=3,
        source="api",
        status="PENDING",
        entry=100.0,
        stop=95.0,
        target=110.0,
        target2=None,
        strategy=None,
        created_at=T0,
        edges=[],
        rationale=None,
        fill_price=None,
        triggered_at=None,
        exit_price=None,
        closed_at=None,
        exit_reason=None,
        r=None,
        ambiguous=False,
        mfe_r=None,
        mae_r=None,
        market=None,
        notes=None,
        flagged=False,
    )
    row.update(changes)
    conn.execute(
        "INSERT INTO trade_signals (trade_id, ticker, trade_type, direction, entry, stop, target,"
        " target2, confidence, edges, rationale, strategy, source, fingerprint, created_at,"
        " expires_at, market, status, fill_price, triggered_at, exit_price, closed_at,"
        " exit_reason, r_achieved, ambiguous, mfe_r, mae_r, user_notes, flagged_for_review)"
        " VALUES (%(trade_id)s, %(ticker)s, %(trade_type)s, %(direction)s, %(entry)s, %(stop)s,"
        " %(target)s, %(target2)s, %(confidence)s, %(edges)s, %(rationale)s, %(strategy)s,"
        " %(source)s, %(fingerprint)s, %(created_at)s, %(expires_at)s, %(market)s, %(status)s,"
        " %(fill_price)s, %(triggered_at)s, %(exit_price)s, %(closed_at)s, %(exit_reason)s,"
        " %(r)s, %(ambiguous)s, %(mfe_r)s, %(mae_r)s, %(notes)s, %(flagged)s)",
        {
            **row,
            "edges": json.dumps([{"name": e} for e in row["edges"]]),
            "fingerprint": f"fp-{next(_numbers)}",
            "expires_at": row["created_at"] + timedelta(days=7),
        },
    )
    conn.execute(
        "INSERT INTO signal_events (trade_id, kind, actor, occurred_at, payload)"
        " VALUES (%s, 'created', 'test', %s, '{}')",
        (trade_id, row["created_at"]),
    )


def closed(r: float, at: datetime, **changes: Any) -> dict[str, Any]:
    win = r > 0
    return {
        "status": "WIN" if win else "LOSS",
        "exit_reason": "target" if win else "stop",
        "fill_price": 100.0,
        "triggered_at": at - timedelta(hours=1),
        "exit_price": 110.0 if win else 95.0,
        "closed_at": at,
        "r": r,
        "created_at": at - timedelta(hours=2),
        **changes,
    }


# Twelve closed trades over two weeks, two open, one backtest (never counted).
BOOK: list[tuple[str, dict[str, Any]]] = [
    *[
        (
            f"NVDA-2026111{d}-00{i}",
            closed(r, T0 + timedelta(days=d, hours=i), edges=edges, confidence=conf),
        )
        for d, i, r, edges, conf in [
            (0, 1, 2.0, ["gap fill"], 4),
            (0, 2, -1.0, ["gap fill"], 2),
            (1, 1, 2.0, ["gap fill", "vwap"], 5),
            (1, 2, 1.5, ["vwap"], 4),
            (2, 1, -1.0, ["vwap"], 1),
            (2, 2, 2.0, ["gap fill"], 3),
            (3, 1, -1.0, ["<b>bold</b>"], 3),
        ]
    ],
    *[
        (
            f"AAPL-2026112{d}-00{i}",
            closed(
                r,
                T0 + timedelta(days=7 + d, hours=i),
                ticker="AAPL",
                edges=["gap fill"],
                trade_type="swing",
                strategy="swingy",
            ),
        )
        for d, i, r in [(0, 1, 2.0), (0, 2, -1.0), (1, 1, -1.0), (2, 1, 3.0), (3, 1, -1.0)]
    ],
    ("MSFT-20261124-001", {"ticker": "MSFT", "created_at": T0 + timedelta(days=8)}),
    (
        "MSFT-20261125-001",
        {
            "ticker": "MSFT",
            "created_at": T0 + timedelta(days=9),
            "status": "OPEN",
            "fill_price": 100.0,
            "triggered_at": T0 + timedelta(days=9, hours=1),
        },
    ),
    (
        "TSLA-20261117-001",
        {**closed(2.0, T0 + timedelta(days=1)), "ticker": "TSLA", "source": "backtest"},
    ),
]


def load_book(db_url: str, db: Database, *, report: bool = True) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for trade_id, changes in BOOK:
            insert(conn, trade_id, **changes)
        start = T0 - timedelta(hours=6)
        conn.execute(
            "INSERT INTO price_bars (ticker, interval, start, open, high, low, close, provider)"
            " SELECT 'NVDA', '1h', %s + n * interval '1 hour', 100 + n %% 5, 103 + n %% 5,"
            " 99 + n %% 5, 101 + n %% 5, 'csv' FROM generate_series(0, 40) AS n",
            (start,),
        )
    if report:
        reporting.build_weekly(db, WEEK, now=NOW)


Test = Callable[[TestClient], Awaitable[Any]]


def serve(db: Database, test: Test, *, config: Settings | None = None, now: datetime = NOW) -> Any:
    async def run() -> Any:
        app = make_app(db, config or settings(), clock=lambda: now)
        jar = CookieJar(unsafe=True)  # cookies for 127.0.0.1
        async with TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=jar) as client:
            return await test(client)

    return asyncio.run(run())


async def log_in(client: TestClient, token: str | None = None) -> Any:
    form = await client.get("/login")
    text = await form.text()
    csrf = text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    token = token or client.app[ACCESS].settings.dashboard_token or TOKEN  # type: ignore[index]
    return await client.post(
        "/login", data={"token": token, "csrf": csrf, "next": "/overview"}, allow_redirects=False
    )


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def fetch(db: Database, *paths: str, login: bool = True, **serve_kw: Any) -> dict[str, tuple]:
    """Each path's (status, text, headers), logged in first unless asked not to."""

    async def go(client: TestClient) -> dict[str, tuple]:
        if login:
            response = await log_in(client)
            assert response.status == 303
        found = {}
        for path in paths:
            response = await client.get(path, allow_redirects=False)
            found[path] = (response.status, await response.text(), response.headers)
        return found

    return serve(db, go, **serve_kw)
