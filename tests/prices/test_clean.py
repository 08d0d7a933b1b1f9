"""The numpy clean-up gives exactly what the plain pandas version (reference.py) gave.

Random bad input: NaN, infinite, zero and negative prices, missing and duplicated starts,
identical and conflicting copies, unsorted rows, bars around DST changes, early closes,
holidays and the calendar's ends, naive and far-off windows. Same bars (values, dtypes,
index, columns), same dropped bars, same log records, same errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeledger.prices import base, clean
from edgeledger.prices.clean import BadStart
from edgeledger.prices.yahoo import parse_chart

from . import reference

NAN, INF = float("nan"), float("inf")
NS = 10**9
DAYS = [
    date(1999, 12, 31),  # before the calendar: weekday hours for the whole batch
    date(2000, 1, 3),  # the calendar's first session
    date(2024, 3, 8),  # the Friday before daylight saving starts
    date(2024, 3, 10),  # daylight saving starts (a Sunday)
    date(2024, 3, 11),
    date(2024, 7, 3),  # early close
    date(2024, 7, 4),  # holiday
    date(2024, 11, 1),
    date(2024, 11, 3),  # daylight saving ends (a Sunday)
    date(2024, 11, 4),
    date(2024, 11, 29),  # early close
    date(2045, 12, 29),  # the calendar's last session
    date(2046, 1, 2),  # after the calendar
]
# UTC clock times at and around the opens and closes (EST and EDT, early closes).
KEY_MINUTES = [0, 4 * 60, 5 * 60, 13 * 60 + 29, 13 * 60 + 30, 14 * 60 + 30, 17 * 60]
KEY_MINUTES += [18 * 60, 19 * 60 + 59, 20 * 60, 21 * 60, 23 * 60 + 59]


def epoch_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS


instants = st.builds(
    lambda day, offset: epoch_ns(day) + offset,
    st.sampled_from(DAYS),
    st.one_of(
        st.sampled_from(KEY_MINUTES).map(lambda m: m * 60 * NS),
        *[st.integers(13 * 60 + 30, 21 * 60).map(lambda m: m * 60 * NS)] * 2,  # sessions
        st.integers(0, 24 * 3600 * NS - 1),
    ),
)
odd_prices = st.sampled_from([NAN, INF, -INF, 0.0, -0.0, -1.0, 10.0, 9.0, 11.0, 11.0 + 1e-8])
volumes = st.sampled_from([NAN, 0.0, -0.0, 100.0, 1.5, 2e6, 100.0, 1.5, -1.0, INF])


@st.composite
def good_prices(draw: st.DrawFn) -> tuple[float, float, float, float]:
    low = draw(st.floats(0.5, 500))
    high = low + draw(st.floats(0, 5))
    open_, close = (low + draw(st.floats(0, 1)) * (high - low) for _ in range(2))
    return open_, high, low, close


@st.composite
def noisy_prices(draw: st.DrawFn) -> tuple[float, float, float, float]:
    """Open or close just outside [low, high], within or beyond the float-noise slack."""
    open_, high, low, close = draw(good_prices())
    nudge = st.integers(-20, 20).map(lambda k: k * 1e-10 * high)
    return min(open_, low) + draw(nudge), high, low, max(close, high) + draw(nudge)


@st.composite
def bar_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Rows with starts drawn from a few instants, so they collide and arrive unsorted.

    Some starts are missing, and some rows are inserted again as identical copies.
    """
    pool = draw(st.lists(instants, min_size=draw(st.integers(1, 20)), max_size=20))
    start = st.one_of(*[st.sampled_from(pool)] * 9, st.none())
    prices = st.one_of(*[good_prices()] * 3, noisy_prices(), st.tuples(*[odd_prices] * 4))
    drawn = draw(
        st.lists(st.tuples(start, prices, volumes), min_size=draw(st.integers(1, 40)), max_size=40)
    )
    flat = [(row[0], *row[1], row[2]) for row in drawn]
    for _ in range(draw(st.integers(0, 3))):
        copy = flat[draw(st.integers(0, len(flat) - 1))]
        flat.insert(draw(st.integers(0, len(flat))), copy)
    return flat


def stamp(ns: int | None) -> datetime | None:
    return None if ns is None else pd.Timestamp(ns, tz="UTC").to_pydatetime(warn=False)


