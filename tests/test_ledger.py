"""Logging signals into PostgreSQL: once, numbered, immutable, with a history."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from edgeledger import ledger, storage
from edgeledger.core.model import Source, Status
from edgeledger.core.validation import parse_signal
from edgeledger.errors import SignalConflict, SignalNotFound
from tests.factories import raw_signal


def log(db, now, actor="test", **overrides):
    signal = parse_signal(raw_signal(**overrides), now=now, default_source=Source.DISCORD)
    return ledger.log_signal(db, signal, actor=actor, now=now)


def test_a_logged_signal_gets_a_trade_id_from_its_new_york_date(db, now):
    result = log(db, now)
    assert result.created
    assert result.signal.trade_id == "NVDA-20261120-001"
    assert result.signal.outcome.status is Status.PENDING


def test_trade_ids_count_up_per_ticker_and_day(db, now):
    ids = [log(db, now, created_at=f"2026-11-20T14:3{i}:00Z").signal.trade_id for i in range(3)]
    other = log(db, now, ticker="AMD").signal.trade_id
    assert ids == ["NVDA-20261120-001", "NVDA-20261120-002", "NVDA-20261120-003"]
    assert other == "AMD-20261120-001"


def test_the_trade_date_is_new_york_not_utc(db, now):
    # 01:30 UTC on the 20th is still the evening of the 19th in New York.
    result = log(db, now, created_at="2026-11-20T01:30:00Z", trade_type="swing")
    assert result.signal.trade_id == "NVDA-20261119-001"


def test_logging_the_same_signal_twice_returns_the_first(db, now, sql_conn):
    first = log(db, now)
    again = log(db, now)
    assert not again.created
    assert again.signal.trade_id == first.signal.trade_id
    assert sql_conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0] == 1
    assert sql_conn.execute("SELECT count(*) FROM signal_events").fetchone()[0] == 1


def test_the_same_source_key_returns_the_first(db, now):
    first = log(db, now, source_key="discord-msg-1")
    again = log(db, now, source_key="discord-msg-1")
    assert again.signal.trade_id == first.signal.trade_id and not again.created


def test_a_different_signal_under_a_taken_trade_id_is_refused(db, now, sql_conn):
    log(db, now, trade_id="NVDA-20261120-007")
    with pytest.raises(SignalConflict, match="NVDA-20261120-007 is already used"):
        log(db, now, trade_id="NVDA-20261120-007", entry="181.30")
    assert sql_conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0] == 1


def test_a_source_key_reused_for_other_terms_is_refused(db, now):
    log(db, now, source_key="msg-9")
    # Worded so it cannot be read as a credential ("api key msg-9" did).
    with pytest.raises(
        SignalConflict, match="source_key 'msg-9' from source discord was already logged"
    ):
        log(db, now, source_key="msg-9", target="185.00")


def test_an_explicit_trade_id_moves_the_counter_past_it(db, now):
    log(db, now, trade_id="NVDA-20261120-005")
    assert log(db, now, entry="181.00").signal.trade_id == "NVDA-20261120-006"


def test_a_generated_trade_id_skips_one_another_ticker_was_given(db, now):
    log(db, now, ticker="MSFT", trade_id="NVDA-20261120-001")
    log(db, now, ticker="MSFT", trade_id="NVDA-20261120-002", entry="181.00")
    assert log(db, now).signal.trade_id == "NVDA-20261120-003"


def test_logging_records_a_created_event(db, now):
    result = log(db, now, actor="discord:4242", source_key="m-1")
    history = ledger.signal_history(db, result.signal.trade_id)
    assert [(e["kind"], e["actor"]) for e in history.events] == [("created", "discord:4242")]
    assert history.events[0]["payload"]["source_key"] == "m-1"
    assert history.events[0]["occurred_at"] == now


def test_a_stored_signal_reads_back_as_published(db, now):
    stored = log(db, now, edges=[{"name": "Gap fill", "gap_pct": 2.1}], context={"vix": 14.2})
    with db.connection() as conn:
        again = storage.signal_by_trade_id(conn, stored.signal.trade_id)
    assert again == stored.signal
    assert again.terms.edges[0].attributes == {"gap_pct": 2.1}


def test_showing_an_unknown_trade_id_says_so(db):
    with pytest.raises(SignalNotFound, match="NOPE-1"):
        ledger.signal_history(db, "NOPE-1")


# --- the database itself guards the ledger ------------------------------------------------


@pytest.mark.parametrize(
    "assignment",
    [
        "entry = 100",
        "stop = 170",
        "ticker = 'AMD'",
        "confidence = 5",
        "edges = '[]'",
        "created_at = now()",
        "direction = 'long'",
        "rationale = 'rewritten'",
        "trade_id = 'X-1'",
    ],
)
def test_published_terms_cannot_be_updated(db, now, sql_conn, assignment):
    trade_id = log(db, now).signal.trade_id
    if assignment == "direction = 'long'":
        assignment = "direction = 'short', stop = 190, target = 170, target2 = NULL"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be changed"):
        sql_conn.execute(f"UPDATE trade_signals SET {assignment} WHERE trade_id = %s", (trade_id,))


def test_outcome_notes_and_flag_can_be_updated(db, now, sql_conn):
    trade_id = log(db, now).signal.trade_id
    sql_conn.execute(
        "UPDATE trade_signals SET status = 'OPEN', fill_price = 181.2, triggered_at = %s,"
        " user_notes = 'watching', flagged_for_review = true WHERE trade_id = %s",
        (datetime(2026, 11, 20, 15, tzinfo=UTC), trade_id),
    )
    row = sql_conn.execute("SELECT status, user_notes FROM trade_signals").fetchone()
    assert row == ("OPEN", "watching")


def test_signals_cannot_be_deleted_or_truncated(db, now, sql_conn):
    trade_id = log(db, now).signal.trade_id
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql_conn.execute("DELETE FROM trade_signals WHERE trade_id = %s", (trade_id,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be truncated"):
        sql_conn.execute("TRUNCATE trade_signals CASCADE")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE signal_events SET actor = 'someone else'",
        "DELETE FROM signal_events",
        "TRUNCATE signal_events",
    ],
)
def test_the_history_is_append_only(db, now, sql_conn, statement):
    log(db, now)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        sql_conn.execute(statement)
    assert sql_conn.execute("SELECT count(*) FROM signal_events").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("columns", "why"),
    [
        ("'long', 181.2, 181.5, 184", "levels_in_order"),
        ("'short', 181.2, 179.9, 184", "levels_in_order"),
        ("'long', -1, -2, 184", "entry_check"),
    ],
)
def test_check_constraints_hold_the_invariants_even_for_raw_sql(sql_conn, columns, why):
    with pytest.raises(psycopg.errors.CheckViolation, match=why):
        sql_conn.execute(
            "INSERT INTO trade_signals (trade_id, ticker, trade_type, direction, entry, stop,"
            " target, confidence, source, fingerprint, created_at, expires_at) VALUES"
            f" ('T-1', 'NVDA', 'day', {columns}, 3, 'api', 'x', now(), now() + interval '1 h')"
        )


def test_confidence_outside_zero_to_five_is_refused_by_the_database(sql_conn):
    with pytest.raises(psycopg.errors.CheckViolation, match="confidence"):
        sql_conn.execute(
            "INSERT INTO trade_signals (trade_id, ticker, trade_type, direction, entry, stop,"
            " target, confidence, source, fingerprint, created_at, expires_at) VALUES"
            " ('T-1', 'NVDA', 'day', 'long', 10, 9, 11, 6, 'api', 'x', now(),"
            " now() + interval '1 h')"
        )
