"""Confidence calibration: do more stars really mean better trades? (docs/metrics.md)

Per star level the same figures and comparison as an edge (n, win rate with interval, avg R
with interval, a test against the other levels that survives Benjamini-Hochberg), then
two questions over the levels together: does R rise with the stars (Spearman's rank
correlation, which asks only for order, not a straight line), and do the win-rate
intervals of the highest and lowest star levels that have the minimum sample separate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _scipy

from edgeledger.core.breakdown import memberships
from edgeledger.core.metrics import Interval, in_close_order
from edgeledger.core.rankings import FDR, MIN_N, compare_groups, group_figures
from edgeledger.core.trades import closed

SIGNIFICANCE = 0.05
"""The p-value below which the rank correlation counts as a real order, not luck."""


@dataclass(frozen=True)
class StarLevel:
    """One star level (0-5): its figures and its comparison with the other levels."""

    stars: int
    n: int
    wins: int
    losses: int
    win_rate: float | None
    win_rate_ci: Interval | None
    avg_r: float | None
    avg_r_ci: Interval | None
    total_r: float
    p_value: float | None
    q_value: float | None
    verdict: str
    ranked: bool


@dataclass(frozen=True)
class Calibration:
    """The star levels present (`rows`, lowest first) and what they say together. `spearman_rho`
    and `spearman_p`: rank correlation of stars and R over the closed trades (None below 3
    trades or when either does not vary); `intervals_separate`: whether the win-rate
    intervals of the highest and lowest ranked levels do not overlap (None with fewer than
    two ranked levels); `verdict`: the answer in plain words."""

    rows: list[StarLevel]
    n: int
    spearman_rho: float | None
    spearman_p: float | None
    intervals_separate: bool | None
    verdict: str


def calibration(trades: pd.DataFrame, *, min_n: int = MIN_N) -> Calibration:
    """The calibration of the stars over the closed trades of `trades`."""
    done = in_close_order(closed(trades))
    table = compare_groups(done, memberships(done, "confidence"), min_n=min_n, fdr=FDR)
    return calibration_of(
        table, done["confidence"].to_numpy(), done["r"].to_numpy(dtype=float), min_n=min_n
    )


def calibration_of(
    table: pd.DataFrame, stars: np.ndarray, r: np.ndarray, *, min_n: int = MIN_N
) -> Calibration:
    """The calibration from the star levels' comparison table (rankings.compare_groups, or
    compare_summaries over stored summaries) and the stars and R of every closed trade,
    which the rank correlation needs."""
    levels = sorted((_level(row) for row in table.itertuples(index=False)), key=_stars)
    rho, p = _spearman(np.asarray(stars, dtype=float), np.asarray(r, dtype=float))
    ranked = [level for level in levels if level.ranked]
    separate = _separate(ranked[-1], ranked[0]) if len(ranked) >= 2 else None
    return Calibration(
        rows=levels,
        n=len(r),
        spearman_rho=rho,
        spearman_p=p,
        intervals_separate=separate,
        verdict=_verdict(ranked, rho, p, separate, min_n),
    )


def _stars(level: StarLevel) -> int:
    return level.stars


def _level(row) -> StarLevel:
    return StarLevel(stars=int(row.group), **group_figures(row))


def _spearman(stars: np.ndarray, r: np.ndarray) -> tuple[float | None, float | None]:
    if stars.size < 3 or np.ptp(stars) == 0 or np.ptp(r) == 0:
        return None, None
    result = _scipy.spearmanr(stars, r)
    rho, p = float(result.statistic), float(result.pvalue)
    return (None, None) if math.isnan(rho) else (rho, p)


def _separate(high: StarLevel, low: StarLevel) -> bool | None:
    if high.win_rate_ci is None or low.win_rate_ci is None:
        return None
    return high.win_rate_ci[0] > low.win_rate_ci[1] or low.win_rate_ci[0] > high.win_rate_ci[1]


def _verdict(
    ranked: list[StarLevel],
    rho: float | None,
    p: float | None,
    separate: bool | None,
    min_n: int,
) -> str:
    """Words for people, saying no more than the numbers support."""
    if len(ranked) < 2:
        return (
            f"Not enough data to judge the stars: fewer than two star levels have "
            f"{min_n} closed trades."
        )
    high, lower = ranked[-1], ranked[:-1]
    best_lower = max(lower, key=lambda level: (level.avg_r, level.stars))
    if high.avg_r <= best_lower.avg_r:
        return (
            f"{high.stars}-star trades did no better than {best_lower.stars}-star "
            f"({high.avg_r:+.2f}R vs {best_lower.avg_r:+.2f}R average over "
            f"{high.n} and {best_lower.n} trades)."
        )
    low = ranked[0]
    figures = (
        f"{high.stars}-star {high.avg_r:+.2f}R over {high.n} trades, "
        f"{low.stars}-star {low.avg_r:+.2f}R over {low.n}"
    )
    if rho is not None and p is not None and rho > 0 and p < SIGNIFICANCE:
        intervals = (
            "; their win-rate intervals do not overlap"
            if separate
            else "; their win-rate intervals still overlap"
        )
        return f"Higher stars did better ({figures}; rank correlation {rho:.2f}){intervals}."
    correlation = "no rank correlation" if rho is None else f"rank correlation {rho:.2f}"
    if p is not None:
        correlation += f", p = {p:.2f}"
    return (
        f"Higher stars look better ({figures}), but not yet distinguishable from luck "
        f"({correlation})."
    )
