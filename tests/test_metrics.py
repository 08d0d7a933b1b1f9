"""The metrics of docs/metrics.md over literal trades, and their edge cases."""

from __future__ import annotations

import math

import pytest

from edgeledger.core.metrics import (
    METRIC_COLUMNS,
    PROFIT_FACTOR_CAP,
    capped_profit_factor,
    population_metrics,
    signal_counts,
)
from tests.trade_builders import closed_trade, frame_of, r_trades, trade


def metrics_of(*rs: float, **changes):
    return population_metrics(frame_of(*r_trades(*rs, **changes)))


def test_no_trades_leave_every_figure_undefined_or_zero():
    m = population_metrics(frame_of())
    assert (m.n, m.wins, m.losses, m.timeouts, m.manual) == (0, 0, 0, 0, 0)
    assert m.win_rate is m.win_rate_ci is m.avg_r is m.avg_r_ci is None
    assert m.profit_factor is m.payoff is m.sqn is m.ambiguous_share is None
    assert (m.total_r, m.max_drawdown_r, m.current_streak) == (0.0, 0.0, 0)


def test_only_closed_trades_count():
    frame = frame_of(
        closed_trade("WIN", 2.0),
        trade("PENDING"),
        trade("UNFILLED", status="EXPIRED", exit_reason="not_triggered"),
        trade("OPEN", status="OPEN", fill_price=100),
    )
    assert population_metrics(frame).n == 1


def test_win_rate_counts_wins_over_wins_and_losses_not_timeouts():
    m = metrics_of(2.0, -1.0, -1.0)
    assert m.win_rate == pytest.approx(1 / 3)
    timeouts = population_metrics(
        frame_of(closed_trade("W", 2.0), closed_trade("T", 0.3, status="EXPIRED", hour=1))
    )
    assert (timeouts.wins, timeouts.timeouts, timeouts.win_rate) == (1, 1, 1.0)


def test_win_rate_interval_is_wilson_95():
    m = metrics_of(*([2.0] * 8 + [-1.0] * 2))
    # Wilson score interval for 8/10 at z = 1.959964
    assert m.win_rate_ci == pytest.approx((0.4901624, 0.9433178), abs=1e-6)


def test_win_rate_interval_reaches_the_bounds_exactly_at_all_wins_or_losses():
    assert metrics_of(2.0, 2.0).win_rate_ci[1] == 1.0
    assert metrics_of(-1.0, -1.0).win_rate_ci[0] == 0.0


def test_all_expired_trades_have_no_win_rate_but_an_average():
    m = population_metrics(frame_of(*r_trades(0.5, -0.25, status="EXPIRED", exit_reason="timeout")))
    assert (m.n, m.timeouts, m.win_rate, m.win_rate_ci) == (2, 2, None, None)
    assert m.avg_r == pytest.approx(0.125)
    assert m.current_streak == 0
    assert (m.longest_win_streak, m.longest_loss_streak) == (0, 0)


def test_avg_r_and_its_t_interval():
    m = metrics_of(2.0, -1.0, -1.0, 2.0)
    assert m.avg_r == pytest.approx(0.5)
    assert m.total_r == pytest.approx(2.0)
    # mean 0.5, sample sd sqrt(3), t(0.975, 3) = 3.182446
    half = 3.182446 * math.sqrt(3) / 2
    assert m.avg_r_ci == pytest.approx((0.5 - half, 0.5 + half), abs=1e-5)


def test_one_trade_has_an_average_but_no_interval_or_sqn():
    m = metrics_of(2.0)
    assert (m.n, m.avg_r, m.total_r) == (1, 2.0, 2.0)
    assert m.avg_r_ci is None and m.sqn is None
    assert m.win_rate_ci == pytest.approx((0.2065493, 1.0), abs=1e-6)
    assert m.profit_factor == math.inf
    assert m.current_streak == 1


def test_profit_factor_is_positive_over_negative_r():
    assert metrics_of(2.0, -1.0, -1.0, 0.5).profit_factor == pytest.approx(1.25)


def test_profit_factor_is_infinite_without_losses_and_stored_as_the_cap():
    m = metrics_of(2.0, 1.0)
    assert m.profit_factor == math.inf
    assert capped_profit_factor(m.profit_factor) == PROFIT_FACTOR_CAP
    assert capped_profit_factor(1.5) == 1.5 and capped_profit_factor(None) is None


def test_profit_factor_is_undefined_when_nothing_was_won_or_lost():
    m = population_metrics(frame_of(closed_trade("T", 0.0, status="EXPIRED")))
    assert m.profit_factor is None


def test_payoff_is_mean_win_over_mean_loss():
    assert metrics_of(2.0, 3.0, -1.0, -0.5).payoff == pytest.approx(2.5 / 0.75)
    assert metrics_of(2.0, 3.0).payoff is None


def test_sqn_caps_n_at_100():
    m = metrics_of(2.0, -1.0, -1.0, 2.0)
    assert m.sqn == pytest.approx(math.sqrt(4) * 0.5 / math.sqrt(3))
    big = metrics_of(*([2.0, -1.0] * 200))
    mean, sd = 0.5, math.sqrt(sum((x - 0.5) ** 2 for x in [2.0, -1.0] * 200) / 399)
    assert big.sqn == pytest.approx(10 * mean / sd)


