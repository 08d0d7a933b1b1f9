"""Fault injection: hostile price answers end with a per-ticker reason, never a stopped run.

A local price server (tests/fake_http.py) sends bars stamped in the year 2999 or not stamped
with a time at all, prices the database columns cannot hold, bodies that drip one byte at a
time, stall half way or lie about their Content-Length. Each provider fetch and each resolve
run must end within a bound, drop or refuse only what is broken with a reason that says why,
and go on with the other bars and tickers. Timeouts and the run's time limit are set small
here, so the whole file takes seconds.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from edgeledger import importer
from edgeledger.cli import main
from edgeledger.prices import (
    BadResponse,
    PriceError,
    PriceSettings,
    ProviderUnavailable,
    make_provider,
)
from edgeledger.prices.base import FetchResult, PriceProvider
from edgeledger.resolver import run_resolve
from tests.factories import yahoo_chart

MONDAY_OPEN = datetime(2025, 2, 3, 14, 30, tzinfo=UTC)  # 09:30 in New York
HOUR = (MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=1))
NOW = datetime(2025, 2, 20, 12, tzinfo=UTC)
FIRST_MS = int(MONDAY_OPEN.timestamp() * 1000)
FIVE_MINUTES_MS = 5 * 60 * 1000
YEAR_2999 = "2999-01-01T15:30:00Z"


def provider(server, name: str, tmp_path: Path | None = None, **env: str) -> PriceProvider:
    """One provider, talking to the local server; sleeps between retries are skipped."""
    settings = PriceSettings.from_env(
        {
            "EDGELEDGER_PRICE_PROVIDER": name,
            "EDGELEDGER_YAHOO_URL": server.url,
            "EDGELEDGER_POLYGON_URL": server.url,
            "EDGELEDGER_POLYGON_API_KEY": "PK",
            "EDGELEDGER_POLYGON_CALLS_PER_MINUTE": "0",
            "EDGELEDGER_ALPACA_URL": server.url,
            "EDGELEDGER_ALPACA_KEY_ID": "AK",
            "EDGELEDGER_ALPACA_SECRET_KEY": "AS",
            "EDGELEDGER_SCHWAB_URL": server.url,
            "EDGELEDGER_SCHWAB_APP_KEY": "app",
            "EDGELEDGER_SCHWAB_APP_SECRET": "secret",
            "EDGELEDGER_SCHWAB_REFRESH_TOKEN": "refresh",
            "EDGELEDGER_PRICE_DIR": str(tmp_path or ""),
            **env,
        }
    )
    return make_provider(settings, sleep=lambda _: None, clock=lambda: NOW)


def reasons(result: FetchResult) -> list[str]:
    return [bar.reason for bar in result.dropped]


# --- absurd timestamps: the bar is dropped with its reason, the others are kept --------------


def yahoo_bars(stamps: list[object]) -> dict:
    first = int(MONDAY_OPEN.timestamp())
    rows = [(stamp, 100.0, 101.0, 99.0, 100.5) for stamp in stamps]
    rows[0:0] = [(first, 100.0, 101.0, 99.0, 100.5), (first + 300, 100.5, 101.5, 100.0, 101.0)]
    return yahoo_chart("AAPL", "5m", rows)


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        (99_999_999_999, "timestamp out of range"),  # the year 5138
        (2**70, "timestamp out of range"),  # past int64
        ("noon", "unreadable timestamp"),
    ],
)
def test_a_yahoo_bar_stamped_absurdly_is_dropped_and_the_others_kept(
    server, stamp: object, reason: str
) -> None:
    server.reply("/v8/finance/chart/AAPL", json_body=yahoo_bars([stamp]))
    result = provider(server, "yahoo").fetch("AAPL", "5m", *HOUR)
    assert len(result.bars) == 2
    assert reasons(result) == [reason]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [(10**17, "timestamp out of range"), ("noon", "unreadable timestamp")],
)
def test_a_polygon_bar_stamped_absurdly_is_dropped_and_the_others_kept(
    server, stamp: object, reason: str
) -> None:
    rows = [
        {"t": FIRST_MS + i * FIVE_MINUTES_MS, "o": 100.0, "h": 101.0, "l": 99.0, "c": 100.5}
        for i in range(2)
    ]
    rows.append({"t": stamp, "o": 100.0, "h": 101.0, "l": 99.0, "c": 100.5})
    server.reply("/v2/aggs/ticker/AAPL/range/*", json_body={"status": "OK", "results": rows})
    result = provider(server, "polygon").fetch("AAPL", "5m", *HOUR)
    assert len(result.bars) == 2
    assert reasons(result) == [reason]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [(10**17, "timestamp out of range"), ("noon", "unreadable timestamp")],
)
def test_a_schwab_candle_stamped_absurdly_is_dropped_and_the_others_kept(
    server, stamp: object, reason: str
) -> None:
    server.reply("/v1/oauth/token", json_body={"access_token": "T", "expires_in": 1800})
    candles = [
        {"datetime": FIRST_MS + i * FIVE_MINUTES_MS, "open": 100.0, "high": 101.0, "low": 99.0}
        | {"close": 100.5, "volume": 10}
        for i in range(2)
    ]
    candles.append({"datetime": stamp, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0})
    server.reply("/marketdata/v1/pricehistory", json_body={"candles": candles})
    result = provider(server, "schwab").fetch("AAPL", "5m", *HOUR)
    assert len(result.bars) == 2
    assert reasons(result) == [reason]


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [(YEAR_2999, "timestamp out of range"), ("noon", "unreadable timestamp")],
)
def test_an_alpaca_bar_stamped_absurdly_is_dropped_and_the_others_kept(
    server, stamp: str, reason: str
) -> None:
    bars = [
        {"t": f"2025-02-03T14:{30 + 5 * i}:00Z", "o": 100.0, "h": 101.0, "l": 99.0, "c": 100.5}
        for i in range(2)
    ]
    bars.append({"t": stamp, "o": 100.0, "h": 101.0, "l": 99.0, "c": 100.5})
    server.reply("/v2/stocks/bars", json_body={"bars": {"AAPL": bars}, "next_page_token": None})
    result = provider(server, "alpaca").fetch("AAPL", "5m", *HOUR)
    assert len(result.bars) == 2
    assert reasons(result) == [reason]


@pytest.mark.parametrize(
    ("interval", "second"), [("5m", "2025-02-03T14:35:00Z"), ("1d", "2025-02-04")]
)
def test_a_csv_row_stamped_in_2999_is_dropped_and_the_others_kept(
    server, tmp_path: Path, interval: str, second: str
) -> None:
    path = tmp_path / interval / "AAPL.csv"
    path.parent.mkdir()
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2025-02-03T14:30:00Z,100,101,99,100.5,10\n"
        f"{YEAR_2999},100,101,99,100.5,10\n"
        f"{second},100.5,101.5,100,101,10\n"
    )
    span = HOUR if interval == "5m" else (MONDAY_OPEN, MONDAY_OPEN + timedelta(days=2))
    result = provider(server, "csv", tmp_path).fetch("AAPL", interval, *span)
    assert len(result.bars) == 2
    assert reasons(result) == ["timestamp out of range"]


# --- a resolve run over hostile answers -------------------------------------------------------

AS_OF = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
CHART = "/v8/finance/chart/"


def hourly(base: float) -> list[tuple]:
    """A Friday of hourly bars (epoch seconds, o, h, l, c) that fills a long at `base` and
    reaches its target, base + 3."""
    rows = [
        ("2026-11-19T20:30:00Z", base + 0.5, base + 0.9, base + 0.3, base + 0.6),
        ("2026-11-20T15:30:00Z", base + 0.6, base + 0.8, base - 0.2, base + 0.4),
        ("2026-11-20T16:30:00Z", base + 0.4, base + 3.2, base + 0.2, base + 3.0),
        ("2026-11-20T17:30:00Z", base + 3.0, base + 3.5, base + 2.5, base + 3.1),
    ]
    return [(int(datetime.fromisoformat(r[0]).timestamp()), *r[1:]) for r in rows]


def import_longs(db, tmp_path: Path, tickers: list[str]) -> None:
    """A swing long per ticker, entry 100 + i, stop 2 below, target 3 above."""
    path = tmp_path / "signals.csv"
    rows = ["ticker,trade_type,direction,entry,stop,target,confidence,edges,created_at"]
    for i, ticker in enumerate(tickers):
        base = 100 + i
        rows.append(f"{ticker},swing,long,{base},{base - 2},{base + 3},3,E,2026-11-20T15:00:00Z")
    path.write_text("\n".join(rows) + "\n")
    importer.import_file(db, path, now=AS_OF)


def serve_chart(server, ticker: str, rows: list[tuple], **reply: object) -> None:
    server.reply(CHART + ticker, json_body=yahoo_chart(ticker, "1h", rows), **reply)


def statuses(sql_conn) -> dict[str, str]:
    return dict(sql_conn.execute("SELECT ticker, status FROM trade_signals").fetchall())


def yahoo_for_resolve(server, **env: str) -> PriceProvider:
    settings = PriceSettings.from_env({"EDGELEDGER_YAHOO_URL": server.url, **env})
    return make_provider(settings, sleep=lambda _: None, clock=lambda: AS_OF)


def test_bars_the_database_would_refuse_are_dropped_and_every_ticker_resolves(
    db, server, tmp_path, sql_conn
) -> None:
    """Open 100.000000005 over high 100.000000004 broke price_bars' CHECK once rounded, and
    a price of 2e12 overflowed numeric(20, 8): the ticker's bars were refused every run."""
    tickers = ["GOOD", "TIES", "HUGE", "FUTURE"]
    import_longs(db, tmp_path, tickers)
    serve_chart(server, "GOOD", hourly(100))
    tie = (int(datetime(2026, 11, 19, 19, 30, tzinfo=UTC).timestamp()), 100.000000005)
    serve_chart(server, "TIES", [(*tie, 100.000000004, 99.0, 100.0), *hourly(101)])
    serve_chart(server, "HUGE", [(tie[0], 2e12, 2e12, 2e12, 2e12), *hourly(102)])
    serve_chart(server, "FUTURE", [(99_999_999_999, 1.0, 1.0, 1.0, 1.0), *hourly(103)])

    report = run_resolve(db, yahoo_for_resolve(server), as_of=AS_OF, now=AS_OF, drill=())

    assert report.failed_tickers == {}
    assert statuses(sql_conn) == dict.fromkeys(tickers, "WIN")
    stored = sql_conn.execute(
        "SELECT open, high FROM price_bars WHERE ticker = 'TIES' ORDER BY start LIMIT 1"
    ).fetchone()
    assert stored == (Decimal("100.00000000"), Decimal("100.00000000"))


