"""The shared rules every provider's bars pass through (edgeledger.prices.base)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from edgeledger.prices.base import (
    aggregate_hourly,
    hour_bounds,
    is_24h,
    normalize_bars,
    raw_bars,
    split_span,
)

OPEN = datetime(2025, 2, 3, 14, 30, tzinfo=UTC)  # Monday 09:30 ET
WIDE = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))


def frame(rows: list[tuple[datetime, float, float, float, float, float]]) -> pd.DataFrame:
    starts = [r[0] for r in rows]
    names = ("open", "high", "low", "close", "volume")
    return raw_bars(starts, {n: [r[i + 1] for r in rows] for i, n in enumerate(names)})


def clean(
    raw: pd.DataFrame,
    ticker: str = "AAPL",
    interval: str = "5m",
    window=WIDE,
    sessions: str | None = "XNYS",
    daily_tz: str = "America/New_York",
):
    return normalize_bars(
        raw,
        provider="test",
        ticker=ticker,
        interval=interval,
        start=window[0],
        end=window[1],
        sessions=sessions,
        daily_tz=daily_tz,
    )


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def test_bars_have_utc_starts_float_prices_and_float_volume() -> None:
    result = clean(frame([(OPEN, 10, 11, 9, 10.5, 100)]))
    assert list(result.bars.columns) == ["start", "open", "high", "low", "close", "volume"]
    assert str(result.bars["start"].dtype) == "datetime64[ns, UTC]"
    assert all(
        result.bars[c].dtype == "float64" for c in ("open", "high", "low", "close", "volume")
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((10, 9, 11, 10, 100), "high below low"),
        ((float("nan"),) * 4 + (100,), "all prices missing"),
        ((10, 11, 9, float("nan"), 100), "some prices missing"),
        ((0, 11, 0, 10, 100), "zero or negative price"),
        ((-1, 11, 9, 10, 100), "zero or negative price"),
        ((12, 11, 9, 10, 100), "open or close outside [low, high]"),
        ((10, 11, 9, 8, 100), "open or close outside [low, high]"),
        ((10, 11, 9, 10, -5), "negative or infinite volume"),
        ((10, float("inf"), 9, 10, 100), "price not finite"),
    ],
)
def test_bad_bar_is_dropped_with_its_reason(row: tuple[float, ...], reason: str) -> None:
    result = clean(frame([(OPEN, *row)]))
    assert result.bars.empty
    assert [d.reason for d in result.dropped] == [reason]
    assert result.dropped[0].start == pd.Timestamp(OPEN)


def test_dropped_bars_are_logged_with_the_ticker(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="edgeledger.prices.base")
    clean(frame([(OPEN, 10, 9, 11, 10, 100)]), ticker="MSFT")
    [record] = caplog.records
    assert record.ticker == "MSFT"
    assert record.reason == "high below low"
    assert "MSFT" in record.getMessage()


def test_missing_volume_is_kept_as_nan() -> None:
    result = clean(frame([(OPEN, 10, 11, 9, 10.5, float("nan"))]))
    assert len(result.bars) == 1
    assert pd.isna(result.bars["volume"].iloc[0])


def test_unordered_bars_are_sorted() -> None:
    result = clean(frame([(OPEN + minutes(5), 10, 11, 9, 10, 1), (OPEN, 10, 11, 9, 10, 1)]))
    assert list(result.bars["start"]) == [pd.Timestamp(OPEN), pd.Timestamp(OPEN + minutes(5))]
    assert result.dropped == ()


def test_duplicated_timestamp_keeps_the_last_copy() -> None:
    result = clean(frame([(OPEN, 10, 11, 9, 10, 1), (OPEN, 10, 12, 9, 11, 2)]))
    assert result.bars[["high", "close", "volume"]].values.tolist() == [[12, 11, 2]]
    assert [d.reason for d in result.dropped] == ["duplicate timestamp (kept the last)"]


def test_identical_copies_of_a_bar_are_merged_without_a_report() -> None:
    result = clean(frame([(OPEN, 10, 11, 9, 10, 1), (OPEN, 10, 11, 9, 10, 1)]))
    assert len(result.bars) == 1
    assert result.dropped == ()


def test_bars_before_start_and_at_or_after_end_are_cut() -> None:
    rows = [(OPEN + minutes(5 * i), 10, 11, 9, 10, 1) for i in range(4)]
    window = (OPEN + minutes(5), OPEN + minutes(15))
    result = clean(frame(rows), window=window)
    assert list(result.bars["start"]) == [
        pd.Timestamp(OPEN + minutes(5)),
        pd.Timestamp(OPEN + minutes(10)),
    ]


def test_intraday_equity_bars_outside_the_regular_session_are_removed() -> None:
    rows = [
        (OPEN - minutes(5), 10, 11, 9, 10, 1),  # 09:25 ET pre-market
        (OPEN, 10, 11, 9, 10, 1),  # 09:30 ET
        (OPEN + minutes(385), 10, 11, 9, 10, 1),  # 15:55 ET
        (OPEN + minutes(390), 10, 11, 9, 10, 1),  # 16:00 ET post-market
    ]
    result = clean(frame(rows))
    assert list(result.bars["start"]) == [pd.Timestamp(OPEN), pd.Timestamp(OPEN + minutes(385))]
    assert [(d.start, d.reason) for d in result.dropped] == [
        (pd.Timestamp(OPEN - minutes(5)), "outside the XNYS sessions (extended hours)"),
        (pd.Timestamp(OPEN + minutes(390)), "outside the XNYS sessions (extended hours)"),
    ]


def test_intraday_bars_are_judged_by_their_own_markets_sessions() -> None:
    xetra_open = datetime(2025, 2, 3, 8, 0, tzinfo=UTC)  # 09:00 Frankfurt, 03:00 New York
    result = clean(frame([(xetra_open, 10, 11, 9, 10, 1)]), ticker="WSU.DE", sessions="XETR")
    assert list(result.bars["start"]) == [pd.Timestamp(xetra_open)]
    assert not result.dropped


def test_around_the_clock_markets_keep_every_bar() -> None:
    sunday_evening = datetime(2025, 2, 2, 23, 0, tzinfo=UTC)
    result = clean(frame([(sunday_evening, 1.03, 1.04, 1.02, 1.03, 0)]), sessions="24/5")
    assert list(result.bars["start"]) == [pd.Timestamp(sunday_evening)]


def test_without_sessions_intraday_bars_are_kept_as_given() -> None:
    pre_market = OPEN - minutes(5)
    result = clean(frame([(pre_market, 10, 11, 9, 10, 1)]), sessions=None)
    assert list(result.bars["start"]) == [pd.Timestamp(pre_market)]


def test_bars_after_an_early_close_are_removed() -> None:
    close = datetime(2024, 11, 29, 18, 0, tzinfo=UTC)  # 13:00 ET, the day after Thanksgiving
    rows = [(close - minutes(5), 10, 11, 9, 10, 1), (close, 10, 11, 9, 10, 1)]
    window = (datetime(2024, 11, 29, tzinfo=UTC), datetime(2024, 11, 30, tzinfo=UTC))
    result = clean(frame(rows), window=window)
    assert list(result.bars["start"]) == [pd.Timestamp(close - minutes(5))]


def test_24h_instruments_keep_bars_at_any_hour() -> None:
    night = datetime(2025, 2, 1, 3, 0, tzinfo=UTC)  # a Saturday, 22:00 ET
    result = clean(frame([(night, 10, 11, 9, 10, 1)]), ticker="BTC-USD", sessions="24/7")
    assert list(result.bars["start"]) == [pd.Timestamp(night)]


def test_a_daily_bar_at_midnight_et_is_stored_as_the_date_it_names() -> None:
    midnight_et = datetime(2025, 2, 3, 5, 0, tzinfo=UTC)
    result = clean(frame([(midnight_et, 10, 11, 9, 10, 1)]), interval="1d")
    assert list(result.bars["start"]) == [pd.Timestamp("2025-02-03", tz="UTC")]


def test_the_date_of_a_daily_bar_is_read_in_the_zone_the_provider_stamps_days_in() -> None:
    midnight_edt = datetime(2025, 7, 1, 4, 0, tzinfo=UTC)  # still 30 June in UTC
    window = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC))
    result = clean(frame([(midnight_edt, 10, 11, 9, 10, 1)]), interval="1d", window=window)
    assert list(result.bars["start"]) == [pd.Timestamp("2025-07-01", tz="UTC")]


def test_a_tokyo_daily_bar_stamped_at_its_open_keeps_its_tokyo_date() -> None:
    open_jst = datetime(2025, 2, 3, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo, 19:00 the day before in NY
    result = clean(
        frame([(open_jst, 10, 11, 9, 10, 1)]), ticker="7203.T", interval="1d", daily_tz="Asia/Tokyo"
    )
    assert list(result.bars["start"]) == [pd.Timestamp("2025-02-03", tz="UTC")]


def test_a_daily_forex_bar_at_midnight_utc_keeps_its_date() -> None:
    midnight_utc = datetime(2025, 2, 3, tzinfo=UTC)
    result = clean(
        frame([(midnight_utc, 10, 11, 9, 10, 1)]), ticker="EURUSD=X", interval="1d", daily_tz="UTC"
    )
    assert list(result.bars["start"]) == [pd.Timestamp(midnight_utc)]


@pytest.mark.parametrize(
    ("ticker", "expected"),
    [
        ("AAPL", False),
        ("BRK-B", False),
        ("^GSPC", False),
        ("BTC-USD", True),
        ("BTC/USD", True),
        ("eth-usdt", True),
        ("EURUSD=X", True),
        ("EURUSD", True),
        ("BTCUSD", True),
        ("ES=F", True),
        ("WSU.DE", False),
    ],
)
def test_24h_instruments_are_told_by_their_ticker(ticker: str, expected: bool) -> None:
    assert is_24h(ticker) is expected


def test_hourly_bars_are_built_from_half_hours_starting_at_half_past() -> None:
    rows = [
        (OPEN, 10, 12, 9, 11, 100),
        (OPEN + minutes(30), 11, 13, 10, 12, 50),
        (OPEN + minutes(60), 12, 12.5, 11.5, 12, 10),
    ]
    hourly = aggregate_hourly(clean(frame(rows), interval="30m").bars)
    assert list(hourly["start"]) == [pd.Timestamp(OPEN), pd.Timestamp(OPEN + minutes(60))]
    assert hourly.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        10,
        13,
        9,
        12,
        150,
    ]


def test_hour_bounds_widen_to_whole_half_past_hours() -> None:
    lo, hi = hour_bounds(OPEN + minutes(10), OPEN + minutes(70))
    assert (lo, hi) == (OPEN, OPEN + minutes(120))


def test_split_span_cuts_consecutive_windows_no_longer_than_the_step() -> None:
    start = datetime(2025, 2, 1, tzinfo=UTC)
    windows = split_span(start, start + timedelta(days=15), timedelta(days=7))
    assert windows == [
        (start, start + timedelta(days=7)),
        (start + timedelta(days=7), start + timedelta(days=14)),
        (start + timedelta(days=14), start + timedelta(days=15)),
    ]
