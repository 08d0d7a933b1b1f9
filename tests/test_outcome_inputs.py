"""The inputs of the outcome rules: bar series and signal terms refuse what they cannot use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from edgeledger.core.bars import INTERVALS, from_epoch_us, to_epoch_us
from edgeledger.core.model import Direction, MarketContext, NewSignal, Source, TradeType
from edgeledger.core.outcome_rules import BarSeries, SignalTerms, resolve_signal

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_daily_bars_count_as_twenty_four_hours():
    assert INTERVALS["1d"] == timedelta(hours=24)


def test_epoch_microseconds_round_trip_exactly():
    moment = datetime(2026, 3, 2, 14, 0, 0, 123456, tzinfo=UTC)
    assert from_epoch_us(to_epoch_us(moment)) == moment


def test_from_frame_sorts_bars_by_start_in_utc():
    frame = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-03-02 10:00", "2026-03-02 09:00"]).tz_localize(
                "America/New_York"
            ),
            "open": [2.0, 1.0],
            "high": [2.5, 1.5],
            "low": [1.5, 0.5],
            "close": [2.0, 1.0],
        }
    )
    series = BarSeries.from_frame("1h", frame)
    assert [from_epoch_us(us) for us in series.starts] == [
        datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
    ]
    assert series.open.tolist() == [1.0, 2.0]


def test_from_frame_rejects_duplicate_starts():
    frame = pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-03-02 14:00", "2026-03-02 14:00"], utc=True),
            "open": [1.0, 1.0],
            "high": [1.0, 1.0],
            "low": [1.0, 1.0],
            "close": [1.0, 1.0],
        }
    )
    with pytest.raises(ValueError, match="duplicate bar start 2026-03-02T14:00:00"):
        BarSeries.from_frame("1h", frame)


def test_from_frame_rejects_naive_starts():
    frame = pd.DataFrame(
        {"start": pd.to_datetime(["2026-03-02 14:00"]), "open": [1.0], "high": [1.0]}
        | {"low": [1.0], "close": [1.0]}
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        BarSeries.from_frame("1h", frame)


def test_from_rows_rejects_duplicate_starts():
    with pytest.raises(ValueError, match="duplicate"):
        BarSeries.from_rows("1h", [(T0, 1, 1, 1, 1), (T0, 2, 2, 2, 2)])


def test_bars_reject_missing_prices():
    with pytest.raises(ValueError, match="NaN"):
        BarSeries.from_rows("1h", [(T0, 1, float("nan"), 1, 1)])


def test_bars_reject_unknown_intervals():
    with pytest.raises(ValueError, match="unknown interval '2h'"):
        BarSeries.from_rows("2h", [(T0, 1, 1, 1, 1)])


def test_shared_bars_are_read_only():
    series = BarSeries.from_rows("1h", [(T0, 1, 1, 1, 1)])
    with pytest.raises(ValueError):
        series.close[0] = 2.0


def terms(**changes: object) -> SignalTerms:
    base = {
        "trade_id": "L1",
        "direction": Direction.LONG,
        "entry": 100,
        "stop": 95,
        "target": 110,
        "target2": None,
        "created_at": T0,
        "expires_at": T0 + timedelta(days=7),
    }
    return SignalTerms(**(base | changes))


def test_terms_reject_a_long_with_levels_out_of_order():
    with pytest.raises(ValueError, match="stop < entry < target"):
        terms(stop=101)


def test_terms_reject_a_short_with_levels_out_of_order():
    with pytest.raises(ValueError, match="target < entry < stop"):
        terms(direction=Direction.SHORT)


def test_terms_reject_naive_times():
    with pytest.raises(ValueError, match="naive"):
        terms(created_at=datetime(2026, 3, 2, 14, 0))


def test_terms_come_from_a_validated_signal():
    signal = NewSignal(
        ticker="AAPL",
        trade_type=TradeType.SWING,
        direction=Direction.LONG,
        entry=Decimal("181.2"),
        stop=Decimal("180.1"),
        target=Decimal("183.5"),
        target2=None,
        confidence=3,
        edges=(),
        rationale=None,
        strategy=None,
        source=Source.API,
        source_key=None,
        context=MarketContext(),
        created_at=T0,
        expires_at=T0 + timedelta(days=7),
    )
    got = SignalTerms.from_signal(signal, trade_id="ABC")
    assert (got.trade_id, got.entry, got.stop, got.target) == ("ABC", 181.2, 180.1, 183.5)


def test_resolving_needs_the_primary_bars():
    with pytest.raises(ValueError, match="no 1h bars"):
        resolve_signal(terms(), {}, primary="1h", as_of=T0)


def test_resolving_refuses_bars_filed_under_the_wrong_interval():
    five = BarSeries.from_rows("5m", [(T0, 1, 1, 1, 1)])
    with pytest.raises(ValueError, match="bars under '1h' are 5m bars"):
        resolve_signal(terms(), {"1h": five}, primary="1h", as_of=T0)
