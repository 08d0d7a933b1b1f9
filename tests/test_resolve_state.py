"""State that must not lie: no settling on future prices, dead runs marked, changed
evidence seen by `outcomes verify`."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import psycopg
import pytest
from freezegun import freeze_time

from edgeledger import ledger, storage
from edgeledger.cli import main
from edgeledger.core.validation import parse_signal
from edgeledger.errors import InvalidOption
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import JOB_NAME, lock_key, run_resolve
from edgeledger.verify import verify_outcomes
from tests.factories import raw_signal, write_bars

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)

# Before NOW the price stays under the entry (181.20); the bars stamped after NOW would
# fill it and reach the target (184.00).
PAST_1H = [
    ("2026-11-19T20:30:00Z", 180.2, 180.7, 180.1, 180.5),
    ("2026-11-20T14:30:00Z", 180.8, 181.0, 180.6, 180.9),
    ("2026-11-20T15:30:00Z", 180.9, 181.1, 180.7, 181.0),
]
FUTURE_1H = [
    ("2026-11-20T17:30:00Z", 181.0, 182.0, 180.9, 181.8),
    ("2026-11-20T18:30:00Z", 181.8, 184.5, 181.5, 184.2),
]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def price_dir(tmp_path):
    folder = tmp_path / "prices"
    write_bars(folder, "1h", "NVDA", PAST_1H + FUTURE_1H)
    return folder


@pytest.fixture
def provider(price_dir):
    settings = PriceSettings.from_env(
        {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(price_dir)}
    )
    return make_provider(settings, clock=lambda: NOW)


def log_swing(db) -> str:
    created = datetime(2026, 11, 20, 14, 35, tzinfo=UTC)
    signal = parse_signal(raw_signal(trade_type="swing", target2=None), now=created)
    return ledger.log_signal(db, signal, actor="test", now=created).signal.trade_id


def outcome(sql_conn, trade_id: str) -> tuple:
    return sql_conn.execute(
        "SELECT status, exit_reason, fill_price FROM trade_signals WHERE trade_id = %s",
        (trade_id,),
    ).fetchone()


# --- no settling on the future -----------------------------------------------------------


def test_an_as_of_after_now_is_refused_and_settles_nothing(db, provider, sql_conn):
    trade_id = log_swing(db)
    with pytest.raises(InvalidOption, match="after now"):
        run_resolve(db, provider, as_of=FAR_FUTURE, now=NOW, interval="1h", drill=())
    assert outcome(sql_conn, trade_id) == ("PENDING", None, None)
    assert sql_conn.execute("SELECT count(*) FROM job_runs").fetchone() == (0,)


@freeze_time(NOW)
def test_the_cli_refuses_an_as_of_after_now_in_one_line_with_exit_2(
    monkeypatch, db_url, price_dir, sql_conn
):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("EDGELEDGER_PRICE_PROVIDER", "csv")
    monkeypatch.setenv("EDGELEDGER_PRICE_DIR", str(price_dir))
    code, _, _ = run(
        "signals", "add", "--ticker", "NVDA", "--type", "swing", "--direction", "long",
        "--entry", "181.20", "--stop", "179.90", "--target", "184", "--confidence", "4",
    )  # fmt: skip
    assert code == 0
    code, out, err = run("resolve", "--as-of", "2099-01-01T00:00:00Z")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: --as-of: 2099-01-01")
    assert "--allow-future-as-of" in err
    assert sql_conn.execute("SELECT status FROM trade_signals").fetchall() == [("PENDING",)]


def test_an_allowed_future_as_of_never_uses_bars_from_after_now(db, provider, sql_conn):
    trade_id = log_swing(db)
    # Even bars already stored with a start after now (a provider that lied, a test feed)
    # are not used.
    sql_conn.execute(
        "INSERT INTO price_bars (ticker, interval, start, open, high, low, close, provider)"
        " SELECT 'NVDA', '1h', s::timestamptz, o, h, l, c, 'planted'"
        " FROM unnest(%s::text[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[])"
        " AS b(s, o, h, l, c)",
        [list(column) for column in zip(*FUTURE_1H, strict=True)],
    )
    report = run_resolve(
        db,
        provider,
        as_of=FAR_FUTURE,
        now=NOW,
        interval="1h",
        drill=(),
        allow_future_as_of=True,
    )
    assert report.failed_tickers == {}
    # Its window runs past now, where no prices are known: by the rules that is no_data,
    # never "not triggered", and the signal is settled again once the prices exist.
    assert outcome(sql_conn, trade_id) == ("EXPIRED", "no_data", None)
    # and nothing from after now was fetched and stored either
    fetched = sql_conn.execute("SELECT max(start) FROM price_bars WHERE provider <> 'planted'")
    assert fetched.fetchone()[0] < NOW
    # the audit re-derives it on the same bars: none from after the run
    assert verify_outcomes(db).differences == []


def test_an_as_of_up_to_now_still_settles_on_the_bars_before_it(db, provider, sql_conn):
    trade_id = log_swing(db)
    run_resolve(db, provider, as_of=NOW, now=NOW, interval="1h", drill=())
    assert outcome(sql_conn, trade_id) == ("PENDING", None, None)
    fetched = sql_conn.execute("SELECT count(*) FROM price_bars").fetchone()[0]
    assert fetched == len(PAST_1H)


# --- runs whose holder died are marked ------------------------------------------------------


def start_run_then_die(db_url: str, *, scheduled_for: datetime | None = None) -> int:
    """A run as `kill -9` leaves it: its job_runs row 'running', its lock session gone."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        pid = conn.execute(
            "SELECT pg_backend_pid() FROM pg_advisory_lock(%s)", (lock_key(JOB_NAME),)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO job_runs (job_name, scheduled_for, started_at, holder_pid)"
            " VALUES (%s, %s, %s, %s)",
            (JOB_NAME, scheduled_for, datetime(2026, 11, 20, 16, 0, tzinfo=UTC), pid),
        )
    with psycopg.connect(db_url, autocommit=True) as conn:  # its backend exits a moment later
        deadline = time.monotonic() + 10
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the dead run's backend did not exit"
            time.sleep(0.01)
    return pid


