"""The weekly report's data, built once from the trades frame: every figure the HTML, the
Discord summary, the bot and the dashboard draw (they compute nothing themselves).

Pure: the caller passes the trades, the week, the time, the feedback decisions and the
data-quality notes that come from the runs (prices that failed, bars dropped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from edgeledger.core.breakdown import metrics_by
from edgeledger.core.calibration import Calibration, calibration
from edgeledger.core.dashboard_data import R_BIN, bin_counts, r_bins
from edgeledger.core.feedback import Decision
from edgeledger.core.metrics import Metrics, in_close_order, population_metrics, signal_counts
from edgeledger.core.periods import NEW_YORK, Period
from edgeledger.core.rankings import EdgeRank, rank_edges
from edgeledger.core.report_data import (
    BreakdownRow,
    Breakdowns,
    Confidence,
    ConfidenceRow,
    EdgeRow,
    EquityCurves,
    EquityPoint,
    Finding,
    LiveBacktestRow,
    PeriodTotals,
    RBin,
    Totals,
    TradeRow,
    WeeklyReport,
    WhatIfRow,
)
from edgeledger.core.suggestions import excursion_suggestions
from edgeledger.core.trades import closed, counted, created_between

MIN_SAMPLE = 10
TOP_TRADES = 3
WHAT_IF_EDGES = 2  # the worst-ranked edges the report shows removed
EQUITY_BUCKETS = 250  # a long equity curve keeps each run's low and high: <= 501 points
EDGES_THIS_WEEK = 3


def build_weekly_report(
    trades: pd.DataFrame,
    *,
    week: Period,
    generated_at: datetime,
    decisions: Sequence[Decision] = (),
    notes: Sequence[str] = (),
    rationales: Mapping[str, str] | None = None,
    min_n: int = MIN_SAMPLE,
) -> WeeklyReport:
    """The report of `week` (a Period from edgeledger.core.periods) from every logged
    signal; figures count live trades only (no backtest, no_data or CANCELLED), and
    nothing after the week's end. `rationales` by trade_id (the week's closed trades are
    enough) are shown beside the top and bottom trades: text the frame does not carry."""
    rationales = rationales or {}
    assert week.start is not None
    start, end = pd.Timestamp(week.start), pd.Timestamp(week.end)
    previous = week.previous()
    assert previous is not None and previous.start is not None
    before = pd.Timestamp(previous.start)
    everything = trades[trades["created_at"] < end]
    live = counted(everything)
    done = closed(live)
    # Ordered once: every statistic below reads close order, and then checks it cheaply.
    done = in_close_order(done[done["closed_at"] < end])
    this_week = done[done["closed_at"] >= start]
    all_time = done
    week_signals = created_between(everything, start, end)
    totals = Totals(
        this_week=_totals("This week", created_between(live, start, end), this_week),
        previous_week=_totals(
            "Previous week",
            created_between(live, before, start),
            done[(done["closed_at"] >= before) & (done["closed_at"] < start)],
        ),
        all_time=_totals("All time", live, all_time),
    )
    week_edges = [e for e in rank_edges(this_week, min_n=1) if e.n]
    by_total = sorted(week_edges, key=lambda e: (-e.total_r, -e.n, e.edge))
    best = [e for e in by_total if e.total_r > 0][:EDGES_THIS_WEEK]
    worst = [e for e in reversed(by_total) if e.total_r < 0][:EDGES_THIS_WEEK]
    ranking = rank_edges(all_time, min_n=min_n)
    pairs = [p for p in rank_edges(all_time, min_n=min_n, pairs=True) if p.n >= 2]
    stars = calibration(all_time, min_n=min_n)
    ordered = this_week.sort_values(["r", "closed_at", "trade_id"], kind="stable")
    empty = week_signals.empty and this_week.empty
    return WeeklyReport(
        week_start=week.start.astimezone(NEW_YORK).date(),
        week_end=(week.end - timedelta(days=1)).astimezone(NEW_YORK).date(),
        generated_at=generated_at,
        empty=empty,
        totals=totals,
        equity_curve=EquityCurves(week=_equity(this_week), all_time=_equity(all_time)),
        r_distribution=_r_bins(this_week["r"].to_numpy()),
        best_edges=tuple(edge_row(e) for e in best),
        worst_edges=tuple(edge_row(e) for e in worst),
        edge_ranking=tuple(edge_row(e) for e in ranked_first(ranking)),
        edge_pairs=tuple(edge_row(e, pair=True) for e in ranked_first(pairs)),
        confidence=confidence_data(stars),
        breakdowns=Breakdowns(
            by_type=_breakdown(this_week, "trade_type", {"day": "Day", "swing": "Swing"}),
            by_direction=_breakdown(this_week, "direction", {"long": "Long", "short": "Short"}),
        ),
        top_trades=tuple(
            _trade_row(t, rationales) for t in ordered.iloc[::-1].head(TOP_TRADES).itertuples()
        ),
        bottom_trades=tuple(
            _trade_row(t, rationales) for t in ordered.head(TOP_TRADES).itertuples()
        ),
        suggestions=tuple(
            Finding(s.text, _figures(s.figures)) for s in excursion_suggestions(all_time)
        ),
        recommendations=tuple(
            Finding(d.text, _figures(d.figures)) for d in decisions if d.action != "keep"
        ),
        data_quality=tuple(_data_quality(everything, week_signals, this_week, notes)),
        min_sample=min_n,
        what_if=tuple(_what_if(all_time, ranking)),
        live_vs_backtest=tuple(
            _live_vs_backtest(all_time, closed(counted(everything, backtest=True)))
        ),
    )


def _what_if(done: pd.DataFrame, ranking: Sequence[EdgeRank]) -> list[WhatIfRow]:
    """All time without each of the worst-ranked edges (lowest score first)."""
    worst = sorted((e for e in ranking if e.ranked), key=lambda e: (e.score, e.edge))
    everything = population_metrics(done)
    rows = []
    for edge in worst[:WHAT_IF_EDGES]:
        carried = done["edges"].map(lambda edges, name=edge.edge: name in edges)
        without = population_metrics(done[~carried])
        rows.append(
            WhatIfRow(
                edge=edge.edge,
                removed=int(carried.sum()),
                total_r_all=float(everything.total_r),
                total_r_without=float(without.total_r),
                avg_r_all=everything.avg_r,
                avg_r_without=without.avg_r,
                max_drawdown_all=float(everything.max_drawdown_r),
                max_drawdown_without=float(without.max_drawdown_r),
            )
        )
    return rows


def _live_vs_backtest(live: pd.DataFrame, backtest: pd.DataFrame) -> list[LiveBacktestRow]:
    """Each edge and strategy that has backtest trades, with its live figures beside."""
    if backtest.empty:
        return []
    rows = []
    for scope, key in (("edge", "edge"), ("strategy", "strategy")):
        tested = metrics_by(backtest, key).set_index("group")
        lived = metrics_by(live, key).set_index("group") if not live.empty else None
        for group, b in tested.iterrows():
            if group is None or (isinstance(group, float) and np.isnan(group)):
                continue
            has_live = lived is not None and group in lived.index
            lv = lived.loc[group] if has_live else None
            rows.append(
                LiveBacktestRow(
                    scope=scope,
                    key=str(group),
                    live_n=int(lv["n"]) if lv is not None else 0,
                    live_win_rate=_number(lv["win_rate"]) if lv is not None else None,
                    live_avg_r=_number(lv["avg_r"]) if lv is not None else None,
                    backtest_n=int(b["n"]),
                    backtest_win_rate=_number(b["win_rate"]),
                    backtest_avg_r=_number(b["avg_r"]),
                )
            )
    return rows


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _totals(label: str, signals: pd.DataFrame, done: pd.DataFrame) -> PeriodTotals:
    counts = signal_counts(signals)
    metrics = population_metrics(done)
    return PeriodTotals(
        label=label,
        signals=counts.signals,
        triggered=counts.triggered,
        wins=metrics.wins,
        losses=metrics.losses,
        expired=counts.by_status.get("EXPIRED", 0),
        n_closed=metrics.n,
        win_rate=metrics.win_rate,
        avg_r=metrics.avg_r,
        total_r=float(metrics.total_r),
    )


def _equity(done: pd.DataFrame, buckets: int = EQUITY_BUCKETS) -> tuple[EquityPoint, ...]:
    """The cumulative R after each trade, in close order. A long history keeps, in each of
    `buckets` equal runs of trades, its lowest and highest points (and the last point), so
    the drawn curve keeps every peak and trough while the report stays small."""
    ordered = done.sort_values(["closed_at", "trade_id"], kind="stable")
    cumulative = ordered["r"].cumsum().to_numpy()
    times = ordered["closed_at"].to_numpy()
    keep = np.arange(len(cumulative))
    if len(cumulative) > 2 * buckets:
        runs = np.array_split(keep, buckets)
        chosen = {int(run[np.argmin(cumulative[run])]) for run in runs}
        chosen |= {int(run[np.argmax(cumulative[run])]) for run in runs}
        keep = np.array(sorted(chosen | {len(cumulative) - 1}))
    return tuple(
        EquityPoint(at=pd.Timestamp(times[i]).to_pydatetime(), r=float(cumulative[i])) for i in keep
    )


def _r_bins(r: np.ndarray) -> tuple[RBin, ...]:
    """The R distribution, binned as the dashboard bins it (core.dashboard_data)."""
    return r_bins(bin_counts(r, R_BIN), R_BIN)


def confidence_data(stars: Calibration) -> Confidence:
    """The calibration as the report (and the dashboard) draws it."""
    return Confidence(
        rows=tuple(
            ConfidenceRow(
                stars=level.stars,
                n=level.n,
                win_rate=level.win_rate,
                win_rate_lo=None if level.win_rate_ci is None else level.win_rate_ci[0],
                win_rate_hi=None if level.win_rate_ci is None else level.win_rate_ci[1],
                avg_r=level.avg_r,
            )
            for level in stars.rows
        ),
        verdict=stars.verdict,
    )


def ranked_first(rows: Sequence[EdgeRank]) -> list[EdgeRank]:
    return sorted(rows, key=lambda e: (not e.ranked, e.rank or 0, -e.n, e.edge))


def edge_row(edge: EdgeRank, *, pair: bool = False) -> EdgeRow:
    return EdgeRow(
        name=" + ".join(edge.edges) if pair else edge.edge,
        n=edge.n,
        wins=edge.wins,
        losses=edge.losses,
        win_rate=edge.win_rate,
        win_rate_lo=None if edge.win_rate_ci is None else edge.win_rate_ci[0],
        win_rate_hi=None if edge.win_rate_ci is None else edge.win_rate_ci[1],
        avg_r=edge.avg_r,
        avg_r_lo=None if edge.avg_r_ci is None else edge.avg_r_ci[0],
        avg_r_hi=None if edge.avg_r_ci is None else edge.avg_r_ci[1],
        total_r=float(edge.total_r),
        lift=edge.lift,
        verdict=edge.verdict,
        ranked=edge.ranked,
        rank=edge.rank,
    )


def _breakdown(done: pd.DataFrame, column: str, labels: dict[str, str]) -> tuple[BreakdownRow, ...]:
    rows = []
    for value, label in labels.items():
        metrics: Metrics = population_metrics(done[done[column] == value])
        rows.append(
            BreakdownRow(
                label=label,
                n=metrics.n,
                win_rate=metrics.win_rate,
                avg_r=metrics.avg_r,
                total_r=float(metrics.total_r),
            )
        )
    return tuple(rows)


def _trade_row(trade: Any, rationales: Mapping[str, str]) -> TradeRow:
    return TradeRow(
        trade_id=trade.trade_id,
        ticker=trade.ticker,
        trade_type=trade.trade_type,
        direction=trade.direction,
        edges=tuple(trade.edges),
        r=float(trade.r),
        closed_at=trade.closed_at.to_pydatetime(),
        rationale=rationales.get(trade.trade_id) or "",
    )


def _figures(figures: dict) -> dict:
    """Figures as the report data stores them: numbers and text, no NaN."""
    out = {}
    for name, value in figures.items():
        if isinstance(value, bool):
            out[name] = str(value).lower()
        elif isinstance(value, int | float | str):
            if isinstance(value, float) and np.isnan(value):
                continue
            out[name] = value
        elif isinstance(value, np.integer | np.floating):
            out[name] = value.item()
        elif value is not None:
            out[name] = str(value)
    return out


def _data_quality(
    everything: pd.DataFrame,
    week_signals: pd.DataFrame,
    this_week: pd.DataFrame,
    notes: Sequence[str],
) -> list[str]:
    lines: list[str] = []
    ambiguous = int(this_week["ambiguous"].sum())
    if ambiguous:
        lines.append(
            f"{ambiguous} ambiguous outcome(s) this week: the bars could not order stop and"
            " target, so they were settled pessimistically."
        )
    lines.extend(notes)
    week_counts = signal_counts(counted(week_signals))
    if week_counts.signals:
        share = week_counts.not_triggered / week_counts.signals
        lines.append(
            f"Not triggered: {week_counts.not_triggered} of {week_counts.signals} signals"
            f" ({share:.1%})."
        )
    no_data = int((week_signals["exit_reason"] == "no_data").sum())
    if no_data:
        lines.append(
            f"{no_data} signal(s) expired without prices for their window (no_data): counted"
            " in no statistic."
        )
    manual = int((this_week["exit_reason"] == "manual").sum())
    if manual:
        lines.append(f"{manual} outcome(s) set by hand (manual).")
    backtest = int((everything["source"] == "backtest").sum())
    if backtest:
        lines.append(f"{backtest} backtest trade(s) are left out of every live figure.")
    return lines