def as_raw(drawn: list[tuple[Any, ...]], form: str) -> pd.DataFrame:
    """The same rows as a provider or a caller might hand them over."""
    names = ("open", "high", "low", "close", "volume")
    columns = {name: [row[i + 1] for row in drawn] for i, name in enumerate(names)}
    ns = [row[0] for row in drawn]
    if form == "raw_bars":  # from lists of datetimes, as Alpaca, Polygon and Schwab build it
        return base.raw_bars([stamp(n) for n in ns], columns)
    if form == "strings":  # ISO 8601 text and object columns, as a CSV gives
        text = [
            None if n is None else pd.Timestamp(n, tz="UTC").isoformat(timespec="nanoseconds")
            for n in ns
        ]
        return pd.DataFrame(
            {"start": text, **{k: [str(v) for v in vs] for k, vs in columns.items()}}
        )
    epoch = np.array([np.iinfo(np.int64).min if n is None else n for n in ns], dtype=np.int64)
    frame = pd.DataFrame(  # columns in another order, and one more
        {
            "volume": columns.pop("volume"),
            "extra": 1,
            "start": pd.DatetimeIndex(epoch.view("M8[ns]")).tz_localize("UTC"),
            **columns,
        }
    )
    if form == "eastern":  # tz-aware in another zone
        frame["start"] = frame["start"].dt.tz_convert("America/New_York")
    return frame


WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))
odd_bounds = st.sampled_from(
    [
        pd.Timestamp("2024-11-04 09:30", tz="America/New_York"),
        datetime(2024, 11, 4, 14, 30),  # naive: pandas refuses to compare
        pd.NaT,  # compares False
        datetime(1, 1, 2, tzinfo=UTC),  # beyond datetime64[ns]
        datetime(9999, 12, 31, tzinfo=UTC),
    ]
)
starts_at = st.one_of(*[st.just(WIDE[0])] * 6, instants.map(stamp), odd_bounds)
ends_at = st.one_of(*[st.just(WIDE[1])] * 6, instants.map(stamp), odd_bounds)


@contextmanager
def records(*names: str) -> Iterator[list[logging.LogRecord]]:
    caught: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = caught.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield caught
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """(result, None), or (None, (error type, message)) if it raised."""
    try:
        return function(*args, **kwargs), None
    except Exception as error:  # comparing whatever is raised
        return None, (type(error), str(error))


def described(caught: list[logging.LogRecord]) -> list[tuple[Any, ...]]:
    keys = ("ticker", "provider", "reason", "count")
    return [(r.levelno, r.getMessage(), *(getattr(r, k, None) for k in keys)) for r in caught]


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got, want, check_exact=True, check_index_type=True, check_column_type=True
    )
    assert list(got.dtypes) == list(want.dtypes)


@settings(max_examples=200)
@given(
    drawn=bar_rows(),
    form=st.sampled_from(["frame", "frame", "raw_bars", "strings", "eastern"]),
    ticker=st.sampled_from(["AAPL", "AAPL", "BTC-USD"]),
    interval=st.sampled_from(["5m", "1h", "1d"]),
    daily_tz=st.sampled_from(["America/New_York", "America/Chicago", "UTC"]),
    start=starts_at,
    end=ends_at,
)
def test_normalize_bars_matches_the_pandas_reference(
    drawn: list[tuple[Any, ...]],
    form: str,
    ticker: str,
    interval: str,
    daily_tz: str,
    start: datetime,
    end: datetime,
) -> None:
    raw = as_raw(drawn, form)
    kwargs = dict(
        provider="test",
        ticker=ticker,
        interval=interval,
        start=start,
        end=end,
        daily_tz=daily_tz,
        sessions="24/7" if ticker == "BTC-USD" else "XNYS",
    )
    with records("edgeledger.prices.base") as got_log:
        got, got_error = outcome(base.normalize_bars, raw.copy(), **kwargs)
    with records("tests.prices.reference") as want_log:
        want, want_error = outcome(reference.normalize_bars, raw.copy(), **kwargs)
    assert got_error == want_error
    assert described(got_log) == described(want_log)
    if want is None:
        return
    assert_same_frame(got.bars, want.bars)
    assert got.dropped == want.dropped
    assert [repr(d.start) for d in got.dropped] == [repr(d.start) for d in want.dropped]
    assert got.source == want.source


def test_normalize_bars_refuses_raw_bars_without_the_bar_columns() -> None:
    with pytest.raises(ValueError, match=r"raw bars lack columns \['volume'\]"):
        base.normalize_bars(
            pd.DataFrame({c: [] for c in base.COLUMNS[:-1]}),
            provider="test",
            ticker="AAPL",
            interval="1h",
            start=datetime(2024, 1, 1, tzinfo=UTC),
            end=datetime(2024, 2, 1, tzinfo=UTC),
        )


