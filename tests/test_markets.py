"""Markets: when day signals expire, when a market is open, how bars are read by it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edgeledger.core.markets import (
    MarketBook,
    MarketChoice,
    MarketRangeError,
    MarketSource,
    Session,
    bar_spans,
    default_expires_at,
    in_sessions,
    is_market_open,
    market_from_quote,
    market_from_ticker,
    market_named,
    refine,
    session_bounds,
    sessions_between,
)
from edgeledger.core.markets import day_close_after as _day_close_after
from edgeledger.core.model import TradeType

ET = ZoneInfo("America/New_York")


def session_close_for(created_at: datetime) -> datetime:
    return _day_close_after("XNYS", created_at)


def et(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ET)


def test_a_day_signal_expires_at_that_days_close():
    # Tuesday 2026-03-03, EST: the close is 16:00 ET = 21:00 UTC.
    assert session_close_for(et(2026, 3, 3, 10, 15)) == datetime(2026, 3, 3, 21, tzinfo=UTC)


def test_created_before_the_open_expires_at_the_same_days_close():
    assert session_close_for(et(2026, 3, 3, 7, 0)) == et(2026, 3, 3, 16)


def test_created_after_the_close_rolls_to_the_next_session():
    assert session_close_for(et(2026, 3, 3, 16, 30)) == et(2026, 3, 4, 16)


def test_created_exactly_at_the_close_rolls_to_the_next_session():
    assert session_close_for(et(2026, 3, 3, 16, 0)) == et(2026, 3, 4, 16)


def test_friday_evening_rolls_to_monday():
    assert session_close_for(et(2026, 3, 13, 18, 0)) == et(2026, 3, 16, 16)


def test_weekend_rolls_to_monday():
    assert session_close_for(et(2026, 3, 14, 11, 0)) == et(2026, 3, 16, 16)


def test_thanksgiving_rolls_to_the_early_close_the_day_after():
    # 2026-11-26 is Thanksgiving (closed); Friday 11-27 closes at 13:00 ET (18:00 UTC).
    assert session_close_for(et(2026, 11, 26, 10, 0)) == datetime(2026, 11, 27, 18, tzinfo=UTC)


def test_an_early_close_day_expires_at_one_pm():
    assert session_close_for(et(2026, 11, 27, 9, 45)) == et(2026, 11, 27, 13)


def test_created_after_an_early_close_rolls_to_the_next_session():
    assert session_close_for(et(2026, 11, 27, 13, 30)) == et(2026, 11, 30, 16)


def test_christmas_eve_closes_early():
    assert session_close_for(et(2026, 12, 24, 10, 0)) == et(2026, 12, 24, 13)


def test_close_follows_daylight_saving_time():
    # Clocks went forward on Sunday 2026-03-08: 16:00 ET is 21:00 UTC on Friday the
    # 6th and 20:00 UTC on Monday the 9th.
    assert session_close_for(et(2026, 3, 6, 11)) == datetime(2026, 3, 6, 21, tzinfo=UTC)
    assert session_close_for(et(2026, 3, 6, 17)) == datetime(2026, 3, 9, 20, tzinfo=UTC)
    assert session_close_for(et(2026, 3, 9, 11)) == datetime(2026, 3, 9, 20, tzinfo=UTC)


def test_the_eastern_date_decides_the_day_not_the_utc_date():
    # 01:00 UTC on Wednesday is still Tuesday evening in New York: after Tuesday's close.
    assert session_close_for(datetime(2026, 3, 4, 1, 0, tzinfo=UTC)) == et(2026, 3, 4, 16)


def test_a_swing_signal_expires_seven_days_after_creation():
    created = datetime(2026, 3, 3, 15, 17, tzinfo=UTC)
    assert default_expires_at("XNYS", TradeType.SWING, created) == created + timedelta(days=7)


def test_a_day_signal_defaults_to_the_session_close():
    assert default_expires_at("XNYS", TradeType.DAY, et(2026, 3, 3, 10)) == et(2026, 3, 3, 16)


def test_the_market_is_open_from_the_open_until_the_close():
    assert is_market_open("XNYS", et(2026, 3, 3, 9, 30)) is True
    assert is_market_open("XNYS", et(2026, 3, 3, 15, 59)) is True
    assert is_market_open("XNYS", et(2026, 3, 3, 16, 0)) is False
    assert is_market_open("XNYS", et(2026, 3, 3, 9, 29)) is False


def test_the_market_is_closed_on_holidays_and_after_early_closes():
    assert is_market_open("XNYS", et(2026, 11, 26, 11)) is False
    assert is_market_open("XNYS", et(2026, 11, 27, 13, 30)) is False


def test_sessions_between_lists_open_and_close_of_each_session():
    assert sessions_between("XNYS", date(2026, 11, 25), date(2026, 11, 27)) == [
        Session(date(2026, 11, 25), et(2026, 11, 25, 9, 30), et(2026, 11, 25, 16)),
        Session(date(2026, 11, 27), et(2026, 11, 27, 9, 30), et(2026, 11, 27, 13)),
    ]


def test_a_holiday_has_no_session_bounds():
    assert session_bounds("XNYS", date(2026, 11, 26)) is None


def test_dates_beyond_the_calendar_are_refused_by_name():
    with pytest.raises(MarketRangeError, match="2060-01-05 is outside the XNYS calendar"):
        session_close_for(et(2060, 1, 5, 10))


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        session_close_for(datetime(2026, 3, 3, 10, 0))


# --- other markets ----------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
CHICAGO = ZoneInfo("America/Chicago")
HOUR_US = 3_600_000_000
DAY_US = 86_400_000_000


def test_a_xetra_day_trade_expires_at_the_frankfurt_close():
    created = datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)
    assert _day_close_after("XETR", created) == datetime(2026, 11, 27, 17, 30, tzinfo=BERLIN)


def test_a_tokyo_day_trade_created_after_the_close_expires_at_the_next_close():
    created = datetime(2026, 11, 27, 16, 0, tzinfo=TOKYO)  # a Friday, after 15:30 JST
    assert _day_close_after("XTKS", created) == datetime(2026, 11, 30, 15, 30, tzinfo=TOKYO)


def test_a_forex_day_trade_expires_at_five_pm_new_york():
    assert _day_close_after("24/5", et(2026, 11, 24, 9)) == et(2026, 11, 24, 17)
    assert _day_close_after("24/5", et(2026, 11, 24, 17)) == et(2026, 11, 25, 17)


def test_a_forex_day_trade_created_on_friday_evening_expires_monday():
    assert _day_close_after("24/5", et(2026, 11, 27, 18)) == et(2026, 11, 30, 17)
    assert _day_close_after("24/5", et(2026, 11, 29, 18)) == et(2026, 11, 30, 17)  # Sunday open


def test_a_crypto_day_trade_expires_at_the_next_midnight_utc_weekends_included():
    saturday = datetime(2026, 11, 28, 15, tzinfo=UTC)
    assert _day_close_after("24/7", saturday) == datetime(2026, 11, 29, tzinfo=UTC)


def test_a_cme_futures_day_trade_expires_at_the_globex_close():
    created = datetime(2026, 11, 24, 9, 0, tzinfo=CHICAGO)
    close = _day_close_after("CMES", created)
    assert close.astimezone(CHICAGO).date() == date(2026, 11, 24)
    assert close == session_bounds("CMES", date(2026, 11, 24))[1]


def test_a_day_trade_before_the_calendars_range_is_refused_by_name():
    with pytest.raises(MarketRangeError, match="1999-06-01 is outside the XNYS calendar"):
        default_expires_at("XNYS", TradeType.DAY, et(1999, 6, 1, 10))


def test_market_names_are_read_case_insensitively_with_aliases():
    assert [market_named(n) for n in ("xnys", "NYSE", "forex", "crypto", "24/7")] == [
        "XNYS",
        "XNYS",
        "24/5",
        "24/7",
        "24/7",
    ]


def test_an_unknown_market_is_refused_with_examples():
    with pytest.raises(ValueError, match=r"unknown market 'MARS'.*XNYS"):
        market_named("MARS")


@pytest.mark.parametrize(
    ("ticker", "market"),
    [
        ("WSU.DE", "XETR"),
        ("VOD.L", "XLON"),
        ("RY.TO", "XTSE"),
        ("7203.T", "XTKS"),
        ("EURUSD=X", "24/5"),
        ("EURUSD", "24/5"),
        ("BTC-USD", "24/7"),
        ("BTCUSD", "24/7"),
        ("ES=F", "CMES"),
        ("AAPL", None),
        ("GOOGL", None),
        ("BRK-B", None),
        ("ABCDEF", None),  # six letters that are not two currencies
    ],
)
def test_the_ticker_rules(ticker: str, market: str | None):
    assert market_from_ticker(ticker) == market


def test_the_order_explicit_then_stored_then_ticker_then_default():
    stored = MarketChoice("XETR", MarketSource.SETTING)
    book = MarketBook({"SAP": stored}, default="XNYS")
    assert book.choose("SAP", "XLON") == MarketChoice("XLON", MarketSource.SIGNAL)
    assert book.choose("SAP") == stored
    assert book.choose("VOD.L") == MarketChoice("XLON", MarketSource.TICKER)
    assert book.choose("AAPL") == MarketChoice("XNYS", MarketSource.DEFAULT)


def test_the_provider_outranks_the_ticker_rules_and_the_default_only():
    said = "XETR"
    assert refine(MarketChoice("XNYS", MarketSource.DEFAULT), said).market == "XETR"
    assert refine(MarketChoice("XLON", MarketSource.TICKER), said).market == "XETR"
    assert refine(MarketChoice("XNYS", MarketSource.SETTING), said).market == "XNYS"
    assert refine(MarketChoice("XNYS", MarketSource.SIGNAL), said).market == "XNYS"


@pytest.mark.parametrize(
    ("meta", "market"),
    [
        ({"instrumentType": "EQUITY", "exchangeName": "NMS"}, "XNYS"),
        ({"instrumentType": "EQUITY", "exchangeName": "GER"}, "XETR"),
        ({"instrumentType": "CURRENCY", "exchangeName": "CCY"}, "24/5"),
        ({"instrumentType": "CRYPTOCURRENCY", "exchangeName": "CCC"}, "24/7"),
        ({"instrumentType": "FUTURE", "exchangeName": "CME"}, "CMES"),
        ({"instrumentType": "EQUITY", "exchangeTimezoneName": "Asia/Tokyo"}, "XTKS"),
        ({"instrumentType": "EQUITY", "exchangeName": "???"}, None),
    ],
)
def test_what_yahoos_chart_meta_says(meta: dict, market: str | None):
    assert market_from_quote(meta) == market


def us(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000


def spans(market: str, interval_us: int, daily: bool, *starts: datetime) -> list[tuple]:
    got = bar_spans(market, interval_us, daily, np.array([us(s) for s in starts]))
    return [
        (datetime.fromtimestamp(a / 1e6, UTC), datetime.fromtimestamp(b / 1e6, UTC))
        for a, b in zip(*got, strict=True)
    ]


def test_the_1530_hourly_bar_of_a_us_stock_ends_at_the_close():
    assert spans("XNYS", HOUR_US, False, et(2026, 3, 3, 15, 30)) == [
        (et(2026, 3, 3, 15, 30), et(2026, 3, 3, 16))
    ]


def test_the_1230_bar_of_an_early_close_ends_at_one_pm():
    assert spans("XNYS", HOUR_US, False, et(2026, 11, 27, 12, 30)) == [
        (et(2026, 11, 27, 12, 30), et(2026, 11, 27, 13))
    ]


def test_a_bar_outside_any_session_lasts_its_interval():
    assert spans("XNYS", HOUR_US, False, et(2026, 3, 3, 17)) == [
        (et(2026, 3, 3, 17), et(2026, 3, 3, 18))
    ]


def test_forex_bars_are_never_cut_by_a_session_close():
    at = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    assert spans("24/5", HOUR_US, False, at) == [(at, at + timedelta(hours=1))]


def test_a_daily_bar_stands_for_its_markets_session_on_the_date_it_names():
    midnight = datetime(2026, 11, 27, tzinfo=UTC)
    assert spans("XNYS", DAY_US, True, midnight) == [
        (et(2026, 11, 27, 9, 30), et(2026, 11, 27, 13))
    ]
    assert spans("XETR", DAY_US, True, midnight) == [
        (datetime(2026, 11, 27, 9, tzinfo=BERLIN), datetime(2026, 11, 27, 17, 30, tzinfo=BERLIN))
    ]


def test_a_daily_bar_on_a_date_without_a_session_is_24_hours_from_its_stamp():
    thanksgiving = datetime(2026, 11, 26, tzinfo=UTC)
    assert spans("XNYS", DAY_US, True, thanksgiving) == [
        (thanksgiving, thanksgiving + timedelta(days=1))
    ]


def test_bars_are_kept_or_dropped_by_their_own_markets_sessions():
    starts = np.array([us(et(2026, 3, 3, 9)), us(et(2026, 3, 3, 10)), us(et(2026, 3, 3, 2))])
    assert in_sessions("XNYS", starts).tolist() == [False, True, False]
    assert in_sessions("XETR", starts).tolist() == [True, True, False]  # 15:00, 16:00, 08:00 CET
    assert in_sessions("24/5", starts).tolist() == [True, True, True]
