"""Corrections from the trade page go through the shared use case (edgeledger.corrections)
and are recorded as the same events the bot and the CLI record."""

from __future__ import annotations

import psycopg
import pytest
from aiohttp.test_utils import TestClient

from tests.web.book import csrf_of, load_book, log_in, serve

TRADE = "NVDA-20261110-001"


@pytest.fixture
def book(db, db_url):
    load_book(db_url, db, report=False)
    return db


def events(db_url: str, kind: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT actor, payload FROM signal_events"
            " WHERE trade_id = %s AND kind = %s ORDER BY id",
            (TRADE, kind),
        ).fetchall()


def submit(action: str, fields: dict, *, with_csrf: bool = True):
    async def go(client: TestClient):
        await log_in(client)
        page = await (await client.get(f"/trades/{TRADE}")).text()
        data = {**fields, **({"csrf": csrf_of(page)} if with_csrf else {})}
        response = await client.post(f"/trades/{TRADE}/{action}", data=data, allow_redirects=False)
        after = await (await client.get(f"/trades/{TRADE}")).text()
        return response.status, await response.text(), after

    return go


def test_a_note_is_added_with_its_event(book, db_url):
    status, _, after = serve(book, submit("note", {"text": "<i>late</i> entry & fine"}))
    assert status == 303
    assert events(db_url, "note") == [("dashboard", {"text": "<i>late</i> entry & fine"})]
    assert "&lt;i&gt;late&lt;/i&gt; entry &amp; fine" in after and "<i>late</i>" not in after


def test_a_form_without_its_csrf_token_changes_nothing(book, db_url):
    for action, fields in [
        ("note", {"text": "x"}),
        ("flag", {"flagged": "1"}),
        ("outcome", {"status": "WIN", "reason": "x"}),
    ]:
        status, html, _ = serve(book, submit(action, fields, with_csrf=False))
        assert status == 403 and "not sent from this dashboard" in html
    with psycopg.connect(db_url) as conn:
        kinds = conn.execute(
            "SELECT count(*) FROM signal_events WHERE kind <> 'created'"
        ).fetchone()[0]
    assert kinds == 0


def test_flag_and_unflag_are_recorded(book, db_url):
    serve(book, submit("flag", {"flagged": "1", "reason": "check the fill"}))
    status, _, after = serve(book, submit("flag", {"flagged": "0"}))
    assert status == 303 and "flagged for review" not in after
    assert [p["flagged"] for _, p in events(db_url, "flag")] == [True, False]
    assert events(db_url, "flag")[0][1]["reason"] == "check the fill"


def test_a_manual_outcome_is_recorded_as_an_override(book, db_url):
    status, _, after = serve(
        book, submit("outcome", {"status": "LOSS", "exit_price": "96", "reason": "broker fill"})
    )
    assert status == 303
    [(actor, payload)] = events(db_url, "overridden")
    assert (
        actor == "dashboard" and payload["status"] == "LOSS" and payload["reason"] == "broker fill"
    )
    assert "<strong>LOSS</strong>" in after and "a person set this outcome" in after


def test_a_bad_correction_says_which_field_and_writes_nothing(book, db_url):
    status, html, _ = serve(book, submit("outcome", {"status": "MAYBE", "reason": "x"}))
    assert status == 422 and "status:" in html
    assert events(db_url, "overridden") == []
