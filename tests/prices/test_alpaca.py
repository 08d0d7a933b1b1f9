"""Alpaca bars: stocks and crypto endpoints, key headers, feed and page tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from edgeledger.prices.alpaca import AlpacaProvider
from edgeledger.prices.errors import BadResponse, NotAuthorized, TickerNotFound

from .support import load

STOCKS = "/v2/stocks/bars"
CRYPTO = "/v1beta3/crypto/us/bars"
RECORDED_PAGE = load("alpaca_v2_stocks_bars__test_get_bars.json")["body"]


@pytest.fixture
def alpaca(server, make_http) -> AlpacaProvider:
    return AlpacaProvider(
        make_http("alpaca"), key_id="AK-ID", secret_key="AK-SECRET", base_url=server.url
    )


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def test_pages_are_followed_through_next_page_token(server, alpaca) -> None:
    server.reply(STOCKS, json_body=RECORDED_PAGE)
    server.reply(STOCKS, json_body=load("handmade_alpaca_AAPL_1Day_page2.json"))
    bars = alpaca.fetch_bars("AAPL", "1d", day(2022, 2, 1), day(2022, 2, 4))
    assert len(bars) == 3
    first, second = server.to(STOCKS)
    assert "page_token" not in first.query
    assert second.query["page_token"] == RECORDED_PAGE["next_page_token"]


def test_daily_bars_at_midnight_et_are_stored_as_the_date_they_name(server, alpaca) -> None:
    server.reply(STOCKS, json_body={**RECORDED_PAGE, "next_page_token": None})
    bars = alpaca.fetch_bars("AAPL", "1d", day(2022, 2, 1), day(2022, 2, 3))
    assert list(bars["start"]) == [
        pd.Timestamp("2022-02-01", tz="UTC"),
        pd.Timestamp("2022-02-02", tz="UTC"),
    ]
    assert bars.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        174.0,
        174.84,
        172.31,
        174.61,
        85998033.0,
    ]


def test_keys_travel_as_headers_with_the_feed_and_split_adjustment(server, alpaca) -> None:
    server.reply(
        STOCKS,
        json_body=load("alpaca_v2_stocks_bars__test_get_bars_single_empty_response.json")["body"],
    )
    alpaca.fetch_bars("AAPL", "1d", day(2022, 2, 1), day(2022, 2, 3))
    [request] = server.to(STOCKS)
    assert request.headers["APCA-API-KEY-ID"] == "AK-ID"
    assert request.headers["APCA-API-SECRET-KEY"] == "AK-SECRET"
    assert request.query["symbols"] == "AAPL"
    assert request.query["timeframe"] == "1Day"
    assert request.query["feed"] == "iex"
    assert request.query["adjustment"] == "split"
    assert request.query["start"] == "2022-01-31T00:00:00Z"  # a day early: see DAILY_PAD


def test_empty_response_gives_an_empty_frame(server, alpaca) -> None:
    server.reply(
        STOCKS,
        json_body=load("alpaca_v2_stocks_bars__test_get_bars_single_empty_response.json")["body"],
    )
    assert alpaca.fetch_bars("ZZZZ", "1d", day(2022, 2, 1), day(2022, 2, 3)).empty


def test_crypto_uses_the_crypto_endpoint_without_a_feed(server, alpaca) -> None:
    server.reply(CRYPTO, json_body=load("handmade_alpaca_BTCUSD_1Hour.json"))
    bars = alpaca.fetch_bars("BTC-USD", "1h", day(2024, 3, 1), day(2024, 3, 2))
    assert list(bars["start"]) == [
        pd.Timestamp("2024-03-01 00:00", tz="UTC"),
        pd.Timestamp("2024-03-01 01:00", tz="UTC"),
    ]
    [request] = server.to(CRYPTO)
    assert request.query["symbols"] == "BTC/USD"
    assert request.query["timeframe"] == "1Hour"
    assert "feed" not in request.query


def test_forbidden_feed_is_not_authorized(server, alpaca) -> None:
    body = {"message": "subscription does not permit querying recent SIP data"}
    server.reply(STOCKS, status=403, json_body=body)
    with pytest.raises(NotAuthorized, match=r"^alpaca: AAPL not authorized \(403: subscription"):
        alpaca.fetch_bars("AAPL", "1d", day(2022, 2, 1), day(2022, 2, 3))


def test_invalid_symbol_is_ticker_not_found(server, alpaca) -> None:
    server.reply(STOCKS, status=400, json_body={"message": "invalid symbol: AAPL$"})
    with pytest.raises(TickerNotFound, match=r"^alpaca: AAPL\$ not found"):
        alpaca.fetch_bars("AAPL$", "1d", day(2022, 2, 1), day(2022, 2, 3))


def test_a_repeated_page_token_stops_the_loop(server, alpaca) -> None:
    server.reply(STOCKS, json_body=RECORDED_PAGE)  # repeats: same token every time
    with pytest.raises(BadResponse, match="repeats a page"):
        alpaca.fetch_bars("AAPL", "1d", day(2022, 2, 1), day(2022, 2, 3))