def test_a_later_run_marks_a_run_whose_holder_died_abandoned_with_when_and_why(
    db, db_url, provider, sql_conn
):
    pid = start_run_then_die(db_url)
    run_resolve(db, provider, as_of=NOW, now=NOW, interval="1h", drill=())
    rows = sql_conn.execute(
        "SELECT status, finished_at, error FROM job_runs ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == ["abandoned", "succeeded"]
    assert rows[0][1] == NOW
    assert "ended without finishing" in rows[0][2] and str(pid) in rows[0][2]


def test_a_run_whose_holder_still_holds_the_lock_is_not_marked(db, db_url, sql_conn):
    with psycopg.connect(db_url, autocommit=True) as live:
        pid = live.execute(
            "SELECT pg_backend_pid() FROM pg_advisory_lock(%s)", (lock_key(JOB_NAME),)
        ).fetchone()[0]
        live.execute(
            "INSERT INTO job_runs (job_name, started_at, holder_pid) VALUES (%s, %s, %s)",
            (JOB_NAME, NOW, pid),
        )
        with db.connection() as conn:
            marked = storage.abandon_dead_job_runs(
                conn, JOB_NAME, key=lock_key(JOB_NAME), own_pid=-1, at=NOW
            )
        assert marked == []
        assert sql_conn.execute("SELECT status FROM job_runs").fetchall() == [("running",)]


def test_a_dead_runs_slot_is_marked_then_taken_over_and_succeeds(db, db_url, provider, sql_conn):
    slot = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    start_run_then_die(db_url, scheduled_for=slot)
    report = run_resolve(db, provider, as_of=NOW, now=NOW, interval="1h", drill=(), slot=slot)
    assert report.skipped is None
    rows = sql_conn.execute("SELECT status, error FROM job_runs").fetchall()
    assert rows == [("succeeded", None)]


# --- changed evidence is seen by `outcomes verify` ------------------------------------------

SETTLED_AS_OF = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
SETTLED_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WINNING_1H = [
    ("2026-11-19T20:30:00Z", 180.2, 180.7, 180.1, 180.5),
    ("2026-11-20T14:30:00Z", 180.8, 181.5, 180.6, 181.3),
    ("2026-11-20T15:30:00Z", 181.3, 182.0, 181.0, 181.8),  # fills at 181.20
    ("2026-11-20T16:30:00Z", 181.8, 184.5, 181.5, 184.2),  # reaches 184.00: WIN
    ("2026-11-20T17:30:00Z", 184.2, 184.9, 183.8, 184.6),  # after the exit
]


@pytest.fixture
def settled(db, tmp_path) -> str:
    """A swing long settled as a WIN on stored hourly bars."""
    folder = tmp_path / "settled"
    write_bars(folder, "1h", "NVDA", WINNING_1H)
    settings = {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(folder)}
    provider = make_provider(PriceSettings.from_env(settings), clock=lambda: SETTLED_NOW)
    trade_id = log_swing(db)
    run_resolve(db, provider, as_of=SETTLED_AS_OF, now=SETTLED_NOW, interval="1h", drill=())
    return trade_id


def changed(db) -> list[tuple[str, str]]:
    return [(d.trade_id, d.field) for d in verify_outcomes(db).differences]


def test_verify_names_a_signal_whose_bar_was_edited_even_when_its_outcome_still_follows(
    db, settled, sql_conn
):
    assert sql_conn.execute("SELECT status FROM trade_signals").fetchone() == ("WIN",)
    assert changed(db) == []
    sql_conn.execute(
        "UPDATE price_bars SET high = high + 0.01 WHERE start = '2026-11-20T17:30:00Z'"
    )
    differences = verify_outcomes(db).differences
    assert [(d.trade_id, d.field) for d in differences] == [(settled, "evidence")]
    assert str(differences[0]).startswith(f"{settled}: the stored bars it was derived from")


def test_verify_sees_a_deleted_bar_and_a_back_dated_one(db, settled, sql_conn):
    sql_conn.execute("DELETE FROM price_bars WHERE start = '2026-11-20T17:30:00Z'")
    assert changed(db) == [(settled, "evidence")]
    sql_conn.execute(
        "INSERT INTO price_bars (ticker, interval, start, open, high, low, close, provider,"
        " fetched_at) VALUES ('NVDA', '1h', '2026-11-20T17:30:00Z', 184.2, 184.9, 183.8,"
        " 184.6, 'csv', %s)",
        (SETTLED_NOW,),
    )
    assert changed(db) == []  # put back as it was
    sql_conn.execute(
        "INSERT INTO price_bars (ticker, interval, start, open, high, low, close, provider,"
        " fetched_at) VALUES ('NVDA', '1m', '2026-11-20T16:31:00Z', 182, 182, 182, 182, 'x',"
        " %s)",
        (SETTLED_NOW,),
    )
    assert changed(db) == [(settled, "evidence")]


def test_bars_stored_after_an_outcome_was_derived_are_not_changed_evidence(db, settled, sql_conn):
    """Finer bars fetched later for another signal of the ticker, re-stored bars."""
    sql_conn.execute(
        "INSERT INTO price_bars (ticker, interval, start, open, high, low, close, provider,"
        " fetched_at) VALUES ('NVDA', '1m', '2026-11-20T16:31:00Z', 182, 182, 182, 182, 'csv',"
        " %s)",
        (datetime(2026, 11, 22, tzinfo=UTC),),
    )
    assert changed(db) == []
