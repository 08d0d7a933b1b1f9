"""MFE/MAE and target2: what the price did while the trade was on, and after a WIN.

Long entry 100, stop 95, target 110, target2 120 (risk 5) unless stated, created 14:00,
expiring 22:00 on Monday 2026-03-02; 1h bars, rows (UTC "HH:MM", open, high, low, close).
MFE is the best excursion from the fill in R (>= 0), MAE the worst (<= 0), over the bars
from the trigger bar to the exit bar inclusive.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from edgeledger.core.model import Direction, Status
from edgeledger.core.outcome_rules import SignalTerms
from tests.outcome_builders import at, bars, resolve
from tests.outcome_builders import long as plain_long


def long(**changes: object) -> SignalTerms:
    """The long of the module docstring, with target2 120."""
    return plain_long(**({"target2": 120} | changes))


PREV_101 = ("13:00", 101, 102, 100.5, 101)
FILL_AT_14 = ("14:00", 101, 101.5, 99.8, 100.5)
WIN_AT_15 = ("15:00", 101, 111, 100.5, 110.5)  # target, not target2


# MFE and MAE --------------------------------------------------------------------------------


def test_excursions_span_the_trigger_bar_to_the_exit_bar_inclusive():
    series = bars(
        "1h",
        PREV_101,
        ("14:00", 101, 101, 99, 100),
        ("15:00", 100, 104, 97, 103),
        ("16:00", 103, 111, 103, 110),  # exit at target; its high counts
        ("17:00", 110, 130, 80, 90),  # after the exit: ignored
    )
    outcome = resolve(long(target2=None), series)
    assert (outcome.mfe_r, outcome.mae_r) == (Decimal("2.2000"), Decimal("-0.6000"))


def test_excursions_are_signed_mfe_never_negative_mae_never_positive():
    # Gap fill at 101, the bar's low: no adverse excursion at all.
    prev_98 = ("13:00", 98, 98.5, 97.5, 98)
    outcome = resolve(long(), bars("1h", prev_98, ("14:00", 101, 103, 101, 102)), as_of=at(15))
    assert (outcome.mfe_r, outcome.mae_r) == (Decimal("0.4000"), Decimal("0.0000"))


def test_short_excursions_are_measured_in_its_favour():
    terms = long(direction=Direction.SHORT, stop=105, target=90, target2=None)
    series = bars(
        "1h",
        ("13:00", 99, 99.5, 98.5, 99),
        ("14:00", 99, 100.2, 98.5, 99.5),
        ("15:00", 99.5, 103, 96, 97),
    )
    outcome = resolve(terms, series, as_of=at(16))
    assert (outcome.mfe_r, outcome.mae_r) == (Decimal("0.8000"), Decimal("-0.6000"))


def test_timed_out_trade_excursions_run_to_the_last_bar_in_the_window():
    series = bars("1h", PREV_101, FILL_AT_14, ("15:00", 100.5, 106, 98, 104))
    outcome = resolve(long(expires_at=at(16)), series)
    assert (outcome.status, outcome.mfe_r, outcome.mae_r) == (
        Status.EXPIRED,
        Decimal("1.2000"),
        Decimal("-0.4000"),
    )


def test_signal_that_never_filled_has_no_excursions():
    outcome = resolve(long(), bars("1h", PREV_101, ("14:00", 102, 103, 101, 102)))
    assert (outcome.mfe_r, outcome.mae_r) == (None, None)


# target2 after a WIN ----------------------------------------------------------------------


def test_target2_reached_by_a_later_bar_is_a_hit():
    series = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15, ("16:00", 110, 121, 108, 119))
    outcome = resolve(long(), series)
    assert (outcome.status, outcome.r_achieved, outcome.target2_hit) == (
        Status.WIN,
        Decimal("2.0000"),
        True,
    )


def test_target2_reached_in_the_bar_that_hit_target_is_a_hit():
    outcome = resolve(long(), bars("1h", PREV_101, FILL_AT_14, ("15:00", 101, 121, 100.5, 118)))
    assert (outcome.exit_price, outcome.target2_hit) == (Decimal("110"), True)


def test_gap_open_beyond_target2_wins_at_the_open_and_hits_target2():
    outcome = resolve(long(), bars("1h", PREV_101, FILL_AT_14, ("15:00", 122, 123, 115, 116)))
    assert (outcome.exit_price, outcome.r_achieved, outcome.target2_hit) == (
        Decimal("122"),
        Decimal("4.4000"),
        True,
    )


def test_stop_reached_after_the_win_first_means_target2_missed():
    series = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15, ("16:00", 110, 111, 94, 96))
    outcome = resolve(long(), series)
    assert (outcome.status, outcome.r_achieved, outcome.target2_hit) == (
        Status.WIN,
        Decimal("2.0000"),
        False,
    )


def test_stop_and_target2_in_one_bar_is_a_miss_without_marking_the_win_ambiguous():
    series = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15, ("16:00", 110, 121, 94, 100))
    outcome = resolve(long(), series)
    assert (outcome.target2_hit, outcome.ambiguous) == (False, False)


def test_finer_bars_order_stop_and_target2_in_one_bar():
    hourly = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15, ("16:00", 110, 121, 94, 100))
    five = bars("5m", ("16:00", 110, 121, 109, 118), ("16:05", 118, 118, 94, 100))
    assert resolve(long(), hourly, five).target2_hit is True


def test_target2_after_a_win_inside_drilled_bars_is_watched_in_those_bars():
    hourly = bars("1h", PREV_101, FILL_AT_14, ("15:00", 100, 121, 94, 100))
    five = bars(
        "5m",
        ("15:00", 100, 111, 99, 109),  # target
        ("15:05", 109, 121, 108, 119),  # target2
        ("15:10", 119, 119, 94, 96),
    )
    outcome = resolve(long(), hourly, five)
    assert (outcome.status, outcome.closed_at, outcome.target2_hit) == (
        Status.WIN,
        at("15:00"),
        True,
    )


def test_target2_undecided_before_expiry_is_unknown():
    series = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15, ("16:00", 110, 115, 105, 112))
    assert resolve(long(), series, as_of=at(17)).target2_hit is None


def test_target2_not_reached_by_expiry_is_a_miss():
    series = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15, ("16:00", 110, 115, 105, 112))
    assert resolve(long(), series).target2_hit is False


def test_target2_is_unknown_without_a_target2():
    series = bars("1h", PREV_101, FILL_AT_14, WIN_AT_15)
    assert resolve(long(target2=None), series).target2_hit is None


# target2 on the trigger bar -------------------------------------------------------------


def test_trigger_bar_touching_target2_gives_no_credit():
    # Filled by a touch, the bar's high of 121 cannot be ordered after the fill: no
    # target, no target2. The target is credited at 15:00; target2 never comes again.
    prev_99 = ("13:00", 99, 99.5, 98.5, 99)
    series = bars("1h", prev_99, ("14:00", 99, 121, 98.8, 108), ("15:00", 108, 111, 107, 109))
    outcome = resolve(long(), series)
    assert (outcome.status, outcome.closed_at) == (Status.WIN, at(15))
    assert outcome.target2_hit is False


def test_trigger_bar_gapping_beyond_target_watches_the_rest_of_the_bar_for_target2():
    # A WIN on the trigger bar is always a gap fill at the open, so the rest follows it.
    prev_98 = ("13:00", 98, 98.5, 97.5, 98)
    outcome = resolve(long(), bars("1h", prev_98, ("14:00", 111, 121, 110.5, 119)))
    assert (outcome.exit_price, outcome.target2_hit) == (Decimal("111"), True)


def test_trigger_bar_gapping_beyond_target_then_stop_misses_target2():
    prev_98 = ("13:00", 98, 98.5, 97.5, 98)
    outcome = resolve(long(), bars("1h", prev_98, ("14:00", 111, 115, 94, 96)))
    assert (outcome.status, outcome.target2_hit) == (Status.WIN, False)


# target2 for other outcomes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "status"),
    [
        ([FILL_AT_14, ("15:00", 100, 101, 94, 96)], Status.LOSS),
        ([FILL_AT_14, ("15:00", 100.5, 106, 98, 104)], Status.EXPIRED),
        ([("14:00", 102, 103, 101, 102)], Status.EXPIRED),
    ],
    ids=["loss", "timeout", "not_triggered"],
)
def test_target2_is_a_miss_for_losses_and_expiries(rows: list[tuple], status: Status):
    outcome = resolve(long(expires_at=at(16)), bars("1h", PREV_101, *rows))
    assert (outcome.status, outcome.target2_hit) == (status, False)


@pytest.mark.parametrize(
    "rows", [[FILL_AT_14], [("14:00", 102, 103, 101, 102)]], ids=["open", "pending"]
)
def test_target2_is_unknown_while_pending_or_open(rows: list[tuple]):
    assert resolve(long(), bars("1h", PREV_101, *rows), as_of=at(16)).target2_hit is None


def test_short_target2_mirrors_the_long():
    terms = long(direction=Direction.SHORT, stop=105, target=90, target2=80)
    series = bars(
        "1h",
        ("13:00", 99, 99.5, 98.5, 99),
        ("14:00", 99, 100.2, 98.5, 99.5),
        ("15:00", 99, 99.5, 89.5, 90),
        ("16:00", 90, 91, 79, 81),
    )
    outcome = resolve(terms, series)
    assert (outcome.status, outcome.exit_price, outcome.target2_hit) == (
        Status.WIN,
        Decimal("90"),
        True,
    )
