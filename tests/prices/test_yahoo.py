"""Yahoo chart v8: parsing recorded answers, its errors and its lookback limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pandas as pd
import pytest
from freezegun import freeze_time

from edgeledger.prices.errors import (
    BadResponse,
    NotAuthorized,
    RangeNotAvailable,
    TickerNotFound,
)
from edgeledger.prices.yahoo import YahooProvider

from .support import FakeTime, load, yahoo_body

NOW = datetime(2025, 2, 20, 12, tzinfo=UTC)
MONDAY_OPEN = datetime(2025, 2, 3, 14, 30, tzinfo=UTC)
AAPL_CHART = "/v8/finance/chart/AAPL"
NO_DATA_1M = (
    "yahoo_v8_envelope__chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json"
)


@pytest.fixture
def yahoo(server, make_http) -> YahooProvider:
    return YahooProvider(make_http("yahoo"), base_url=server.url, clock=lambda: NOW)


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def test_daily_bar_is_parsed_with_its_values_as_the_date_it_names(server, yahoo) -> None:
    server.reply(
        AAPL_CHART,
        json_body=yahoo_body("yahoo_v8_envelope__chart-AAPL-2020-01-01-to-2020-01-03.json"),
    )
    bars = yahoo.fetch_bars("AAPL", "1d", day(2020, 1, 1), day(2020, 1, 3))
    assert bars.to_dict("records") == [
        {
            "start": pd.Timestamp("2020-01-02", tz="UTC"),
            "open": pytest.approx(74.06),
            "high": pytest.approx(75.15),
            "low": pytest.approx(73.7975),
            "close": pytest.approx(75.0875),
            "volume": 135480400.0,
        }
    ]


def test_request_asks_for_the_regular_session_between_period_seconds(server, yahoo) -> None:
    server.reply(
        AAPL_CHART,
        json_body=yahoo_body("yahoo_v8_envelope__chart-AAPL-2020-01-01-to-2020-01-03.json"),
    )
    yahoo.fetch_bars("AAPL", "1d", day(2020, 1, 1), day(2020, 1, 3))
    [request] = server.to(AAPL_CHART)
    assert request.query["interval"] == "1d"
    assert request.query["includePrePost"] == "false"
    # Daily requests reach one day further each way; the extra bars are cut afterwards.
    assert request.query["period1"] == str(int(day(2019, 12, 31).timestamp()))
    assert request.query["period2"] == str(int(day(2020, 1, 4).timestamp()))


def test_daily_bars_keep_their_dates_across_the_dst_change(server, yahoo) -> None:
    server.reply(
        AAPL_CHART,
        json_body=yahoo_body("yahoo_v8_envelope__chart-AAPL-2020-08-31-to-2020-11-07.json"),
    )
    bars = yahoo.fetch_bars("AAPL", "1d", day(2020, 8, 31), day(2020, 11, 7))
    assert len(bars) == 49
    assert bars["start"].iloc[0] == pd.Timestamp("2020-08-31", tz="UTC")  # EDT
    assert bars["start"].iloc[-1] == pd.Timestamp("2020-11-06", tz="UTC")  # EST
    assert bars["start"].is_monotonic_increasing


def test_point_at_period2_is_dropped_and_24h_stamps_are_kept(server, yahoo) -> None:
    server.reply(
        "/v8/finance/chart/BTC-USD",
        json_body=yahoo_body("yahoo_v8_envelope__chart-BTC-USD-2020-01-01-to-2020-01-03.json"),
    )
    bars = yahoo.fetch_bars("BTC-USD", "1d", day(2020, 1, 1), day(2020, 1, 3))
    assert list(bars["start"]) == [
        pd.Timestamp("2020-01-01", tz="UTC"),
        pd.Timestamp("2020-01-02", tz="UTC"),
    ]


def test_live_point_after_period2_and_all_null_row_are_dropped(server, yahoo) -> None:
    server.reply(
        AAPL_CHART, json_body=yahoo_body("handmade_yahoo_AAPL_5m_null_row_and_live_point.json")
    )
    result = yahoo.fetch("AAPL", "5m", MONDAY_OPEN, MONDAY_OPEN + timedelta(minutes=15))
    assert list(result.bars["start"]) == [
        pd.Timestamp(MONDAY_OPEN),
        pd.Timestamp(MONDAY_OPEN + timedelta(minutes=10)),
    ]
    assert [d.reason for d in result.dropped] == ["all prices missing"]


def test_window_without_data_has_no_timestamp_key_and_gives_an_empty_frame(server, yahoo) -> None:
    server.reply(AAPL_CHART, json_body=yahoo_body(NO_DATA_1M))
    bars = yahoo.fetch_bars("AAPL", "1m", day(2025, 2, 1), day(2025, 2, 2))
    assert bars.empty
    assert list(bars.columns) == ["start", "open", "high", "low", "close", "volume"]


def test_bad_bars_are_cleaned_and_reported(server, yahoo) -> None:
    server.reply(AAPL_CHART, json_body=yahoo_body("handmade_yahoo_AAPL_5m_bad_bars.json"))
    result = yahoo.fetch("AAPL", "5m", MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=1))
    minutes = [(s - pd.Timestamp(MONDAY_OPEN)).seconds // 60 for s in result.bars["start"]]
    assert minutes == [0, 25, 30, 35]
    assert result.bars["high"].iloc[1] == 230.6  # the last copy of the duplicated 14:55
    assert sorted(d.reason for d in result.dropped) == [
        "duplicate timestamp (kept the last)",
        "high below low",
        "open or close outside [low, high]",
        "some prices missing",
        "zero or negative price",
    ]


def test_unknown_ticker_404_names_the_ticker(server, yahoo) -> None:
    body = load("yahoo_v8_error_bodies.json")["http_404_unknown_symbol"]
    server.reply("/v8/finance/chart/NVDAX", status=404, json_body=body)
    with pytest.raises(TickerNotFound, match=r"^yahoo: NVDAX not found \(404: No data found"):
        yahoo.fetch_bars("NVDAX", "1d", day(2025, 1, 1), day(2025, 2, 1))


def test_range_outside_the_lookback_422_is_range_not_available(server, yahoo) -> None:
    body = load("yahoo_v8_error_bodies.json")["http_422_range_too_large"]
    server.reply(AAPL_CHART, status=422, json_body=body)
    with pytest.raises(RangeNotAvailable, match="must be within the last 60 days"):
        yahoo.fetch_bars("AAPL", "5m", day(2025, 2, 1), day(2025, 2, 2))


def test_refused_request_401_is_not_authorized(server, yahoo) -> None:
    body = {
        "finance": {
            "result": None,
            "error": {"code": "Unauthorized", "description": "Invalid Crumb"},
        }
    }
    server.reply(AAPL_CHART, status=401, json_body=body)
    with pytest.raises(NotAuthorized, match="Invalid Crumb"):
        yahoo.fetch_bars("AAPL", "1d", day(2025, 1, 1), day(2025, 2, 1))


def test_malformed_json_is_a_bad_response_naming_the_ticker(server, yahoo) -> None:
    server.reply(AAPL_CHART, text='{"chart": {"result": [')
    with pytest.raises(BadResponse, match=r"^yahoo: AAPL sent malformed JSON"):
        yahoo.fetch_bars("AAPL", "1d", day(2025, 1, 1), day(2025, 2, 1))


def test_plain_text_429_is_retried_then_parsed(server, yahoo, fake_time: FakeTime) -> None:
    plain = load("yahoo_v8_error_bodies.json")["http_429_body_plain_text"]
    server.reply(AAPL_CHART, status=429, text=plain, headers={"Retry-After": "3"})
    server.reply(
        AAPL_CHART,
        json_body=yahoo_body("yahoo_v8_envelope__chart-AAPL-2020-01-01-to-2020-01-03.json"),
    )
    assert len(yahoo.fetch_bars("AAPL", "1d", day(2020, 1, 1), day(2020, 1, 3))) == 1
    assert fake_time.sleeps == [3.0]


def test_long_1m_span_is_split_into_7_day_requests(server, yahoo) -> None:
    server.reply(AAPL_CHART, json_body=yahoo_body(NO_DATA_1M))
    yahoo.fetch_bars("AAPL", "1m", day(2025, 2, 3), day(2025, 2, 18))
    spans = [(int(r.query["period1"]), int(r.query["period2"])) for r in server.to(AAPL_CHART)]
    edges = [day(2025, 2, 3), day(2025, 2, 10), day(2025, 2, 17), day(2025, 2, 18)]
    seconds = [int(e.timestamp()) for e in edges]
    assert spans == list(pairwise(seconds))


def test_plan_refuses_1m_bars_older_than_30_days(yahoo) -> None:
    with pytest.raises(RangeNotAvailable, match="kept for the last 30 days only"):
        yahoo.plan_requests("AAPL", "1m", NOW - timedelta(days=31), NOW, NOW)


def test_earliest_start_tells_the_job_how_far_back_each_interval_goes(yahoo) -> None:
    assert yahoo.earliest_start("1m", NOW) == NOW - timedelta(days=30)
    assert yahoo.earliest_start("1d", NOW) is None


def test_plan_keeps_5m_within_60_days_in_one_request(yahoo) -> None:
    start = NOW - timedelta(days=59)
    assert yahoo.plan_requests("AAPL", "5m", start, NOW, NOW) == [(start, NOW)]


def test_plan_refuses_1h_bars_older_than_730_days(yahoo) -> None:
    with pytest.raises(RangeNotAvailable, match="730 days"):
        yahoo.plan_requests("AAPL", "1h", NOW - timedelta(days=731), NOW, NOW)


def test_lookback_is_measured_from_the_project_clock(server, make_http) -> None:
    provider = YahooProvider(make_http("yahoo"), base_url=server.url)  # default clock
    with freeze_time("2025-02-20 12:00:00"), pytest.raises(RangeNotAvailable):
        provider.fetch_bars("AAPL", "1m", day(2025, 1, 1), day(2025, 1, 2))
    assert server.seen == []  # refused before asking Yahoo


def test_ticker_is_quoted_in_the_path(server, yahoo) -> None:
    server.reply(
        "/v8/finance/chart/%5EGSPC",
        json_body=yahoo_body("yahoo_v8_envelope__chart-AAPL-2020-01-01-to-2020-01-03.json"),
    )
    assert len(yahoo.fetch_bars("^GSPC", "1d", day(2020, 1, 1), day(2020, 1, 3))) == 1
