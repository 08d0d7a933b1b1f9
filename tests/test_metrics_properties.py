"""Properties: the vectorized groups agree with each group computed on its own, and no
figure depends on the order the rows came in."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeledger.core.breakdown import metrics_by
from edgeledger.core.metrics import Metrics, population_metrics
from edgeledger.core.rankings import rank_edges
from tests.trade_builders import closed_trade, frame_of, same_metrics

EDGES = ("A", "B", "C")

trades = st.lists(
    st.tuples(
        st.sampled_from([-1.0, -0.5, 0.0, 0.4, 1.0, 2.0, 3.5]),
        st.integers(min_value=0, max_value=6),  # close hour: ties happen
        st.lists(st.sampled_from(EDGES), max_size=3),
        st.one_of(st.none(), st.just(0.0), st.floats(min_value=0.01, max_value=5.0)),
    ),
    max_size=25,
)


def rows_of(drawn) -> list[dict]:
    return [
        closed_trade(f"T{i:02d}", r, hour=hour, edges=tuple(edges), mfe_r=mfe)
        for i, (r, hour, edges, mfe) in enumerate(drawn)
    ]


same = same_metrics


@settings(max_examples=60)
@given(trades)
def test_each_edge_group_equals_its_trades_measured_alone(drawn):
    rows = rows_of(drawn)
    table = metrics_by(frame_of(*rows), "edge")
    for _, row in table.iterrows():
        alone = population_metrics(frame_of(*(t for t in rows if row["group"] in t["edges"])))
        assert same(Metrics.from_row(row), alone)


@settings(max_examples=60)
@given(trades)
def test_row_order_changes_no_figure(drawn):
    rows = rows_of(drawn)
    assert same(population_metrics(frame_of(*rows)), population_metrics(frame_of(*rows[::-1])))


@settings(max_examples=60)
@given(trades)
def test_each_pair_group_equals_the_trades_carrying_both_measured_alone(drawn):
    rows = rows_of(drawn)
    table = metrics_by(frame_of(*rows), "edge_pair")
    for _, row in table.iterrows():
        a, b = row["group"].split(" + ")
        both = [t for t in rows if a in t["edges"] and b in t["edges"]]
        assert same(Metrics.from_row(row), population_metrics(frame_of(*both)))


@settings(max_examples=60)
@given(trades)
def test_lift_is_the_mean_with_minus_the_mean_without(drawn):
    rows = rows_of(drawn)
    for rank in rank_edges(frame_of(*rows), min_n=1):
        with_ = [t["r"] for t in rows if rank.edge in t["edges"]]
        without = [t["r"] for t in rows if rank.edge not in t["edges"]]
        if not without:
            assert rank.lift is None
        else:
            expected = sum(with_) / len(with_) - sum(without) / len(without)
            assert math.isclose(rank.lift, expected, abs_tol=1e-9)
