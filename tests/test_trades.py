"""The trades frame and the populations docs/metrics.md counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edgeledger.core.trades import (
    TRADE_COLUMNS,
    closed,
    closed_between,
    counted,
    empty_trades,
    trades_frame,
)


def trade(trade_id: str, **changes) -> dict:
    row = dict.fromkeys(TRADE_COLUMNS)
    row.update(
        trade_id=trade_id, ticker="NVDA", trade_type="day", direction="long", confidence=3,
        edges=("VWAP",), source="api", status="PENDING", entry=100, stop=95, target=110,
        ambiguous=False, created_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
    )  # fmt: skip
    row.update(changes)
    return row


WIN = {"status": "WIN", "exit_reason": "target", "fill_price": 100, "r": 2.0}
CLOSE = {"closed_at": datetime(2026, 11, 20, 18, tzinfo=UTC)}


def test_an_empty_frame_has_every_column_typed():
    frame = empty_trades()
    assert list(frame.columns) == list(TRADE_COLUMNS)
    assert str(frame["closed_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["r"].dtype) == "float64"


def test_rows_missing_a_column_are_refused_by_name():
    row = trade("A")
    del row["edges"]
    with pytest.raises(ValueError, match="lack columns: edges"):
        trades_frame([row])


def test_closed_trades_are_those_that_filled_and_closed():
    frame = trades_frame(
        [
            trade("WIN", **WIN, **CLOSE),
            trade(
                "TIMEOUT", status="EXPIRED", exit_reason="timeout", fill_price=100, r=0.4, **CLOSE
            ),
            trade("UNFILLED", status="EXPIRED", exit_reason="not_triggered"),
            trade("OPEN", status="OPEN", fill_price=100),
        ]
    )
    assert list(closed(frame)["trade_id"]) == ["WIN", "TIMEOUT"]


def test_no_data_cancelled_and_backtest_trades_are_not_counted_as_live():
    frame = trades_frame(
        [
            trade("LIVE", **WIN, **CLOSE),
            trade("NODATA", status="EXPIRED", exit_reason="no_data"),
            trade("CANCELLED", status="CANCELLED"),
            trade("BACKTEST", source="backtest", **WIN, **CLOSE),
        ]
    )
    assert list(counted(frame)["trade_id"]) == ["LIVE"]
    assert list(counted(frame, backtest=True)["trade_id"]) == ["BACKTEST"]


def test_periods_of_performance_use_the_close():
    frame = trades_frame([trade("WIN", **WIN, **CLOSE)])
    start = datetime(2026, 11, 20, 18, tzinfo=UTC)
    assert len(closed_between(frame, start, start.replace(hour=19))) == 1
    assert len(closed_between(frame, start.replace(hour=17), start)) == 0
