"""Reporting use cases: the figures of `stats`, `edges` and `confidence`, the weekly report
(built, drawn, stored), and what a resolve run that closed trades updates (rolling
metrics, feedback decisions).

Thin: read the trades frame from storage, call the pure core, hand back its dataclasses
for an adapter to draw. No statistic is computed here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd

from edgeledger import storage
from edgeledger.core.calibration import Calibration, calibration, calibration_of
from edgeledger.core.feedback import Decision, feedback_decisions
from edgeledger.core.metrics import (
    METRIC_INPUTS,
    Metrics,
    SignalCounts,
    capped_profit_factor,
    counts_of,
    population_metrics,
    signal_counts,
    summary_metrics,
)
from edgeledger.core.periods import NEW_YORK, Period, week_of
from edgeledger.core.rankings import FDR, EdgeRank, compare_summaries, rank_edges, rank_summaries
from edgeledger.core.report_data import PeriodTotals, WeeklyReport
from edgeledger.core.resolution import RunReport
from edgeledger.core.rolling import rolling_metrics
from edgeledger.core.summaries import combine_by_key
from edgeledger.core.trades import TRADE_COLUMNS, closed, counted, empty_trades
from edgeledger.core.weekly_report import (
    HISTORY_COLUMNS,
    LIVE_VS_BACKTEST_KEYS,
    MIN_SAMPLE,
    LedgerFigures,
    build_weekly_report,
)
from edgeledger.database import Database
from reports.html import render_html

log = logging.getLogger(__name__)

FEEDBACK_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Filters:
    """Which signals a figure is about (None: all)."""

    ticker: str | None = None
    trade_type: str | None = None
    strategy: str | None = None

    def columns(self) -> list[str]:
        """The frame's columns the filters read."""
        return [
            column
            for column, value in (
                ("ticker", self.ticker),
                ("trade_type", self.trade_type),
                ("strategy", self.strategy),
            )
            if value
        ]

    def apply(self, trades: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=trades.index)
        if self.ticker:
            keep &= trades["ticker"] == self.ticker
        if self.trade_type:
            keep &= trades["trade_type"] == self.trade_type
        if self.strategy:
            keep &= trades["strategy"] == self.strategy
        return trades[keep]


@dataclass(frozen=True)
class PeriodStats:
    """`edgeledger stats`: the period's signals and its closed trades' metrics."""

    period: Period
    signals: SignalCounts
    metrics: Metrics


# What each answer reads of the trades frame: text columns cost far more to load than
# numbers and choices, so each reads only what its figures need.
_COUNTED = ("source",)
_STATS = (*METRIC_INPUTS, *_COUNTED, "created_at")
_REPORT_SKIPS = ("market",)  # text the weekly report does not show
_NO_TRADES = empty_trades()
_ROLLING = (*METRIC_INPUTS, *_COUNTED, "strategy", "edges")  # rolling metrics and feedback


def _load(db: Database, columns: Sequence[str] | None, **bounds: datetime | None) -> pd.DataFrame:
    with db.connection() as conn, conn.transaction():  # the frame's cache may be rebuilt
        return storage.load_trades(conn, columns=columns, **bounds)


def _closed_in(db: Database, period: Period, columns: Sequence[str]) -> pd.DataFrame:
    return _load(db, columns, closed_from=period.start, closed_to=period.end)


def period_stats(db: Database, period: Period, filters: Filters = Filters()) -> PeriodStats:
    """Live signals logged in the period, and live trades closed in it."""
    if not filters.columns():
        found = _stats_from_summaries(db, period)
        if found is not None:
            return found
    return _stats_from_trades(db, period, filters)


def refresh_summaries(db: Database) -> int:
    """Sum up the days changed since they were last summed up (see storage.summaries);
    returns how many. Readers do it themselves; this does it ahead of them."""
    with db.connection() as conn, conn.transaction():
        return storage.refresh_day_summaries(conn)


def _stats_from_trades(db: Database, period: Period, filters: Filters) -> PeriodStats:
    columns = [*_STATS, *filters.columns()]
    if period.start is None:  # all time: one read serves both
        logged = done = _load(db, columns, created_to=period.end)
    else:
        logged = _load(db, columns, created_from=period.start, created_to=period.end)
        done = _closed_in(db, period, columns)
    logged, done = filters.apply(counted(logged)), filters.apply(counted(done))
    return PeriodStats(period, signal_counts(logged), population_metrics(done))


