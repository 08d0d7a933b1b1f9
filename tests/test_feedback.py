"""Feedback decisions: the deterministic rules of metrics.md, with their figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edgeledger.core.feedback import RULE_VERSION, feedback_decisions
from edgeledger.core.rolling import rolling_metrics
from tests.trade_builders import START, closed_trade, frame_of

AS_OF = START + timedelta(days=60)


def live(rs, edge: str = "VWAP", strategy: str = "momo", days_ago: float = 1.0, **changes):
    """Live trades closed an hour apart, in this order, ending `days_ago` before AS_OF."""
    last = AS_OF - timedelta(days=days_ago)
    return [
        closed_trade(
            f"{edge}-{strategy}-{i:03d}",
            r,
            closed_at=last - timedelta(hours=len(rs) - 1 - i),
            edges=(edge,),
            strategy=strategy,
            **changes,
        )
        for i, r in enumerate(rs)
    ]


def decisions(live_rows, backtest_rows=(), **kwargs) -> dict:
    found = feedback_decisions(
        frame_of(*live_rows), frame_of(*backtest_rows), as_of=AS_OF, **kwargs
    )
    return {(d.scope, d.key): d for d in found}


def test_scopes_below_the_minimum_sample_get_no_decision():
    assert decisions(live([2, -1] * 4)) == {}


def test_trades_outside_the_30_day_window_do_not_count():
    assert decisions(live([2, -1] * 6, days_ago=31)) == {}


def test_a_healthy_edge_is_kept():
    d = decisions(live([2, -1, 2, -1, 2, -1, 2, -1, 2, -1]))[("edge", "VWAP")]
    assert d.action == "keep" and d.findings == ()
    assert d.rule_version == RULE_VERSION and d.as_of == AS_OF
    assert d.text == "Keep edge VWAP: 50.0% win rate, +0.50R over 10 trades (30 days)"


def test_a_low_win_rate_alone_is_monitored():
    # 3 wins of 10 at +3R: win rate 30%, still profitable
    d = decisions(live([3, -1, -1, -1, 3, -1, -1, 3, -1, -1]))[("edge", "VWAP")]
    assert d.findings == ("low_win_rate",) and d.action == "monitor"
    assert d.figures["win_rate"] == pytest.approx(0.3)
    assert d.text.startswith("Monitor edge VWAP (win rate below 40%)")


def test_unprofitable_with_a_low_win_rate_is_disabled():
    rs = [2, -1, -1, -1, 2, -1, -1, -1, 2, -1, -1, -1]
    d = decisions(live(rs))[("edge", "VWAP")]
    assert d.findings == ("low_win_rate", "unprofitable") and d.action == "disable"
    assert d.text == "Consider removing edge VWAP: 25.0% win rate, -0.25R over 12 trades (30 days)"
    assert d.figures["profit_factor"] == pytest.approx(6 / 9)


def test_a_losing_streak_of_five_is_disabled():
    d = decisions(live([2, 2, 2, 2, 2, -1, -1, -1, -1, -1]))[("strategy", "momo")]
    assert d.findings == ("losing_streak",) and d.action == "disable"
    assert d.figures["current_streak"] == -5
    assert d.text.startswith("Consider pausing strategy momo: 50.0% win rate")
    assert d.text.endswith("; 5 losses in a row")


def test_four_losses_in_a_row_are_no_streak():
    d = decisions(live([2, 2, 2, 2, 2, 2, -1, -1, -1, -1]))[("edge", "VWAP")]
    assert "losing_streak" not in d.findings


def test_live_more_than_20_points_off_backtest_is_re_optimized():
    backtest = live([2, 2, 2, -1] * 5, source="backtest", days_ago=400)
    d = decisions(live([2, -1, -1] * 4), backtest)[("edge", "VWAP")]
    assert "live_vs_backtest" in d.findings and d.action == "re-optimize"
    assert d.figures["deviation_severity"] == "critical"
    assert d.figures["backtest_win_rate"] == pytest.approx(0.75)
    assert d.text.startswith("Re-optimize edge VWAP: live win rate 33.3% vs 75.0% in backtest")


def test_live_10_to_20_points_off_backtest_is_a_warning_to_monitor():
    backtest = live([2, 2, 2, -1, -1] * 4, source="backtest", days_ago=400)  # 60%
    d = decisions(live([2, -1] * 6), backtest)[("edge", "VWAP")]  # 50%: 10 points off
    assert d.findings == () and d.action == "keep"
    backtest = live([2, 2, 2, 2, -1, -1] * 4, source="backtest", days_ago=400)  # 66.7%
    d = decisions(live([2, -1] * 6), backtest)[("edge", "VWAP")]
    assert d.findings == ("live_vs_backtest",) and d.action == "monitor"
    assert d.figures["deviation_severity"] == "warning"


def test_exactly_10_points_off_backtest_is_no_finding_despite_float_rounding():
    backtest = live([2, 2, 2, 2, 2, 2, 2, -1, -1, -1], source="backtest", days_ago=400)  # 70%
    d = decisions(live([2] * 8 + [-1] * 2), backtest)[("edge", "VWAP")]  # 80%
    assert d.findings == ()


def test_a_backtest_below_the_minimum_sample_is_not_compared():
    backtest = live([2, 2, 2], source="backtest", days_ago=400)
    d = decisions(live([2, -1, -1] * 4), backtest)[("edge", "VWAP")]
    assert "live_vs_backtest" not in d.findings and "backtest_n" not in d.figures


def test_decisions_cover_edges_then_strategies_in_key_order():
    rows = live([2, -1] * 5, edge="B", strategy="s1") + live([2, -1] * 5, edge="A", strategy="s1")
    found = feedback_decisions(frame_of(*rows), frame_of(), as_of=AS_OF)
    assert [(d.scope, d.key) for d in found] == [("edge", "A"), ("edge", "B"), ("strategy", "s1")]


def test_an_infinite_profit_factor_is_stored_as_the_cap():
    d = decisions(live([2] * 10))[("edge", "VWAP")]
    assert d.figures["profit_factor"] == 999.0 and d.action == "keep"


def test_decisions_from_the_rolling_30_day_rows_are_the_decisions_of_the_trades():
    rows = [
        *live([-1, -1, 2, -1, -1, -1, -1, -1, 0.5, -1, -1]),
        *live([2, 2, -1, 2] * 3, edge="ORB", strategy="swing"),
        *live([1] * 12, edge="GAP", days_ago=40),  # outside the window: no decision
    ]
    backtest = [r | {"source": "backtest"} for r in live([2, 2, 2, -1] * 3)]
    frame = frame_of(*rows)
    touched = {"edge": ["VWAP", "ORB", "GAP"], "strategy": ["momo", "swing"]}
    window: dict = {}
    for row in rolling_metrics(frame, as_of=AS_OF, touched=touched):
        if row.window_days == 30:
            window.setdefault(row.scope, {})[row.key] = row.metrics
    shared = decisions(rows, backtest, window_metrics=window)
    assert shared == decisions(rows, backtest)
    assert {key for _, key in shared} == {"VWAP", "ORB", "momo", "swing"}
