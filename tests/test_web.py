"""The HTTP API of `edgeledger run`, served on 127.0.0.1 against a real database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from edgeledger.database import Database
from edgeledger.settings import Settings
from edgeledger.web import make_app
from edgeledger.web.app import MAX_BODY_BYTES

TOKEN = "s3cret-api-token"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SIGNAL = {
    "ticker": "NVDA",
    "trade_type": "swing",
    "direction": "long",
    "entry": 181.2,
    "stop": "179.90",
    "target": 184,
    "confidence": 4,
    "edges": ["gap fill", "vwap reclaim"],
    "rationale": "held the gap",
}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def serve(
    db: Database, test: Callable[[TestClient], Awaitable[Any]], *, token: str | None = TOKEN
) -> Any:
    settings = replace(Settings.from_env({}), api_token=token)

    async def run() -> Any:
        app = make_app(db, settings, clock=lambda: NOW)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            return await test(client)

    return asyncio.run(run())


def post(body: Any, *, key: str | None = "key-1", headers: dict | None = None):
    async def call(client: TestClient) -> tuple[int, Any]:
        sent = {**AUTH, **({"Idempotency-Key": key} if key else {}), **(headers or {})}
        data = body if isinstance(body, bytes) else json.dumps(body)
        response = await client.post("/api/signals", data=data, headers=sent)
        return response.status, await response.json()

    return call


def signal_count(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0]


def test_a_posted_signal_is_stored_once_with_its_key(db, db_url):
    status, body = serve(db, post(SIGNAL))
    assert status == 201
    assert body["trade_id"] == "NVDA-20261120-001"
    assert body["source"] == "api" and body["source_key"] == "key-1"
    assert body["edges"] == [{"name": "gap fill"}, {"name": "vwap reclaim"}]
    assert datetime.fromisoformat(body["created_at"]) == NOW  # none given: now
    assert signal_count(db_url) == 1


def test_the_same_key_again_returns_the_same_trade_and_writes_nothing(db, db_url):
    first = serve(db, post(SIGNAL))
    again = serve(db, post({**SIGNAL, "entry": 181.3}))  # a retry, even with other terms
    assert first[0] == 201 and again[0] == 200
    assert again[1] == first[1]
    assert signal_count(db_url) == 1


def test_edges_may_be_one_semicolon_separated_string(db):
    status, body = serve(db, post({**SIGNAL, "edges": "gap fill; vwap reclaim"}))
    assert status == 201
    assert [e["name"] for e in body["edges"]] == ["gap fill", "vwap reclaim"]


def test_bad_input_names_each_field_and_writes_nothing(db, db_url):
    bad = {**SIGNAL, "stop": 190, "confidence": 9, "colour": "red", "source": "discord"}
    status, body = serve(db, post(bad))
    assert status == 422
    fields = {e["field"] for e in body["errors"]}
    assert {"stop", "confidence", "colour", "source"} <= fields
    assert all(e["reason"] for e in body["errors"])
    assert signal_count(db_url) == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [(b"{not json", "body"), (b"[1, 2]", "body"), (b'{"ticker": "A", "ticker": "B"}', "ticker"),
     (b"\xff\xfe", "body")],
)  # fmt: skip
def test_a_body_that_is_not_a_json_object_is_a_422(db, raw, field):
    status, body = serve(db, post(raw))
    assert status == 422
    assert body["errors"][0]["field"] == field


def test_the_idempotency_key_is_required(db, db_url):
    status, body = serve(db, post(SIGNAL, key=None))
    assert status == 422
    assert body["errors"] == [
        {"field": "Idempotency-Key", "reason": "header is required: one key per signal"}
    ]
    assert signal_count(db_url) == 0


def test_an_overlong_idempotency_key_is_named(db, db_url):
    status, body = serve(db, post(SIGNAL, key="k" * 1000))
    assert status == 422
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    assert signal_count(db_url) == 0


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_a_missing_or_wrong_token_is_a_401(db, db_url, header):
    headers = {"Authorization": header} if header else {"Authorization": ""}
    status, body = serve(db, post(SIGNAL, headers=headers))
    assert status == 401
    assert TOKEN not in json.dumps(body)
    assert signal_count(db_url) == 0


def test_without_a_token_configured_the_api_is_off(db):
    status, body = serve(db, post(SIGNAL), token=None)
    assert status == 503
    assert "EDGELEDGER_API_TOKEN" in body["error"]


def test_a_body_over_the_limit_is_a_413(db, db_url):
    huge = json.dumps({**SIGNAL, "rationale": "x" * MAX_BODY_BYTES}).encode()
    status, _ = serve(db, post(huge))
    assert status == 413
    assert signal_count(db_url) == 0


def test_healthz_is_200_when_the_database_is_current(db):
    async def get(client: TestClient) -> tuple[int, Any]:
        response = await client.get("/healthz")
        return response.status, await response.json()

    assert serve(db, get) == (
        200,
        {"status": "ok", "database": "reachable", "migrations": "current"},
    )


def test_healthz_is_503_when_a_migration_is_pending(db, sql_conn):
    sql_conn.execute("DELETE FROM schema_migrations WHERE version = 10")

    async def get(client: TestClient) -> tuple[int, Any]:
        response = await client.get("/healthz")
        return response.status, await response.json()

    status, body = serve(db, get)
    assert status == 503
    assert body["migrations"] == ["0010_job_slots (pending)"]