def _stats_from_summaries(db: Database, period: Period) -> PeriodStats | None:
    """The same figures from the day summaries; None when the period ends inside a day
    that has signals after its end (then only the trades can say)."""
    first, end_day = days_of(period)
    with db.connection() as conn, conn.transaction():
        storage.refresh_day_summaries(conn)
        rows = storage.summary_rows(conn, "live", "all", first, end_day)
        counts, latest = storage.count_rows_between(conn, "live", first, end_day)
    if not _whole(period, rows, latest):
        return None
    _, summary = combine_by_key(rows)
    metrics = Metrics.from_row(summary_metrics(summary).iloc[0]) if len(summary) else None
    return PeriodStats(period, counts_of(counts), metrics or population_metrics(_NO_TRADES))


def edge_ranking(db: Database, period: Period, *, min_n: int = 10) -> list[EdgeRank]:
    """Every edge of the live trades closed in the period, ranked (see core.rankings)."""
    first, end_day = days_of(period)
    with db.connection() as conn, conn.transaction():
        storage.refresh_day_summaries(conn)
        _, overall, latest = storage.summary_totals(conn, "live", "all", first, end_day)
        labels, groups, _ = storage.summary_totals(conn, "live", "edge", first, end_day)
    if latest is None or latest < pd.Timestamp(period.end):
        ranks = rank_summaries(groups, labels, overall, min_n=min_n)
        if ranks is not None:
            return ranks
    trades = _closed_in(db, period, (*METRIC_INPUTS, *_COUNTED, "edges"))
    return rank_edges(counted(trades), min_n=min_n)


def days_of(period: Period) -> tuple[date | None, date]:
    """The New York days [first, end) the day summaries of a period are read from: the
    days it covers, and the day its end falls in when that is not midnight."""
    first = None if period.start is None else period.start.astimezone(NEW_YORK).date()
    end = period.end.astimezone(NEW_YORK)
    whole = end.time() == time(0) and end.tzinfo is not None
    return first, end.date() if whole else end.date() + timedelta(days=1)


def _whole(period: Period, rows: pd.DataFrame, latest_logged: pd.Timestamp | None) -> bool:
    """Whether the days read end with the period: nothing closed (or was logged) in them
    at or after its end."""
    end = pd.Timestamp(period.end)
    closed_late = len(rows) and rows["last_closed_at"].max() >= end
    logged_late = latest_logged is not None and latest_logged >= end
    return not (closed_late or logged_late)


def confidence(db: Database, period: Period, *, min_n: int = 10) -> Calibration:
    """Do the stars mean anything: the live trades closed in the period, by star level.
    The levels' figures come from the day summaries when they can; the rank correlation
    of stars and R always reads the trades' stars and R (and nothing else)."""
    first, end_day = days_of(period)
    with db.connection() as conn, conn.transaction():
        storage.refresh_day_summaries(conn)
        _, overall, latest = storage.summary_totals(conn, "live", "all", first, end_day)
        labels, groups, _ = storage.summary_totals(conn, "live", "confidence", first, end_day)
    table = None
    if latest is None or latest < pd.Timestamp(period.end):
        table = compare_summaries(groups, labels, overall, min_n=min_n, fdr=FDR, permutation=None)
    if table is None:
        trades = _closed_in(db, period, (*METRIC_INPUTS, *_COUNTED, "confidence"))
        return calibration(counted(trades), min_n=min_n)
    columns = ("confidence", "r", "status", "fill_price", "exit_reason", "source", "closed_at")
    done = closed(counted(_closed_in(db, period, columns)))
    return calibration_of(
        table, done["confidence"].to_numpy(), done["r"].to_numpy(dtype=float), min_n=min_n
    )


# --- the weekly report -----------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltReport:
    report: WeeklyReport
    html: str
    revision: int


