"""Edge rankings that do not fool the trader (docs/metrics.md, "Edges" and "Findings that
survive many comparisons").

With 30 edges one looks great by chance, so an edge is ordered by a score that shrinks
small samples toward the overall mean (stats.shrink_toward), listed as "not enough data"
below the minimum sample, and called "better" or "worse" only when its test against the
trades without it survives Benjamini-Hochberg over all ranked edges at once. The raw
figures stay beside the score. Edges overlap (a trade carries several), so the tests are
not independent; BH is known to hold its false discovery rate under the positive
dependence that shared trades give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from edgeledger.core import stats
from edgeledger.core.breakdown import PAIR_SEPARATOR, Membership, memberships
from edgeledger.core.metrics import Interval, in_close_order, summarize, summary_metrics
from edgeledger.core.trades import closed

MIN_N = 10
"""Closed trades below which a group is listed as "not enough data", never ranked."""

FDR = 0.10
"""False discovery rate of the Benjamini-Hochberg correction."""

BETTER, WORSE = "better", "worse"
LUCK = "not yet distinguishable from luck"
NOT_ENOUGH = "not enough data"


@dataclass(frozen=True)
class EdgeRank:
    """One edge (or pair, `edge` = "A + B", `edges` = ("A", "B")) in the ranking, the raw
    figures beside the score. lift = avg R with the edge − avg R of the trades without it
    (None when every trade carried it); score = avg R shrunk toward the overall mean in
    proportion to its standard error (stats.shrink_toward), what the table is ordered by;
    p_value from `test` ("welch", or "permutation" below 30 trades on a side; None when
    untested: not ranked, or nothing to compare with); q_value = Benjamini-Hochberg over
    the ranked edges; rank 1 = best score among the ranked, None for the others."""

    edge: str
    edges: tuple[str, ...]
    n: int
    wins: int
    losses: int
    win_rate: float | None
    win_rate_ci: Interval | None
    avg_r: float | None
    avg_r_ci: Interval | None
    total_r: float
    lift: float | None
    score: float | None
    p_value: float | None
    q_value: float | None
    test: str | None
    verdict: str
    ranked: bool
    rank: int | None


def rank_edges(
    trades: pd.DataFrame, *, min_n: int = MIN_N, fdr: float = FDR, pairs: bool = False
) -> list[EdgeRank]:
    """Every edge (or pair of edges that occur together) of the closed trades of `trades`,
    best first: ranked ones by score, then the rest; ties by n (larger first), then name."""
    done = in_close_order(closed(trades))
    member = memberships(done, "edge_pair" if pairs else "edge")
    return edge_ranks(compare_groups(done, member, min_n=min_n, fdr=fdr), pairs=pairs)


def rank_summaries(
    groups: pd.DataFrame,
    labels: Sequence[str],
    overall: pd.DataFrame,
    *,
    min_n: int = MIN_N,
    fdr: float = FDR,
    pairs: bool = False,
) -> list[EdgeRank] | None:
    """rank_edges from summaries (core.summaries): `groups` one summary row per label,
    `overall` the one-row summary of every closed trade. None when a ranked edge needs a
    permutation test (fewer than stats.PERMUTATION_BELOW trades on a side), which needs
    the trades themselves."""
    table = compare_summaries(groups, labels, overall, min_n=min_n, fdr=fdr, permutation=None)
    return None if table is None else edge_ranks(table, pairs=pairs)


def edge_ranks(table: pd.DataFrame, *, pairs: bool = False) -> list[EdgeRank]:
    """The rows of a comparison table (compare_groups) as EdgeRanks, in its order."""
    return [
        EdgeRank(
            edge=row.group,
            edges=tuple(row.group.split(PAIR_SEPARATOR)) if pairs else (row.group,),
            lift=figure(row.lift),
            score=figure(row.score),
            test=row.test if isinstance(row.test, str) else None,
            rank=None if pd.isna(row.rank) else int(row.rank),
            **group_figures(row),
        )
        for row in table.itertuples(index=False)
    ]


def group_figures(row) -> dict:
    """The figures every compared group carries (an edge, a pair, a star level), read from
    a row of a comparison table (compare_groups): counts, rates and R with their intervals,
    the test's p and q values, the verdict and whether it is ranked."""
    return {
        "n": int(row.n),
        "wins": int(row.wins),
        "losses": int(row.losses),
        "win_rate": figure(row.win_rate),
        "win_rate_ci": interval(row.win_rate_ci_lo, row.win_rate_ci_hi),
        "avg_r": figure(row.avg_r),
        "avg_r_ci": interval(row.avg_r_ci_lo, row.avg_r_ci_hi),
        "total_r": float(row.total_r),
        "p_value": figure(row.p_value),
        "q_value": figure(row.q_value),
        "verdict": row.verdict,
        "ranked": bool(row.ranked),
    }


