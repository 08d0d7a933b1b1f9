"""Edge rankings: n always shown, small samples shrunk and not ranked, and only findings
that survive Benjamini-Hochberg called better or worse."""

from __future__ import annotations

import numpy as np
import pytest

from edgeledger.core import stats
from edgeledger.core.rankings import LUCK, NOT_ENOUGH, rank_edges
from tests.trade_builders import closed_trade, frame_of


def trades_of(edge: str, rs, start: int = 0) -> list[dict]:
    return [
        closed_trade(f"{edge}{i:03d}", r, hour=start + i, edges=(edge,)) for i, r in enumerate(rs)
    ]


def by_name(ranks):
    return {rank.edge: rank for rank in ranks}


def test_no_trades_rank_nothing():
    assert rank_edges(frame_of()) == []


def test_an_edge_below_the_minimum_sample_is_listed_as_not_enough_data():
    frame = frame_of(*trades_of("A", [2, -1] * 6), *trades_of("B", [2] * 9, start=100))
    ranks = by_name(rank_edges(frame))
    assert ranks["B"].n == 9 and not ranks["B"].ranked
    assert ranks["B"].verdict == NOT_ENOUGH and ranks["B"].rank is None
    assert ranks["A"].ranked and ranks["A"].rank == 1


def test_lift_is_avg_r_with_the_edge_minus_without():
    frame = frame_of(*trades_of("A", [2, 2, -1, -1]), *trades_of("B", [-1, -1], start=10))
    ranks = by_name(rank_edges(frame, min_n=1))
    assert ranks["A"].lift == pytest.approx(0.5 - (-1.0))
    assert ranks["B"].lift == pytest.approx(-1.5)


def test_the_raw_figures_stay_beside_the_score():
    ranks = by_name(rank_edges(frame_of(*trades_of("A", [2, -1, -1, 2]))))
    a = ranks["A"]
    assert (a.n, a.wins, a.losses, a.total_r) == (4, 2, 2, pytest.approx(2.0))
    assert a.win_rate == pytest.approx(0.5) and a.avg_r == pytest.approx(0.5)
    assert a.win_rate_ci is not None and a.avg_r_ci is not None


def test_the_score_shrinks_a_small_sample_toward_the_overall_mean_more():
    rs = [2, -1, -1] * 20
    frame = frame_of(
        *trades_of("BIG", [2, 2, -1] * 10),
        *trades_of("SMALL", [2, 2, -1] * 4, start=100),
        *trades_of("REST", rs, start=200),
    )
    ranks = by_name(rank_edges(frame))
    overall = np.mean([2, 2, -1] * 14 + rs)
    big, small = ranks["BIG"], ranks["SMALL"]
    assert big.avg_r == pytest.approx(small.avg_r)
    assert overall < small.score < big.score <= big.avg_r


def test_ranks_follow_the_score_best_first():
    frame = frame_of(
        *trades_of("GOOD", [2, 2, -1] * 5),
        *trades_of("BAD", [-1, -1, 2] * 5, start=100),
        *trades_of("MID", [2, -1] * 6, start=200),
    )
    ranks = rank_edges(frame)
    assert [r.edge for r in ranks] == ["GOOD", "MID", "BAD"]
    assert [r.rank for r in ranks] == [1, 2, 3]


def test_ties_in_score_are_broken_by_n_then_name():
    frame = frame_of(
        *trades_of("B", [1.0] * 10),
        *trades_of("A", [1.0] * 10, start=100),
        *trades_of("C", [1.0] * 12, start=200),
    )
    ranks = rank_edges(frame)
    assert [r.edge for r in ranks] == ["C", "A", "B"]
    assert [r.rank for r in ranks] == [1, 2, 3]


def test_unranked_edges_come_after_the_ranked_ones():
    frame = frame_of(*trades_of("LOW", [-1] * 10), *trades_of("HOT", [3.0] * 3, start=100))
    assert [r.edge for r in rank_edges(frame)] == ["LOW", "HOT"]


def test_a_clear_difference_survives_and_is_called_better_or_worse():
    frame = frame_of(
        *trades_of("GOOD", [2.0, 2.0, 2.0, -1.0] * 10),
        *trades_of("BAD", [-1.0, -1.0, -1.0, 2.0] * 10, start=100),
    )
    ranks = by_name(rank_edges(frame))
    assert ranks["GOOD"].verdict == "better" and ranks["GOOD"].q_value <= 0.10
    assert ranks["BAD"].verdict == "worse"
    assert ranks["GOOD"].test == "welch"


def test_a_small_difference_is_not_yet_distinguishable_from_luck():
    frame = frame_of(
        *trades_of("A", [2.0, -1.0, -1.0] * 5),
        *trades_of("B", [2.0, -1.0, -1.0] * 4 + [2.0, -1.0, 2.0], start=100),
    )
    ranks = by_name(rank_edges(frame))
    assert ranks["A"].verdict == LUCK and ranks["B"].verdict == LUCK


def test_small_samples_are_tested_by_permutation_and_reproducibly():
    frame = frame_of(*trades_of("A", [2.0] * 10), *trades_of("B", [-1.0] * 40, start=100))
    first, second = by_name(rank_edges(frame)), by_name(rank_edges(frame))
    assert first["A"].test == "permutation" and first["B"].test == "permutation"
    assert first["A"].p_value == second["A"].p_value < 0.001


def test_an_edge_on_every_trade_has_nothing_to_be_compared_with():
    a = rank_edges(frame_of(*trades_of("A", [2.0, -1.0] * 6)))[0]
    assert a.lift is None and a.p_value is None and a.verdict == LUCK


def test_q_values_are_benjamini_hochberg_over_the_ranked_edges():
    assert stats.benjamini_hochberg(np.array([0.01, 0.04, 0.03, np.nan])) == pytest.approx(
        [0.03, 0.04, 0.04, np.nan], nan_ok=True
    )


def test_pairs_rank_edges_that_occur_together():
    rows = [
        closed_trade(f"T{i}", r, hour=i, edges=("A", "B", "C") if i < 12 else ("A",))
        for i, r in enumerate([2, -1] * 10)
    ]
    ranks = by_name(rank_edges(frame_of(*rows), pairs=True))
    assert set(ranks) == {"A + B", "A + C", "B + C"}
    assert ranks["A + B"].edges == ("A", "B") and ranks["A + B"].n == 12


def test_welch_p_matches_scipy():
    from scipy import stats as scipy_stats

    a, b = np.array([2.0, -1, -1, 2, 0.5]), np.array([-1.0, -1, 2, -1, -1, -0.5, 1])
    expected = scipy_stats.ttest_ind(a, b, equal_var=False).pvalue
    got = stats.welch_p(a.mean(), a.var(ddof=1), a.size, b.mean(), b.var(ddof=1), b.size)
    assert got == pytest.approx(expected)
