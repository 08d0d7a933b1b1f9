"""The metrics of docs/metrics.md over a population of closed trades, and the signal counts.

Every figure is computed by one vectorized engine, `grouped_metrics`, over any number of
groups at once (all trades, each edge, each star level ...): population_metrics is the
case of a single group, so a figure means the same thing in every table. Needs the
trades-frame columns in METRIC_INPUTS (plus the grouping column, e.g. edges).

Definitions where metrics.md leaves room (docs/metrics.md is the authority otherwise):
- timeouts: closed trades with status EXPIRED (filled, then the time ran out).
- payoff: mean R of the WIN trades / |mean R of the LOSS trades| (the same trades the win
  rate counts, so expectancy ≈ win rate · avg win − loss rate · avg loss); None unless
  both exist.
- profit factor: sum of positive R / |sum of negative R|; inf when no trade lost R but
  some gained (kept as float('inf') for people, PROFIT_FACTOR_CAP where a number must be
  stored); None with no trades, or when no trade gained or lost anything.
- SQN and the avg-R interval use the sample standard deviation (ddof=1); None for n < 2 or
  no spread.
- max drawdown: the equity curve starts at 0R, so a first trade of −1R is a 1R drawdown;
  reported as a positive number of R; ties in closed_at are ordered by trade_id.
- streaks: runs of consecutive WIN or LOSS statuses in closed_at order; a timeout ends
  either run. current_streak is +k after k wins, −k after k losses, 0 after a timeout.
- target capture: sum of R / sum of MFE over the trades whose MFE is above 0: of all the
  favourable movement the trades were offered, the share the exits kept (1 = every trade
  sold its best price; negative = more given back than kept). A ratio of sums, not the
  mean of per-trade R / MFE: a loss that went 0.01R in favour would weigh −100 there.
- MFE/MAE means: over trades with the excursion recorded; MAE is ≤ 0 (outcome-rules.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from edgeledger.core import stats
from edgeledger.core.trades import closed

PROFIT_FACTOR_CAP = 999.0
"""Where an infinite profit factor (no losing R) must be stored as a number (JSON, a
numeric column), it is stored as this cap; people are shown "∞"."""

Interval = tuple[float, float]

METRIC_INPUTS = (
    "trade_id", "status", "exit_reason", "fill_price", "r", "mfe_r", "mae_r", "ambiguous",
    "closed_at",
)  # fmt: skip
"""The trades-frame columns the metrics read: a loader may read only these (and the
grouping column: edges, confidence, strategy ...)."""


@dataclass(frozen=True)
class Metrics:
    """The figures of one population of closed trades (docs/metrics.md, module docstring
    for the definitions). None means "undefined here", never zero."""

    n: int
    wins: int
    losses: int
    timeouts: int
    win_rate: float | None
    win_rate_ci: Interval | None
    avg_r: float | None
    avg_r_ci: Interval | None
    total_r: float
    profit_factor: float | None
    payoff: float | None
    sqn: float | None
    max_drawdown_r: float
    longest_win_streak: int
    longest_loss_streak: int
    current_streak: int
    mfe_mean: float | None
    mae_mean: float | None
    target_capture: float | None
    ambiguous_share: float | None
    manual: int

    @classmethod
    def from_row(cls, row: pd.Series | dict[str, Any]) -> Metrics:
        """The Metrics of one row of a metrics frame (intervals as _lo/_hi columns)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name.endswith("_ci"):
                lo, hi = _number(row[f.name + "_lo"]), _number(row[f.name + "_hi"])
                values[f.name] = None if lo is None or hi is None else (lo, hi)
            elif f.name in INT_FIELDS:
                values[f.name] = int(row[f.name])
            else:
                values[f.name] = _number(row[f.name])
        return cls(**values)


INT_FIELDS = (
    "n", "wins", "losses", "timeouts", "longest_win_streak", "longest_loss_streak",
    "current_streak", "manual",
)  # fmt: skip

