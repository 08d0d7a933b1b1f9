"""The weekly report's data from a known book, checked against figures worked by hand, and
drawn as HTML with those figures."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from edgeledger.core.periods import week_of
from edgeledger.core.trades import TRADE_COLUMNS, trades_frame
from edgeledger.core.weekly_report import build_weekly_report
from reports.html import render_html


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def trade(trade_id: str, *, created: int, closed: int | None = None, **fields) -> dict:
    row = dict.fromkeys(TRADE_COLUMNS)
    row.update(
        trade_id=trade_id, ticker="NVDA", trade_type="day", direction="long", confidence=3,
        edges=(), source="api", status="EXPIRED", exit_reason="not_triggered",
        entry=100, stop=95, target=110, ambiguous=False, created_at=at(created, 14),
        closed_at=None if closed is None else at(closed),
    )  # fmt: skip
    if fields.get("r") is not None:
        row["fill_price"] = 100.0
        row["triggered_at"] = at(created, 14)
    row.update(fields)
    return row


def win(r: float) -> dict:
    return {"status": "WIN", "exit_reason": "target", "r": r}


BOOK = trades_frame(
    [
        trade("A", created=23, closed=24, edges=("ORB",), confidence=4, **win(2.0)),
        trade("B", created=24, closed=25, edges=("ORB", "Gap"), trade_type="swing",
              direction="short", confidence=2, status="LOSS", exit_reason="stop", r=-1.0),
        trade("C", created=25, closed=26, edges=("Gap",), confidence=5, **win(1.5)),
        trade("D", created=25, closed=27, trade_type="swing", exit_reason="timeout", r=0.5),
        trade("E", created=26),  # expired without filling
        trade("F", created=26, exit_reason="no_data"),  # no prices: counts nowhere
        trade("G", created=24, closed=25, source="backtest", **win(3.0)),  # never live
        trade("H", created=17, closed=18, status="LOSS", exit_reason="stop", r=-1.0),
    ]
)  # fmt: skip
WEEK = week_of(datetime(2026, 11, 25).date())  # Monday 23 to Sunday 29 November
REPORT = build_weekly_report(
    BOOK, week=WEEK, generated_at=at(29, 23), rationales={"A": "<b>VWAP</b> reclaim"}
)


def test_the_weeks_totals_count_live_signals_and_closed_trades():
    week = REPORT.totals.this_week
    assert (week.signals, week.triggered, week.wins, week.losses) == (5, 4, 2, 1)
    assert (week.expired, week.n_closed) == (2, 4)
    assert week.win_rate == 2 / 3
    assert (week.avg_r, week.total_r) == (0.75, 3.0)


def test_the_previous_week_and_all_time_sit_beside_it():
    previous, ever = REPORT.totals.previous_week, REPORT.totals.all_time
    assert (previous.signals, previous.losses, previous.win_rate, previous.total_r) == (
        1, 1, 0.0, -1.0,
    )  # fmt: skip
    assert (ever.signals, ever.n_closed, ever.win_rate, ever.total_r) == (6, 5, 0.5, 2.0)


def test_edges_this_week_are_ordered_by_their_total_r():
    assert [(e.name, e.n, e.total_r) for e in REPORT.best_edges] == [
        ("ORB", 2, 1.0),
        ("Gap", 2, 0.5),
    ]
    assert REPORT.worst_edges == ()


def test_the_top_and_bottom_trades_of_the_week():
    assert [t.trade_id for t in REPORT.top_trades] == ["A", "C", "D"]
    assert [t.trade_id for t in REPORT.bottom_trades] == ["B", "D", "C"]
    assert REPORT.top_trades[0].rationale == "<b>VWAP</b> reclaim"


def test_the_equity_curve_runs_through_the_weeks_closes():
    assert [(p.at, p.r) for p in REPORT.equity_curve.week] == [
        (at(24), 2.0),
        (at(25), 1.0),
        (at(26), 2.5),
        (at(27), 3.0),
    ]


def test_data_quality_names_what_the_figures_leave_out():
    notes = "\n".join(REPORT.data_quality)
    assert "Not triggered: 1 of 5 signals (20.0%)." in notes
    assert "1 signal(s) expired without prices for their window (no_data)" in notes
    assert "1 backtest trade(s) are left out" in notes


def test_the_html_shows_the_figures_formatted_and_user_text_as_text():
    html = render_html(REPORT)
    for figure in ("66.7%", "+0.75R", "+3.00R", "-1.00R", "50.0%", "+2.00R"):
        assert figure in html
    assert "&lt;b&gt;VWAP&lt;/b&gt; reclaim" in html and "<b>VWAP</b>" not in html


def test_an_empty_week_says_so():
    quiet = build_weekly_report(
        BOOK, week=week_of(datetime(2026, 12, 9).date()), generated_at=at(29, 23)
    )
    assert quiet.empty and quiet.totals.this_week.signals == 0
    assert quiet.totals.all_time.total_r == 2.0


def test_a_long_history_keeps_its_peaks_and_troughs_in_a_small_curve():
    rows = [
        trade(f"T{i:05d}", created=1 + i // 2000, closed=2 + i // 2000,
              **(win(1.0) if i % 7 else {"status": "LOSS", "exit_reason": "stop", "r": -1.0}))
        for i in range(20_000)
    ]  # fmt: skip
    report = build_weekly_report(trades_frame(rows), week=WEEK, generated_at=at(29, 23))
    curve = [p.r for p in report.equity_curve.all_time]
    full = np.cumsum([1.0 if i % 7 else -1.0 for i in range(20_000)])
    assert len(curve) <= 501
    assert (max(curve), min(curve), curve[-1]) == (full.max(), full.min(), full[-1])


def test_the_worst_ranked_edges_are_shown_removed():
    report = build_weekly_report(BOOK, week=WEEK, generated_at=at(29, 23), min_n=1)
    by_edge = {w.edge: w for w in report.what_if}
    assert set(by_edge) <= {"ORB", "Gap"} and by_edge
    for w in by_edge.values():
        carried = {"ORB": ("A", "B"), "Gap": ("B", "C")}[w.edge]
        kept = {"A": 2.0, "B": -1.0, "C": 1.5, "D": 0.5, "H": -1.0}
        assert w.removed == 2
        assert w.total_r_all == 2.0
        assert w.total_r_without == sum(r for t, r in kept.items() if t not in carried)


def test_live_and_backtest_sit_side_by_side_per_edge_and_strategy():
    book = trades_frame(
        [
            trade("L1", created=23, closed=24, edges=("ORB",), strategy="momo", **win(2.0)),
            trade("L2", created=23, closed=24, edges=("ORB",), strategy="momo",
                  status="LOSS", exit_reason="stop", r=-1.0),
            trade("B1", created=2, closed=3, edges=("ORB",), strategy="momo",
                  source="backtest", **win(1.0)),
        ]
    )  # fmt: skip
    report = build_weekly_report(book, week=WEEK, generated_at=at(29, 23))
    rows = {(b.scope, b.key): b for b in report.live_vs_backtest}
    assert set(rows) == {("edge", "ORB"), ("strategy", "momo")}
    orb = rows[("edge", "ORB")]
    assert (orb.live_n, orb.live_win_rate, orb.live_avg_r) == (2, 0.5, 0.5)
    assert (orb.backtest_n, orb.backtest_win_rate, orb.backtest_avg_r) == (1, 1.0, 1.0)
    html = render_html(report)
    assert "Live vs backtest" in html and "What if" in html