def build_weekly(db: Database, week_start: date, *, now: datetime) -> BuiltReport:
    """Build the report of the week starting `week_start` (a Monday), draw it and store it
    (a rebuild replaces the week's row and bumps its revision).

    The all-time figures that add up (totals, rankings, live beside backtest) come from the
    day summaries; what needs every trade in order (the equity curve, the what-if, the
    calibration's rank correlation, the excursion quantiles) from HISTORY_COLUMNS of every
    signal; the week's own sections from every column of the last two weeks' signals."""
    week = week_of(week_start)
    previous = week.previous()
    assert week.start is not None and previous is not None and previous.start is not None
    with db.connection() as conn, conn.transaction():
        storage.refresh_day_summaries(conn)
        ledger = _ledger_from_summaries(conn, week)
        history_columns = [*HISTORY_COLUMNS, *(() if ledger else ("strategy",))]
        trades = storage.load_trades(conn, created_to=week.end, columns=history_columns)
        recent = _recent(conn, previous.start, week.end)
        rationales = storage.rationales_closed_between(conn, week.start, week.end)
        decisions = _latest_decisions(storage.feedback_decisions(conn, since=week.start))
        notes = _run_notes(conn, week.start, week.end)
    report = build_weekly_report(
        trades,
        week=week,
        generated_at=now,
        decisions=decisions,
        notes=notes,
        rationales=rationales,
        recent=recent,
        ledger=ledger,
    )
    html = render_html(report)
    totals = report.totals.this_week
    summary = {
        "signals": totals.signals,
        "closed": totals.n_closed,
        "wins": totals.wins,
        "losses": totals.losses,
        "win_rate": totals.win_rate,
        "avg_r": totals.avg_r,
        "total_r": totals.total_r,
        "empty": report.empty,
    }
    with db.connection() as conn, conn.transaction():
        revision = storage.save_weekly_report(
            conn, report.week_start, summary, report.to_json(), html, now
        )
    return BuiltReport(report, html, revision)


def _recent(conn: Any, start: datetime, end: datetime) -> pd.DataFrame:
    """Every column of the signals logged or closed in [start, end)."""
    columns = [c for c in TRADE_COLUMNS if c not in _REPORT_SKIPS]
    logged = storage.load_trades(conn, created_from=start, created_to=end, columns=columns)
    closed = storage.load_trades(conn, closed_from=start, closed_to=end, columns=columns)
    both = pd.concat([logged, closed], ignore_index=True)
    return both.drop_duplicates("trade_id", ignore_index=True)


def _ledger_from_summaries(conn: Any, week: Period) -> LedgerFigures | None:
    """The all-time figures up to the week's end from the day summaries; None when a ranking
    needs a permutation test (then the trades must say)."""
    end_day = week.end.astimezone(NEW_YORK).date()  # the week ends at a New York midnight
    counts, _ = storage.count_rows_between(conn, "live", None, end_day)
    _, overall, _ = storage.summary_totals(conn, "live", "all", None, end_day)
    labels, groups, _ = storage.summary_totals(conn, "live", "confidence", None, end_day)
    stars = compare_summaries(groups, labels, overall, min_n=MIN_SAMPLE, fdr=FDR, permutation=None)
    if stars is None:
        return None
    ranked = {}
    for dimension in ("edge", "edge_pair"):
        labels, groups, _ = storage.summary_totals(conn, "live", dimension, None, end_day)
        ranks = rank_summaries(
            groups, labels, overall, min_n=MIN_SAMPLE, pairs=dimension == "edge_pair"
        )
        if ranks is None:
            return None
        ranked[dimension] = tuple(ranks)
    tables: dict[str, dict[str, pd.DataFrame]] = {"live": {}, "backtest": {}}
    for population in tables:
        for key in LIVE_VS_BACKTEST_KEYS:
            labels, groups, _ = storage.summary_totals(conn, population, key, None, end_day)
            table = summary_metrics(groups)
            table.insert(0, "group", pd.Series(labels, dtype="object"))
            tables[population][key] = table
    has_backtest = any(len(table) for table in tables["backtest"].values())
    signals = counts_of(counts)
    closed = summary_metrics(overall)
    n = int(closed["n"].iloc[0]) if len(closed) else 0
    return LedgerFigures(
        all_time=PeriodTotals(
            label="All time",
            signals=signals.signals,
            triggered=signals.triggered,
            wins=int(closed["wins"].iloc[0]) if n else 0,
            losses=int(closed["losses"].iloc[0]) if n else 0,
            expired=signals.by_status.get("EXPIRED", 0),
            n_closed=n,
            win_rate=_figure(closed["win_rate"].iloc[0]) if n else None,
            avg_r=_figure(closed["avg_r"].iloc[0]) if n else None,
            total_r=float(closed["total_r"].iloc[0]) if n else 0.0,
        ),
        ranking=ranked["edge"],
        pairs=ranked["edge_pair"],
        live_by=tables["live"] if has_backtest else {},
        backtest_by=tables["backtest"] if has_backtest else {},
        stars=stars,
    )


