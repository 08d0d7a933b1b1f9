"""The dashboard's use cases: what each page shows, read through the same reporting use
cases and storage as the CLI and the bot (edgeledger.reporting), so a figure on a page is
the figure `edgeledger stats` prints. Thin: read, call the core, hand back dataclasses for
the web adapter to draw. No statistic is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from edgeledger import reporting, storage
from edgeledger.core.dashboard_data import (
    R_BIN,
    TREND_UNITS,
    ChartBar,
    Level,
    RatePoint,
    bars_around,
    levels_of,
    r_bins,
    win_rate_trend,
)
from edgeledger.core.model import Signal
from edgeledger.core.periods import Period, period_to
from edgeledger.core.rankings import EdgeRank
from edgeledger.core.report_data import Confidence, EdgeRow, RBin, WeeklyReport
from edgeledger.core.weekly_report import confidence_data, edge_row, ranked_first
from edgeledger.database import Database
from edgeledger.reporting import PeriodStats

PAGE_SIZE = 50


@dataclass(frozen=True)
class Overview:
    """The overview page: the period's figures beside the previous period's, the best
    ranked edge, the win rate over time and the R distribution."""

    period: Period
    stats: PeriodStats
    previous: PeriodStats | None  # None for all time
    best_edge: EdgeRank | None  # rank 1 of the period's ranking; None when none is ranked
    edges_seen: int
    trend_unit: str
    trend: tuple[RatePoint, ...]
    r_distribution: tuple[RBin, ...]


def overview(db: Database, period_name: str, *, now: datetime) -> Overview:
    period = period_to(period_name, now)
    stats = reporting.period_stats(db, period)
    before = period.previous()
    previous = None if before is None else reporting.period_stats(db, before)
    ranking = reporting.edge_ranking(db, period)
    best = next((e for e in ranking if e.ranked and e.rank == 1), None)
    unit = TREND_UNITS[period.name]
    first, end_day = reporting.days_of(period)
    with db.connection() as conn, conn.transaction():
        storage.refresh_day_summaries(conn)
        days = storage.summary_rows(conn, "live", "all", first, end_day)
        if len(days) and days["last_closed_at"].max() >= pd.Timestamp(period.end):
            # the period ends inside a day that has closes after its end: count the rows
            counts = storage.r_bin_counts(conn, R_BIN, period.start, period.end)
        else:
            counts = storage.r_bins_between(conn, "live", first, end_day)
    return Overview(
        period=period,
        stats=stats,
        previous=previous,
        best_edge=best,
        edges_seen=len(ranking),
        trend_unit=unit,
        trend=win_rate_trend(days, unit),
        r_distribution=r_bins(counts, R_BIN),
    )


# --- the trade table ------------------------------------------------------------------------


@dataclass(frozen=True)
class TradePage:
    rows: list[dict[str, Any]]
    next_before: tuple[datetime, int] | None  # the keyset of the next page; None: last page


def trade_page(
    db: Database,
    filters: Mapping[str, Any],
    *,
    before: tuple[datetime, int] | None = None,
    size: int = PAGE_SIZE,
) -> TradePage:
    """A page of the trade table, newest first (storage.trade_page's filters)."""
    with db.connection() as conn:
        rows = storage.trade_page(conn, filters, before=before, limit=size + 1)
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if more and rows else None
    return TradePage(rows, None if last is None else (last["created_at"], last["id"]))


# --- one trade ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeView:
    signal: Signal
    market: str | None
    events: list[dict[str, Any]]
    interval: str
    bars: tuple[ChartBar, ...]
    levels: tuple[Level, ...]


def trade_view(
    db: Database, trade_id: str, *, intervals: Mapping[str, str], now: datetime
) -> TradeView | None:
    """A trade, its history and the stored bars around it (never fetched: the chart shows
    what the outcome was read from)."""
    with db.connection() as conn:
        signal = storage.signal_by_trade_id(conn, trade_id)
        if signal is None:
            return None
        terms, outcome = signal.terms, signal.outcome
        events = storage.events_for_signal(conn, signal.trade_id)
        instrument = storage.instrument_of(conn, terms.ticker)
        interval = signal.resolved_interval or intervals[terms.trade_type.value]
        end = min(outcome.closed_at or terms.expires_at, now)
        margin = max((end - terms.created_at) / 5, timedelta(hours=2))
        start, stop = terms.created_at - margin, end + margin
        arrays = storage.load_bar_arrays(conn, {terms.ticker: (start, stop)}, [interval])
    market = terms.market or (instrument["market"] if instrument else None)
    levels = levels_of(
        [
            ("entry", terms.entry),
            ("stop", terms.stop),
            ("target", terms.target),
            ("target2", terms.target2),
            ("exit", outcome.exit_price),
        ]
    )
    bars = bars_around(arrays.get(terms.ticker, {}).get(interval), start, stop)
    return TradeView(signal, market, events, interval, bars, levels)


# --- edges, confidence, reports ---------------------------------------------------------------


def edges(db: Database, period_name: str, *, now: datetime, min_n: int) -> tuple[EdgeRow, ...]:
    """The period's edge ranking, ranked edges first, as the weekly report draws it."""
    ranking = reporting.edge_ranking(db, period_to(period_name, now), min_n=min_n)
    return tuple(edge_row(e) for e in ranked_first(ranking))


def confidence(db: Database, period_name: str, *, now: datetime, min_n: int) -> Confidence:
    """The period's calibration, as the weekly report draws it."""
    return confidence_data(reporting.confidence(db, period_to(period_name, now), min_n=min_n))


def report_list(db: Database) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return storage.weekly_reports(conn)


@dataclass(frozen=True)
class StoredReport:
    week_start: date
    html: str
    report: WeeklyReport | None  # None when its JSON is of another schema


def stored_report(db: Database, week_start: date) -> StoredReport | None:
    with db.connection() as conn:
        row = storage.weekly_report(conn, week_start)
    if row is None:
        return None
    try:
        report = WeeklyReport.from_json(row["data"])
    except ValueError:
        report = None
    return StoredReport(row["week_start"], row["html"], report)
