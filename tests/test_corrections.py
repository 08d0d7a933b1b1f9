"""A person's corrections: manual outcome, note, flag; each with its event, and a manual
outcome that no resolve run (nor a rederive) changes again."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from freezegun import freeze_time

from edgeledger import corrections, ledger, reporting, storage
from edgeledger.cli import main
from edgeledger.core.validation import parse_signal
from edgeledger.errors import InvalidSignal, SignalConflict, SignalNotFound
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from edgeledger.verify import verify_outcomes
from tests.factories import raw_signal, write_bars

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def logged(db, **overrides) -> str:
    signal = parse_signal(raw_signal(**overrides), now=NOW)
    return ledger.log_signal(db, signal, actor="test", now=NOW).signal.trade_id


def events(sql_conn, trade_id: str) -> list[tuple]:
    return sql_conn.execute(
        "SELECT kind, actor, payload FROM signal_events WHERE trade_id = %s ORDER BY id",
        (trade_id,),
    ).fetchall()


def test_a_manual_win_takes_the_exit_price_and_measures_r_as_the_rules_do(db, sql_conn):
    trade_id = logged(db)  # long 181.20, stop 179.90 (risk 1.30), target 184, target2 186.50
    signal = corrections.override_outcome(
        db, trade_id, status="win", exit_price="183.93", reason="closed by hand", actor="ana",
        now=NOW,
    )  # fmt: skip
    o = signal.outcome
    assert (o.status.value, o.exit_reason.value) == ("WIN", "manual")
    assert (o.fill_price, o.exit_price, o.r_achieved) == (
        Decimal("181.20"), Decimal("183.93"), Decimal("2.1000"))  # fmt: skip
    assert o.closed_at == NOW and o.target2_hit is False
    kind, actor, payload = events(sql_conn, trade_id)[-1]
    assert (kind, actor, payload["reason"], payload["status"]) == (
        "overridden", "ana", "closed by hand", "WIN")  # fmt: skip
    assert payload["before"]["status"] == "PENDING"


def test_a_manual_loss_without_a_price_exits_at_the_stop(db):
    trade_id = logged(db)
    o = corrections.override_outcome(
        db, trade_id, status="LOSS", reason="stopped", actor="ana", now=NOW
    ).outcome
    assert (o.exit_price, o.r_achieved) == (Decimal("179.90"), Decimal("-1.0000"))


def test_a_manual_expiry_of_an_unfilled_signal_has_no_r(db):
    trade_id = logged(db)
    o = corrections.override_outcome(
        db, trade_id, status="EXPIRED", reason="never filled", actor="ana", now=NOW
    ).outcome
    assert (o.status.value, o.exit_reason.value, o.r_achieved, o.fill_price) == (
        "EXPIRED", "manual", None, None)  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": "OPEN"}, "status"),
        ({"status": "CANCELLED"}, "status"),
        ({"status": "WIN", "exit_price": "abc"}, "exit_price"),
        ({"status": "WIN", "exit_price": "-3"}, "exit_price"),
        ({"status": "WIN", "exit_price": "180"}, "exit_price"),  # a WIN that loses
        ({"status": "LOSS", "exit_price": "183"}, "exit_price"),  # a LOSS that gains
        ({"status": "WIN", "reason": "  "}, "reason"),
        ({"status": "WIN", "actor": ""}, "actor"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(db, sql_conn, kwargs, field):
    trade_id = logged(db)
    args = {"reason": "because", "actor": "ana", **kwargs}
    with pytest.raises(InvalidSignal) as caught:
        corrections.override_outcome(db, trade_id, now=NOW, **args)
    assert [p.field for p in caught.value.problems] == [field]
    assert [e[0] for e in events(sql_conn, trade_id)] == ["created"]
    status = sql_conn.execute(
        "SELECT status FROM trade_signals WHERE trade_id = %s", (trade_id,)
    ).fetchone()[0]
    assert status == "PENDING"


def test_an_unknown_trade_id_is_named(db):
    with pytest.raises(SignalNotFound, match="trade_id: no signal has trade_id 'NOPE-1'"):
        corrections.override_outcome(db, "NOPE-1", status="WIN", reason="x", actor="ana", now=NOW)


def test_a_cancelled_signal_takes_no_outcome(db):
    trade_id = logged(db)
    ledger.cancel_signal(db, trade_id, reason="mistake", actor="ana", now=NOW)
    with pytest.raises(SignalConflict, match="CANCELLED"):
        corrections.override_outcome(db, trade_id, status="WIN", reason="x", actor="ana", now=NOW)


def test_notes_append_and_are_recorded_with_who(db, sql_conn):
    trade_id = logged(db)
    corrections.add_note(db, trade_id.lower(), text="entered late", actor="ana", now=NOW)
    signal = corrections.add_note(db, trade_id, text="slippage 0.10", actor="bo", now=NOW)
    assert signal.user_notes == "entered late\nslippage 0.10"
    assert [(k, a, p["text"]) for k, a, p in events(sql_conn, trade_id)[1:]] == [
        ("note", "ana", "entered late"),
        ("note", "bo", "slippage 0.10"),
    ]


def test_flag_and_unflag_are_recorded_with_why(db, sql_conn):
    trade_id = logged(db)
    assert corrections.set_flag(
        db, trade_id, flagged=True, reason="check fill", actor="ana", now=NOW
    ).flagged_for_review
    assert not corrections.set_flag(
        db, trade_id, flagged=False, actor="bo", now=NOW
    ).flagged_for_review
    assert [(k, a, p) for k, a, p in events(sql_conn, trade_id)[1:]] == [
        ("flag", "ana", {"flagged": True, "was": False, "reason": "check fill"}),
        ("flag", "bo", {"flagged": False, "was": True}),
    ]


GOOG_1D = [
    ("2026-11-23", 300.0, 303.0, 299.0, 302.0),
    ("2026-11-24", 302.0, 306.0, 299.5, 305.0),
    ("2026-11-25", 305.0, 305.5, 299.8, 301.0),  # fills at 300
    ("2026-11-27", 301.0, 310.5, 300.5, 310.0),  # target: the rules say WIN +2R
]


@pytest.fixture
def csv_provider(tmp_path):
    write_bars(tmp_path, "1d", "GOOG", GOOG_1D)
    settings = PriceSettings.from_env(
        {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(tmp_path)}
    )
    return make_provider(settings)


def resolve(db, provider, as_of: str):
    return run_resolve(db, provider, as_of=at(as_of), now=at(as_of), interval="1d", drill=())


def test_a_manual_outcome_survives_a_resolve_run_and_a_rederive(db, sql_conn, csv_provider):
    created = at("2026-11-24T16:00:00Z")
    raw = raw_signal(ticker="GOOG", trade_type="swing", entry="300", stop="295", target="310",
                     target2=None, created_at="2026-11-24T16:00:00Z")  # fmt: skip
    signal = parse_signal(raw, now=created)
    trade_id = ledger.log_signal(db, signal, actor="test", now=created).signal.trade_id
    # Before any run: a person says it lost at 297 (the bars will say it won).
    corrections.override_outcome(
        db, trade_id, status="LOSS", exit_price="297", reason="stopped by hand", actor="ana",
        now=at("2026-11-25T20:00:00Z"),
    )  # fmt: skip
    first = resolve(db, csv_provider, "2026-11-28T00:00:00Z")
    with db.connection() as conn:
        asked = storage.request_rederive(conn, [], at=at("2026-11-28T00:00:00Z"), reason="test")
        # A rederive asked for its ticker by hand, as `resolve --rederive GOOG` would.
        conn.execute(
            "INSERT INTO rederive_requests (ticker, requested_at, reason)"
            " VALUES ('GOOG', %s, 'test') ON CONFLICT DO NOTHING",
            (at("2026-11-28T00:00:00Z"),),
        )
    second = resolve(db, csv_provider, "2026-11-28T01:00:00Z")
    row = sql_conn.execute(
        "SELECT status, exit_reason, exit_price, r_achieved FROM trade_signals WHERE trade_id = %s",
        (trade_id,),
    ).fetchone()
    assert row == ("LOSS", "manual", Decimal("297.00000000"), Decimal("-0.6000"))
    assert asked == []  # a rederive of everything skips a manual outcome
    assert first.outcomes_changed == 0 and second.outcomes_changed == 0
    assert [e[0] for e in events(sql_conn, trade_id)] == ["created", "overridden"]
    assert verify_outcomes(db).differences == []


def test_a_manual_outcome_set_during_a_run_is_not_overwritten(db, sql_conn):
    trade_id = logged(db)
    corrections.override_outcome(db, trade_id, status="WIN", reason="x", actor="ana", now=NOW)
    from edgeledger.core.model import Outcome, Status

    with db.connection() as conn:  # a run that derived PENDING before the person acted
        written = storage.write_outcomes(
            conn, [(trade_id, Outcome(status=Status.PENDING))], as_of=NOW, interval="1h",
            evidence_at=NOW,
        )  # fmt: skip
    assert written == set()
    assert (
        sql_conn.execute(
            "SELECT exit_reason FROM trade_signals WHERE trade_id = %s", (trade_id,)
        ).fetchone()[0]
        == "manual"
    )


def test_the_weekly_report_counts_manual_outcomes(db):
    trade_id = logged(db)
    corrections.override_outcome(db, trade_id, status="WIN", reason="x", actor="ana", now=NOW)
    stored = reporting.build_weekly(
        db, at("2026-11-16T00:00:00Z").date(), now=at("2026-11-23T02:00:00Z")
    )
    assert "1 outcome(s) set by hand (manual)." in stored.html


@freeze_time("2026-11-20 16:00:00")
def test_cli_override_note_flag_unflag(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()

    code, out, _ = run("signals", "add", "--ticker", "NVDA", "--type", "day", "--direction",
                       "long", "--entry", "181.20", "--stop", "179.90", "--target", "184",
                       "--confidence", "3", "--created-at", "2026-11-20T14:35:00Z")  # fmt: skip
    trade_id = out.split()[-1]
    code, out, _ = run("signals", "override", trade_id, "WIN", "--exit-price", "183.93",
                       "--reason", "by hand", "--by", "ana")  # fmt: skip
    assert code == 0 and "WIN +2.10R (set by a person)" in out
    assert run("signals", "note", trade_id, "late entry")[0] == 0
    code, out, _ = run("signals", "flag", trade_id, "--reason", "fill?")
    assert code == 0 and "flagged for review" in out
    code, out, _ = run("signals", "unflag", trade_id)
    assert code == 0 and "not flagged" in out
    code, _, err = run("signals", "override", trade_id, "OPEN", "--reason", "x")
    assert code == 2 and "status: 'OPEN' is not one of WIN, LOSS, EXPIRED" in err


def test_a_person_setting_the_outcome_while_a_run_derives_it_wins(
    db, sql_conn, csv_provider, monkeypatch
):
    created = at("2026-11-24T16:00:00Z")
    raw = raw_signal(ticker="GOOG", trade_type="swing", entry="300", stop="295", target="310",
                     target2=None, created_at="2026-11-24T16:00:00Z")  # fmt: skip
    signal = parse_signal(raw, now=created)
    trade_id = ledger.log_signal(db, signal, actor="test", now=created).signal.trade_id
    loaded = storage.open_signals_of

    def load_then_a_person_acts(*args, **kwargs):
        found = loaded(*args, **kwargs)  # the run holds the signal as PENDING
        corrections.override_outcome(db, trade_id, status="EXPIRED", reason="never filled",
                                     actor="ana", now=at("2026-11-27T00:00:00Z"))  # fmt: skip
        return found

    monkeypatch.setattr(storage, "open_signals_of", load_then_a_person_acts)
    report = resolve(db, csv_provider, "2026-11-28T00:00:00Z")
    assert sql_conn.execute(
        "SELECT status, exit_reason FROM trade_signals WHERE trade_id = %s", (trade_id,)
    ).fetchone() == ("EXPIRED", "manual")
    assert [e[0] for e in events(sql_conn, trade_id)] == ["created", "overridden"]
    assert (report.outcomes_changed, report.events_written, report.closed) == (0, 0, [])
