"""The aiohttp application: `GET /healthz`, `POST /api/signals` and the dashboard
(edgeledger.web.dashboard, behind its login).

Database work blocks, so every use case runs in a thread (asyncio.to_thread), never on the
loop the scheduler and the bot share. Errors answer JSON: 401 for a missing or wrong token
(compared in constant time), 422 naming each bad field and why (nothing is written), 409
for a conflict the client must resolve, 413 for a body over MAX_BODY_BYTES, 503 when the
database is away or the API is off (no EDGELEDGER_API_TOKEN).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from edgeledger import health, ledger
from edgeledger.core.signals import published_terms
from edgeledger.core.validation import RepeatedKeys, load_json, shown
from edgeledger.database import Database
from edgeledger.errors import (
    DatabaseUnavailable,
    FieldProblem,
    InvalidSignal,
    SignalConflict,
)
from edgeledger.exporter import utc_text
from edgeledger.settings import Settings
from edgeledger.web import dashboard
from edgeledger.web.auth import Access
from edgeledger.web.state import STATE, WebState

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a signal is well under 4 KiB; a rationale can be long
KEY_HEADER = ledger.KEY_HEADER


def make_app(db: Database, settings: Settings, *, clock: Callable[[], datetime]) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[dashboard.headers])
    app[STATE] = WebState(db, settings, clock)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/signals", post_signal)
    dashboard.add_routes(app, Access(settings, clock))
    return app


async def healthz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    found = await asyncio.to_thread(health.check, state.db, jobs=False)
    body = {
        "status": "ok" if found.serving else "unavailable",
        "database": "reachable" if found.database is None else found.database,
        "migrations": "current" if found.migrations_current else list(found.pending),
    }
    return web.json_response(body, status=200 if found.serving else 503)


async def post_signal(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token = state.settings.api_token
    if token is None:
        return _error(503, "the signals API is off: set EDGELEDGER_API_TOKEN to turn it on")
    if not _authorized(request.headers.get("Authorization", ""), token):
        return web.json_response(
            {"error": "a valid bearer token is required (Authorization: Bearer ...)"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="edgeledger"'},
        )
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        return _invalid([FieldProblem(KEY_HEADER, "header is required: one key per signal")])
    try:
        raw = _json_object(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"the body is over {MAX_BODY_BYTES} bytes")
    except InvalidSignal as exc:
        return _invalid(exc.problems)
    try:
        result = await asyncio.to_thread(
            ledger.log_api_signal,
            state.db,
            raw,
            key=key,
            now=state.clock(),
            default_market=state.settings.default_market,
        )
    except InvalidSignal as exc:
        return _invalid(exc.problems)
    except SignalConflict as exc:
        return _error(409, str(exc))
    except DatabaseUnavailable:
        log.warning("signal not logged: the database is unavailable", exc_info=True)
        return _error(503, "the database is unavailable; retry with the same Idempotency-Key")
    signal = result.signal
    log.info(
        "api signal %s", "logged" if result.created else "already logged",
        extra={"trade_id": signal.trade_id},
    )  # fmt: skip
    return web.json_response(_signal_json(signal), status=201 if result.created else 200)


def _authorized(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; InvalidSignal naming `body` (or the repeated field)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignal([FieldProblem("body", f"is not UTF-8 (byte {exc.start})")]) from None
    try:
        value = load_json(text)
    except ValueError as exc:
        raise InvalidSignal([FieldProblem("body", str(exc))]) from None
    if not isinstance(value, dict):
        raise InvalidSignal([FieldProblem("body", "must be a JSON object of signal fields")])
    if isinstance(value, RepeatedKeys):
        raise InvalidSignal([FieldProblem(shown(value.repeated), "is given twice")])
    return value


def _signal_json(signal: Any) -> dict[str, Any]:
    terms = signal.terms
    return {
        "trade_id": signal.trade_id,
        **published_terms(terms),
        "market": terms.market,
        "source": terms.source.value,
        "source_key": terms.source_key,
        "status": signal.outcome.status.value,
        "logged_at": utc_text(signal.logged_at),
    }


def _invalid(problems: list[FieldProblem] | tuple[FieldProblem, ...]) -> web.Response:
    errors = [{"field": p.field, "reason": p.reason} for p in problems]
    return web.json_response({"error": "invalid signal", "errors": errors}, status=422)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
