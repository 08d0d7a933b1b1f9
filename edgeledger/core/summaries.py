"""Summaries of runs of closed trades, and how consecutive runs combine.

The all-time figures of a large ledger cannot be recomputed from every trade each time a
trader asks (a million trades take seconds to read and group), so they are kept as one
summary per New York day of closing, per population (live, backtest), per dimension
(all trades, each edge, each pair, each star level ...) and key. A summary
(metrics.SUMMARY_COLUMNS) holds what the metrics of docs/metrics.md need, drawdown and
streaks included, and summaries of consecutive days combine exactly (`combine`): the
figures of any run of whole days are those of its trades, without reading them. The
property tests hold combine(summaries of the parts) to summarize(the whole).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from edgeledger.core.breakdown import memberships
from edgeledger.core.dashboard_data import R_BIN, bin_counts
from edgeledger.core.metrics import (
    COUNT_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_COUNTS,
    count_rows,
    in_close_order,
    summarize,
)
from edgeledger.core.periods import NEW_YORK
from edgeledger.core.trades import closed, counted

DIMENSIONS = ("all", "edge", "edge_pair", "confidence", "trade_type", "direction", "strategy")
"""The groupings kept per day: those the all-time answers (stats, edges, the weekly
report) read. Tickers and markets are read from the trades themselves when asked for."""

POPULATIONS = ("live", "backtest")

DAY_COLUMNS = ("day", "population", "dimension", "key", "last_closed_at", *SUMMARY_COLUMNS)
"""The rows of `day_summaries`: key is the group's label as text (stars as digits; None
for trades without a value, e.g. no strategy); last_closed_at the latest close of the day
in that group, which says whether a day is whole before a period's end."""


def close_day(times: pd.Series) -> pd.Series:
    """The New York date of each time: the day a close (or a logging) is summed up under."""
    return times.dt.tz_convert(NEW_YORK).dt.date


