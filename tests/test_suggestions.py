"""Suggested adjustments from excursions: the numbers behind each, and silence when there
are too few trades."""

from __future__ import annotations

import pytest

from edgeledger.core.suggestions import SUGGESTION_MIN_N, excursion_suggestions
from tests.trade_builders import closed_trade, frame_of


def kinds(rows) -> dict:
    return {s.kind: s for s in excursion_suggestions(frame_of(*rows))}


def losses(mfes, start: int = 0) -> list[dict]:
    return [
        closed_trade(f"L{i:03d}", -1.0, hour=start + i, mfe_r=m, mae_r=-1.0)
        for i, m in enumerate(mfes)
    ]


def winners(mfes, maes, start: int = 100) -> list[dict]:
    return [
        closed_trade(f"W{i:03d}", 2.0, hour=start + i, mfe_r=f, mae_r=a)
        for i, (f, a) in enumerate(zip(mfes, maes, strict=True))
    ]


def test_nothing_is_said_without_trades():
    assert excursion_suggestions(frame_of()) == []


def test_nothing_is_said_below_the_minimum_sample():
    assert kinds(losses([1.5] * (SUGGESTION_MIN_N - 1))) == {}


def test_losses_that_first_reached_1r_are_counted():
    found = kinds(losses([1.2, 1.0, 0.3] + [0.1] * 7))["losses_reached_1r"]
    assert found.figures == {"losses": 10, "reached_1r": 2, "share": pytest.approx(0.2)}
    assert found.text.startswith("2 of 10 losses (20.0%) were up 1R or more")
    assert "break-even" not in found.text


def test_many_losses_up_1r_suggest_testing_a_break_even_stop():
    found = kinds(losses([1.5] * 4 + [0.1] * 6))["losses_reached_1r"]
    assert "break-even after +1R is worth testing" in found.text


def test_losses_that_never_went_in_favour_are_counted():
    found = kinds(losses([0.0, 0.1, 0.24, 0.3] + [1.2] * 6))["losses_never_in_favour"]
    assert found.figures["never_in_favour"] == 3 and found.figures["losses"] == 10
    assert found.text == "3 of 10 losses (30.0%) never went 0.25R in favour before the stop."


def test_target2_reach_among_trades_that_set_one():
    rows = [
        closed_trade(f"T{i}", 2.0, hour=i, target2=120, target2_hit=i < 1) for i in range(10)
    ] + [closed_trade("NO-T2", 2.0, hour=50)]
    found = kinds(rows)["target2_reach"]
    assert found.figures == {"trades": 10, "target2_hit": 1, "share": pytest.approx(0.1)}
    assert "rarely reached" in found.text


def test_how_far_winners_ran_past_their_exit():
    found = kinds(winners([2.0] * 4 + [3.0] * 6, [-0.2] * 10))["winners_ran_past"]
    assert found.figures["median_r"] == pytest.approx(1.0)
    assert found.figures["mean_r"] == pytest.approx(0.6)
    assert found.figures["ran_1r_more"] == 6
    assert "trailing stop" in found.text


def test_winners_that_barely_went_against_the_entry_suggest_a_tighter_stop():
    found = kinds(winners([2.0] * 10, [-0.1] * 9 + [-0.95]))["winners_heat"]
    assert found.figures["within_0_1r_of_stop"] == 1
    assert found.figures["p90_heat_r"] == pytest.approx(0.185)
    assert "tighter one is worth testing" in found.text


def test_winners_that_often_went_deep_suggest_nothing_about_the_stop():
    found = kinds(winners([2.0] * 10, [-0.8] * 10))["winners_heat"]
    assert "tighter" not in found.text