# --- slow and lying servers: a fetch ends within its deadline, retried next run ---------------

TIMEOUT = 0.3  # EDGELEDGER_HTTP_TIMEOUT here: each attempt is cut off after it
ATTEMPTS = 4  # the retry policy's, with its sleeps skipped
BOUND = ATTEMPTS * TIMEOUT + 1.5  # what a fetch may take at most, with room for a slow CI


def chart_body(ticker: str = "AAPL") -> dict:
    first = int(MONDAY_OPEN.timestamp())
    return yahoo_chart(ticker, "5m", [(first, 100.0, 101.0, 99.0, 100.5)])


def fetch_within_bound(server) -> Exception:
    """Fetch from the local Yahoo, assert it failed within BOUND, and return the error."""
    yahoo = provider(server, "yahoo", EDGELEDGER_HTTP_TIMEOUT=str(TIMEOUT))
    started = time.monotonic()
    with pytest.raises(PriceError) as raised:
        yahoo.fetch("AAPL", "5m", *HOUR)
    assert time.monotonic() - started < BOUND
    return raised.value


def test_a_body_dripping_one_byte_at_a_time_is_cut_off_at_the_deadline(server) -> None:
    """Each byte came well within the per-read timeout, so the fetch never ended."""
    server.reply("/v8/finance/chart/AAPL", json_body=chart_body(), drip=0.02)
    error = fetch_within_bound(server)
    assert isinstance(error, ProviderUnavailable)
    assert str(error) == f"yahoo: AAPL did not send its whole answer within {TIMEOUT:g}s"
    assert len(server.to("/v8/finance/chart/AAPL")) == ATTEMPTS