anything = st.one_of(
    st.none(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["1.5", "abc", "", " 7", "inf"]),
)
# What JSON gives (the shortcut), then whatever a caller might pass.
value_kinds = [
    st.integers(0, 10**9),
    st.one_of(st.integers(-10, 10), st.integers(2**63 - 1, 2**64)),  # past int64
    st.one_of(st.integers(-10, 10), st.integers(-(2**64), -(2**63))),
    st.one_of(st.none(), st.floats(0, 1e6)),
    st.one_of(st.none(), st.integers(-(2**64), 2**64), st.floats()),
    anything,
]


@st.composite
def provider_columns(draw: st.DrawFn) -> tuple[int, dict[str, list[Any]]]:
    """A row count and value lists per bar column, some missing, some of another length."""
    count = draw(st.integers(0, 8))
    columns = {}
    for name in ("open", "high", "low", "close", "volume"):
        if draw(st.integers(0, 4)) == 0:
            continue  # a missing column becomes NaN
        size = count + draw(st.sampled_from([0] * 8 + [-1, 1]))
        kind = draw(st.sampled_from(value_kinds))
        columns[name] = draw(st.lists(kind, min_size=max(size, 0), max_size=max(size, 0)))
    return count, columns


@given(provider_columns(), st.booleans())
def test_raw_bars_reads_values_as_pandas_did(
    drawn: tuple[int, dict[str, list[Any]]], shifted_index: bool
) -> None:
    count, columns = drawn
    times = pd.Series(pd.date_range("2024-03-08 14:30", periods=count, freq="h", tz="UTC"))
    if shifted_index:  # pandas aligns the columns on it
        times.index = times.index + 1
    got, got_error = outcome(base.raw_bars, times, columns)
    want, want_error = outcome(reference.raw_bars, times, columns)
    assert got_error == want_error
    if want is not None:
        assert_same_frame(got, want)


@given(
    st.one_of(
        st.lists(st.integers(-(2**34), 2**34), min_size=1, max_size=6),
        st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=6),
        st.lists(st.one_of(st.integers(0, 2**31), st.none(), st.floats(0, 2**31)), min_size=1),
    )
)
def test_yahoo_charts_are_read_as_pandas_did(stamps: list[Any]) -> None:
    """Stamps pandas reads are read the same; a stamp it refuses no longer fails the chart
    but stands as a BadStart (or NaT for null), so only its bar is dropped."""
    quote = {"open": [10.5] * len(stamps), "volume": [100] * len(stamps)}
    body = {"chart": {"result": [{"timestamp": stamps, "indicators": {"quote": [quote]}}]}}
    got, got_error = outcome(parse_chart, body, "AAPL")
    want, _ = outcome(lambda: reference.raw_bars(reference.yahoo_starts(stamps), quote))
    assert got_error is None
    if want is not None:
        assert_same_frame(got, want)
        return
    for stamp, start in zip(stamps, got["start"], strict=True):
        alone, alone_error = outcome(reference.yahoo_starts, [stamp])
        if alone_error is None:
            assert start == alone.iloc[0]
        elif stamp is None:
            assert start is pd.NaT
        else:
            assert isinstance(start, BadStart)


@given(
    st.lists(st.one_of(instants, st.none()), max_size=10),
    st.sampled_from(["America/New_York", "America/Chicago", "UTC"]),
    st.sampled_from(["ns", "us"]),
)
def test_restamp_daily_matches_the_pandas_reference(
    ns: list[int | None], source_tz: str, unit: str
) -> None:
    starts = pd.Series([stamp(n) for n in ns], dtype=f"datetime64[{unit}, UTC]", name="start")
    pd.testing.assert_series_equal(
        base.restamp_daily(starts, source_tz),
        reference.restamp_daily(starts, source_tz),
        check_exact=True,
    )


def test_bars_beyond_the_calendars_range_are_kept_having_no_session_to_be_judged_by() -> None:
    last = datetime(2045, 12, 29, 20, 0, tzinfo=UTC)  # 15:00 ET on the last session
    rows = [
        (last, 10, 11, 9, 10, 1),
        (last + timedelta(hours=1), 10, 11, 9, 10, 1),  # after the close: extended hours
        (last + timedelta(days=1), 10, 11, 9, 10, 1),  # past the calendar's last day
    ]
    frame = base.raw_bars(
        [r[0] for r in rows],
        {n: [r[i + 1] for r in rows] for i, n in enumerate(base.COLUMNS[1:])},
    )
    result = base.normalize_bars(
        frame,
        provider="test",
        ticker="AAPL",
        interval="1h",
        start=datetime(2045, 12, 1, tzinfo=UTC),
        end=datetime(2046, 1, 1, tzinfo=UTC),
        sessions="XNYS",
    )
    assert list(result.bars["start"]) == [pd.Timestamp(rows[0][0]), pd.Timestamp(rows[2][0])]
    assert [d.reason for d in result.dropped] == ["outside the XNYS sessions (extended hours)"]


