"""What-if without an edge: the curve and totals without the trades that carried it."""

from __future__ import annotations

import pytest

from edgeledger.core.whatif import what_if_without
from tests.trade_builders import closed_trade, frame_of


def book():
    return frame_of(
        closed_trade("A", 2.0, hour=0, edges=("VWAP",)),
        closed_trade("B", -1.0, hour=1, edges=("GAP", "VWAP")),
        closed_trade("C", -1.0, hour=2, edges=("GAP",)),
        closed_trade("D", 2.0, hour=3, edges=("VWAP",)),
    )


def test_the_curve_with_every_trade_is_cumulative_r_by_close():
    result = what_if_without(book(), "GAP")
    assert [c for _, c in result.curve_all] == pytest.approx([2.0, 1.0, 0.0, 2.0])
    assert [t.hour for t, _ in result.curve_all] == [16, 17, 18, 19]


def test_without_an_edge_its_trades_leave_the_curve_and_the_totals():
    result = what_if_without(book(), "GAP")
    assert result.removed == 2
    assert [c for _, c in result.curve_without] == pytest.approx([2.0, 4.0])
    assert result.totals_all.n == 4 and result.totals_all.total_r == pytest.approx(2.0)
    assert result.totals_all.max_drawdown_r == pytest.approx(2.0)
    assert result.totals_without.n == 2 and result.totals_without.avg_r == pytest.approx(2.0)
    assert result.totals_without.max_drawdown_r == 0.0


def test_without_an_edge_on_every_trade_nothing_is_left():
    result = what_if_without(frame_of(closed_trade("A", 2.0, edges=("X",))), "X")
    assert result.curve_without == [] and result.totals_without.n == 0
    assert result.totals_without.avg_r is None and result.totals_without.total_r == 0.0


def test_an_edge_no_trade_carried_changes_nothing():
    result = what_if_without(book(), "NONE")
    assert result.removed == 0 and result.curve_without == result.curve_all