def test_headers_dripping_one_byte_at_a_time_are_cut_off_at_the_deadline(server) -> None:
    server.reply("/v8/finance/chart/AAPL", json_body=chart_body(), drip_head=0.02)
    error = fetch_within_bound(server)
    assert isinstance(error, ProviderUnavailable)
    assert "within 0.3s" in str(error)


@pytest.mark.parametrize("stall", [0.0, 2.0], ids=["then-closes", "then-stalls"])
def test_a_body_shorter_than_its_content_length_is_a_transient_failure(
    server, stall: float
) -> None:
    body = json.dumps(chart_body()).encode()
    server.reply(
        "/v8/finance/chart/AAPL",
        json_body=chart_body(),
        content_length=len(body) + 100,
        stall=stall,
    )
    error = fetch_within_bound(server)
    assert isinstance(error, ProviderUnavailable)


def test_a_content_length_lie_dripping_its_body_is_cut_off_at_the_deadline(server) -> None:
    body = json.dumps(chart_body()).encode()
    server.reply(
        "/v8/finance/chart/AAPL", json_body=chart_body(), content_length=len(body) * 2, drip=0.01
    )
    assert isinstance(fetch_within_bound(server), ProviderUnavailable)


def test_a_body_that_lies_about_its_encoding_is_a_bad_response(server) -> None:
    """requests' ContentDecodingError is no PriceError: it stopped the whole resolve run."""
    server.reply(
        "/v8/finance/chart/AAPL", json_body=chart_body(), headers={"Content-Encoding": "gzip"}
    )
    error = fetch_within_bound(server)
    assert isinstance(error, BadResponse)
    assert "ContentDecodingError" in str(error)


