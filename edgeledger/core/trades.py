"""The trades frame: one row per logged signal with its outcome, as the analytics read it.

Every statistic of docs/metrics.md is a function over this frame (or a part of it), so the
storage query, a backtest file and a literal frame in a test all meet here first.
`trades_frame` builds it from plain rows and checks the columns; the populations that
metrics.md defines (closed trades, live only, no `no_data`, no CANCELLED) are selected by
the functions below, never by each caller's own filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

# name -> kind: "text", "int", "float", "bool", "time", "edges", "optional_bool"
TRADE_COLUMNS: dict[str, str] = {
    "trade_id": "text",
    "ticker": "text",
    "trade_type": "text",  # day | swing
    "direction": "text",  # long | short
    "market": "text",  # the market its bars were read by (None when never resolved)
    "strategy": "text",
    "confidence": "int",  # stars, 0-5
    "edges": "edges",  # tuple of edge names
    "source": "text",  # discord, channel, api, import, backtest
    "status": "text",  # PENDING OPEN WIN LOSS EXPIRED CANCELLED
    "exit_reason": "text",  # target stop timeout not_triggered no_data manual
    "entry": "float",
    "stop": "float",
    "target": "float",
    "target2": "float",
    "fill_price": "float",
    "exit_price": "float",
    "r": "float",  # R achieved; NaN when the trade never filled or is not closed
    "mfe_r": "float",
    "mae_r": "float",
    "target2_hit": "optional_bool",
    "ambiguous": "bool",
    "created_at": "time",
    "triggered_at": "time",
    "closed_at": "time",
}
"""The frame's columns, in order, and how each is typed."""

CLOSED_STATUSES = ("WIN", "LOSS", "EXPIRED")
NOT_COUNTED_REASONS = ("no_data",)  # counted in no statistic, only in data-quality notes


def trades_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A trades frame from plain rows (dicts with TRADE_COLUMNS keys; missing optional
    values may be None). Times must be timezone-aware; they become UTC."""
    rows = list(rows)
    missing = [name for name in TRADE_COLUMNS if rows and name not in rows[0]]
    if missing:
        raise ValueError(f"trade rows lack columns: {', '.join(missing)}")
    columns = {name: [row.get(name) for row in rows] for name in TRADE_COLUMNS}
    return pd.DataFrame(
        {name: _column(kind, columns[name]) for name, kind in TRADE_COLUMNS.items()}
    )


def empty_trades() -> pd.DataFrame:
    """A trades frame with no rows and every column typed."""
    return trades_frame([])


def _column(kind: str, values: list[Any]) -> pd.Series:
    if kind == "text":
        return pd.Series([None if pd.isna(v) else str(v) for v in values], dtype="object")
    if kind == "int":
        return pd.Series(values, dtype="int64")
    if kind == "float":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kind == "bool":
        return pd.Series([bool(v) for v in values], dtype="bool")
    if kind == "optional_bool":
        return pd.Series([None if v is None else bool(v) for v in values], dtype="object")
    if kind == "edges":
        return pd.Series([tuple(v or ()) for v in values], dtype="object")
    if kind == "time":
        return pd.to_datetime(pd.Series(values, dtype="object"), utc=True).astype(
            "datetime64[ns, UTC]"
        )
    raise ValueError(f"unknown column kind {kind!r}")


# --- the populations of docs/metrics.md -------------------------------------------------------


def counted(trades: pd.DataFrame, *, backtest: bool = False) -> pd.DataFrame:
    """The signals statistics may count: live ones (or backtest ones, when asked), never
    CANCELLED, never `no_data` (those belong to data-quality notes)."""
    is_backtest = trades["source"] == "backtest"
    keep = (
        (is_backtest if backtest else ~is_backtest)
        & (trades["status"] != "CANCELLED")
        & ~trades["exit_reason"].isin(NOT_COUNTED_REASONS)
    )
    return _kept(trades, keep)


def closed(trades: pd.DataFrame) -> pd.DataFrame:
    """Trades that filled and closed: WIN, LOSS and EXPIRED by timeout (or a person's
    manual exit), the population performance is measured on."""
    filled = trades["fill_price"].notna() & trades["r"].notna()
    return _kept(trades, trades["status"].isin(CLOSED_STATUSES) & filled)


def _kept(trades: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """The rows to keep; the frame itself when that is all of them (a million-row copy
    saved each time a population is narrowed to what it already is)."""
    return trades if bool(keep.all()) else trades[keep]


def closed_between(trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Closed trades whose `closed_at` falls in [start, end): performance periods."""
    done = closed(trades)
    return done[(done["closed_at"] >= start) & (done["closed_at"] < end)]


def created_between(trades: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Signals logged in [start, end) (by `created_at`): the signal counts of a period."""
    return trades[(trades["created_at"] >= start) & (trades["created_at"] < end)]
