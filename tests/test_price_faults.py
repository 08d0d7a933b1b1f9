"""Fault injection: hostile price answers end with a per-ticker reason, never a stopped run.

A local price server (tests/fake_http.py) sends bars stamped in the year 2999 or not stamped
with a time at all, prices the database columns cannot hold, bodies that drip one byte at a
time, stall half way or lie about their Content-Length. Each provider fetch and each resolve
run must end within a bound, drop or refuse only what is broken with a reason that says why,
and go on with the other bars and tickers. Timeouts and the run's time limit are set small
here, so the whole file takes seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgeledger.prices import PriceSettings, make_provider
from edgeledger.prices.base import FetchResult, PriceProvider
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