def compare_groups(
    done: pd.DataFrame, member: Membership, *, min_n: int = MIN_N, fdr: float = FDR
) -> pd.DataFrame:
    """The metrics of each group of closed trades (in close order) and its comparison
    with the trades outside it: lift, score, p_value, q_value, test, verdict, ranked,
    rank; rows in ranking order. Shared by edge rankings and star levels."""
    groups = len(member.labels)
    summary = summarize(done, member.codes, groups, member.rows)
    overall = summarize(done, np.zeros(len(done), dtype=np.int64), 1)
    r = done["r"].to_numpy(dtype=float)

    def permutation(code: int) -> float:
        inside = np.zeros(r.size, dtype=bool)
        inside[member.rows[member.codes == code]] = True
        return stats.permutation_p(r, inside)

    table = compare_summaries(
        summary, member.labels, overall, min_n=min_n, fdr=fdr, permutation=permutation
    )
    assert table is not None  # a permutation test is always possible with the trades
    return table


def compare_summaries(
    summary: pd.DataFrame,
    labels: Sequence,
    overall: pd.DataFrame,
    *,
    min_n: int,
    fdr: float,
    permutation: Callable[[int], float] | None,
) -> pd.DataFrame | None:
    """compare_groups from the groups' summaries and the summary of all the trades;
    `permutation(code)` gives the permutation p-value of a group against the rest (None:
    cannot, and then neither can this when a ranked group needs one)."""
    table = summary_metrics(summary)
    table.insert(0, "group", pd.Series(list(labels), dtype="object"))
    n1 = summary["n"].to_numpy(dtype=float)
    sum1 = summary["sum_r"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sq1 = summary["m2_r"].to_numpy(dtype=float) + np.where(n1 > 0, sum1**2 / n1, 0.0)
    count = float(overall["n"].iloc[0]) if len(overall) else 0.0
    total = float(overall["sum_r"].iloc[0]) if len(overall) else 0.0
    m2 = float(overall["m2_r"].iloc[0]) if len(overall) else 0.0
    total_sq = m2 + (total**2 / count if count else 0.0)
    n2 = count - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        mean1, mean2 = sum1 / n1, (total - sum1) / n2
        var1 = np.maximum(sq1 - n1 * mean1**2, 0.0) / (n1 - 1)
        var2 = np.maximum((total_sq - sq1) - n2 * mean2**2, 0.0) / (n2 - 1)
    ranked = n1 >= min_n
    lift = np.where((n1 > 0) & (n2 > 0), mean1 - mean2, np.nan)
    p = np.where(ranked, stats.welch_p(mean1, var1, n1, mean2, var2, n2), np.nan)
    test = np.where(ranked & (n2 > 0), "welch", None).astype(object)
    small = np.flatnonzero(ranked & (n2 > 0) & (np.minimum(n1, n2) < stats.PERMUTATION_BELOW))
    if small.size and permutation is None:
        return None
    for code in small:
        assert permutation is not None
        p[code] = permutation(int(code))
        test[code] = "permutation"
    test[np.isnan(p)] = None
    overall_mean = total / count if count else math.nan
    overall_var = m2 / (count - 1) if count >= 2 else 0.0
    table["lift"] = lift
    table["score"] = stats.shrink_toward(
        table["avg_r"].to_numpy(dtype=float),
        n1,
        overall_mean=overall_mean,
        overall_var=overall_var,
        estimate_from=ranked,
    )
    table["p_value"] = p
    table["q_value"] = np.where(
        ranked, stats.benjamini_hochberg(np.where(ranked, p, np.nan)), np.nan
    )
    table["test"] = test
    table["ranked"] = ranked
    survives = ranked & (table["q_value"].to_numpy() <= fdr)
    table["verdict"] = np.where(
        ~ranked, NOT_ENOUGH, np.where(survives, np.where(lift > 0, BETTER, WORSE), LUCK)
    )
    table = table[table["n"] > 0]
    order = pd.DataFrame(
        {
            "unranked": ~table["ranked"].to_numpy(),
            "score": -table["score"].fillna(-np.inf).to_numpy(),
            "n": -table["n"].to_numpy(),
            "name": table["group"].astype(str).to_numpy(),
        }
    ).sort_values(["unranked", "score", "n", "name"], kind="stable")
    table = table.iloc[order.index.to_numpy()].reset_index(drop=True)
    ranks = np.cumsum(table["ranked"].to_numpy())
    table["rank"] = pd.array(np.where(table["ranked"], ranks, 0), dtype="Int64")
    table.loc[~table["ranked"], "rank"] = pd.NA
    return table


def figure(value) -> float | None:
    """A table cell as a figure: NaN (no figure) becomes None."""
    return None if value is None or pd.isna(value) else float(value)


def interval(lo, hi) -> Interval | None:
    """Two table cells as an interval, or None when either is missing."""
    lo, hi = figure(lo), figure(hi)
    return None if lo is None or hi is None else (lo, hi)
