"""Books of every market kind resolve by the written rules with the default settings.

Each test is a small book on real PostgreSQL, resolved by the real job: forex with bars
through the night, crypto over a weekend, CME futures, a Xetra stock from a Yahoo-shaped
answer, a US stock with extended-hours bars from Polygon, daily bars read as sessions, and
the hour cut short by an early close.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from edgeledger import ledger, storage
from edgeledger.core.markets import MarketBook
from edgeledger.core.validation import parse_signal
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from edgeledger.verify import verify_outcomes
from tests.factories import FIXTURES, write_bars, yahoo_chart, yahoo_rows

DEFAULT_DRILL = ("1m",)  # as the settings default: finer bars are asked for, none exist here


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def price_dir(tmp_path):
    return tmp_path / "prices"


@pytest.fixture
def csv_provider(price_dir):
    price_dir.mkdir(exist_ok=True)
    settings = PriceSettings.from_env(
        {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(price_dir)}
    )
    return make_provider(settings)


def log(db, now: str, **fields) -> str:
    with db.connection() as conn:
        markets = storage.market_book(conn, [fields["ticker"]])
    signal = parse_signal(
        {"trade_type": "swing", "direction": "long", "confidence": 3, "created_at": now, **fields},
        now=at(now),
        markets=markets,
    )
    return ledger.log_signal(db, signal, actor="test", now=at(now)).signal.trade_id


def resolve(db, provider, as_of: str, **kwargs):
    kwargs.setdefault("interval", "1h")
    kwargs.setdefault("drill", DEFAULT_DRILL)
    return run_resolve(db, provider, as_of=at(as_of), now=at(as_of), **kwargs)


def outcome(sql_conn, trade_id: str) -> dict:
    row = sql_conn.execute(
        "SELECT status, exit_reason, fill_price, exit_price, triggered_at, closed_at,"
        " ambiguous, expires_at FROM trade_signals WHERE trade_id = %s",
        (trade_id,),
    ).fetchone()
    names = ("status", "reason", "fill", "exit", "triggered", "closed", "ambiguous", "expires")
    return dict(zip(names, row, strict=True))


def instrument(sql_conn, ticker: str) -> tuple[str, str]:
    return sql_conn.execute(
        "SELECT market, market_source FROM instruments WHERE ticker = %s", (ticker,)
    ).fetchone()


# --- forex --------------------------------------------------------------------------------


EURUSD_1H = [
    ("2026-11-24T09:00:00Z", 1.0500, 1.0510, 1.0495, 1.0505),
    ("2026-11-24T10:00:00Z", 1.0505, 1.0512, 1.0498, 1.0508),  # touches 1.0510? no: 1.0512
    ("2026-11-24T23:00:00Z", 1.0508, 1.0530, 1.0506, 1.0528),  # overnight
    ("2026-11-25T03:00:00Z", 1.0528, 1.0562, 1.0525, 1.0560),  # reaches 1.0560 at 03:00 UTC
]


def test_a_forex_book_settles_on_bars_through_the_night(db, csv_provider, price_dir, sql_conn):
    write_bars(price_dir, "1h", "EURUSD", EURUSD_1H)
    trade_id = log(
        db, "2026-11-24T09:30:00Z", ticker="EURUSD", entry="1.0510", stop="1.0480", target="1.0560"
    )
    report = resolve(db, csv_provider, "2026-11-26T00:00:00Z")
    got = outcome(sql_conn, trade_id)
    assert (got["status"], got["reason"], got["exit"]) == ("WIN", "target", Decimal("1.056"))
    assert got["closed"] == at("2026-11-25T03:00:00Z")
    assert instrument(sql_conn, "EURUSD") == ("24/5", "ticker")
    assert report.markets == {"EURUSD": "24/5 (ticker)"}
    assert report.failed_tickers == {} and report.dropped_bars == {}


def test_a_forex_day_trade_expires_at_five_pm_new_york(db, sql_conn):
    trade_id = log(
        db,
        "2026-11-24T14:00:00Z",
        ticker="EURUSD=X",
        trade_type="day",
        entry="1.0510",
        stop="1.0480",
        target="1.0560",
    )
    assert outcome(sql_conn, trade_id)["expires"] == at("2026-11-24T22:00:00Z")


# --- crypto and futures ------------------------------------------------------------------------


def test_a_crypto_book_settles_over_the_weekend(db, csv_provider, price_dir, sql_conn):
    write_bars(
        price_dir,
        "1h",
        "BTC-USD",
        [
            ("2026-11-27T22:00:00Z", 90000, 90500, 89800, 90200),  # Friday evening: fills
            ("2026-11-28T13:00:00Z", 90200, 92100, 90100, 92000),  # Saturday: target
        ],
    )
    trade_id = log(
        db, "2026-11-27T21:00:00Z", ticker="BTC-USD", entry="90000", stop="88000", target="92000"
    )
    resolve(db, csv_provider, "2026-11-30T00:00:00Z")
    got = outcome(sql_conn, trade_id)
    assert (got["status"], got["closed"]) == ("WIN", at("2026-11-28T13:00:00Z"))
    assert instrument(sql_conn, "BTC-USD") == ("24/7", "ticker")


def test_a_futures_day_trade_uses_the_evening_session_and_expires_at_the_cme_close(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(
        price_dir,
        "1h",
        "ES=F",
        [
            ("2026-11-24T00:00:00Z", 6000.0, 6004.0, 5998.0, 6002.0),  # 18:00 CT Monday: fills
            ("2026-11-24T03:00:00Z", 6002.0, 6012.0, 6001.0, 6010.0),  # 21:00 CT: target
        ],
    )
    trade_id = log(
        db,
        "2026-11-23T23:30:00Z",  # 17:30 CT: Tuesday's session has opened
        ticker="ES=F",
        trade_type="day",
        entry="6001",
        stop="5990",
        target="6010",
    )
    resolve(db, csv_provider, "2026-11-25T00:00:00Z")
    got = outcome(sql_conn, trade_id)
    assert got["expires"] == at("2026-11-24T23:00:00Z")  # 17:00 CT, the CMES calendar's close
    assert (got["status"], got["closed"]) == ("WIN", at("2026-11-24T03:00:00Z"))


# --- stocks on other exchanges, and extended hours ------------------------------------------------


def test_a_xetra_stock_from_yahoo_keeps_all_its_daily_bars_read_as_frankfurt_sessions(
    db, server, sql_conn
):
    body = json.loads((FIXTURES / "price-apis" / "handmade_yahoo_WSU.DE_1d.json").read_text())
    server.reply("/v8/finance/chart/WSU.DE", json_body=body)
    provider = make_provider(PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": server.url}))
    trade_id = log(
        db, "2026-11-24T07:00:00Z", ticker="WSU.DE", entry="20.30", stop="19.70", target="21.20"
    )
    report = resolve(db, provider, "2026-11-27T00:00:00Z", interval="1d")
    stored = sql_conn.execute(
        "SELECT start FROM price_bars WHERE ticker = 'WSU.DE' ORDER BY start"
    ).fetchall()
    assert [row[0] for row in stored] == [at(f"2026-11-{d}T00:00:00Z") for d in (24, 25, 26)]
    got = outcome(sql_conn, trade_id)
    assert (got["status"], got["fill"], got["exit"]) == ("WIN", Decimal("20.3"), Decimal("21.2"))
    assert got["triggered"] == at("2026-11-24T08:00:00Z")  # 09:00 Frankfurt: the session open
    assert got["closed"] == at("2026-11-26T08:00:00Z")
    assert instrument(sql_conn, "WSU.DE") == ("XETR", "provider")  # Yahoo confirmed .DE
    assert report.markets == {"WSU.DE": "XETR (ticker)"}


POLYGON_AAPL = "/v2/aggs/ticker/AAPL/range/*"


@pytest.fixture
def polygon_30m(server):
    body = json.loads(
        (FIXTURES / "price-apis" / "handmade_polygon_AAPL_30m_with_premarket.json").read_text()
    )
    server.reply(POLYGON_AAPL, json_body=body)

    def provider(**extra):
        env = {
            "EDGELEDGER_PRICE_PROVIDER": "polygon",
            "EDGELEDGER_POLYGON_URL": server.url,
            "EDGELEDGER_POLYGON_API_KEY": "PK-TEST",
            "EDGELEDGER_POLYGON_CALLS_PER_MINUTE": "0",
            **extra,
        }
        return make_provider(PriceSettings.from_env(env))

    return provider


def test_extended_hours_bars_are_dropped_counted_and_named_in_the_runs_result(
    db, polygon_30m, sql_conn
):
    log(db, "2025-02-03T13:00:00Z", ticker="AAPL", entry="229.00", stop="226", target="240")
    report = resolve(db, polygon_30m(), "2025-02-04T00:00:00Z", drill=())
    assert report.dropped_bars == {"AAPL": {"outside the XNYS sessions (extended hours)": 1}}
    hours = sql_conn.execute("SELECT start FROM price_bars WHERE ticker = 'AAPL'").fetchall()
    assert min(row[0] for row in hours) == at("2025-02-03T14:30:00Z")


def test_a_setting_keeps_extended_hours_bars(db, polygon_30m, sql_conn):
    log(db, "2025-02-03T13:00:00Z", ticker="AAPL", entry="229.00", stop="226", target="240")
    provider = polygon_30m(EDGELEDGER_KEEP_EXTENDED_HOURS="true")
    report = resolve(db, provider, "2025-02-04T00:00:00Z", drill=())
    assert report.dropped_bars == {}
    hours = sql_conn.execute("SELECT start FROM price_bars WHERE ticker = 'AAPL'").fetchall()
    assert min(row[0] for row in hours) == at("2025-02-03T13:30:00Z")  # 08:30 ET


# --- daily bars and session closes ----------------------------------------------------------------


GOOG_1D = [
    ("2026-11-23", 300.0, 303.0, 299.0, 302.0),
    ("2026-11-24", 302.0, 306.0, 299.5, 305.0),  # touches 300 and 305, but began before
    ("2026-11-25", 305.0, 305.5, 299.8, 301.0),  # touches 300: fills at the 14:30 UTC open
    ("2026-11-27", 301.0, 310.5, 300.5, 310.0),  # early close: target
]


def test_midnight_stamped_daily_csv_bars_are_read_as_their_sessions(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(price_dir, "1d", "GOOG", GOOG_1D)
    trade_id = log(db, "2026-11-24T16:00:00Z", ticker="GOOG", entry="300", stop="295", target="310")
    report = resolve(db, csv_provider, "2026-11-28T00:00:00Z", interval="1d")
    got = outcome(sql_conn, trade_id)
    assert got["triggered"] == at("2026-11-25T14:30:00Z")  # the 25th's session open
    assert (got["status"], got["closed"]) == ("WIN", at("2026-11-27T14:30:00Z"))
    assert report.failed_tickers == {}  # no finer files: not a failure


def test_the_1230_bar_of_an_early_close_is_in_a_day_trades_window(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(
        price_dir,
        "1h",
        "MSFT",
        [
            ("2026-11-27T14:30:00Z", 400.0, 401.0, 399.5, 400.5),  # 09:30 ET: fills at 400
            ("2026-11-27T15:30:00Z", 400.5, 401.5, 400.2, 401.0),
            ("2026-11-27T16:30:00Z", 401.0, 401.8, 400.6, 401.5),
            ("2026-11-27T17:30:00Z", 401.5, 403.2, 401.2, 403.0),  # 12:30 ET: target 403
        ],
    )
    trade_id = log(
        db,
        "2026-11-27T14:00:00Z",
        ticker="MSFT",
        trade_type="day",
        entry="400",
        stop="398",
        target="403",
    )
    resolve(db, csv_provider, "2026-11-28T00:00:00Z")
    got = outcome(sql_conn, trade_id)
    assert got["expires"] == at("2026-11-27T18:00:00Z")  # the 13:00 ET early close
    assert (got["status"], got["closed"]) == ("WIN", at("2026-11-27T17:30:00Z"))


def test_a_wrong_interval_leaves_signals_waiting_then_the_right_one_settles_them(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(price_dir, "1d", "GOOG", GOOG_1D)  # a daily-only folder
    trade_id = log(db, "2026-11-24T16:00:00Z", ticker="GOOG", entry="300", stop="295", target="310")
    hourly = resolve(db, csv_provider, "2026-12-02T00:00:00Z")  # the default 1h
    assert "GOOG" in hourly.no_prices
    assert (outcome(sql_conn, trade_id)["status"], outcome(sql_conn, trade_id)["reason"]) == (
        "EXPIRED",
        "no_data",
    )
    resolve(db, csv_provider, "2026-12-02T00:00:00Z", interval="1d")
    assert outcome(sql_conn, trade_id)["status"] == "WIN"


# --- deciding and changing markets ---------------------------------------------------------------


def test_a_market_named_on_the_signal_wins_and_is_kept_with_the_instrument(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(price_dir, "1h", "SAP", [("2026-11-24T08:00:00Z", 120.0, 121.0, 119.5, 120.5)])
    trade_id = log(
        db,
        "2026-11-24T07:30:00Z",
        ticker="SAP",
        trade_type="day",
        entry="120",
        stop="118",
        target="124",
        market="xetr",
    )
    got = outcome(sql_conn, trade_id)
    assert got["expires"] == at("2026-11-24T16:30:00Z")  # 17:30 Frankfurt
    report = resolve(db, csv_provider, "2026-11-25T00:00:00Z")
    assert instrument(sql_conn, "SAP") == ("XETR", "signal")
    assert report.markets == {"SAP": "XETR (signal)"}


def test_a_changed_market_setting_means_a_new_look(db, csv_provider, price_dir, sql_conn):
    write_bars(price_dir, "1h", "SAP", [("2026-11-24T08:00:00Z", 120.0, 121.0, 119.5, 120.5)])
    log(db, "2026-11-24T07:30:00Z", ticker="SAP", entry="120", stop="118", target="124")
    first = resolve(db, csv_provider, "2026-11-25T00:00:00Z")
    assert instrument(sql_conn, "SAP") == ("XNYS", "default")
    assert resolve(db, csv_provider, "2026-11-25T00:00:00Z").tickers_evaluated == 0
    with db.connection() as conn:
        storage.set_instrument_market(conn, "SAP", "XETR", at=at("2026-11-25T00:00:00Z"))
    again = resolve(db, csv_provider, "2026-11-25T00:00:00Z")
    assert first.tickers_evaluated == again.tickers_evaluated == 1
    assert instrument(sql_conn, "SAP") == ("XETR", "setting")


def test_the_default_market_is_a_setting(db):
    assert MarketBook(default="XLON").choose("SAP").market == "XLON"


def test_rederive_records_every_change_as_an_event_and_verify_agrees(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(price_dir, "1d", "GOOG", GOOG_1D)
    trade_id = log(db, "2026-11-24T16:00:00Z", ticker="GOOG", entry="300", stop="295", target="310")
    resolve(db, csv_provider, "2026-11-28T00:00:00Z", interval="1d")
    assert outcome(sql_conn, trade_id)["triggered"] == at("2026-11-25T14:30:00Z")
    with db.connection() as conn:  # as `instruments set GOOG --market XLON` does
        storage.set_instrument_market(conn, "GOOG", "XLON", at=at("2026-11-28T00:00:00Z"))
        storage.request_rederive(conn, ["GOOG"], at=at("2026-11-28T00:00:00Z"), reason="test")
    report = resolve(db, csv_provider, "2026-11-28T00:00:00Z", interval="1d")
    assert report.outcomes_changed == 1
    # Read by London's sessions, the 24th's bar (08:00-16:30 UTC) began before the signal.
    assert outcome(sql_conn, trade_id)["triggered"] == at("2026-11-25T08:00:00Z")
    kinds = [r[0] for r in sql_conn.execute(
        "SELECT kind FROM signal_events WHERE trade_id = %s ORDER BY id", (trade_id,)
    )]  # fmt: skip
    assert kinds == ["created", "triggered", "resolved", "triggered", "resolved"]
    assert sql_conn.execute("SELECT count(*) FROM rederive_requests").fetchone()[0] == 0
    assert verify_outcomes(db).differences == []
    assert resolve(db, csv_provider, "2026-11-28T00:00:00Z", interval="1d").tickers_evaluated == 0


# --- a primary interval per trade type ------------------------------------------------------


def test_day_and_swing_trades_settle_on_their_own_intervals(db, csv_provider, price_dir, sql_conn):
    write_bars(
        price_dir,
        "5m",
        "MSFT",
        [
            ("2026-11-24T15:00:00Z", 400.0, 400.4, 399.8, 400.2),  # fills at 400
            ("2026-11-24T20:55:00Z", 401.0, 403.4, 400.9, 403.2),  # the last 5 minutes: target
        ],
    )
    write_bars(
        price_dir,
        "1h",
        "MSFT",
        [
            ("2026-11-24T14:30:00Z", 400.5, 401.0, 399.5, 400.5),  # fills at 400
            ("2026-11-25T15:30:00Z", 401.0, 406.5, 400.9, 406.0),  # target
        ],
    )
    day = log(db, "2026-11-24T14:55:00Z", ticker="MSFT", trade_type="day",
              entry="400", stop="398", target="403")  # fmt: skip
    swing = log(db, "2026-11-24T14:25:00Z", ticker="MSFT", entry="400", stop="395", target="406")
    intervals = {"day": "5m", "swing": "1h"}
    report = resolve(db, csv_provider, "2026-11-26T00:00:00Z", interval=intervals)
    assert report.interval == "day 5m, swing 1h"
    assert (outcome(sql_conn, day)["status"], outcome(sql_conn, day)["closed"]) == (
        "WIN",
        at("2026-11-24T20:55:00Z"),
    )
    assert outcome(sql_conn, swing)["closed"] == at("2026-11-25T15:30:00Z")
    intervals_used = dict(
        sql_conn.execute("SELECT trade_id, resolved_interval FROM trade_signals").fetchall()
    )
    assert intervals_used == {day: "5m", swing: "1h"}
    again = resolve(db, csv_provider, "2026-11-26T00:00:00Z", interval=intervals)
    assert (again.tickers_evaluated, again.requests) == (0, 0)  # each interval's bookkeeping


def test_a_run_warns_when_a_signals_window_cannot_hold_one_bar(
    db, csv_provider, price_dir, sql_conn
):
    write_bars(price_dir, "1d", "GOOG", GOOG_1D)
    log(db, "2026-11-24T16:00:00Z", ticker="GOOG", trade_type="day",
        entry="300", stop="295", target="310")  # fmt: skip
    report = resolve(db, csv_provider, "2026-11-28T00:00:00Z", interval="1d")
    assert report.warnings == [
        "1 day/swing signal(s) have a window shorter than one 1d bar: they can only expire;"
        " settle them on finer bars (EDGELEDGER_RESOLVE_INTERVAL_DAY or _SWING)"
    ]


def test_a_provider_confirming_the_market_asks_for_no_new_look(db, server, sql_conn):
    rows = yahoo_rows([("2026-11-24T15:30:00Z", 100.5, 101.0, 99.5, 100.5)])
    server.reply("/v8/finance/chart/AAPL", json_body=yahoo_chart("AAPL", "1h", rows))
    provider = make_provider(PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": server.url}))
    log(db, "2026-11-24T15:00:00Z", ticker="AAPL", entry="100", stop="99", target="103")
    first = resolve(db, provider, "2026-11-25T00:00:00Z", drill=())
    assert instrument(sql_conn, "AAPL") == ("XNYS", "provider")  # the default, now confirmed
    assert first.markets == {"AAPL": "XNYS (default)"}
    assert sql_conn.execute("SELECT count(*) FROM rederive_requests").fetchone()[0] == 0
    assert resolve(db, provider, "2026-11-25T00:00:00Z", drill=()).tickers_evaluated == 0
