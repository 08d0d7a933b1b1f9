"""Day summaries: the figures of consecutive days, combined, are the figures of their trades.

The all-time answers read one summary per day instead of every trade, so each property
here holds the combined summaries to the metrics measured on the trades themselves, with
runs, drawdowns and streaks that cross the days' borders."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeledger.core.breakdown import metrics_by
from edgeledger.core.metrics import (
    SUMMARY_COLUMNS,
    Metrics,
    counts_of,
    in_close_order,
    population_metrics,
    signal_counts,
    summarize,
    summary_metrics,
)
from edgeledger.core.summaries import combine, day_counts, day_summaries
from edgeledger.core.trades import closed, counted
from tests.trade_builders import closed_trade, frame_of, r_trades, same_metrics, trade

EDGES = ("A", "B", "C")
# 14:00 UTC on a Monday: 09:00 or 10:00 in New York, so 12-hour steps cross midnight there.
MONDAY = datetime(2026, 11, 2, 14, tzinfo=UTC)

trades = st.lists(
    st.tuples(
        st.sampled_from([-1.0, -0.5, 0.0, 0.4, 1.0, 2.0, 3.5]),
        st.integers(min_value=0, max_value=12),  # 12-hour steps: several days, ties too
        st.lists(st.sampled_from(EDGES), max_size=3),
        st.sampled_from([0, 3, 5]),
        st.sampled_from(["api", "backtest"]),
    ),
    max_size=30,
)


def rows_of(drawn) -> list[dict]:
    return [
        closed_trade(
            f"T{i:02d}",
            r,
            closed_at=MONDAY + timedelta(hours=12 * step),
            edges=tuple(edges),
            confidence=stars,
            source=source,
            mfe_r=abs(r) + 0.5,
            mae_r=-0.25,
        )
        for i, (r, step, edges, stars, source) in enumerate(drawn)
    ]


same = same_metrics


def metrics_of(summary: pd.DataFrame) -> Metrics:
    return Metrics.from_row(summary_metrics(summary).iloc[0])


@settings(max_examples=80)
@given(st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.4, 1.0, 2.0]), max_size=30), st.data())
def test_any_cut_into_consecutive_runs_combines_to_the_whole(rs, data):
    done = in_close_order(closed(frame_of(*r_trades(*rs))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rs)), max_size=6)))
    bounds = [0, *cuts, len(rs)]
    parts = [
        summarize(done.iloc[a:b], np.zeros(b - a, dtype=np.int64), 1)
        for a, b in itertools.pairwise(bounds)
    ]
    combined = combine(pd.concat(parts, ignore_index=True), np.zeros(len(parts), np.int64), 1)
    whole = summarize(done, np.zeros(len(done), dtype=np.int64), 1)
    assert same(metrics_of(combined), metrics_of(whole))
    for name in ("peak", "trough", "drawdown", "first_run", "last_run", "first_outcome"):
        assert math.isclose(combined[name][0], whole[name][0], abs_tol=1e-9), name


def test_a_losing_streak_across_three_days_is_one_streak():
    done = in_close_order(closed(frame_of(*r_trades(2.0, -1, -1, -1, -1, -1, 1.0))))
    days = [(0, 2), (2, 4), (4, 7)]  # W L | L L | L L W
    parts = [summarize(done.iloc[a:b], np.zeros(b - a, np.int64), 1) for a, b in days]
    combined = metrics_of(combine(pd.concat(parts, ignore_index=True), np.zeros(3, np.int64), 1))
    assert combined.longest_loss_streak == 5
    assert combined.current_streak == 1
    assert combined.max_drawdown_r == 5.0  # from +2R down to -3R


def test_a_fall_that_starts_on_one_day_and_ends_days_later_is_one_drawdown():
    done = in_close_order(closed(frame_of(*r_trades(3.0, -1, 0.4, -1, -1, 0.4, -2, 1.0))))
    days = [(0, 1), (1, 3), (3, 6), (6, 8)]
    parts = [summarize(done.iloc[a:b], np.zeros(b - a, np.int64), 1) for a, b in days]
    combined = metrics_of(combine(pd.concat(parts, ignore_index=True), np.zeros(4, np.int64), 1))
    assert math.isclose(combined.max_drawdown_r, 4.2)  # 3 -> 2 -> 2.4 -> 0.4 -> -1.2 ... -0.2


@settings(max_examples=60, deadline=None)
@given(trades)
def test_day_summaries_combined_equal_each_group_measured_on_its_trades(drawn):
    frame = frame_of(*rows_of(drawn))
    days = day_summaries(frame)
    for population, source in (("live", "api"), ("backtest", "backtest")):
        mine = frame[frame["source"] == source]
        for dimension in ("all", "edge", "edge_pair", "confidence"):
            rows = days[(days["population"] == population) & (days["dimension"] == dimension)]
            rows = rows.sort_values("day", kind="stable")
            keys = sorted(rows["key"].unique())
            codes = np.searchsorted(keys, rows["key"].to_numpy())
            combined = summary_metrics(combine(rows[list(SUMMARY_COLUMNS)], codes, len(keys)))
            expected = metrics_by(mine, dimension)
            assert sorted(map(str, expected["group"])) == keys
            for key, row in zip(keys, combined.itertuples(index=False), strict=True):
                truth = expected[expected["group"].map(str) == key].iloc[0]
                assert same(Metrics.from_row(row._asdict()), Metrics.from_row(truth))


def test_a_day_is_the_new_york_date_of_the_close():
    late = datetime(2026, 11, 3, 4, 30, tzinfo=UTC)  # 23:30 on Nov 2 in New York
    days = day_summaries(frame_of(closed_trade("T1", 1.0, closed_at=late)))
    assert set(days["day"].astype(str)) == {"2026-11-02"}


def test_no_closed_trade_gives_no_rows():
    assert day_summaries(frame_of()).empty


def test_population_metrics_is_the_summary_of_one_run():
    rows = r_trades(1.0, -1.0, 2.0, 0.0, -0.5)
    done = in_close_order(closed(frame_of(*rows)))
    assert same(population_metrics(frame_of(*rows)), metrics_of(summarize(done, np.zeros(5), 1)))


def test_day_counts_add_up_to_the_signal_counts_of_the_days():
    monday = datetime(2026, 11, 2, 15, tzinfo=UTC)
    rows = [
        trade("P1", created_at=monday),
        trade("N1", created_at=monday, status="EXPIRED", exit_reason="not_triggered"),
        trade("D1", created_at=monday, status="EXPIRED", exit_reason="no_data"),
        trade("C1", created_at=monday + timedelta(days=1), status="CANCELLED"),
        closed_trade("W1", 1.0, created_at=monday + timedelta(days=1)),
        closed_trade("B1", 1.0, created_at=monday + timedelta(days=1), source="backtest"),
        closed_trade("L1", -1.0, created_at=monday + timedelta(days=2)),
    ]
    frame = frame_of(*rows)
    counts = day_counts(frame)
    assert sorted(counts["population"].unique()) == ["backtest", "live", "not_counted"]
    assert counts.groupby("day")["n"].sum().tolist() == [3, 3, 1]
    live = counts[counts["population"] == "live"]
    assert counts_of(live) == signal_counts(counted(frame))
    assert counts_of(live).triggered == 2 and counts_of(live).not_triggered == 1


def test_equal_r_has_no_spread_however_the_runs_are_cut():
    done = in_close_order(closed(frame_of(*r_trades(0.4, 0.4, 0.4, 0.4))))
    parts = [summarize(done.iloc[a:b], np.zeros(b - a, np.int64), 1) for a, b in ((0, 1), (1, 4))]
    combined = metrics_of(combine(pd.concat(parts, ignore_index=True), np.zeros(2, np.int64), 1))
    whole = metrics_of(summarize(done, np.zeros(4, np.int64), 1))
    assert combined.sqn is None and whole.sqn is None  # no spread: no SQN, not 1e17
    assert combined.avg_r_ci == whole.avg_r_ci == (0.4, 0.4)
