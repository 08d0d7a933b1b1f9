"""The resolve job on real PostgreSQL with the csv provider: outcomes, events, incrementality,
drill-down, single flight and the determinism audit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import psycopg
import pytest

from edgeledger import importer, ledger, storage
from edgeledger.core.model import Outcome
from edgeledger.core.validation import parse_signal
from edgeledger.prices import FetchResult, PriceSettings, make_provider
from edgeledger.prices.base import PRICES
from edgeledger.resolver import lock_key, run_resolve
from edgeledger.storage.rows import outcome_from_columns
from edgeledger.verify import verify_outcomes
from tests.factories import export_text, raw_signal, write_bars

AS_OF = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

# NVDA on Friday 2026-11-20, hourly bars starting at :30 as Yahoo stamps them.
NVDA_1H = [
    ("2026-11-19T20:30:00Z", 180.2, 180.7, 180.1, 180.5),  # Thursday's last hour
    ("2026-11-20T14:30:00Z", 180.8, 181.5, 180.6, 181.3),  # began before the signal
    ("2026-11-20T15:30:00Z", 181.3, 182.0, 181.0, 181.8),  # touches 181.20: fills
    ("2026-11-20T16:30:00Z", 181.8, 184.5, 181.5, 184.2),  # reaches 184.00: WIN
    ("2026-11-20T17:30:00Z", 184.2, 184.9, 183.8, 184.6),
]
# AMD: a short that is stopped out, with an hour that reaches both levels.
AMD_1H = [
    ("2026-11-19T20:30:00Z", 150.0, 150.4, 149.8, 150.1),
    ("2026-11-20T14:30:00Z", 150.1, 150.3, 148.9, 149.2),
    ("2026-11-20T15:30:00Z", 149.2, 152.5, 146.5, 150.0),  # fills at 150, then 152 and 147
    ("2026-11-20T16:30:00Z", 150.0, 150.5, 149.0, 149.5),
]
AMD_1M_INSIDE_THE_AMBIGUOUS_HOUR = [
    ("2026-11-20T15:30:00Z", 149.2, 149.6, 149.1, 149.5),
    ("2026-11-20T15:31:00Z", 149.5, 150.2, 149.4, 150.1),  # fills at 150
    ("2026-11-20T15:32:00Z", 150.1, 150.3, 146.8, 147.0),  # target 147 first: WIN
    ("2026-11-20T15:33:00Z", 147.0, 152.5, 146.5, 152.0),
]


@pytest.fixture
def price_dir(tmp_path):
    folder = tmp_path / "prices"
    write_bars(folder, "1h", "NVDA", NVDA_1H)
    write_bars(folder, "1h", "AMD", AMD_1H)
    write_bars(folder, "1m", "AMD", AMD_1M_INSIDE_THE_AMBIGUOUS_HOUR)
    return folder


@pytest.fixture
def provider(price_dir):
    settings = PriceSettings.from_env(
        {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(price_dir)}
    )
    return make_provider(settings, clock=lambda: NOW)


def log(db, **overrides):
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    signal = parse_signal(raw_signal(**overrides), now=now)
    return ledger.log_signal(db, signal, actor="test", now=now).signal.trade_id


def nvda_long(db):
    return log(db, trade_type="swing", target2=None)


def amd_short(db):
    return log(
        db,
        ticker="AMD",
        trade_type="swing",
        direction="short",
        entry="150.00",
        stop="152.00",
        target="147.00",
        target2=None,
        created_at="2026-11-20T14:50:00Z",
    )


def outcome_row(sql_conn, trade_id):
    return sql_conn.execute(
        "SELECT status, fill_price, exit_price, exit_reason, r_achieved, ambiguous"
        " FROM trade_signals WHERE trade_id = %s",
        (trade_id,),
    ).fetchone()


def events(sql_conn, trade_id=None):
    query = "SELECT trade_id, kind FROM signal_events"
    if trade_id:
        return [
            r[1] for r in sql_conn.execute(query + " WHERE trade_id = %s ORDER BY id", (trade_id,))
        ]
    return sql_conn.execute(query + " ORDER BY id").fetchall()


def resolve(db, provider, as_of=AS_OF, **kwargs):
    kwargs.setdefault("drill", ())
    now = max(NOW, as_of)  # a run is never as of a moment after it
    return run_resolve(db, provider, as_of=as_of, now=now, interval="1h", **kwargs)


def test_a_signal_that_reaches_its_target_is_a_win_with_its_r(db, provider, sql_conn):
    trade_id = nvda_long(db)
    report = resolve(db, provider)
    status, fill, exit_price, reason, r, ambiguous = outcome_row(sql_conn, trade_id)
    assert (status, reason, ambiguous) == ("WIN", "target", False)
    assert (fill, exit_price) == (Decimal("181.2"), Decimal("184"))
    assert r == Decimal("2.1538")  # (184 - 181.20) / (181.20 - 179.90)
    assert events(sql_conn, trade_id) == ["created", "triggered", "resolved"]
    assert [c.trade_id for c in report.closed] == [trade_id]
    assert report.strategies_touched == ["momo-v2"]
    assert report.edges_touched == ["RS vs SPY", "VWAP reclaim"]


def test_the_run_is_recorded_in_job_runs_with_counts(db, provider, sql_conn):
    trade_id = nvda_long(db)
    resolve(db, provider)
    status, counts = sql_conn.execute("SELECT status, counts FROM job_runs").fetchone()
    assert status == "succeeded"
    assert counts["closed"] == [trade_id] and counts["requests"] == 1


def test_a_second_run_with_nothing_new_asks_and_writes_nothing(db, provider, sql_conn):
    log(db, trade_type="swing", target2=None, entry="190", stop="185", target="200")
    resolve(db, provider)
    before = events(sql_conn)
    again = resolve(db, provider)
    assert again.skipped is None
    assert (again.requests, again.tickers_evaluated, again.signals_evaluated) == (0, 0, 0)
    assert events(sql_conn) == before


def test_a_later_run_asks_only_for_the_new_bars(db, provider, price_dir, sql_conn):
    trade_id = log(db, trade_type="swing", target2=None, entry="190", stop="185", target="200")
    resolve(db, provider, as_of=datetime(2026, 11, 20, 17, 30, tzinfo=UTC))
    assert outcome_row(sql_conn, trade_id)[0] == "PENDING"
    write_bars(
        price_dir, "1h", "NVDA", [*NVDA_1H, ("2026-11-20T18:30:00Z", 189.5, 190.5, 189.2, 190.2)]
    )
    later = resolve(db, provider)
    assert later.requests == 1 and later.bars_stored == 2  # 17:30 (then forming) and 18:30
    assert outcome_row(sql_conn, trade_id)[0] == "OPEN"


def test_requests_grow_with_tickers_not_signals(db, provider):
    for i in range(8):
        log(db, trade_type="swing", target2=None, entry=f"19{i}", stop="185", target="205")
        amd_short_id = log(
            db,
            ticker="AMD",
            trade_type="swing",
            direction="short",
            entry=f"15{i}",
            stop="160",
            target="140",
            target2=None,
        )
    assert amd_short_id
    report = resolve(db, provider)
    assert report.requests == 2 and report.signals_evaluated == 16


def test_an_ambiguous_hour_is_settled_pessimistically_without_finer_bars(db, provider, sql_conn):
    trade_id = amd_short(db)
    resolve(db, provider)
    assert outcome_row(sql_conn, trade_id)[::3] == ("LOSS", "stop")
    assert outcome_row(sql_conn, trade_id)[5] is True


def test_finer_bars_are_fetched_only_for_the_ambiguous_hour(db, provider, sql_conn):
    trade_id = amd_short(db)
    report = resolve(db, provider, drill=("1m",))
    status, fill, exit_price, reason, r, ambiguous = outcome_row(sql_conn, trade_id)
    assert (status, reason, ambiguous) == ("WIN", "target", False)
    assert (fill, exit_price, r) == (Decimal("150"), Decimal("147"), Decimal("1.5"))
    assert report.requests == 2  # the hours, then the minutes of one hour
    spans = sql_conn.execute(
        "SELECT covered_from, covered_to FROM bar_coverage WHERE interval = '1m'"
    ).fetchall()
    assert spans == [
        (datetime(2026, 11, 20, 15, 30, tzinfo=UTC), datetime(2026, 11, 20, 16, 30, tzinfo=UTC))
    ]


def test_stored_outcomes_re_derive_from_stored_bars(db, provider, sql_conn):
    nvda_long(db)
    amd_short(db)
    resolve(db, provider, drill=("1m",))
    report = verify_outcomes(db)
    assert report.checked == 2 and report.differences == []


def test_the_audit_reports_an_outcome_that_does_not_follow_from_the_bars(db, provider, sql_conn):
    trade_id = nvda_long(db)
    resolve(db, provider)
    sql_conn.execute("UPDATE trade_signals SET r_achieved = 3 WHERE trade_id = %s", (trade_id,))
    differences = verify_outcomes(db).differences
    assert [(d.trade_id, d.field) for d in differences] == [(trade_id, "r_achieved")]


def test_a_ticker_without_prices_is_reported_and_the_others_resolve(db, provider, sql_conn):
    trade_id = nvda_long(db)
    log(db, ticker="ZZZZ")
    report = resolve(db, provider)
    assert list(report.no_prices) == ["ZZZZ"]
    assert "ZZZZ" in report.no_prices["ZZZZ"] and not report.failed_tickers
    assert outcome_row(sql_conn, trade_id)[0] == "WIN"


def test_signals_whose_prices_never_came_expire_no_data_never_not_triggered(db, provider, sql_conn):
    trade_id = log(db, ticker="ZZZZ")  # a day trade: it expires at Friday's 16:00 ET close
    before_close = resolve(db, provider, as_of=datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
    assert "not found" in before_close.no_prices["ZZZZ"]
    assert outcome_row(sql_conn, trade_id)[0] == "PENDING"
    after_close = resolve(db, provider)
    assert "no_data" in after_close.no_prices["ZZZZ"]
    assert outcome_row(sql_conn, trade_id)[::3] == ("EXPIRED", "no_data")
    assert events(sql_conn, trade_id) == ["created", "resolved"]


def test_a_no_data_signal_is_settled_by_the_rules_once_its_prices_come(
    db, provider, price_dir, sql_conn
):
    trade_id = log(db, ticker="ZZZZ", trade_type="swing", target2=None)
    resolve(db, provider, as_of=datetime(2026, 11, 28, 0, 0, tzinfo=UTC))
    assert outcome_row(sql_conn, trade_id)[::3] == ("EXPIRED", "no_data")
    write_bars(price_dir, "1h", "ZZZZ", NVDA_1H)  # the file appears
    report = resolve(db, provider, as_of=datetime(2026, 11, 28, 0, 0, tzinfo=UTC))
    assert report.no_prices == {}
    assert outcome_row(sql_conn, trade_id)[::3] == ("WIN", "target")
    assert events(sql_conn, trade_id) == ["created", "resolved", "triggered", "resolved"]


def test_a_window_the_provider_answered_without_bars_expires_not_triggered(
    db, provider, price_dir, sql_conn
):
    write_bars(price_dir, "1h", "QUIET", [])  # answered: there were no trades
    trade_id = log(db, ticker="QUIET")
    resolve(db, provider)
    assert outcome_row(sql_conn, trade_id)[::3] == ("EXPIRED", "not_triggered")


@pytest.fixture(params=[1, 2, 50], ids=lambda n: f"groups of {n}")
def group_size(request):
    """Tickers grouped this many at a time: one, part of the book, all of it."""
    return request.param


class UncleanBig:
    """The provider, except that BIG's bars skip the cleaning rules (as from a provider that
    forgot them): the cleaning now drops prices the columns cannot hold, and the store's
    refusal stays the last line of defence."""

    def __init__(self, provider):
        self.provider, self.name = provider, provider.name

    def fetch(self, ticker, interval, start, end, *, now=None, market=None):
        if ticker != "BIG":
            return self.provider.fetch(ticker, interval, start, end, now=now, market=market)
        starts = pd.to_datetime([at for at, *_ in NVDA_1H], utc=True)
        bars = pd.DataFrame({"start": starts, **dict.fromkeys(PRICES, 2e12), "volume": 1.0})
        return FetchResult(bars, source=self.name)


def test_a_ticker_whose_bars_the_database_refuses_is_reported_and_the_others_resolve(
    db, provider, price_dir, sql_conn, group_size
):
    # 2e12 does not fit numeric(20, 8): the store refuses BIG's bars, and only BIG's.
    nvda, amd = nvda_long(db), amd_short(db)
    big = log(db, ticker="BIG", trade_type="swing")
    report = resolve(db, UncleanBig(provider), group_tickers=group_size)
    assert list(report.failed_tickers) == ["BIG"]
    assert "could not store bars" in report.failed_tickers["BIG"]
    assert [outcome_row(sql_conn, t)[0] for t in (nvda, amd, big)] == ["WIN", "LOSS", "PENDING"]
    stored = sql_conn.execute("SELECT DISTINCT ticker FROM price_bars ORDER BY 1").fetchall()
    covered = sql_conn.execute("SELECT DISTINCT ticker FROM bar_coverage ORDER BY 1").fetchall()
    assert stored == covered == [("AMD",), ("NVDA",)]


def test_prices_the_columns_cannot_hold_are_dropped_before_they_block_their_ticker(
    db, provider, price_dir, sql_conn
):
    write_bars(price_dir, "1h", "BIG", [(at, 2e12, 2e12, 2e12, 2e12) for at, *_ in NVDA_1H])
    nvda_long(db)
    big = log(db, ticker="BIG", trade_type="swing")
    report = resolve(db, provider)
    assert report.failed_tickers == {}
    assert outcome_row(sql_conn, big)[0] == "PENDING"  # no usable bar yet
    stored = sql_conn.execute("SELECT DISTINCT ticker FROM price_bars ORDER BY 1").fetchall()
    assert stored == [("NVDA",)]


def test_a_ticker_whose_outcome_the_database_refuses_is_reported_and_the_others_resolve(
    db, provider, sql_conn, group_size
):
    nvda = nvda_long(db)
    # A risk of 0.00000001 makes the MFE hundreds of millions of R: more than
    # numeric(12, 4) holds, so recording this outcome fails.
    tiny_risk = log(db, ticker="AMD", trade_type="swing", entry="149.20000001", stop="149.2")
    report = resolve(db, provider, group_tickers=group_size)
    assert list(report.failed_tickers) == ["AMD"]
    assert "could not record outcomes" in report.failed_tickers["AMD"]
    assert outcome_row(sql_conn, nvda)[0] == "WIN"
    assert outcome_row(sql_conn, tiny_risk)[0] == "PENDING"
    assert events(sql_conn, tiny_risk) == ["created"]
    resolved = sql_conn.execute("SELECT ticker FROM ticker_resolution").fetchall()
    assert resolved == [("NVDA",)]  # AMD is looked at again next run


def test_a_run_waits_for_no_one_when_another_holds_the_lock(db, provider, db_url, sql_conn):
    nvda_long(db)
    with psycopg.connect(db_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key("resolve"),))
        report = resolve(db, provider)
    assert report.skipped == "another resolve run is in progress"
    assert sql_conn.execute("SELECT count(*) FROM job_runs").fetchone()[0] == 0


def test_a_slot_that_already_succeeded_is_not_run_again(db, provider, sql_conn):
    nvda_long(db)
    slot = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    assert resolve(db, provider, slot=slot).skipped is None
    assert "already succeeded" in resolve(db, provider, slot=slot).skipped
    assert sql_conn.execute("SELECT count(*) FROM job_runs").fetchone()[0] == 1


def test_a_signal_no_run_has_touched_is_loaded_with_the_default_outcome(db):
    trade_id = nvda_long(db)
    with db.connection() as conn:
        (loaded,) = storage.open_signals_of(conn, ["NVDA"])["NVDA"]
        columns = conn.execute(
            "SELECT status, fill_price, triggered_at, exit_price, closed_at, exit_reason,"
            " r_achieved, ambiguous, mfe_r, mae_r, target2_hit FROM trade_signals"
            " WHERE trade_id = %s",
            (trade_id,),
        ).fetchone()
    assert loaded.outcome == outcome_from_columns(*columns.values()) == Outcome()
    assert loaded.resolved_as_of is None


def test_expiry_settles_a_signal_that_never_filled(db, provider, sql_conn):
    trade_id = log(db, entry="170", stop="165", target="175", target2=None)  # a day trade
    resolve(db, provider, as_of=datetime(2026, 11, 21, 0, 0, tzinfo=UTC))
    assert outcome_row(sql_conn, trade_id)[::3] == ("EXPIRED", "not_triggered")


def test_an_import_then_resolve_then_export_reproduces_the_rules(db, provider, tmp_path):
    path = tmp_path / "signals.csv"
    path.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "NVDA,swing,long,181.20,179.90,184.00,4,2026-11-20T14:35:00Z\n"
        "AMD,swing,short,150.00,152.00,147.00,3,2026-11-20T14:50:00Z\n"
    )
    importer.import_file(db, path, now=NOW)
    resolve(db, provider, drill=("1m",))
    rows = {line.split(",")[1]: line.split(",") for line in export_text(db).splitlines()[1:]}
    columns = export_text(db).splitlines()[0].split(",")
    status = columns.index("status")
    r = columns.index("r_achieved")
    assert (rows["NVDA"][status], rows["NVDA"][r]) == ("WIN", "2.1538")
    assert (rows["AMD"][status], rows["AMD"][r]) == ("WIN", "1.5")


def test_finer_bars_that_fail_for_now_leave_the_signal_for_the_next_run(
    db, provider, price_dir, sql_conn
):
    trade_id = amd_short(db)
    (price_dir / "1m" / "AMD.csv").write_text("not,a,bar,file\n")  # unreadable for now
    report = resolve(db, provider, drill=("1m",))
    assert "finer 1m bars" in report.failed_tickers["AMD"]
    assert "retried next run" in report.failed_tickers["AMD"]
    assert outcome_row(sql_conn, trade_id)[0] == "PENDING"  # not settled on the hour alone
    write_bars(price_dir, "1m", "AMD", AMD_1M_INSIDE_THE_AMBIGUOUS_HOUR)
    assert resolve(db, provider, drill=("1m",)).failed_tickers == {}
    assert outcome_row(sql_conn, trade_id)[::3] == ("WIN", "target")


def test_finer_bars_that_do_not_exist_settle_the_bar_pessimistically_once(
    db, provider, price_dir, sql_conn
):
    trade_id = amd_short(db)
    (price_dir / "1m" / "AMD.csv").unlink()  # no minute file: there are no finer bars
    report = resolve(db, provider, drill=("1m",))
    assert report.failed_tickers == {}
    status, _, exit_price, reason, _, ambiguous = outcome_row(sql_conn, trade_id)
    assert (status, exit_price, reason, ambiguous) == ("LOSS", Decimal("152"), "stop", True)
    again = resolve(db, provider, drill=("1m",))
    assert again.requests == 0 and again.outcomes_changed == 0
