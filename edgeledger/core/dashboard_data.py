"""The dashboard's data beside the weekly report's: the win rate over time, the R bins of a
period, and a trade's bars, built from plain data by pure functions and drawn by
reports/charts.py. The figures themselves come from the analytics core (metrics, rankings,
calibration) through edgeledger.reporting; this module only groups what is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from edgeledger.core.report_data import ChartBar, Level, RatePoint, RBin

R_BIN = 0.5  # width of the R distribution's bins, the weekly report's too
TREND_UNITS = {"day": "day", "week": "day", "month": "day", "year": "week", "all": "month"}
"""The bucket of the win-rate-over-time chart for each period filter."""
MOST_BARS = 240  # a trade's chart shows at most this many bars around it


def bin_counts(r: np.ndarray, width: float = R_BIN) -> dict[int, int]:
    """How many values of `r` fall in each bin [k·width, (k+1)·width): {k: count}."""
    if not len(r):
        return {}
    keys, counts = np.unique(np.floor(np.asarray(r, dtype=float) / width), return_counts=True)
    return {int(k): int(n) for k, n in zip(keys, counts, strict=True)}


def r_bins(counts: Mapping[int, int], width: float = R_BIN) -> tuple[RBin, ...]:
    """The R distribution from bin counts: every bin from the lowest to the highest used,
    empty ones included, so the chart's axis has no holes."""
    used = [k for k, n in counts.items() if n]
    if not used:
        return ()
    return tuple(
        RBin(lo=k * width, hi=(k + 1) * width, count=int(counts.get(k, 0)))
        for k in range(min(used), max(used) + 1)
    )


def win_rate_trend(days: pd.DataFrame, unit: str) -> tuple[RatePoint, ...]:
    """The win rate per day, week (from Monday) or month of the day summaries `days`
    (columns day, wins, losses: one row per New York day of closing), oldest first."""
    if not len(days):
        return ()
    day = pd.to_datetime(days["day"])
    if unit == "week":
        start = day - pd.to_timedelta(day.dt.weekday, unit="D")
    elif unit == "month":
        start = day.dt.to_period("M").dt.start_time
    elif unit == "day":
        start = day
    else:
        raise ValueError(f"unit must be day, week or month, got {unit!r}")
    grouped = (
        pd.DataFrame({"start": start, "wins": days["wins"], "losses": days["losses"]})
        .groupby("start", sort=True)[["wins", "losses"]]
        .sum()
    )
    points = []
    for at, row in grouped.iterrows():
        wins, losses = int(row["wins"]), int(row["losses"])
        decided = wins + losses
        points.append(
            RatePoint(at.date(), wins, losses, wins / decided if decided else None)  # type: ignore[union-attr]
        )
    return tuple(points)


def bars_around(
    bars: tuple[np.ndarray, ...] | None,
    start: datetime,
    end: datetime,
    *,
    most: int = MOST_BARS,
) -> tuple[ChartBar, ...]:
    """The stored bars (starts in epoch µs, open, high, low, close) from `start` to `end`,
    thinned to the last `most` of them."""
    if bars is None or not len(bars[0]):
        return ()
    starts, opens, highs, lows, closes = bars
    lo = int(start.timestamp() * 1_000_000)
    hi = int(end.timestamp() * 1_000_000)
    keep = np.flatnonzero((starts >= lo) & (starts <= hi))[-most:]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return tuple(
        ChartBar(
            at=epoch + timedelta(microseconds=int(starts[i])),
            open=float(opens[i]),
            high=float(highs[i]),
            low=float(lows[i]),
            close=float(closes[i]),
        )
        for i in keep
    )


def levels_of(named: Sequence[tuple[str, object]]) -> tuple[Level, ...]:
    """The levels given, without the ones not set."""
    return tuple(Level(name, float(price)) for name, price in named if price is not None)  # type: ignore[arg-type]