def test_a_run_ends_within_its_bound_over_hostile_servers_and_the_good_tickers_resolve(
    db, server, tmp_path, sql_conn
) -> None:
    tickers = ["GOOD", "DRIP", "STALL", "SHORT", "ZIPLIE", "LATE"]
    import_longs(db, tmp_path, tickers)
    serve_chart(server, "GOOD", hourly(100))
    serve_chart(server, "DRIP", hourly(101), drip=0.02)
    body = json.dumps(yahoo_chart("STALL", "1h", hourly(102))).encode()
    serve_chart(server, "STALL", hourly(102), content_length=len(body) + 50, stall=5.0)
    serve_chart(server, "SHORT", hourly(103), content_length=len(body) + 50)
    serve_chart(server, "ZIPLIE", hourly(104), headers={"Content-Encoding": "gzip"})
    serve_chart(server, "LATE", hourly(105), drip_head=0.05)
    prices = yahoo_for_resolve(server, EDGELEDGER_HTTP_TIMEOUT=str(TIMEOUT))

    started = time.monotonic()
    report = run_resolve(db, prices, as_of=AS_OF, now=AS_OF, drill=(), fetch_workers=4)
    assert time.monotonic() - started < 2 * BOUND  # six tickers on four workers

    assert statuses(sql_conn)["GOOD"] == "WIN"
    assert sorted(report.failed_tickers) == sorted(tickers[1:])
    reasons = report.failed_tickers
    again = " (retried next run)"
    assert (
        reasons["DRIP"] == f"yahoo: DRIP did not send its whole answer within {TIMEOUT:g}s{again}"
    )
    assert reasons["STALL"].startswith("yahoo: STALL did not ")
    assert reasons["SHORT"] == (
        f"yahoo: SHORT did not answer (connection failed: ChunkedEncodingError){again}"
    )
    assert reasons["ZIPLIE"] == (
        f"yahoo: ZIPLIE sent an answer we could not read (ContentDecodingError){again}"
    )
    assert reasons["LATE"].startswith("yahoo: LATE did not ")


def test_a_run_past_its_time_limit_leaves_the_remaining_tickers_for_the_next_run(
    db, server, tmp_path, sql_conn
) -> None:
    tickers = [f"T{i}" for i in range(8)]
    import_longs(db, tmp_path, tickers)
    for i, ticker in enumerate(tickers):  # each answer takes 0.3 s: 2.4 s on one worker
        serve_chart(server, ticker, hourly(100 + i), delay=0.3)
    prices = yahoo_for_resolve(server)

    started = time.monotonic()
    report = run_resolve(
        db, prices, as_of=AS_OF, now=AS_OF, drill=(), fetch_workers=1, time_limit=1.0
    )
    assert time.monotonic() - started < 1.0 + 1.0

    left = report.failed_tickers
    assert 0 < len(left) < len(tickers)
    assert set(left.values()) == {
        "left for the next run: the run reached its time limit (1s, EDGELEDGER_RESOLVE_DEADLINE)"
    }
    done = statuses(sql_conn)
    assert all(done[t] == "PENDING" for t in left)
    assert all(done[t] == "WIN" for t in set(tickers) - set(left))

    again = run_resolve(db, prices, as_of=AS_OF, now=AS_OF, drill=(), fetch_workers=4)
    assert again.failed_tickers == {}
    assert statuses(sql_conn) == dict.fromkeys(tickers, "WIN")


