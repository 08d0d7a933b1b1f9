"""The statistics behind the figures: intervals, tests and the multiple-comparison
correction, vectorized over many groups at once so 30 edges cost what one does.

The distributions come from scipy: its t and normal quantiles are well kept and tested,
which beats any we would write. Everything here takes and returns numpy arrays (NaN where a
figure is undefined); the dataclasses of metrics.py turn NaN into None.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _scipy

Z95 = float(_scipy.norm.ppf(0.975))
"""The two-sided 95% normal quantile (1.95996...) of the Wilson interval."""

PERMUTATIONS = 9999
"""Random relabellings of a permutation test: p-values resolve to 1/10000."""

PERMUTATION_BELOW = 30
"""Below this many trades on either side, a permutation test replaces Welch's t-test,
whose normal approximation small samples of R (skewed: many -1R, a few +2R) break."""


def wilson(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95% score interval of a proportion: unlike p ± 1.96·se it stays inside
    [0, 1] and is honest at 0 or n successes and small n. NaN where trials == 0."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2 = Z95 * Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # at 0 or n successes the bound is exactly 0 or 1; rounding would leave 1e-17
    lo = np.where(n > 0, np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.nan)
    hi = np.where(n > 0, np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0)), np.nan)
    return lo, hi


def t_interval(mean: np.ndarray, std: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Student-t interval of a mean (sample std, ddof=1); NaN for n < 2, where a
    spread cannot be estimated."""
    n = np.asarray(n, dtype=float)
    df = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = _scipy.t.ppf(0.975, df) * np.asarray(std, dtype=float) / np.sqrt(n)
    return mean - half, mean + half


def welch_p(
    mean1: np.ndarray,
    var1: np.ndarray,
    n1: np.ndarray,
    mean2: np.ndarray,
    var2: np.ndarray,
    n2: np.ndarray,
) -> np.ndarray:
    """Two-sided p-values of Welch's t-test from group summaries (sample variances), so a
    test of every edge against the rest needs no second pass over the trades. NaN when a
    side has fewer than 2 trades; with no spread on either side, 0 when the means differ
    and 1 when they agree."""
    n1 = np.asarray(n1, dtype=float)
    n2 = np.asarray(n2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = var1 / n1
        b = var2 / n2
        se = np.sqrt(a + b)
        t = (mean1 - mean2) / se
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
        p = 2 * _scipy.t.sf(np.abs(t), df)
    flat = se == 0
    p = np.where(flat, np.where(mean1 == mean2, 1.0, 0.0), p)
    return np.where((n1 >= 2) & (n2 >= 2), p, np.nan)


PERMUTATION_SEED = 20261201
"""Fixed, so the same trades always give the same p-value, and two edges carried by the
same trades the same one."""


def permutation_p(values: np.ndarray, member: np.ndarray) -> float:
    """Two-sided permutation p-value of the difference in mean between the members and the
    rest: how often a random relabelling of the same trades differs at least as much.

    Only the smaller side is drawn (a mean difference is fixed by the sum of one side), by
    Floyd's algorithm vectorized over the relabellings: exact sampling without replacement
    in O(PERMUTATIONS · k²) for k small trades, whatever the population. Seeded by
    PERMUTATION_SEED.
    """
    values = np.asarray(values, dtype=float)
    member = np.asarray(member, dtype=bool)
    total_n = values.size
    n1 = int(member.sum())
    n2 = total_n - n1
    if n1 == 0 or n2 == 0:
        return float("nan")
    side = member if n1 <= n2 else ~member
    k = min(n1, n2)
    total = values.sum()

    def difference(side_sum: np.ndarray | float) -> np.ndarray | float:
        # mean of the drawn side minus mean of the rest
        return side_sum / k - (total - side_sum) / (total_n - k)

    observed = abs(difference(values[side].sum()))
    rng = np.random.default_rng(PERMUTATION_SEED)
    chosen = np.empty((PERMUTATIONS, k), dtype=np.int64)
    for step, j in enumerate(range(total_n - k, total_n)):
        draw = rng.integers(0, j + 1, size=PERMUTATIONS)
        taken = (chosen[:, :step] == draw[:, None]).any(axis=1)
        chosen[:, step] = np.where(taken, j, draw)
    sums = values[chosen].sum(axis=1)
    extreme = np.abs(difference(sums)) >= observed - 1e-12 * max(1.0, observed)
    return float((1 + extreme.sum()) / (PERMUTATIONS + 1))


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values): an edge whose q is at most the
    false discovery rate survives the comparison of all k edges at once. NaN p-values
    (nothing to test) are left out of k and stay NaN."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    k = tested.size
    if k == 0:
        return q
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = p[order] * k / np.arange(1, k + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    q[order] = np.minimum(adjusted, 1.0)
    return q


def shrink_toward(
    means: np.ndarray,
    n: np.ndarray,
    *,
    overall_mean: float,
    overall_var: float,
    estimate_from: np.ndarray | None = None,
) -> np.ndarray:
    """Empirical-Bayes (normal-normal) shrinkage of group means toward the overall mean.

    Each group mean m has sampling variance se² = σ²/n, with σ² the variance of R over all
    closed trades (pooled: a 3-trade group's own spread is too noisy to trust, and a
    zero-spread group must not escape shrinkage). The groups' true means are taken to
    spread around the overall mean μ with variance τ², estimated by the method of
    moments, τ² = max(0, mean((m − μ)² − se²)), over the groups `estimate_from` marks (the
    ranked ones: below the minimum sample the noise swamps τ²). The estimate is then
    μ + τ²/(τ² + se²) · (m − μ): a small group is pulled most of the way to μ, a large one
    keeps nearly its own mean. NaN for empty groups.
    """
    means = np.asarray(means, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se2 = overall_var / n
        usable = (n > 0) & ~np.isnan(means)
        basis = usable if estimate_from is None else usable & np.asarray(estimate_from)
        if basis.sum() < 2:
            basis = usable
        if basis.sum() >= 2 and overall_var > 0:
            tau2 = max(0.0, float(np.mean((means[basis] - overall_mean) ** 2 - se2[basis])))
        else:
            tau2 = 0.0
        # with no spread at all (every trade returned the same R) there is nothing to shrink
        weight = tau2 / (tau2 + se2) if overall_var > 0 else np.ones_like(means)
        return np.where(usable, overall_mean + weight * (means - overall_mean), np.nan)
