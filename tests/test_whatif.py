"""What-if without an edge (the weekly report's section): the curve and the totals without
the trades that carried each of the worst-ranked edges, beside the whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edgeledger.core.metrics import in_close_order
from edgeledger.core.rankings import rank_edges
from edgeledger.core.trades import closed
from edgeledger.core.weekly_report import _what_if
from tests.trade_builders import closed_trade, frame_of


def book():
    return frame_of(
        closed_trade("A", 2.0, hour=0, edges=("VWAP",)),
        closed_trade("B", -1.0, hour=1, edges=("GAP", "VWAP")),
        closed_trade("C", -1.0, hour=2, edges=("GAP",)),
        closed_trade("D", 2.0, hour=3, edges=("VWAP",)),
    )


def what_if(frame):
    done = in_close_order(closed(frame))
    return {row.edge: row for row in _what_if(done, rank_edges(done, min_n=1))}


def test_without_an_edge_its_trades_leave_the_curve_and_the_totals():
    gap = what_if(book())["GAP"]  # the worst: -1R a trade
    assert gap.removed == 2
    assert [p.r for p in gap.curve] == pytest.approx([2.0, 4.0])
    assert [p.at.astimezone(UTC).hour for p in gap.curve] == [16, 19]  # A and D's closes
    assert (gap.total_r_all, gap.total_r_without) == pytest.approx((2.0, 4.0))
    assert (gap.avg_r_all, gap.avg_r_without) == pytest.approx((0.5, 2.0))
    assert (gap.max_drawdown_all, gap.max_drawdown_without) == (2.0, 0.0)


def test_the_second_worst_edge_is_shown_too():
    vwap = what_if(book())["VWAP"]
    assert vwap.removed == 3 and [p.r for p in vwap.curve] == [-1.0]


def test_without_an_edge_on_every_trade_nothing_is_left():
    x = what_if(frame_of(closed_trade("A", 2.0, edges=("X",))))["X"]
    assert x.curve == () and x.avg_r_without is None and x.total_r_without == 0.0


def test_no_ranked_edge_no_what_if():
    done = in_close_order(closed(book()))
    assert _what_if(done, rank_edges(done, min_n=10)) == []


def test_a_long_curve_without_an_edge_keeps_its_lows_highs_and_end():
    rows = [
        closed_trade(f"T{i:05d}", 1.0 if i % 3 else -1.0, hour=i, edges=("E" if i % 2 else "F",))
        for i in range(3000)
    ]
    e = what_if(frame_of(*rows))
    for row in e.values():
        assert len(row.curve) <= 501 and row.curve[-1].r == pytest.approx(row.total_r_without)
        assert row.curve[0].at >= datetime(2026, 11, 2, tzinfo=UTC)
