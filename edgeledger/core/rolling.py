"""Rolling 7- and 30-day metrics per strategy and per edge (docs/metrics.md, "Rolling
performance").

After a resolve run that closed trades, only the strategies and edges that run touched
are recomputed, so the rows here are exactly what gets upserted: one per (scope, key,
window), including a key whose window is now empty (n = 0), so a stale figure is
overwritten rather than left behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pandas as pd

from edgeledger.core.breakdown import memberships
from edgeledger.core.metrics import Metrics, grouped_metrics, in_close_order, population_metrics
from edgeledger.core.trades import closed, empty_trades

SCOPES = ("strategy", "edge")
WINDOWS = (7, 30)


@dataclass(frozen=True)
class RollingRow:
    """The metrics of one key (a strategy or an edge name) over the trades closed in
    (start, as_of], start = as_of − window_days."""

    scope: str
    key: str
    window_days: int
    as_of: datetime
    start: datetime
    metrics: Metrics


def rolling_metrics(
    trades: pd.DataFrame,
    *,
    as_of: datetime,
    windows: Iterable[int] = WINDOWS,
    touched: Mapping[str, Iterable[str]] | None = None,
) -> list[RollingRow]:
    """Rows for every scope in SCOPES, key and window, ordered by scope, key, window.
    Keys: those in `touched` (scope -> keys that a resolve run closed trades of) when
    given, else every strategy and edge of the closed trades of `trades` up to as_of."""
    end = pd.Timestamp(as_of)
    if end.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    done = in_close_order(closed(trades))
    done = done[done["closed_at"] <= end]
    windows = tuple(sorted(set(windows)))
    rows: list[RollingRow] = []
    for scope in SCOPES:
        keys = _keys(done, scope, touched)
        if not keys:
            continue
        for days in windows:
            start = end - timedelta(days=days)
            inside = done[done["closed_at"] > start]
            table = _by_key(inside, scope, keys)
            for key in keys:
                metrics = table.get(key) or _empty()
                rows.append(
                    RollingRow(
                        scope, key, days, end.to_pydatetime(), start.to_pydatetime(), metrics
                    )
                )
    rows.sort(key=lambda row: (SCOPES.index(row.scope), row.key, row.window_days))
    return rows


def _keys(done: pd.DataFrame, scope: str, touched) -> list[str]:
    if touched is not None:
        return sorted({str(key) for key in touched.get(scope, ())})
    labels = memberships(done, scope).labels
    return sorted(str(label) for label in labels if label is not None)


def _by_key(inside: pd.DataFrame, scope: str, keys: list[str]) -> dict[str, Metrics]:
    """The metrics of each wanted key with trades in the window; only those are built."""
    member = memberships(inside, scope)
    table = grouped_metrics(inside, member.codes, len(member.labels), member.rows)
    wanted = set(keys)
    return {
        str(label): Metrics.from_row(table.iloc[i])
        for i, label in enumerate(member.labels)
        if label is not None and str(label) in wanted
    }


@cache
def _empty() -> Metrics:
    return population_metrics(empty_trades())