METRIC_COLUMNS: tuple[str, ...] = tuple(
    column
    for f in fields(Metrics)
    for column in ((f.name + "_lo", f.name + "_hi") if f.name.endswith("_ci") else (f.name,))
)
"""The columns of a metrics frame, in order: the Metrics fields, intervals flattened."""


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def capped_profit_factor(value: float | None) -> float | None:
    """The profit factor as a finite number for storage: inf becomes PROFIT_FACTOR_CAP."""
    return None if value is None else min(value, PROFIT_FACTOR_CAP)


def population_metrics(trades: pd.DataFrame) -> Metrics:
    """The metrics of the closed trades of `trades` (a frame already narrowed to what
    counts: `trades.counted`), as one population."""
    done = in_close_order(closed(trades))
    frame = grouped_metrics(done, np.zeros(len(done), dtype=np.int64), 1)
    return Metrics.from_row(frame.iloc[0])


def in_close_order(done: pd.DataFrame) -> pd.DataFrame:
    """Closed trades ordered by closed_at, ties by trade_id: the order of equity curves,
    drawdowns and streaks, whatever order the rows came in. Rows already in that order
    cost one check, not a string sort (~0.7 s for a million ids), so a caller computing
    several statistics over a big frame may order it once with this first."""
    times = done["closed_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.argsort(times, kind="stable")
    ids = done["trade_id"].to_numpy(dtype=object)[order]
    tied = times[order][1:] == times[order][:-1]
    if tied.any() and not (ids[1:][tied] >= ids[:-1][tied]).all():
        by_id = np.argsort(done["trade_id"].to_numpy(dtype=object), kind="stable")
        order = by_id[np.argsort(times[by_id], kind="stable")]
    return done.iloc[order]


def grouped_metrics(
    done: pd.DataFrame, codes: np.ndarray, groups: int, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The metrics of many groups of closed trades at once, one row per group code
    0..groups-1 (empty groups included), METRIC_COLUMNS as columns.

    `done` holds closed trades in close order (in_close_order); `codes[i]` is the group
    of row `rows[i]` of `done` (of row i when rows is None). A trade in several groups is
    repeated in `rows`, which must ascend so each group still sees its trades in close
    order.
    """
    return summary_metrics(summarize(done, codes, groups, rows))


SUMMARY_COLUMNS = (
    "n", "wins", "losses", "timeouts", "manual", "ambiguous", "sum_r", "m2_r", "gross_win",
    "gross_loss", "win_r", "loss_r", "mfe_sum", "mfe_count", "mae_sum", "mae_count",
    "capture_r", "capture_mfe", "peak", "trough", "drawdown", "first_outcome", "first_run",
    "last_outcome", "last_run", "longest_win", "longest_loss",
)  # fmt: skip
"""What a run of closed trades (in close order) is summed up by, so that the metrics of
consecutive runs can be had without their trades (core.summaries.combine): counts and sums;
m2_r, the sum of squared deviations of R from the run's mean; peak and trough, the highest
and lowest cumulative R of the run (from 0, so peak >= 0 >= trough) and its own max
drawdown; the outcome (+1 WIN, -1 LOSS, 0 other) and length of its first and last runs of
equal outcomes, and its longest win and loss runs. gross_loss is a positive number."""

NO_SPREAD = 1e-9
"""A standard deviation of R this small (relative to the mean, or 1R) is none at all."""

SEQUENCE_COLUMNS = (
    "peak", "trough", "drawdown", "first_outcome", "first_run", "last_outcome", "last_run",
    "longest_win", "longest_loss",
)  # fmt: skip
"""The summary columns that depend on the order of the trades; the others add up (m2_r by
the parallel-variance formula), so a database can total them over many days."""

SUMMARY_COUNTS = (
    "n", "wins", "losses", "timeouts", "manual", "ambiguous", "mfe_count", "mae_count",
    "first_outcome", "first_run", "last_outcome", "last_run", "longest_win", "longest_loss",
)  # fmt: skip
"""The integer columns of a summary; the others are floats."""


def summarize(
    done: pd.DataFrame, codes: np.ndarray, groups: int, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The summary (SUMMARY_COLUMNS) of each group of closed trades, one row per group code
    0..groups-1 (an empty group sums to zeros). Arguments as for grouped_metrics."""
    codes = np.asarray(codes, dtype=np.int64)
    # numpy's stable sort is a radix sort on 16-bit integers: 4x faster for the usual few groups
    narrow = codes.astype(np.int16) if groups < 2**15 else codes
    order = np.argsort(narrow, kind="stable")
    at = order if rows is None else np.asarray(rows)[order]
    g = codes[order]
    status = done["status"].to_numpy()
    win = (status == "WIN")[at]
    loss = (status == "LOSS")[at]
    r = done["r"].to_numpy(dtype=float)[at]
    mfe = done["mfe_r"].to_numpy(dtype=float)[at]
    mae = done["mae_r"].to_numpy(dtype=float)[at]

    def total(weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(g, weights=weights, minlength=groups)[:groups]

    def count(flags: np.ndarray) -> np.ndarray:
        return total(flags.astype(float)).astype(np.int64)

    n = total().astype(np.int64)
    sum_r = total(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, sum_r / np.maximum(n, 1), 0.0)
    has_mfe, has_mae = ~np.isnan(mfe), ~np.isnan(mae)
    captured = has_mfe & (mfe > 0)
    outcome = np.where(win, 1, np.where(loss, -1, 0))
    cumulative = pd.Series(r).groupby(g).cumsum().to_numpy() if g.size else r
    peak, trough = np.zeros(groups), np.zeros(groups)
    if g.size:
        np.maximum.at(peak, g, cumulative)
        np.minimum.at(trough, g, cumulative)
    runs = _runs(g, outcome, groups)
    columns = {
        "n": n,
        "wins": count(win),
        "losses": count(loss),
        "timeouts": count((status == "EXPIRED")[at]),
        "manual": count((done["exit_reason"].to_numpy() == "manual")[at]),
        "ambiguous": count(done["ambiguous"].to_numpy(dtype=bool)[at]),
        "sum_r": sum_r,
        "m2_r": total((r - mean[g]) ** 2),
        "gross_win": total(np.where(r > 0, r, 0.0)),
        "gross_loss": -total(np.where(r < 0, r, 0.0)),
        "win_r": total(np.where(win, r, 0.0)),
        "loss_r": total(np.where(loss, r, 0.0)),
        "mfe_sum": total(np.where(has_mfe, mfe, 0.0)),
        "mfe_count": count(has_mfe),
        "mae_sum": total(np.where(has_mae, mae, 0.0)),
        "mae_count": count(has_mae),
        "capture_r": total(np.where(captured, r, 0.0)),
        "capture_mfe": total(np.where(captured, mfe, 0.0)),
        "peak": peak,
        "trough": trough,
        "drawdown": _max_drawdown(g, cumulative, groups),
        **runs,
    }
    return pd.DataFrame({name: columns[name] for name in SUMMARY_COLUMNS})


def summary_metrics(summary: pd.DataFrame) -> pd.DataFrame:
    """The metrics (METRIC_COLUMNS) of each row of a summary frame (SUMMARY_COLUMNS). A
    summary of totals only (without SEQUENCE_COLUMNS) gives NaN for the drawdown and the
    streaks: they need the order of the trades."""
    ordered = all(name in summary for name in SEQUENCE_COLUMNS)
    s = {
        name: summary[name].to_numpy()
        if name in summary
        else np.full(len(summary), np.nan if name not in SUMMARY_COUNTS else 0)
        for name in SUMMARY_COLUMNS
    }
    n, wins, losses = s["n"], s["wins"], s["losses"]
    decided = wins + losses
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean = np.where(n > 0, s["sum_r"] / n, np.nan)
        std = np.sqrt(np.where(n >= 2, s["m2_r"] / (n - 1), np.nan))
        # R equal to the last bit (0.4 four times) may leave a rounding crumb of spread:
        # below NO_SPREAD of the mean's size there is none, however the sums were taken.
        std = np.where(std <= NO_SPREAD * np.maximum(1.0, np.abs(mean)), 0.0, std)
        spread = std > 0
        gross_win, gross_loss = s["gross_win"], s["gross_loss"]
        profit_factor = np.where(
            gross_loss > 0,
            gross_win / gross_loss,
            np.where(gross_win > 0, np.inf, np.nan),
        )
        avg_win = s["win_r"] / wins
        avg_loss = s["loss_r"] / losses
        payoff = np.where((wins > 0) & (losses > 0) & (avg_loss != 0), avg_win / -avg_loss, np.nan)
        sqn = np.where(spread, np.sqrt(np.minimum(n, 100)) * mean / std, np.nan)
        mfe_mean = s["mfe_sum"] / s["mfe_count"]
        mae_mean = s["mae_sum"] / s["mae_count"]
        capture = s["capture_r"] / s["capture_mfe"]
        ambiguous = s["ambiguous"] / n
        win_rate = np.where(decided > 0, wins / np.maximum(decided, 1), np.nan)
    win_lo, win_hi = stats.wilson(wins, decided)
    avg_lo, avg_hi = stats.t_interval(mean, std, n)
    avg_ok = (n >= 2) & ~np.isnan(std)
    columns = {
        "n": n.astype(np.int64),
        "wins": wins.astype(np.int64),
        "losses": losses.astype(np.int64),
        "timeouts": s["timeouts"].astype(np.int64),
        "win_rate": win_rate,
        "win_rate_ci_lo": win_lo,
        "win_rate_ci_hi": win_hi,
        "avg_r": mean,
        "avg_r_ci_lo": np.where(avg_ok, avg_lo, np.nan),
        "avg_r_ci_hi": np.where(avg_ok, avg_hi, np.nan),
        "total_r": s["sum_r"].astype(float),
        "profit_factor": profit_factor,
        "payoff": payoff,
        "sqn": sqn,
        "max_drawdown_r": s["drawdown"].astype(float),
        "longest_win_streak": _ordered(s["longest_win"], ordered),
        "longest_loss_streak": _ordered(s["longest_loss"], ordered),
        "current_streak": _ordered(s["last_outcome"] * s["last_run"], ordered),
        "mfe_mean": mfe_mean,
        "mae_mean": mae_mean,
        "target_capture": capture,
        "ambiguous_share": ambiguous,
        "manual": s["manual"].astype(np.int64),
    }
    return pd.DataFrame({name: columns[name] for name in METRIC_COLUMNS})


def _ordered(counts: np.ndarray, known: bool) -> np.ndarray:
    return counts.astype(np.int64) if known else np.full(len(counts), np.nan)


def max_drawdown(r: np.ndarray) -> float:
    """The max drawdown (docs/metrics.md) of R values already in close order."""
    if not r.size:
        return 0.0
    cumulative = np.cumsum(r)
    return float(_max_drawdown(np.zeros(r.size, dtype=np.int64), cumulative, 1)[0])


def _max_drawdown(g: np.ndarray, cumulative: np.ndarray, groups: int) -> np.ndarray:
    """Largest fall of cumulative R from its running peak (starting at 0), per group of
    contiguous rows."""
    result = np.zeros(groups)
    if g.size == 0:
        return result
    peak = np.maximum(pd.Series(cumulative).groupby(g).cummax().to_numpy(), 0.0)
    np.maximum.at(result, g, peak - cumulative)
    return result


def _runs(g: np.ndarray, outcome: np.ndarray, groups: int) -> dict[str, np.ndarray]:
    """Per group of contiguous rows, by run-length encoding (outcome: +1 win, -1 loss,
    0 other): the longest win and loss runs, and the outcome and length of the first and
    the last run."""
    found = {
        name: np.zeros(groups, dtype=np.int64)
        for name in (
            "first_outcome", "first_run", "last_outcome", "last_run", "longest_win",
            "longest_loss",
        )
    }  # fmt: skip
    if g.size == 0:
        return found
    starts = np.flatnonzero(
        np.concatenate(([True], (g[1:] != g[:-1]) | (outcome[1:] != outcome[:-1])))
    )
    lengths = np.diff(np.append(starts, g.size))
    run_group = g[starts]
    run_outcome = outcome[starts]
    wins, losses = run_outcome == 1, run_outcome == -1
    np.maximum.at(found["longest_win"], run_group[wins], lengths[wins])
    np.maximum.at(found["longest_loss"], run_group[losses], lengths[losses])
    first = np.flatnonzero(np.concatenate(([True], run_group[1:] != run_group[:-1])))
    last = np.flatnonzero(np.append(run_group[1:] != run_group[:-1], True))
    found["first_outcome"][run_group[first]] = run_outcome[first]
    found["first_run"][run_group[first]] = lengths[first]
    found["last_outcome"][run_group[last]] = run_outcome[last]
    found["last_run"][run_group[last]] = lengths[last]
    return found


# --- signal counts ---------------------------------------------------------------------------

STATUSES = ("PENDING", "OPEN", "WIN", "LOSS", "EXPIRED", "CANCELLED")


@dataclass(frozen=True)
class SignalCounts:
    """What was logged in a period and what became of it, before any outcome filter:
    the report's first line and its data-quality notes."""

    signals: int
    by_status: dict[str, int]
    triggered: int
    not_triggered: int
    trigger_rate: float | None
    no_data: int


COUNT_COLUMNS = ("status", "exit_reason", "filled", "n")
"""Signals counted by what signal_counts tells apart: status, exit reason (None for an open
signal) and whether it filled; n signals each. Counts of days add up."""


def count_rows(trades: pd.DataFrame, by: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The signals of `trades` as COUNT_COLUMNS rows, one per distinct combination; `by`
    adds keys of its own in front (name -> one value per signal, e.g. the day)."""
    extra = {name: np.asarray(values, dtype=object) for name, values in (by or {}).items()}
    keys = pd.DataFrame(
        {
            **extra,
            "status": trades["status"].to_numpy(dtype=object),
            "exit_reason": trades["exit_reason"].to_numpy(dtype=object),
            "filled": trades["fill_price"].notna().to_numpy(),
        }
    )
    names = [*extra, *COUNT_COLUMNS[:3]]
    counts = keys.groupby(names, dropna=False, sort=True).size()
    frame = counts.rename("n").reset_index()
    frame["exit_reason"] = (
        frame["exit_reason"].astype(object).where(frame["exit_reason"].notna(), None)
    )
    return frame[[*extra, *COUNT_COLUMNS]]


def signal_counts(trades: pd.DataFrame) -> SignalCounts:
    """Counts over every signal given (pass the live signals created in the period, not
    `counted`: no_data and CANCELLED are what the notes report). triggered = filled
    (a fill price; neither CANCELLED nor no_data), not_triggered = expired unfilled
    (exit_reason not_triggered); trigger rate = triggered / (triggered + not_triggered),
    None when neither happened."""
    return counts_of(count_rows(trades))


def counts_of(rows: pd.DataFrame) -> SignalCounts:
    """signal_counts from count rows (COUNT_COLUMNS), e.g. the stored counts of many days."""
    status = rows["status"].to_numpy(dtype=object)
    reason = rows["exit_reason"].to_numpy(dtype=object)
    n = rows["n"].to_numpy(dtype=np.int64)
    totals = pd.Series(n).groupby(status).sum() if len(rows) else pd.Series(dtype=np.int64)
    by_status = {name: int(totals.get(name, 0)) for name in STATUSES}
    by_status.update({str(k): int(v) for k, v in totals.items() if k not in by_status})
    no_data = reason == "no_data"
    filled = rows["filled"].to_numpy(dtype=bool)
    triggered = int(n[filled & (status != "CANCELLED") & ~no_data].sum())
    not_triggered = int(n[reason == "not_triggered"].sum())
    settled = triggered + not_triggered
    return SignalCounts(
        signals=int(n.sum()),
        by_status=by_status,
        triggered=triggered,
        not_triggered=not_triggered,
        trigger_rate=triggered / settled if settled else None,
        no_data=int(n[no_data].sum()),
    )