def test_empty_bars_match_the_reference_frame() -> None:
    want = pd.DataFrame(
        {
            "start": pd.Series([], dtype="datetime64[ns, UTC]"),
            **{c: pd.Series([], dtype="float64") for c in base.COLUMNS[1:]},
        }
    )
    assert_same_frame(base.empty_bars(), want)


def test_duplicate_rows_keep_the_last_and_report_the_conflicts_only() -> None:
    at = datetime(2024, 3, 11, 14, 30, tzinfo=UTC)
    a, b = (at, 10.0, 11.0, 9.0, 10.0, NAN), (at, 10.0, 11.0, 9.0, 10.5, 1.0)
    frame = base.raw_bars(
        [r[0] for r in (a, b, a)],
        {n: [r[i + 1] for r in (a, b, a)] for i, n in enumerate(base.COLUMNS[1:])},
    )
    result = base.normalize_bars(
        frame,
        provider="test",
        ticker="AAPL",
        interval="1h",
        start=at - timedelta(days=1),
        end=at + timedelta(days=1),
    )
    assert result.bars["close"].tolist() == [10.0]
    assert [d.reason for d in result.dropped] == ["duplicate timestamp (kept the last)"]
    assert np.isnan(result.bars["volume"].iloc[0])


@pytest.mark.parametrize(
    ("far", "good"),
    [
        (datetime(2300, 1, 1, tzinfo=UTC), datetime(2024, 3, 8, 15, tzinfo=UTC)),
        ("2300-01-01T00:00Z", "2024-03-08T15:00Z"),
        (datetime(1600, 1, 1, tzinfo=UTC), datetime(2024, 3, 8, 15, tzinfo=UTC)),
        (pd.Timestamp.max.tz_localize("UTC"), datetime(2024, 3, 8, 15, tzinfo=UTC)),
        (pd.Timestamp.min.tz_localize("UTC"), datetime(2024, 3, 8, 15, tzinfo=UTC)),
    ],
    ids=["datetime", "text", "before-1677", "ns-max", "ns-min"],
)
def test_bar_times_outside_1678_to_2261_drop_their_bar_alone(far: Any, good: Any) -> None:
    """They used to raise OutOfBoundsDatetime, which stopped the resolve run, every run
    (the edges of datetime64[ns] overflowed later, moving to New York time)."""
    raw = base.raw_bars([far, good], {name: [10.0, 10.0] for name in base.PRICES})
    kwargs = dict(provider="test", ticker="AAPL", interval="1h", start=WIDE[0], end=WIDE[1])
    result = base.normalize_bars(raw, **kwargs)
    assert list(result.bars["start"]) == [pd.Timestamp("2024-03-08 15:00", tz="UTC")]
    assert [bar.reason for bar in result.dropped] == ["timestamp out of range"]


def test_a_start_that_is_no_time_drops_its_bar_alone() -> None:
    raw = base.raw_bars(["2024-03-08T15:00Z", "noon"], {n: [10.0, 10.0] for n in base.PRICES})
    kwargs = dict(provider="test", ticker="AAPL", interval="1h", start=WIDE[0], end=WIDE[1])
    result = base.normalize_bars(raw, **kwargs)
    assert len(result.bars) == 1
    assert result.dropped == (base.DroppedBar(None, "unreadable timestamp"),)


@pytest.mark.parametrize("column", ["start", "open"])
def test_a_duplicated_bar_column_fails_as_before(column: str) -> None:
    raw = base.raw_bars([datetime(2024, 3, 8, 15, tzinfo=UTC)], {"open": [1.0]})
    raw.insert(1, column, raw[column], allow_duplicates=True)
    kwargs = dict(provider="test", ticker="AAPL", interval="1h", start=WIDE[0], end=WIDE[1])
    got_error = outcome(base.normalize_bars, raw, **kwargs)[1]
    assert got_error is not None
    assert got_error == outcome(reference.normalize_bars, raw, **kwargs)[1]


