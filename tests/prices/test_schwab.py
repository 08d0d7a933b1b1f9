"""Schwab price history: OAuth token refresh, the weekly re-login, intervals and stamps."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pandas as pd
import pytest

from edgeledger.prices.errors import BadResponse, LoginRequired, NotAuthorized, TickerNotFound
from edgeledger.prices.schwab import (
    SchwabLogin,
    SchwabProvider,
    authorize_url,
    code_from_redirect,
    exchange_code,
)

from .support import FakeTime, load

HISTORY = "/marketdata/v1/pricehistory"
TOKEN = "/v1/oauth/token"
MONDAY_OPEN = datetime(2025, 2, 3, 14, 30, tzinfo=UTC)
SPEC = load("schwab_pricehistory_SPEC_EXAMPLE.json")


@pytest.fixture
def schwab(server, make_http, fake_time: FakeTime) -> SchwabProvider:
    return SchwabProvider(
        make_http("schwab"),
        app_key="app-key",
        app_secret="app-secret",
        refresh_token="refresh-SECRET",
        base_url=server.url,
        clock=fake_time.clock,
    )


@pytest.fixture
def token(server) -> None:
    server.reply(TOKEN, json_body=load("handmade_schwab_token.json"))


def fetch_30m(schwab: SchwabProvider) -> pd.DataFrame:
    return schwab.fetch_bars("AAPL", "30m", MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=2))


def test_access_token_comes_from_the_refresh_token_with_basic_auth(server, schwab, token) -> None:
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_30m.json"))
    fetch_30m(schwab)
    [refresh] = server.to(TOKEN)
    assert refresh.method == "POST"
    assert (
        refresh.headers["Authorization"]
        == "Basic " + base64.b64encode(b"app-key:app-secret").decode()
    )
    assert dict(parse_qsl(refresh.body)) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-SECRET",
    }
    [history] = server.to(HISTORY)
    assert history.headers["Authorization"] == "Bearer handmade-access-token"


def test_access_token_is_reused_while_it_is_fresh(server, schwab, token, fake_time) -> None:
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_30m.json"))
    fetch_30m(schwab)
    fake_time.advance(25 * 60)
    fetch_30m(schwab)
    assert len(server.to(TOKEN)) == 1


def test_access_token_is_refreshed_after_30_minutes(server, schwab, token, fake_time) -> None:
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_30m.json"))
    fetch_30m(schwab)
    fake_time.advance(30 * 60)
    fetch_30m(schwab)
    assert len(server.to(TOKEN)) == 2


def test_threads_that_find_no_token_refresh_it_once_between_them(server, schwab) -> None:
    server.reply(TOKEN, delay=0.3, json_body=load("handmade_schwab_token.json"))
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_30m.json"))
    with ThreadPoolExecutor(4) as pool:
        frames = list(pool.map(lambda _: fetch_30m(schwab), range(4)))
    assert [len(f) for f in frames] == [3, 3, 3, 3]
    assert len(server.to(TOKEN)) == 1
    assert len(server.to(HISTORY)) == 4


def test_a_401_refreshes_the_token_once_and_retries(server, schwab, token) -> None:
    server.reply(HISTORY, status=401, json_body={"errors": [{"title": "Unauthorized"}]})
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_30m.json"))
    assert len(fetch_30m(schwab)) == 3
    assert len(server.to(TOKEN)) == 2
    assert len(server.to(HISTORY)) == 2


def test_a_second_401_is_not_authorized(server, schwab, token) -> None:
    server.reply(HISTORY, status=401, json_body={"errors": [{"title": "Unauthorized"}]})
    with pytest.raises(NotAuthorized, match=r"^schwab: AAPL not authorized \(401"):
        fetch_30m(schwab)
    assert len(server.to(HISTORY)) == 2


def test_rejected_refresh_token_asks_for_a_new_login(server, schwab) -> None:
    server.reply(TOKEN, status=400, json_body=load("handmade_schwab_refresh_rejected.json"))
    with pytest.raises(LoginRequired) as raised:
        fetch_30m(schwab)
    message = str(raised.value)
    assert message.startswith("schwab: refresh token rejected (unsupported_token_type)")
    assert "7 days" in message and "log in again" in message
    assert "EDGELEDGER_SCHWAB_REFRESH_TOKEN" in message
    assert "refresh-SECRET" not in message
    assert server.to(HISTORY) == []


def test_invalid_grant_401_from_the_token_endpoint_also_needs_a_login(server, schwab) -> None:
    server.reply(TOKEN, status=401, json_body={"error": "invalid_grant"})
    with pytest.raises(LoginRequired, match="invalid_grant"):
        fetch_30m(schwab)


def test_minute_intervals_map_to_minute_frequency_in_epoch_ms(server, schwab, token) -> None:
    server.reply(HISTORY, json_body={"candles": [], "symbol": "AAPL", "empty": True})
    schwab.fetch_bars("AAPL", "5m", MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=1))
    [request] = server.to(HISTORY)
    start_ms = int(MONDAY_OPEN.timestamp() * 1000)
    assert request.query == {
        "symbol": "AAPL",
        "periodType": "day",
        "frequencyType": "minute",
        "frequency": "5",
        "startDate": str(start_ms),
        "endDate": str(start_ms + 3_600_000),
        "needExtendedHoursData": "false",
        "needPreviousClose": "false",
    }


def test_hours_are_built_from_30_minute_candles(server, schwab, token) -> None:
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_30m.json"))
    bars = schwab.fetch_bars("AAPL", "1h", MONDAY_OPEN, MONDAY_OPEN + timedelta(hours=2))
    assert server.to(HISTORY)[0].query["frequency"] == "30"
    assert list(bars["start"]) == [
        pd.Timestamp(MONDAY_OPEN),
        pd.Timestamp(MONDAY_OPEN + timedelta(hours=1)),
    ]
    assert bars.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        229.0,
        231.0,
        228.5,
        229.4,
        1_600_000.0,
    ]


def test_daily_candles_at_midnight_central_keep_their_dates(server, schwab, token) -> None:
    server.reply(HISTORY, json_body=load("handmade_schwab_AAPL_daily.json"))
    bars = schwab.fetch_bars(
        "AAPL", "1d", datetime(2024, 3, 8, tzinfo=UTC), datetime(2024, 3, 12, tzinfo=UTC)
    )
    assert list(bars["start"]) == [
        pd.Timestamp("2024-03-08", tz="UTC"),  # midnight CST
        pd.Timestamp("2024-03-11", tz="UTC"),  # midnight CDT
    ]
    query = server.to(HISTORY)[0].query
    assert (query["periodType"], query["frequencyType"], query["frequency"]) == (
        "year",
        "daily",
        "1",
    )


def test_pre_market_candle_of_the_spec_example_is_dropped(server, schwab, token) -> None:
    server.reply(HISTORY, json_body=SPEC["http_200"])  # one candle at 07:00 ET
    start = datetime(2021, 12, 10, tzinfo=UTC)
    assert schwab.fetch_bars("AAPL", "1m", start, start + timedelta(days=1)).empty


def test_bad_request_names_schwabs_detail(server, schwab, token) -> None:
    server.reply(HISTORY, status=400, json_body=SPEC["http_400"])
    with pytest.raises(
        BadResponse, match=r"^schwab: AAPL request refused \(HTTP 400: Missing header\)"
    ):
        fetch_30m(schwab)


def test_crypto_is_refused_before_any_request(server, schwab) -> None:
    with pytest.raises(TickerNotFound, match=r"^schwab: BTC-USD not served"):
        schwab.fetch_bars(
            "BTC-USD", "1d", datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
        )
    assert server.seen == []


def test_intraday_spans_are_planned_in_10_day_windows(schwab, fake_time) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    windows = schwab.plan_requests("AAPL", "5m", start, start + timedelta(days=25), fake_time.now)
    assert [(b - a).days for a, b in windows] == [10, 10, 5]


# --- the weekly login ---------------------------------------------------------------------

CALLBACK = "https://127.0.0.1"


def test_the_login_page_names_the_app_and_its_callback() -> None:
    assert authorize_url("app-key", CALLBACK, "https://api.schwabapi.com/") == (
        "https://api.schwabapi.com/v1/oauth/authorize?client_id=app-key"
        "&redirect_uri=https%3A%2F%2F127.0.0.1"
    )


def test_the_code_is_taken_from_the_pasted_address_and_url_decoded() -> None:
    pasted = " https://127.0.0.1/?code=C0.b2F1dGgy%40&session=abc-123 \n"
    assert code_from_redirect(pasted) == "C0.b2F1dGgy@"
    assert code_from_redirect("C0.b2F1dGgy%40") == "C0.b2F1dGgy@"
    with pytest.raises(ValueError, match="no code= parameter"):
        code_from_redirect("https://127.0.0.1/?session=abc-123")


def test_a_code_is_exchanged_for_a_refresh_token_good_for_7_days(server, make_http) -> None:
    server.reply(TOKEN, json_body=load("handmade_schwab_token.json"))
    now = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    login = exchange_code(
        make_http("schwab"),
        app_key="app-key",
        app_secret="app-secret",
        code="C0.b2F1dGgy@",
        callback_url=CALLBACK,
        now=now,
        base_url=server.url,
    )
    assert login == SchwabLogin("handmade-refresh-token", now + timedelta(days=7))
    [exchange] = server.to(TOKEN)
    assert (
        exchange.headers["Authorization"]
        == "Basic " + base64.b64encode(b"app-key:app-secret").decode()
    )
    assert dict(parse_qsl(exchange.body)) == {
        "grant_type": "authorization_code",
        "code": "C0.b2F1dGgy@",
        "redirect_uri": CALLBACK,
    }


def test_a_refused_code_says_why_a_login_is_needed_again(server, make_http) -> None:
    server.reply(TOKEN, status=400, json_body={"error": "invalid_grant", "error_description": "x"})
    with pytest.raises(LoginRequired, match=r"code was refused \(invalid_grant\).*30 seconds"):
        exchange_code(
            make_http("schwab"),
            app_key="app-key",
            app_secret="app-secret",
            code="stale",
            callback_url=CALLBACK,
            now=datetime(2026, 11, 21, tzinfo=UTC),
            base_url=server.url,
        )
