"""Metrics per group: a trade counts once in every group it belongs to."""

from __future__ import annotations

import pytest

from edgeledger.core.breakdown import GROUP_KEYS, metrics_by
from edgeledger.core.metrics import METRIC_COLUMNS
from tests.trade_builders import closed_trade, frame_of


def test_all_is_one_group_with_every_metric_column():
    table = metrics_by(frame_of(closed_trade("A", 2.0), closed_trade("B", -1.0, hour=1)), "all")
    assert list(table.columns) == ["group", *METRIC_COLUMNS]
    assert list(table["group"]) == ["all"]
    assert table.loc[0, "total_r"] == pytest.approx(1.0)


def test_a_trade_counts_for_every_edge_it_carries():
    table = metrics_by(
        frame_of(
            closed_trade("A", 2.0, edges=("VWAP", "RS")),
            closed_trade("B", -1.0, hour=1, edges=("VWAP",)),
        ),
        "edge",
    )
    assert list(table["group"]) == ["RS", "VWAP"]
    assert list(table["n"]) == [1, 2]
    assert list(table["total_r"]) == pytest.approx([2.0, 1.0])


def test_an_edge_named_twice_on_one_trade_counts_once():
    table = metrics_by(frame_of(closed_trade("A", 2.0, edges=("VWAP", "VWAP"))), "edge")
    assert list(table["n"]) == [1]


def test_pairs_are_every_unordered_pair_of_a_trades_edges():
    table = metrics_by(
        frame_of(
            closed_trade("A", 2.0, edges=("c", "a", "b")),
            closed_trade("B", -1.0, hour=1, edges=("b", "a")),
            closed_trade("C", -1.0, hour=2, edges=("a",)),
        ),
        "edge_pair",
    )
    assert list(table["group"]) == ["a + b", "a + c", "b + c"]
    assert list(table["n"]) == [2, 1, 1]


def test_no_trades_give_an_empty_table():
    for key in GROUP_KEYS:
        table = metrics_by(frame_of(), key)
        assert table.empty and list(table.columns) == ["group", *METRIC_COLUMNS]


def test_star_levels_and_columns_group_by_value():
    frame = frame_of(
        closed_trade("A", 2.0, confidence=5, trade_type="swing"),
        closed_trade("B", -1.0, hour=1, confidence=3),
        closed_trade("C", 1.0, hour=2, confidence=5),
    )
    stars = metrics_by(frame, "confidence")
    assert list(stars["group"]) == [3, 5] and list(stars["n"]) == [1, 2]
    assert list(metrics_by(frame, "trade_type")["group"]) == ["day", "swing"]


def test_trades_without_a_value_form_a_group_of_their_own_listed_last():
    frame = frame_of(
        closed_trade("A", 2.0, strategy=None), closed_trade("B", -1.0, hour=1, strategy="momo")
    )
    assert list(metrics_by(frame, "strategy")["group"]) == ["momo", None]


def test_streaks_within_a_group_follow_its_own_trades():
    frame = frame_of(
        closed_trade("A", -1.0, hour=0, edges=("X",)),
        closed_trade("B", 2.0, hour=1, edges=("Y",)),
        closed_trade("C", -1.0, hour=2, edges=("X",)),
    )
    table = metrics_by(frame, "edge").set_index("group")
    assert table.loc["X", "current_streak"] == -2
    assert table.loc["X", "max_drawdown_r"] == pytest.approx(2.0)
    assert table.loc["Y", "current_streak"] == 1


def test_an_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="unknown grouping 'colour'"):
        metrics_by(frame_of(), "colour")
