"""Rolling 7- and 30-day metrics per strategy and edge, for what a run touched."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from edgeledger.core.rolling import rolling_metrics
from tests.trade_builders import START, closed_trade, frame_of

AS_OF = START + timedelta(days=40)


def closed_days_before(trade_id: str, r: float, days: float, **changes) -> dict:
    return closed_trade(trade_id, r, closed_at=AS_OF - timedelta(days=days), **changes)


def book():
    return frame_of(
        closed_days_before("A", 2.0, 1, edges=("VWAP",), strategy="momo"),
        closed_days_before("B", -1.0, 6.9, edges=("VWAP", "GAP"), strategy="momo"),
        closed_days_before("C", -1.0, 7, edges=("GAP",), strategy="swing"),  # out of 7 days
        closed_days_before("D", 1.0, 29, edges=("VWAP",), strategy="momo"),
        closed_days_before("E", 3.0, 31, edges=("VWAP",), strategy="momo"),  # too old
        closed_days_before("F", 5.0, -1, edges=("VWAP",), strategy="momo"),  # after as_of
    )


def figures(rows) -> dict:
    return {(row.scope, row.key, row.window_days): row.metrics for row in rows}


def test_every_strategy_and_edge_gets_a_7_and_a_30_day_row():
    rows = rolling_metrics(book(), as_of=AS_OF)
    assert [(r.scope, r.key, r.window_days) for r in rows] == [
        ("strategy", "momo", 7), ("strategy", "momo", 30),
        ("strategy", "swing", 7), ("strategy", "swing", 30),
        ("edge", "GAP", 7), ("edge", "GAP", 30),
        ("edge", "VWAP", 7), ("edge", "VWAP", 30),
    ]  # fmt: skip


def test_a_window_holds_trades_closed_after_its_start_up_to_as_of():
    got = figures(rolling_metrics(book(), as_of=AS_OF))
    assert got[("edge", "VWAP", 7)].n == 2
    assert got[("edge", "VWAP", 30)].n == 3
    assert got[("edge", "VWAP", 30)].total_r == pytest.approx(2.0)
    assert got[("strategy", "swing", 7)].n == 0
    assert got[("strategy", "swing", 30)].n == 1


def test_only_the_keys_a_run_touched_are_recomputed():
    rows = rolling_metrics(book(), as_of=AS_OF, touched={"edge": ["GAP"]})
    assert [(r.scope, r.key, r.window_days) for r in rows] == [
        ("edge", "GAP", 7),
        ("edge", "GAP", 30),
    ]


def test_a_touched_key_without_trades_in_the_window_gets_an_empty_row():
    rows = rolling_metrics(book(), as_of=AS_OF, windows=(7,), touched={"strategy": ["gone"]})
    assert len(rows) == 1 and rows[0].metrics.n == 0


def test_rows_carry_their_window():
    row = rolling_metrics(book(), as_of=AS_OF, windows=(7,), touched={"edge": ["GAP"]})[0]
    assert row.as_of == AS_OF and row.start == AS_OF - timedelta(days=7)


def test_as_of_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        rolling_metrics(book(), as_of=datetime(2026, 12, 1))
