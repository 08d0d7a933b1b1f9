"""What if an edge had never been traded: the equity curve in R and the totals without
the trades that carried it, beside the real ones (for the worst-ranked edges)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import compress

import numpy as np
import pandas as pd

from edgeledger.core.metrics import in_close_order
from edgeledger.core.trades import closed

Curve = list[tuple[datetime, float]]


@dataclass(frozen=True)
class Totals:
    """The headline figures of one equity curve; avg_r None without trades."""

    n: int
    total_r: float
    avg_r: float | None
    max_drawdown_r: float


@dataclass(frozen=True)
class WhatIf:
    """The closed trades' cumulative R by closed_at, with every trade and without those
    carrying `edge`; `removed` = how many trades carried it."""

    edge: str
    curve_all: Curve
    curve_without: Curve
    totals_all: Totals
    totals_without: Totals
    removed: int


def what_if_without(trades: pd.DataFrame, edge: str) -> WhatIf:
    """The curves and totals of the closed trades of `trades` with and without `edge`."""
    done = in_close_order(closed(trades))
    carries = np.fromiter((edge in edges for edges in done["edges"]), dtype=bool, count=len(done))
    kept = done[~carries]
    times = list(done["closed_at"].dt.to_pydatetime())  # once: the slow part of a big book
    return WhatIf(
        edge=edge,
        curve_all=_curve(times, done["r"]),
        curve_without=_curve(list(compress(times, ~carries)), kept["r"]),
        totals_all=_totals(done),
        totals_without=_totals(kept),
        removed=int(carries.sum()),
    )


def _curve(times: list[datetime], r: pd.Series) -> Curve:
    cumulative = np.cumsum(r.to_numpy(dtype=float)).tolist()
    return list(zip(times, cumulative, strict=True))


def _totals(done: pd.DataFrame) -> Totals:
    r = done["r"].to_numpy(dtype=float)
    cumulative = np.cumsum(r)
    peak = np.maximum(np.maximum.accumulate(cumulative), 0.0) if r.size else cumulative
    return Totals(
        n=int(r.size),
        total_r=float(r.sum()),
        avg_r=float(r.mean()) if r.size else None,
        max_drawdown_r=float((peak - cumulative).max()) if r.size else 0.0,
    )
