"""Planning a resolve run: what to ask providers for, and which tickers to look at again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edgeledger.core.model import ExitReason, Outcome, Status
from edgeledger.core.resolution import (
    TickerBook,
    TickerResolution,
    ambiguous_bar_spans,
    bar_need,
    drill_requests,
    group_books,
    merge_spans,
    missing_spans,
    needs_evaluation,
    subtract_spans,
)


def t(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


AS_OF = t(20, 21)


def book(**changes) -> TickerBook:
    fields = {
        "ticker": "NVDA",
        "signals": 3,
        "first_created": t(18, 15),
        "last_expiry": t(25),
        "unevaluated": False,
        "next_expiry": t(22),
    }
    return TickerBook(**(fields | changes))


LAST = TickerResolution(bars_version=7, as_of=t(20, 20), interval="1h", market="XNYS")


def test_overlapping_and_touching_spans_merge():
    assert merge_spans([(t(3), t(5)), (t(1), t(2)), (t(2), t(3))]) == [(t(1), t(5))]


def test_spans_closer_than_the_gap_merge():
    assert merge_spans([(t(1), t(2)), (t(3), t(4))], gap=timedelta(days=1)) == [(t(1), t(4))]
    assert merge_spans([(t(1), t(2)), (t(4), t(5))], gap=timedelta(days=1)) == [
        (t(1), t(2)),
        (t(4), t(5)),
    ]


def test_what_is_covered_is_not_asked_for_again():
    assert subtract_spans((t(1), t(10)), [(t(2), t(4)), (t(6), t(7))]) == [
        (t(1), t(2)),
        (t(4), t(6)),
        (t(7), t(10)),
    ]
    assert subtract_spans((t(2), t(3)), [(t(1), t(5))]) == []


def test_a_missing_piece_after_covered_time_reaches_back_one_bar():
    # The bar that started in the last hour of the previous fetch was still forming then.
    assert missing_spans((t(18), t(20, 21)), [(t(18), t(20, 20))], "1h") == [(t(20, 19), t(20, 21))]


def test_a_missing_piece_before_covered_time_does_not_reach_back():
    assert missing_spans((t(10), t(20)), [(t(15), t(20))], "1h") == [(t(10), t(15))]


def test_bars_are_needed_from_before_the_first_signal_to_now():
    assert bar_need(book(), AS_OF, "1h") == (t(14, 15), AS_OF)  # four days for the prev close


def test_bars_are_not_needed_past_the_last_expiry():
    assert bar_need(book(last_expiry=t(19)), AS_OF, "1h") == (t(14, 15), t(19))


def test_a_ticker_with_nothing_new_is_left_alone():
    assert not needs_evaluation(book(), LAST, 7, as_of=AS_OF, interval="1h", market="XNYS")


def test_new_bars_mean_a_new_look():
    assert needs_evaluation(book(), LAST, 8, as_of=AS_OF, interval="1h", market="XNYS")


def test_a_never_evaluated_signal_means_a_new_look():
    assert needs_evaluation(
        book(unevaluated=True), LAST, 7, as_of=AS_OF, interval="1h", market="XNYS"
    )


def test_a_passed_expiry_means_a_new_look():
    assert needs_evaluation(
        book(next_expiry=t(20, 21)), LAST, 7, as_of=AS_OF, interval="1h", market="XNYS"
    )
    assert not needs_evaluation(
        book(next_expiry=t(20, 22)), LAST, 7, as_of=AS_OF, interval="1h", market="XNYS"
    )


def test_another_interval_or_an_earlier_moment_means_a_new_look():
    assert needs_evaluation(book(), LAST, 7, as_of=AS_OF, interval="30m", market="XNYS")
    assert needs_evaluation(book(), LAST, 7, as_of=t(20, 19), interval="1h", market="XNYS")
    assert needs_evaluation(book(), None, 7, as_of=AS_OF, interval="1h", market="XNYS")


def test_only_the_trigger_and_exit_bars_of_an_ambiguous_outcome_are_drilled():
    outcome = Outcome(
        status=Status.LOSS,
        triggered_at=t(20, 14, 30),
        closed_at=t(20, 16, 30),
        exit_reason=ExitReason.STOP,
        ambiguous=True,
    )
    assert ambiguous_bar_spans(outcome, "1h", "XNYS") == [
        (t(20, 14, 30), t(20, 15, 30)),
        (t(20, 16, 30), t(20, 17, 30)),
    ]
    assert ambiguous_bar_spans(Outcome(status=Status.PENDING), "1h", "XNYS") == []


def test_another_market_or_a_request_to_derive_again_means_a_new_look():
    assert needs_evaluation(book(), LAST, 7, as_of=AS_OF, interval="1h", market="XETR")
    assert needs_evaluation(book(rederive=True), LAST, 7, as_of=AS_OF, interval="1h", market="XNYS")


def test_prices_answered_for_a_no_data_signal_mean_a_new_look():
    waiting = book(waiting_for_prices=True)
    assert not needs_evaluation(waiting, LAST, 7, as_of=AS_OF, interval="1h", market="XNYS")
    assert needs_evaluation(
        waiting, LAST, 7, as_of=AS_OF, interval="1h", market="XNYS", answered_more=True
    )
    assert not needs_evaluation(
        book(), LAST, 7, as_of=AS_OF, interval="1h", market="XNYS", answered_more=True
    )


def test_an_ambiguous_daily_bar_is_drilled_over_its_session():
    outcome = Outcome(
        status=Status.LOSS,
        triggered_at=t(27, 14, 30),  # the session open of Friday 27 November (early close)
        closed_at=t(27, 14, 30),
        exit_reason=ExitReason.STOP,
        ambiguous=True,
    )
    assert ambiguous_bar_spans(outcome, "1d", "XNYS") == [(t(27, 14, 30), t(27, 18))]


def test_the_last_hourly_bar_of_a_session_is_drilled_to_the_close():
    outcome = Outcome(status=Status.OPEN, triggered_at=t(20, 20, 30), ambiguous=True)
    assert ambiguous_bar_spans(outcome, "1h", "XNYS") == [(t(20, 20, 30), t(20, 21))]


def test_nearby_ambiguous_bars_share_one_request():
    spans = [(t(2, 14), t(2, 15)), (t(2, 18), t(2, 19)), (t(9, 14), t(9, 15))]
    assert drill_requests(spans) == [(t(2, 14), t(2, 19)), (t(9, 14), t(9, 15))]


def test_tickers_are_grouped_up_to_a_number_of_tickers_or_signals():
    books = [book(ticker=name, signals=n) for name, n in [("A", 2), ("B", 2), ("C", 9), ("D", 1)]]
    groups = group_books(books, max_signals=10, max_tickers=3)
    assert [[b.ticker for b in g] for g in groups] == [["A", "B", "C"], ["D"]]
    groups = group_books(books, max_signals=4, max_tickers=50)
    assert [[b.ticker for b in g] for g in groups] == [["A", "B"], ["C"], ["D"]]


def test_a_ticker_with_more_signals_than_a_group_holds_is_a_group_of_its_own():
    books = [book(ticker="A", signals=1), book(ticker="B", signals=500), book(ticker="C")]
    groups = group_books(books, max_signals=100, max_tickers=50)
    assert [[b.ticker for b in g] for g in groups] == [["A", "B"], ["C"]]