def day_summaries(trades: pd.DataFrame, days: set[date] | None = None) -> pd.DataFrame:
    """The summaries (DAY_COLUMNS) of the closed trades of `trades` (a trades frame with
    every signal of those days: the populations are chosen here), per close day, population,
    dimension and key; only `days` when given. Groups without trades have no row."""
    frames = []
    for population in POPULATIONS:
        done = closed(counted(trades, backtest=population == "backtest"))
        if done.empty:
            continue
        day = close_day(done["closed_at"])
        if days is not None:
            done = done[day.isin(days)]
            day = day[day.isin(days)]
        if done.empty:
            continue
        day_codes, day_labels = pd.factorize(day, sort=True)
        done = in_close_order(done.assign(_day=day_codes))
        day_codes = done["_day"].to_numpy()
        for dimension in DIMENSIONS:
            member = memberships(done, dimension)
            if not len(member.labels):
                continue
            width = len(member.labels)
            codes = day_codes[member.rows] * width + member.codes
            order = np.argsort(codes, kind="stable")
            present = np.unique(codes)
            dense = np.searchsorted(present, codes)
            summary = summarize(done, dense[order], len(present), member.rows[order])
            last = np.full(len(present), np.iinfo(np.int64).min)
            times = done["closed_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)
            np.maximum.at(last, dense, times[member.rows])
            summary.insert(0, "last_closed_at", pd.to_datetime(last, utc=True))
            summary.insert(0, "key", [_key(member.labels[c % width]) for c in present])
            summary.insert(0, "dimension", dimension)
            summary.insert(0, "population", population)
            summary.insert(0, "day", [day_labels[c // width] for c in present])
            frames.append(summary)
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in DAY_COLUMNS})
    return pd.concat(frames, ignore_index=True)[list(DAY_COLUMNS)]


R_BIN_DAY_COLUMNS = ("day", "population", "bin", "n")
"""The rows of `day_r_bins`: closed trades per close day, population and R bin."""


def day_r_bins(trades: pd.DataFrame, days: set[date] | None = None) -> pd.DataFrame:
    """The closed trades of `trades` counted per New York day of closing, population and R
    bin (dashboard_data.bin_counts: the overview's R distribution is the sum over days)."""
    rows = []
    for population in POPULATIONS:
        done = closed(counted(trades, backtest=population == "backtest"))
        day = close_day(done["closed_at"])
        if days is not None:
            done, day = done[day.isin(days)], day[day.isin(days)]
        for when, group in done["r"].groupby(day, sort=True):
            for k, n in bin_counts(group.to_numpy(dtype=float), R_BIN).items():
                rows.append((when, population, k, n))
    return pd.DataFrame(rows, columns=list(R_BIN_DAY_COLUMNS))


COUNT_DAY_COLUMNS = ("day", "population", "last_created_at", *COUNT_COLUMNS)
"""The rows of `day_counts`: population live or backtest (as trades.counted chooses), or
not_counted (CANCELLED and no_data signals, which only the data-quality notes count)."""


def day_counts(trades: pd.DataFrame, days: set[date] | None = None) -> pd.DataFrame:
    """The signals of `trades` counted (metrics.count_rows) per New York day of logging and
    population; only `days` when given."""
    population = pd.Series("not_counted", index=trades.index, dtype=object)
    population[counted(trades).index] = "live"
    population[counted(trades, backtest=True).index] = "backtest"
    day = close_day(trades["created_at"])
    keep = (day.isin(days) if days is not None else pd.Series(True, index=trades.index)).to_numpy()
    if not keep.any():
        return pd.DataFrame({name: pd.Series(dtype=object) for name in COUNT_DAY_COLUMNS})
    chosen = trades[keep]
    keys = {"day": day.to_numpy()[keep], "population": population.to_numpy()[keep]}
    rows = count_rows(chosen, by=keys)
    latest = chosen["created_at"].groupby([keys["day"], keys["population"]]).max()
    latest.index.names = ["day", "population"]
    rows = rows.join(latest.rename("last_created_at"), on=["day", "population"])
    return rows[list(COUNT_DAY_COLUMNS)].reset_index(drop=True)


def _key(label) -> str | None:
    return None if label is None else str(label)


def combine(segments: pd.DataFrame, codes: np.ndarray, groups: int) -> pd.DataFrame:
    """The summary of each group of consecutive segments: `segments` holds summaries
    (SUMMARY_COLUMNS) in the order their trades closed within each group, `codes[i]` the
    group of row i. One row per group code 0..groups-1, as metrics.summarize gives for the
    trades themselves."""
    codes = np.asarray(codes, dtype=np.int64)
    keep = segments["n"].to_numpy() > 0
    order = np.argsort(codes[keep], kind="stable")
    seg = {name: segments[name].to_numpy()[keep][order] for name in SUMMARY_COLUMNS}
    g = codes[keep][order]

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=values, minlength=groups)[:groups]

    result = {
        name: total(seg[name].astype(float)) for name in SUMMARY_COLUMNS if name not in _NOT_ADDED
    }
    n = result["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, result["sum_r"] / np.maximum(n, 1), 0.0)
        seg_mean = seg["sum_r"] / seg["n"]
    result["m2_r"] = total(seg["m2_r"] + seg["n"] * (seg_mean - mean[g]) ** 2)
    result.update(_equity(g, seg, groups))
    result.update(_joined_runs(g, seg, groups))
    frame = pd.DataFrame({name: result[name] for name in SUMMARY_COLUMNS})
    for name in SUMMARY_COUNTS:
        frame[name] = np.rint(frame[name].to_numpy(dtype=float)).astype(np.int64)
    return frame


def _equity(g: np.ndarray, seg: dict[str, np.ndarray], groups: int) -> dict[str, np.ndarray]:
    """Peak, trough and max drawdown of consecutive segments: each segment's curve starts
    where the ones before it ended (`before`), and its fall from the highest point reached
    before it is that peak minus its own lowest point."""
    peak, trough, drawdown = np.zeros(groups), np.zeros(groups), np.zeros(groups)
    if g.size == 0:
        return {"peak": peak, "trough": trough, "drawdown": drawdown}
    by_group = pd.Series(seg["sum_r"]).groupby(g)
    before = by_group.cumsum().to_numpy() - seg["sum_r"]
    reached = before + seg["peak"]
    highest = pd.Series(reached).groupby(g).cummax().to_numpy()
    first = np.concatenate(([True], g[1:] != g[:-1]))
    highest_before = np.where(first, 0.0, np.maximum(np.roll(highest, 1), 0.0))
    np.maximum.at(peak, g, reached)
    np.minimum.at(trough, g, before + seg["trough"])
    falls = np.maximum(seg["drawdown"], highest_before - (before + seg["trough"]))
    np.maximum.at(drawdown, g, falls)
    return {"peak": peak, "trough": trough, "drawdown": drawdown}


_RUNS = ("first_outcome", "first_run", "last_outcome", "last_run", "longest_win", "longest_loss")
_NOT_ADDED = ("m2_r", "peak", "trough", "drawdown", *_RUNS)

_SEPARATOR = 2  # an outcome no trade has: keeps a segment's first and last runs apart


def _joined_runs(g: np.ndarray, seg: dict[str, np.ndarray], groups: int) -> dict[str, np.ndarray]:
    """Runs of equal outcomes across consecutive segments: a segment's last run joins the
    next one's first run when their outcomes match (and runs through a segment that is one
    run end to end)."""
    found = {name: np.zeros(groups, dtype=np.int64) for name in _RUNS}
    if g.size == 0:
        return found
    np.maximum.at(found["longest_win"], g, seg["longest_win"])
    np.maximum.at(found["longest_loss"], g, seg["longest_loss"])
    whole = seg["first_run"] == seg["n"]
    # Each segment as up to three runs: its first, a separator, its last (or one, if whole).
    run_group = np.repeat(g, 3)
    run_outcome = np.stack(
        [seg["first_outcome"], np.full(g.size, _SEPARATOR), seg["last_outcome"]], axis=1
    ).ravel()
    run_length = np.stack(
        [seg["first_run"], np.zeros(g.size, dtype=np.int64), seg["last_run"]], axis=1
    ).ravel()
    keep = np.stack([np.ones(g.size, dtype=bool), ~whole, ~whole], axis=1).ravel()
    run_group, run_outcome, run_length = run_group[keep], run_outcome[keep], run_length[keep]
    starts = np.flatnonzero(
        np.concatenate(
            ([True], (run_group[1:] != run_group[:-1]) | (run_outcome[1:] != run_outcome[:-1]))
        )
    )
    lengths = np.add.reduceat(run_length, starts)
    joined_group, joined_outcome = run_group[starts], run_outcome[starts]
    wins, losses = joined_outcome == 1, joined_outcome == -1
    np.maximum.at(found["longest_win"], joined_group[wins], lengths[wins])
    np.maximum.at(found["longest_loss"], joined_group[losses], lengths[losses])
    first = np.flatnonzero(np.concatenate(([True], joined_group[1:] != joined_group[:-1])))
    last = np.flatnonzero(np.append(joined_group[1:] != joined_group[:-1], True))
    found["first_outcome"][joined_group[first]] = joined_outcome[first]
    found["first_run"][joined_group[first]] = lengths[first]
    found["last_outcome"][joined_group[last]] = joined_outcome[last]
    found["last_run"][joined_group[last]] = lengths[last]
    return found


def combine_by_key(rows: pd.DataFrame) -> tuple[list[str | None], pd.DataFrame]:
    """The day summaries of one population and dimension (columns key, day and
    SUMMARY_COLUMNS, any order) combined per key: the keys (sorted, a missing key last)
    and one summary row per key, in that order."""
    keys = rows["key"].to_numpy(dtype=object)
    labels: list[str | None] = sorted({k for k in keys if k is not None})
    if any(k is None for k in keys):
        labels.append(None)
    index = {label: i for i, label in enumerate(labels)}
    codes = np.array([index[k] for k in keys], dtype=np.int64)
    days = rows["day"].to_numpy()
    order = np.lexsort((days, codes)) if len(rows) else np.arange(0)
    segments = rows.iloc[order][list(SUMMARY_COLUMNS)].reset_index(drop=True)
    return labels, combine(segments, codes[order], len(labels))