def test_a_run_does_not_wait_past_its_time_limit_for_a_request_in_flight(
    db, server, tmp_path, sql_conn
) -> None:
    """A server dripping within a long HTTP timeout: the run stops at its own limit."""
    import_longs(db, tmp_path, ["GOOD", "DRIP"])
    serve_chart(server, "GOOD", hourly(100))
    serve_chart(server, "DRIP", hourly(101), drip=0.05)
    prices = yahoo_for_resolve(server, EDGELEDGER_HTTP_TIMEOUT="30")

    started = time.monotonic()
    report = run_resolve(db, prices, as_of=AS_OF, now=AS_OF, drill=(), time_limit=0.5)
    assert time.monotonic() - started < 0.5 + 1.0
    assert list(report.failed_tickers) == ["DRIP"]
    assert report.failed_tickers["DRIP"].startswith("left for the next run")
    assert statuses(sql_conn) == {"GOOD": "WIN", "DRIP": "PENDING"}


def test_the_resolve_command_reads_its_time_limit_and_names_the_tickers_left(
    db, db_url, server, tmp_path, monkeypatch
) -> None:
    tickers = ["A1", "A2", "A3", "A4"]
    import_longs(db, tmp_path, tickers)
    for i, ticker in enumerate(tickers):
        serve_chart(server, ticker, hourly(100 + i), delay=0.4)
    for name, value in {
        "DATABASE_URL": db_url,
        "EDGELEDGER_YAHOO_URL": server.url,
        "EDGELEDGER_FETCH_WORKERS": "1",
        "EDGELEDGER_RESOLVE_DEADLINE": "0.6",
    }.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    main(["resolve", "--as-of", AS_OF.isoformat(), "--drill", "none"], out=out, err=err)
    assert "skipped A4: left for the next run: the run reached its time limit (0.6s" in (
        err.getvalue()
    )


def test_redirects_without_end_are_a_bad_response(server) -> None:
    server.reply(
        "/v8/finance/chart/AAPL", status=302, headers={"Location": "/v8/finance/chart/AAPL"}
    )
    error = fetch_within_bound(server)
    assert str(error) == "yahoo: AAPL sent an answer we could not read (TooManyRedirects)"


# --- answers of the wrong shape: a bad response for the ticker, not a stopped run -------------


QUOTE_OF_NUMBERS = {"timestamp": [1738593000], "indicators": {"quote": [{"open": 5}]}}


@pytest.mark.parametrize(
    ("name", "replies"),
    [
        ("yahoo", {"/v8/finance/chart/AAPL": {"chart": {"result": [QUOTE_OF_NUMBERS]}}}),
        ("polygon", {"/v2/aggs/ticker/AAPL/range/*": {"status": "OK", "results": {"t": 1}}}),
        ("polygon", {"/v2/aggs/ticker/AAPL/range/*": {"results": [], "next_url": 5}}),
        ("alpaca", {"/v2/stocks/bars": {"bars": [1, 2]}}),
        ("schwab", {"/v1/oauth/token": {"access_token": "T", "expires_in": "soon"}}),
        ("schwab", {"/v1/oauth/token": {"access_token": "T", "expires_in": 1e300}}),
        (
            "schwab",
            {
                "/v1/oauth/token": {"access_token": "T"},
                "/marketdata/v1/pricehistory": {"candles": {"a": 1}},
            },
        ),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_bad_response(
    server, name: str, replies: dict[str, object]
) -> None:
    """A TypeError or AttributeError from reading it was no PriceError: it stopped the run."""
    for path, body in replies.items():
        server.reply(path, json_body=body)
    with pytest.raises(BadResponse, match=rf"^{name}: AAPL sent an answer of a shape we"):
        provider(server, name).fetch("AAPL", "5m", *HOUR)


def test_json_nested_past_the_parsers_depth_is_a_bad_response(server) -> None:
    """json raises RecursionError, not ValueError, for 100,000 nested lists."""
    server.reply("/v8/finance/chart/AAPL", text="[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadResponse, match=r"^yahoo: AAPL sent malformed JSON"):
        provider(server, "yahoo").fetch("AAPL", "5m", *HOUR)
