"""Polygon aggregates: parsing, next_url pages, the key header and the rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from edgeledger.prices.errors import BadResponse, NotAuthorized
from edgeledger.prices.factory import PriceSettings, make_provider
from edgeledger.prices.polygon import PolygonProvider, polygon_ticker

from .support import FakeTime, load

AGGS = "/v2/aggs/ticker/AAPL/range/*"
MONDAY_OPEN = datetime(2025, 2, 3, 14, 30, tzinfo=UTC)


@pytest.fixture
def polygon(server, make_http) -> PolygonProvider:
    return PolygonProvider(make_http("polygon"), api_key="PK-SECRET", base_url=server.url)


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def test_daily_bars_stamped_at_midnight_et_are_stored_as_their_dates(server, polygon) -> None:
    server.reply(
        AGGS, json_body=load("polygon_v2_aggs_AAPL_range_1_day_2005-04-01_2005-04-04.json")
    )
    bars = polygon.fetch_bars("AAPL", "1d", day(2005, 4, 1), day(2005, 4, 5))
    assert list(bars["start"]) == [
        pd.Timestamp("2005-04-01", tz="UTC"),  # midnight EST
        pd.Timestamp("2005-04-04", tz="UTC"),  # midnight EDT, after the DST change
    ]
    assert bars.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        1.5032,
        1.5064,
        1.4489,
        1.4604,
        642646396.0,
    ]


def test_api_key_travels_in_the_header_never_in_the_url(server, polygon) -> None:
    server.reply(
        AGGS, json_body=load("polygon_v2_aggs_AAPL_range_1_day_2005-04-01_2005-04-04.json")
    )
    polygon.fetch_bars("AAPL", "1d", day(2005, 4, 1), day(2005, 4, 5))
    [request] = server.to(AGGS)
    assert request.headers["Authorization"] == "Bearer PK-SECRET"
    assert "apiKey" not in request.query
    assert request.query == {"adjusted": "true", "sort": "asc", "limit": "50000"}


def test_request_path_carries_the_span_in_epoch_milliseconds(server, polygon) -> None:
    server.reply(AGGS, json_body={"status": "OK", "resultsCount": 0})
    polygon.fetch_bars("AAPL", "5m", MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=1))
    [request] = server.to(AGGS)
    start_ms = int(MONDAY_OPEN.timestamp() * 1000)
    assert request.path == f"/v2/aggs/ticker/AAPL/range/5/minute/{start_ms}/{start_ms + 3_600_000}"


def test_next_url_pages_are_followed_with_the_key(server, polygon) -> None:
    server.reply(AGGS, json_body=load("handmade_polygon_AAPL_1m_page1.json", server=server.url))
    server.reply(AGGS, json_body=load("handmade_polygon_AAPL_1m_page2.json"))
    bars = polygon.fetch_bars("AAPL", "1m", MONDAY_OPEN, MONDAY_OPEN + timedelta(minutes=3))
    assert len(bars) == 3
    _, second = server.to(AGGS)
    assert second.query == {"cursor": "bGltaXQ9MiZzb3J0PWFzYw"}
    assert second.headers["Authorization"] == "Bearer PK-SECRET"


def test_next_url_to_another_host_is_refused(server, polygon) -> None:
    page = load("handmade_polygon_AAPL_1m_page1.json", server="https://elsewhere.example")
    server.reply(AGGS, json_body=page)
    with pytest.raises(BadResponse, match="another host"):
        polygon.fetch_bars("AAPL", "1m", MONDAY_OPEN, MONDAY_OPEN + timedelta(minutes=3))


def test_hours_are_built_from_half_hours_aligned_at_the_open(server, polygon) -> None:
    server.reply(AGGS, json_body=load("handmade_polygon_AAPL_30m_with_premarket.json"))
    bars = polygon.fetch_bars("AAPL", "1h", MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=2))
    assert "/range/30/minute/" in server.to(AGGS)[0].path
    assert bars.to_dict("records") == [
        {
            "start": pd.Timestamp(MONDAY_OPEN),
            "open": 229.0,
            "high": 231.0,
            "low": 228.5,
            "close": 229.4,
            "volume": 1_600_000.0,
        },
        {
            "start": pd.Timestamp(MONDAY_OPEN + timedelta(hours=1)),
            "open": 229.4,
            "high": 230.1,
            "low": 229.0,
            "close": 229.9,
            "volume": 600_000.0,
        },
    ]


def test_crypto_hours_use_polygons_own_hourly_bars(server, polygon) -> None:
    server.reply("/v2/aggs/ticker/X:BTCUSD/range/1/hour/*", json_body={"status": "OK"})
    assert polygon.fetch_bars("BTC-USD", "1h", day(2024, 3, 1), day(2024, 3, 2)).empty
    assert len(server.to("/v2/aggs/ticker/X:BTCUSD/range/1/hour/*")) == 1


@pytest.mark.parametrize(
    ("ticker", "symbol"),
    [("AAPL", "AAPL"), ("BTC-USD", "X:BTCUSD"), ("ETH/USD", "X:ETHUSD"), ("EURUSD=X", "C:EURUSD")],
)
def test_tickers_map_to_polygon_symbols(ticker: str, symbol: str) -> None:
    assert polygon_ticker(ticker) == symbol


def test_plan_without_entitlement_403_is_not_authorized(server, polygon) -> None:
    body = {
        "status": "NOT_AUTHORIZED",
        "request_id": "handmade",
        "message": "You are not entitled to this data. Please upgrade your plan.",
    }
    server.reply(AGGS, status=403, json_body=body)
    with pytest.raises(
        NotAuthorized, match=r"^polygon: AAPL not authorized \(403: You are not entitled"
    ):
        polygon.fetch_bars("AAPL", "1m", MONDAY_OPEN, MONDAY_OPEN + timedelta(minutes=3))


def test_calls_beyond_the_per_minute_limit_wait(server, fake_time: FakeTime) -> None:
    settings = PriceSettings(
        provider="polygon",
        polygon_api_key="PK-SECRET",
        polygon_url=server.url,
        polygon_calls_per_minute=2,
    )
    provider = make_provider(
        settings, sleep=fake_time.sleep, clock=fake_time.clock, monotonic=fake_time.monotonic
    )
    server.reply(AGGS, json_body={"status": "OK", "resultsCount": 0})
    for _ in range(3):
        provider.fetch_bars("AAPL", "1d", day(2005, 4, 1), day(2005, 4, 5))
    assert fake_time.sleeps == [60.0]


def test_every_page_counts_against_the_rate_limit(server, fake_time: FakeTime) -> None:
    settings = PriceSettings(
        provider="polygon",
        polygon_api_key="PK-SECRET",
        polygon_url=server.url,
        polygon_calls_per_minute=1,
    )
    provider = make_provider(
        settings, sleep=fake_time.sleep, clock=fake_time.clock, monotonic=fake_time.monotonic
    )
    server.reply(AGGS, json_body=load("handmade_polygon_AAPL_1m_page1.json", server=server.url))
    server.reply(AGGS, json_body=load("handmade_polygon_AAPL_1m_page2.json"))
    provider.fetch_bars("AAPL", "1m", MONDAY_OPEN, MONDAY_OPEN + timedelta(minutes=3))
    assert fake_time.sleeps == [60.0]