def _figure(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _latest_decisions(rows: Sequence[dict[str, Any]]) -> list[Decision]:
    """The newest stored decision of each (scope, key), as the report words them."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        latest[(row["scope"], row["key"])] = row
    return [
        Decision(
            scope=row["scope"],
            key=row["key"],
            action=row["action"],
            findings=tuple(row["findings"]),
            figures=row["figures"],
            rule_version=row["rule_version"],
            as_of=row["decided_at"],
            text=row["figures"].get("text", ""),
        )
        for row in latest.values()
    ]


def _run_notes(conn: Any, start: datetime, end: datetime) -> list[str]:
    """What the week's resolve runs reported: tickers whose prices failed, bars dropped."""
    failed: set[str] = set()
    dropped = 0
    for counts in storage.job_run_counts(conn, "resolve", start, end):
        failed |= set(counts.get("failed_tickers") or {})
        for reasons in (counts.get("dropped_bars") or {}).values():
            dropped += sum(int(n) for n in reasons.values())
    notes = []
    if failed:
        names = ", ".join(sorted(failed)[:10]) + (" ..." if len(failed) > 10 else "")
        notes.append(f"Prices failed at least once for {len(failed)} ticker(s): {names}.")
    if dropped:
        notes.append(f"{dropped} bar(s) were dropped by the cleaning rules or the sessions.")
    return notes


# --- after a resolve run ------------------------------------------------------------------------


def after_resolve(db: Database, run: RunReport, *, now: datetime) -> int:
    """When a run closed trades: upsert the 7- and 30-day metrics of the strategies and
    edges it touched, and record a feedback decision for each of them whose decision
    changed. Returns how many decisions were recorded."""
    if run.outcomes_changed:
        refresh_summaries(db)  # the run's days, summed up now rather than by the next reader
    if not run.closed:
        return 0
    touched = {"strategy": run.strategies_touched, "edge": run.edges_touched}
    with db.connection() as conn, conn.transaction():
        trades = storage.load_trades(
            conn, closed_from=now - FEEDBACK_WINDOW, closed_to=now, columns=_ROLLING
        )
        live, backtest = counted(trades), counted(trades, backtest=True)
        rows = rolling_metrics(live, as_of=now, touched=touched)
        storage.upsert_rolling_metrics(conn, [_rolling(row) for row in rows], at=now)
        window: dict[str, dict[str, Metrics]] = {}
        for row in rows:  # the 30-day rows are the feedback's window: measured once
            if row.window_days == FEEDBACK_WINDOW.days:
                window.setdefault(row.scope, {})[row.key] = row.metrics
        decisions = feedback_decisions(live, backtest, as_of=now, window_metrics=window)
        known = {
            (row["scope"], row["key"]): row
            for row in storage.feedback_decisions(conn, since=now - FEEDBACK_WINDOW * 12)
        }
        new = [d for d in decisions if _changed(known.get((d.scope, d.key)), d)]
        storage.insert_feedback_decisions(conn, [_decision(d) for d in new])
    return len(new)


def _rolling(row: Any) -> dict[str, Any]:
    metrics = {
        name: value for name, value in vars(row.metrics).items() if not isinstance(value, tuple)
    }
    metrics["profit_factor"] = capped_profit_factor(metrics.get("profit_factor"))
    for name in ("win_rate_ci", "avg_r_ci"):
        interval = getattr(row.metrics, name)
        metrics[f"{name}_lo"], metrics[f"{name}_hi"] = interval or (None, None)
    return {
        "scope": row.scope,
        "key": row.key,
        "window_days": row.window_days,
        "as_of": row.as_of,
        "figures": metrics,
    }


def _changed(stored: dict[str, Any] | None, decision: Decision) -> bool:
    if stored is None:
        return decision.action != "keep"
    return (stored["action"], tuple(stored["findings"])) != (
        decision.action,
        tuple(decision.findings),
    )


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "scope": decision.scope,
        "key": decision.key,
        "action": decision.action,
        "findings": list(decision.findings),
        "figures": {**decision.figures, "text": decision.text},
        "rule_version": decision.rule_version,
        "decided_at": decision.as_of,
    }