def test_the_raw_frames_attrs_are_carried_over_as_before() -> None:
    raw = base.raw_bars([datetime(2024, 3, 8, 15, tzinfo=UTC)], {"open": [1.0]})
    raw.attrs["source"] = ["file"]
    kwargs = dict(provider="test", ticker="AAPL", interval="1h", start=WIDE[0], end=WIDE[1])
    got = base.normalize_bars(raw, **kwargs).bars.attrs
    assert got == reference.normalize_bars(raw, **kwargs).bars.attrs == {"source": ["file"]}
    assert got["source"] is not raw.attrs["source"]


def normalized_one(open_: float, high: float, low: float, close: float) -> base.FetchResult:
    at = datetime(2024, 3, 8, 15, tzinfo=UTC)
    raw = base.raw_bars(
        [at, at + timedelta(hours=1)],
        {"open": [open_, 10.0], "high": [high, 11.0], "low": [low, 9.0], "close": [close, 10.0]},
    )
    kwargs = dict(provider="test", ticker="AAPL", interval="1h", start=WIDE[0], end=WIDE[1])
    return base.normalize_bars(raw, **kwargs)


def test_a_bar_is_judged_at_the_eight_places_the_database_keeps() -> None:
    """Open 100.000000005 is stored as 100.00000001 (numeric rounds half away from zero)
    and high 100.000000004 as 100.00000000: kept as sent, the bar passed our rules and then
    broke price_bars' CHECK, which blocked its ticker on every run. Within float noise of
    the high, the open is read as the high."""
    result = normalized_one(100.000000005, 100.000000004, 99.0, 100.0)
    assert result.dropped == ()
    assert result.bars.iloc[0][["open", "high", "low", "close"]].tolist() == [100, 100, 99, 100]


def test_prices_are_rounded_to_eight_places_half_away_from_zero() -> None:
    result = normalized_one(10.123456785, 10.123456795, 10.123456775, 10.123456784)
    assert result.bars.iloc[0][["open", "high", "low", "close"]].tolist() == [
        10.12345679,
        10.1234568,
        10.12345678,
        10.12345678,
    ]


@pytest.mark.parametrize(
    "prices",
    [
        (1e12, 1e12, 1e12, 1e12),  # numeric(20, 8) holds less than 10**12
        (999999999999.999999, 1e13, 1.0, 1.0),
        (4e-9, 4e-9, 4e-9, 4e-9),  # stored as 0, which the price CHECKs refuse
        (1.0, 1.0, 1e-300, 1.0),
    ],
)
def test_prices_the_price_columns_cannot_hold_are_dropped_with_their_reason(
    prices: tuple[float, float, float, float],
) -> None:
    result = normalized_one(*prices)
    assert len(result.bars) == 1
    assert [bar.reason for bar in result.dropped] == ["price out of range"]


def test_the_smallest_price_the_columns_hold_is_kept() -> None:
    result = normalized_one(6e-9, 1e-8, 5e-9, 1e-8)
    assert result.dropped == ()
    assert result.bars.iloc[0][["open", "high", "low", "close"]].tolist() == [1e-8] * 4


def test_a_volume_the_volume_column_cannot_hold_is_dropped_with_its_reason() -> None:
    at = datetime(2024, 3, 8, 15, tzinfo=UTC)
    raw = base.raw_bars(
        [at, at + timedelta(hours=1)],
        {**{n: [10.0, 10.0] for n in base.PRICES}, "volume": [1e20, 5.0]},
    )
    kwargs = dict(provider="test", ticker="AAPL", interval="1h", start=WIDE[0], end=WIDE[1])
    result = base.normalize_bars(raw, **kwargs)
    assert result.bars["volume"].tolist() == [5.0]
    assert [bar.reason for bar in result.dropped] == ["volume out of range"]


# Decimal ties at the ninth place (123.456789125), where floats alone cannot tell.
ties = st.tuples(st.integers(-(10**7), 10**7), st.integers(0, 10**8 - 1)).map(
    lambda t: float(f"{t[0]}.{t[1]:08d}5")
)


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(-1e8, 1e8),
        st.floats(1e-10, 1e-6),
        st.floats(4e7, 1e21),
        ties,
    )
)
def test_rounding_in_floats_agrees_with_rounding_the_decimal_text(value: float) -> None:
    """The fast rounding gives what rounding repr(value) as a Decimal gives (the bar store
    sends repr, and PostgreSQL rounds that text): tests/test_bar_store.py checks the latter
    against PostgreSQL itself."""
    got = clean.round_like_numeric(np.array([value]))[0]
    want = reference.round_like_numeric(value)
    assert got == want or (np.isnan(got) and np.isnan(want))