def test_sqn_is_undefined_without_spread():
    assert metrics_of(1.0, 1.0).sqn is None


def test_max_drawdown_is_the_largest_fall_from_a_running_peak():
    # cumulative: 2, 1, 0, 2, 1, 4, 1 -> deepest fall 4 -> 1 = 3
    assert metrics_of(2, -1, -1, 2, -1, 3, -3).max_drawdown_r == pytest.approx(3.0)


def test_max_drawdown_counts_from_zero_before_the_first_trade():
    assert metrics_of(-1.0, 2.0).max_drawdown_r == pytest.approx(1.0)


def test_drawdown_and_streaks_follow_closed_at_not_row_order():
    rows = [closed_trade("LATE", -1.0, hour=5), closed_trade("EARLY", 2.0, hour=1)]
    m = population_metrics(frame_of(*rows))
    assert m.max_drawdown_r == pytest.approx(1.0)
    assert m.current_streak == -1


def test_trades_closed_at_the_same_time_are_ordered_by_trade_id():
    rows = [closed_trade("B", 2.0, hour=1), closed_trade("A", -1.0, hour=1)]
    assert population_metrics(frame_of(*rows)).current_streak == 1
    assert population_metrics(frame_of(*reversed(rows))).current_streak == 1


def test_streaks_are_the_longest_runs_and_the_current_run_signed():
    m = metrics_of(2, 2, 2, -1, 2, -1, -1, -1, -1, -1)
    assert (m.longest_win_streak, m.longest_loss_streak) == (3, 5)
    assert m.current_streak == -5
    assert metrics_of(-1, 2, 2, 2).current_streak == 3


def test_a_timeout_ends_a_streak():
    m = population_metrics(
        frame_of(
            closed_trade("A", -1.0, hour=0),
            closed_trade("B", 0.2, hour=1, status="EXPIRED"),
            closed_trade("C", -1.0, hour=2),
        )
    )
    assert m.longest_loss_streak == 1 and m.current_streak == -1


def test_excursion_means_and_target_capture():
    frame = frame_of(
        closed_trade("A", 2.0, hour=0, mfe_r=4.0, mae_r=-0.5),
        closed_trade("B", -1.0, hour=1, mfe_r=1.0, mae_r=-1.0),
        closed_trade("C", -1.0, hour=2, mfe_r=0.0, mae_r=-1.5),
    )
    m = population_metrics(frame)
    assert m.mfe_mean == pytest.approx(5 / 3)
    assert m.mae_mean == pytest.approx(-1.0)
    # over the trades that went in favour at all: (2 - 1) / (4 + 1)
    assert m.target_capture == pytest.approx(0.2)


def test_target_capture_is_not_swamped_by_a_trade_that_barely_went_in_favour():
    frame = frame_of(
        closed_trade("A", 2.0, hour=0, mfe_r=2.5), closed_trade("B", -1.0, hour=1, mfe_r=0.01)
    )
    assert population_metrics(frame).target_capture == pytest.approx(1.0 / 2.51)


def test_missing_excursions_are_left_out_of_their_means():
    m = population_metrics(frame_of(closed_trade("A", 2.0, mfe_r=3.0), closed_trade("B", -1.0)))
    assert m.mfe_mean == pytest.approx(3.0) and m.mae_mean is None


def test_ambiguous_share_and_manual_exits_are_counted():
    frame = frame_of(
        closed_trade("A", 2.0, hour=0, ambiguous=True),
        closed_trade("B", -1.0, hour=1),
        closed_trade("C", 0.4, hour=2, status="EXPIRED", exit_reason="manual"),
        closed_trade("D", -1.0, hour=3),
    )
    m = population_metrics(frame)
    assert m.ambiguous_share == pytest.approx(0.25)
    assert m.manual == 1 and m.timeouts == 1


def test_metric_columns_flatten_the_intervals():
    assert "win_rate_ci_lo" in METRIC_COLUMNS and "avg_r_ci_hi" in METRIC_COLUMNS
    assert "win_rate_ci" not in METRIC_COLUMNS


# --- signal counts ---------------------------------------------------------------------------


def test_signal_counts_per_status_and_trigger_rate():
    frame = frame_of(
        closed_trade("W", 2.0),
        closed_trade("L", -1.0),
        trade("U1", status="EXPIRED", exit_reason="not_triggered"),
        trade("P", status="PENDING"),
        trade("C", status="CANCELLED"),
        trade("N", status="EXPIRED", exit_reason="no_data", fill_price=100),
        trade("O", status="OPEN", fill_price=100),
    )
    counts = signal_counts(frame)
    assert counts.signals == 7
    assert counts.by_status == {
        "PENDING": 1, "OPEN": 1, "WIN": 1, "LOSS": 1, "EXPIRED": 2, "CANCELLED": 1,
    }  # fmt: skip
    assert (counts.triggered, counts.not_triggered, counts.no_data) == (3, 1, 1)
    assert counts.trigger_rate == pytest.approx(3 / 4)


def test_signal_counts_of_nothing_have_no_trigger_rate():
    counts = signal_counts(frame_of())
    assert counts.signals == 0 and counts.trigger_rate is None
