"""Confidence calibration: per star level figures, and whether more stars did better."""

from __future__ import annotations

import pytest

from edgeledger.core.calibration import calibration
from tests.trade_builders import closed_trade, frame_of


def level_trades(stars: int, rs, start: int = 0) -> list[dict]:
    return [
        closed_trade(f"S{stars}-{i:03d}", r, hour=start + i, confidence=stars)
        for i, r in enumerate(rs)
    ]


def test_no_trades_say_there_is_not_enough_data():
    result = calibration(frame_of())
    assert result.rows == [] and result.n == 0
    assert result.spearman_rho is None and result.intervals_separate is None
    assert result.verdict.startswith("Not enough data to judge the stars")


def test_levels_present_are_listed_lowest_first_with_their_figures():
    frame = frame_of(*level_trades(5, [2, -1]), *level_trades(1, [-1], start=10))
    result = calibration(frame)
    assert [level.stars for level in result.rows] == [1, 5]
    five = result.rows[1]
    assert (five.n, five.wins, five.losses) == (2, 1, 1)
    assert five.win_rate == pytest.approx(0.5) and five.avg_r == pytest.approx(0.5)
    assert five.win_rate_ci is not None and not five.ranked


def test_higher_stars_that_did_no_better_are_called_out():
    frame = frame_of(
        *level_trades(5, [2, -1, -1] * 4),
        *level_trades(3, [2, 2, -1] * 4, start=100),
    )
    result = calibration(frame)
    assert result.verdict.startswith("5-star trades did no better than 3-star")


def test_higher_stars_that_clearly_did_better_are_said_to():
    frame = frame_of(
        *level_trades(5, [2.0] * 18 + [-1.0] * 2),
        *level_trades(1, [-1.0] * 18 + [2.0] * 2, start=100),
    )
    result = calibration(frame)
    assert result.spearman_rho > 0 and result.spearman_p < 0.05
    assert result.intervals_separate is True
    assert result.verdict.startswith("Higher stars did better")
    assert "do not overlap" in result.verdict


def test_a_slight_lead_is_not_yet_distinguishable_from_luck():
    frame = frame_of(
        *level_trades(4, [2, -1, -1] * 4 + [2]),
        *level_trades(2, [2, -1, -1] * 4 + [-1], start=100),
    )
    result = calibration(frame)
    assert result.intervals_separate is False
    assert "not yet distinguishable from luck" in result.verdict


def test_spearman_rank_correlation_of_stars_and_r():
    frame = frame_of(
        *level_trades(1, [-1.0]), *level_trades(2, [0.5], 1), *level_trades(3, [2.0], 2)
    )
    assert calibration(frame).spearman_rho == pytest.approx(1.0)


def test_one_star_level_has_no_correlation():
    result = calibration(frame_of(*level_trades(3, [2, -1] * 6)))
    assert result.spearman_rho is None and result.intervals_separate is None
