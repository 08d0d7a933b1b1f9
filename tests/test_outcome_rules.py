"""The outcome rules, case by case: triggering, exits, the window, expiry, shorts, prices.

Every test uses a long with entry 100, stop 95, target 110 (risk 5) or the mirrored short
(entry 100, stop 105, target 90) unless it says otherwise. Bars are 1h bars on Monday
2026-03-02, written as (UTC hour or "HH:MM", open, high, low, close); the signal is
created at 14:00 and expires at 22:00, so the 13:00 bar only gives the previous close.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from edgeledger.core.model import ExitReason, Outcome, Status
from edgeledger.core.outcome_rules import BarSeries
from tests.outcome_builders import at, bars, long, resolve, short

FILL_AT_14 = (14, 101, 101.5, 99.8, 100.5)  # touches 100 and nothing else
PREV_101 = (13, 101, 102, 100.5, 101)  # before the signal: only its close counts


# Triggering ---------------------------------------------------------------------------


def test_touching_entry_fills_at_entry():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 101, 101.5, 99.5, 100.5)), as_of=at(15))
    assert outcome.status is Status.OPEN
    assert outcome.fill_price == Decimal("100")
    assert outcome.triggered_at == at(14)
    assert outcome.ambiguous is False


def test_gap_down_across_entry_fills_at_the_open():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 99, 99.8, 98, 99.5)), as_of=at(15))
    assert (outcome.status, outcome.fill_price) == (Status.OPEN, Decimal("99"))


def test_gap_up_across_entry_fills_at_the_open_even_if_the_bar_also_touches_entry():
    prev_98 = (13, 98, 98.5, 97.5, 98)
    outcome = resolve(long(), bars("1h", prev_98, (14, 101, 102, 99.5, 101.5)), as_of=at(15))
    assert outcome.fill_price == Decimal("101")


def test_gap_rule_needs_a_previous_close():
    outcome = resolve(long(), bars("1h", (14, 99, 99.8, 98, 99.5)), as_of=at(15))
    assert outcome == Outcome(status=Status.PENDING)


def test_bar_not_reaching_entry_stays_pending():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 101, 103, 100.5, 102)), as_of=at(15))
    assert outcome == Outcome(status=Status.PENDING)


def test_trigger_bar_opening_beyond_stop_is_a_loss_at_the_fill():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 94, 96, 93, 95.5)))
    assert outcome.status is Status.LOSS
    assert outcome.exit_reason is ExitReason.STOP
    assert (outcome.fill_price, outcome.exit_price) == (Decimal("94"), Decimal("94"))
    assert outcome.r_achieved == Decimal("0.0000")
    assert outcome.closed_at == at(14)
    assert outcome.ambiguous is False


def test_trigger_bar_opening_beyond_target_is_a_win_at_the_fill():
    prev_98 = (13, 98, 98.5, 97.5, 98)
    outcome = resolve(long(), bars("1h", prev_98, (14, 111, 113, 110.5, 112)))
    assert outcome.status is Status.WIN
    assert outcome.exit_reason is ExitReason.TARGET
    assert (outcome.fill_price, outcome.exit_price) == (Decimal("111"), Decimal("111"))
    assert outcome.r_achieved == Decimal("0.0000")
    assert outcome.ambiguous is False


def test_trigger_bar_reaching_stop_is_an_ambiguous_loss_at_stop():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 101, 101.5, 94.5, 96)))
    assert outcome.status is Status.LOSS
    assert (outcome.fill_price, outcome.exit_price) == (Decimal("100"), Decimal("95"))
    assert outcome.r_achieved == Decimal("-1.0000")
    assert outcome.closed_at == at(14)
    assert outcome.ambiguous is True


def test_trigger_bar_reaching_only_target_stays_open_and_ambiguous():
    prev_99 = (13, 99, 99.5, 98.5, 99)
    outcome = resolve(long(), bars("1h", prev_99, (14, 99, 111, 98.8, 108)), as_of=at(15))
    assert outcome.status is Status.OPEN
    assert outcome.exit_price is None
    assert outcome.ambiguous is True


def test_ambiguity_of_the_trigger_bar_stays_on_the_outcome():
    prev_99 = (13, 99, 99.5, 98.5, 99)
    outcome = resolve(
        long(expires_at=at(16)),
        bars("1h", prev_99, (14, 99, 111, 98.8, 108), (15, 108, 109, 107, 108.5)),
    )
    assert (outcome.status, outcome.exit_reason) == (Status.EXPIRED, ExitReason.TIMEOUT)
    assert outcome.ambiguous is True


def test_trigger_bar_reaching_stop_and_target_is_an_ambiguous_loss_at_stop():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 101, 111, 94, 100)))
    assert (outcome.status, outcome.exit_price, outcome.ambiguous) == (
        Status.LOSS,
        Decimal("95"),
        True,
    )


def test_gap_fill_then_stop_in_the_trigger_bar_is_still_marked_ambiguous():
    # The contract treats every trigger bar as unordered after the fill, gap fills too.
    outcome = resolve(long(), bars("1h", PREV_101, (14, 99, 99.5, 94, 95)))
    assert (outcome.fill_price, outcome.exit_price) == (Decimal("99"), Decimal("95"))
    assert outcome.r_achieved == Decimal("-0.8000")
    assert outcome.ambiguous is True


# Exits of an OPEN trade ----------------------------------------------------------------


def open_then(bar: tuple, **changes: object) -> Outcome:
    """Fill at 100 in the 14:00 bar, then walk `bar` at 15:00."""
    return resolve(long(**changes), bars("1h", PREV_101, FILL_AT_14, (15, *bar)))


def test_open_gapping_through_stop_is_a_loss_at_the_open():
    outcome = open_then((93, 96, 92, 95))
    assert (outcome.status, outcome.exit_price) == (Status.LOSS, Decimal("93"))
    assert outcome.r_achieved == Decimal("-1.4000")
    assert outcome.closed_at == at(15)
    assert outcome.ambiguous is False


def test_open_gapping_through_stop_wins_over_the_bar_later_reaching_target():
    outcome = open_then((94, 111, 93, 110))
    assert (outcome.status, outcome.exit_price, outcome.ambiguous) == (
        Status.LOSS,
        Decimal("94"),
        False,
    )


def test_open_gapping_through_target_is_a_win_at_the_open():
    outcome = open_then((112, 113, 111, 112.5))
    assert (outcome.status, outcome.exit_price) == (Status.WIN, Decimal("112"))
    assert outcome.r_achieved == Decimal("2.4000")


def test_bar_reaching_stop_and_target_is_an_ambiguous_loss_at_stop():
    outcome = open_then((100, 111, 94, 100))
    assert (outcome.status, outcome.exit_price) == (Status.LOSS, Decimal("95"))
    assert outcome.r_achieved == Decimal("-1.0000")
    assert outcome.ambiguous is True


def test_reaching_stop_is_a_loss_at_stop():
    outcome = open_then((100, 101, 94.5, 96))
    assert (outcome.status, outcome.exit_reason) == (Status.LOSS, ExitReason.STOP)
    assert (outcome.exit_price, outcome.r_achieved) == (Decimal("95"), Decimal("-1.0000"))
    assert outcome.closed_at == at(15)
    assert outcome.ambiguous is False


def test_reaching_target_is_a_win_at_target():
    outcome = open_then((101, 110.5, 100.5, 110))
    assert (outcome.status, outcome.exit_reason) == (Status.WIN, ExitReason.TARGET)
    assert (outcome.exit_price, outcome.r_achieved) == (Decimal("110"), Decimal("2.0000"))
    assert outcome.closed_at == at(15)
    assert outcome.ambiguous is False


def test_bars_after_the_exit_change_nothing():
    series = bars("1h", PREV_101, FILL_AT_14, (15, 101, 110.5, 100.5, 110))
    later = bars("1h", PREV_101, FILL_AT_14, (15, 101, 110.5, 100.5, 110), (16, 110, 111, 90, 91))
    assert resolve(long(), series) == resolve(long(), later)


# The window and expiry -------------------------------------------------------------------


def test_never_triggered_expires_not_triggered_without_fill_or_r():
    outcome = resolve(
        long(), bars("1h", PREV_101, *[(h, 102, 103, 101, 102) for h in range(14, 22)])
    )
    assert outcome == Outcome(status=Status.EXPIRED, exit_reason=ExitReason.NOT_TRIGGERED)


def test_open_at_expiry_times_out_at_the_close_of_the_last_bar_in_the_window():
    quiet = [(h, 101, 102, 99.5, 101.5) for h in range(15, 21)]
    last = (21, 101, 102, 100, 103)
    past_expiry = (22, 103, 111, 103, 110)  # ends at 23:00, after the 22:00 expiry
    outcome = resolve(long(), bars("1h", PREV_101, FILL_AT_14, *quiet, last, past_expiry))
    assert (outcome.status, outcome.exit_reason) == (Status.EXPIRED, ExitReason.TIMEOUT)
    assert outcome.exit_price == Decimal("103")
    assert outcome.closed_at == at(21)
    assert outcome.r_achieved == Decimal("0.6000")


def test_pending_before_expiry_stays_pending():
    outcome = resolve(long(), bars("1h", PREV_101, (14, 102, 103, 101, 102)), as_of=at(18))
    assert outcome == Outcome(status=Status.PENDING)


def test_open_before_expiry_stays_open_with_what_is_known():
    outcome = resolve(
        long(), bars("1h", PREV_101, FILL_AT_14, (15, 101, 104, 99, 103)), as_of=at(18)
    )
    assert outcome.status is Status.OPEN
    assert (outcome.fill_price, outcome.triggered_at) == (Decimal("100"), at(14))
    assert (outcome.exit_price, outcome.closed_at, outcome.r_achieved) == (None, None, None)
    assert (outcome.mfe_r, outcome.mae_r) == (Decimal("0.8000"), Decimal("-0.2000"))


def test_bar_that_began_before_created_at_is_ignored_but_gives_the_previous_close():
    # created 14:30: the 14:00 bar touches entry but began before the signal existed;
    # its close of 101 and the 15:00 open of 99 make a gap across entry.
    series = bars("1h", (14, 101, 101.5, 99, 101), (15, 99, 99.5, 98, 99))
    outcome = resolve(long(created_at=at("14:30")), series, as_of=at(16))
    assert (outcome.fill_price, outcome.triggered_at) == (Decimal("99"), at(15))


def test_bar_ending_after_expiry_is_ignored():
    series = bars("1h", PREV_101, FILL_AT_14, (15, 101, 102, 100, 101), (16, 101, 111, 100, 110))
    outcome = resolve(long(expires_at=at("16:30")), series)
    assert (outcome.status, outcome.closed_at) == (Status.EXPIRED, at(15))
    assert outcome.exit_price == Decimal("101")


def test_bar_ending_exactly_at_expiry_is_used():
    series = bars("1h", PREV_101, FILL_AT_14, (15, 101, 111, 100, 110))
    assert resolve(long(expires_at=at(16)), series).status is Status.WIN


def test_bar_ending_after_as_of_is_ignored():
    series = bars("1h", PREV_101, FILL_AT_14, (15, 101, 111, 100, 110))
    assert resolve(long(), series, as_of=at("15:59")).status is Status.OPEN


def test_as_of_before_created_at_is_pending():
    series = bars("1h", PREV_101, FILL_AT_14)
    assert resolve(long(), series, as_of=at(12)) == Outcome(status=Status.PENDING)


def test_as_of_after_expiry_gives_the_outcome_at_expiry():
    series = bars("1h", PREV_101, FILL_AT_14, *[(h, 101, 102, 99.5, 101) for h in range(15, 24)])
    assert resolve(long(), series, as_of=at(23)) == resolve(long(), series, as_of=at(22))


def test_the_last_hourly_bar_of_a_session_ends_at_the_close_and_counts_for_a_day_trade():
    # 2026-03-10, EDT: the session is 13:30-20:00 UTC. Yahoo's 1h bars start at :30; read
    # by its market the last one (19:30) ends at the 20:00 close, the day trade's expiry.
    def utc(hhmm: str) -> datetime:
        hour, minute = map(int, hhmm.split(":"))
        return datetime(2026, 3, 10, hour, minute, tzinfo=UTC)

    day_trade = long(created_at=utc("13:30"), expires_at=utc("20:00"))
    hourly = BarSeries.from_rows(
        "1h",
        [(utc(f"{h}:30"), 100.5, 101, 99.5, 100.5) for h in range(13, 19)]
        + [(utc("19:30"), 100.5, 111, 100, 110)],
    )
    half_hourly = BarSeries.from_rows(
        "30m",
        [(utc("13:30"), 100.5, 101, 99.5, 100.5), (utc("19:30"), 100.5, 111, 100, 110)],
    )
    by_hour = resolve(day_trade, hourly, market="XNYS")
    by_half_hour = resolve(day_trade, half_hourly, primary="30m", market="XNYS")
    assert (by_hour.status, by_hour.closed_at) == (Status.WIN, utc("19:30"))
    assert (by_half_hour.status, by_half_hour.closed_at) == (Status.WIN, utc("19:30"))
    # Without a market a bar lasts its interval: the 19:30 bar would end at 20:30.
    assert resolve(day_trade, hourly).status is Status.EXPIRED


# Shorts mirror longs ----------------------------------------------------------------------

PREV_99 = (13, 99, 99.5, 98.5, 99)
SHORT_FILL_AT_14 = (14, 99, 100.2, 98.5, 99.5)


def short_then(bar: tuple) -> Outcome:
    return resolve(short(), bars("1h", PREV_99, SHORT_FILL_AT_14, (15, *bar)))


def test_short_touching_entry_fills_at_entry():
    outcome = resolve(short(), bars("1h", PREV_99, SHORT_FILL_AT_14), as_of=at(15))
    assert (outcome.status, outcome.fill_price) == (Status.OPEN, Decimal("100"))


def test_short_gap_up_across_entry_fills_at_the_open():
    outcome = resolve(short(), bars("1h", PREV_99, (14, 101, 101.5, 100.5, 101)), as_of=at(15))
    assert outcome.fill_price == Decimal("101")


def test_short_opening_beyond_stop_is_a_loss_at_the_fill():
    outcome = resolve(short(), bars("1h", PREV_99, (14, 106, 107, 105.5, 106)))
    assert (outcome.status, outcome.exit_price, outcome.r_achieved) == (
        Status.LOSS,
        Decimal("106"),
        Decimal("0.0000"),
    )


def test_short_reaching_stop_is_a_loss_at_stop():
    outcome = short_then((101, 105.5, 100.5, 104))
    assert (outcome.status, outcome.exit_price, outcome.r_achieved) == (
        Status.LOSS,
        Decimal("105"),
        Decimal("-1.0000"),
    )


def test_short_reaching_target_is_a_win_at_target():
    outcome = short_then((99, 99.5, 89.5, 90))
    assert (outcome.status, outcome.exit_price, outcome.r_achieved) == (
        Status.WIN,
        Decimal("90"),
        Decimal("2.0000"),
    )


def test_short_gapping_through_stop_is_a_loss_at_the_open():
    outcome = short_then((107, 108, 104, 106))
    assert (outcome.exit_price, outcome.r_achieved) == (Decimal("107"), Decimal("-1.4000"))


def test_short_gapping_through_target_is_a_win_at_the_open():
    outcome = short_then((88, 89, 87, 88))
    assert (outcome.status, outcome.r_achieved) == (Status.WIN, Decimal("2.4000"))


def test_short_reaching_stop_and_target_is_an_ambiguous_loss_at_stop():
    outcome = short_then((100, 106, 89, 100))
    assert (outcome.status, outcome.exit_price, outcome.ambiguous) == (
        Status.LOSS,
        Decimal("105"),
        True,
    )


def test_short_trigger_bar_reaching_only_target_stays_open_and_ambiguous():
    outcome = resolve(short(), bars("1h", PREV_99, (14, 99, 100.5, 89, 92)), as_of=at(15))
    assert (outcome.status, outcome.ambiguous) == (Status.OPEN, True)


# Prices and R ------------------------------------------------------------------------------


def test_prices_keep_the_decimal_they_were_written_with():
    terms = long(entry=181.2, stop=180.1, target=183.5)
    series = bars(
        "1h",
        (13, 182, 182.5, 181.5, 182),
        (14, 182, 182.1, 181.1, 181.7),
        (15, 181.7, 183.6, 181.6, 183.4),
    )
    outcome = resolve(terms, series)
    assert (outcome.fill_price, outcome.exit_price) == (Decimal("181.2"), Decimal("183.5"))
    assert outcome.r_achieved == Decimal("2.0909")


def test_r_is_rounded_to_four_places_half_to_even():
    def timeout_r(close: float) -> Decimal | None:
        terms = long(stop=84, target=200, expires_at=at(16))
        series = bars("1h", PREV_101, FILL_AT_14, (15, 100.5, 101, 100, close))
        return resolve(terms, series).r_achieved

    assert timeout_r(100.0024) == Decimal("0.0002")  # 0.00015
    assert timeout_r(100.0008) == Decimal("0.0000")  # 0.00005


def test_decimal_terms_are_accepted():
    terms = long(entry=Decimal("100"), stop=Decimal("95"), target=Decimal("110"))
    assert terms.entry == 100.0
