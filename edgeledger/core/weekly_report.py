"""The weekly report's data, built once from the trades frame: every figure the HTML, the
Discord summary, the bot and the dashboard draw (they compute nothing themselves).

Pure: the caller passes the trades, the week, the time, the feedback decisions and the
data-quality notes that come from the runs (prices that failed, bars dropped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from edgeledger.core.breakdown import memberships, metrics_by
from edgeledger.core.calibration import Calibration, calibration, calibration_of
from edgeledger.core.dashboard_data import R_BIN, bin_counts, r_bins
from edgeledger.core.feedback import Decision
from edgeledger.core.metrics import (
    Metrics,
    in_close_order,
    max_drawdown,
    population_metrics,
    signal_counts,
)
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


HISTORY_COLUMNS = (
    "trade_id", "confidence", "edges", "source", "status", "exit_reason", "fill_price", "r",
    "mfe_r", "mae_r", "ambiguous", "target2", "target2_hit", "created_at", "closed_at",
)  # fmt: skip
"""The columns the all-time sections read: a caller that passes the week's signals in full
as `recent` may pass only these of every other signal."""


@dataclass(frozen=True)
class LedgerFigures:
    """The all-time figures that add up over the ledger (totals, the edge and pair rankings,
    live and backtest per edge and strategy), however they were computed: from the trades
    (`ledger_figures`) or from stored day summaries. `live_by` and `backtest_by` hold, per
    key ("edge", "strategy"), a metrics_by table: `group`, then at least n, win_rate and
    avg_r; `stars` the star levels' comparison table (rankings.compare_groups), or None to
    compare them from the trades."""

    all_time: PeriodTotals
    ranking: tuple[EdgeRank, ...]
    pairs: tuple[EdgeRank, ...]
    live_by: Mapping[str, pd.DataFrame]
    backtest_by: Mapping[str, pd.DataFrame]
    stars: pd.DataFrame | None = None  # the star levels compared (None: from the trades)


LIVE_VS_BACKTEST_KEYS = ("edge", "strategy")


def ledger_figures(
    trades: pd.DataFrame, *, end: datetime, min_n: int = MIN_SAMPLE
) -> LedgerFigures:
    """The LedgerFigures of every signal of `trades` logged before `end` (closed before it)."""
    everything = trades[trades["created_at"] < pd.Timestamp(end)]
    live = counted(everything)
    done = in_close_order(_closed_before(live, end))
    backtest = _closed_before(counted(everything, backtest=True), end)
    return LedgerFigures(
        all_time=_totals("All time", live, done),
        ranking=tuple(rank_edges(done, min_n=min_n)),
        pairs=tuple(rank_edges(done, min_n=min_n, pairs=True)),
        live_by={k: metrics_by(done, k) for k in LIVE_VS_BACKTEST_KEYS} if len(backtest) else {},
        backtest_by={k: metrics_by(backtest, k) for k in LIVE_VS_BACKTEST_KEYS},
    )


def _closed_before(trades: pd.DataFrame, end: datetime) -> pd.DataFrame:
    done = closed(trades)
    return done[done["closed_at"] < pd.Timestamp(end)]


def build_weekly_report(
    trades: pd.DataFrame,
    *,
    week: Period,
    generated_at: datetime,
    decisions: Sequence[Decision] = (),
    notes: Sequence[str] = (),
    rationales: Mapping[str, str] | None = None,
    min_n: int = MIN_SAMPLE,
    recent: pd.DataFrame | None = None,
    ledger: LedgerFigures | None = None,
) -> WeeklyReport:
    """The report of `week` (a Period from edgeledger.core.periods) from every logged
    signal; figures count live trades only (no backtest, no_data or CANCELLED), and
    nothing after the week's end. `rationales` by trade_id (the week's closed trades are
    enough) are shown beside the top and bottom trades: text the frame does not carry.

    A large ledger may pass only HISTORY_COLUMNS in `trades` together with `recent`: every
    column of the signals logged or closed since the previous week began; and `ledger`, the
    all-time figures already computed (else they are computed from `trades`)."""
    rationales = rationales or {}
    assert week.start is not None
    start, end = pd.Timestamp(week.start), pd.Timestamp(week.end)
    previous = week.previous()
    assert previous is not None and previous.start is not None
    before = pd.Timestamp(previous.start)
    everything = trades[trades["created_at"] < end]
    # Ordered once: every all-time statistic below reads close order, and checks it cheaply.
    all_time = in_close_order(_closed_before(counted(everything), week.end))
    latest = everything if recent is None else recent[recent["created_at"] < end]
    latest_live = counted(latest)
    latest_done = in_close_order(_closed_before(latest_live, week.end))
    this_week = latest_done[latest_done["closed_at"] >= start]
    week_signals = created_between(latest, start, end)
    figures = ledger or ledger_figures(trades, end=week.end, min_n=min_n)
    totals = Totals(
        this_week=_totals("This week", created_between(latest_live, start, end), this_week),
        previous_week=_totals(
            "Previous week",
            created_between(latest_live, before, start),
            latest_done[(latest_done["closed_at"] >= before) & (latest_done["closed_at"] < start)],
        ),
        all_time=figures.all_time,
    )
    week_edges = [e for e in rank_edges(this_week, min_n=1) if e.n]
    by_total = sorted(week_edges, key=lambda e: (-e.total_r, -e.n, e.edge))
    best = [e for e in by_total if e.total_r > 0][:EDGES_THIS_WEEK]
    worst = [e for e in reversed(by_total) if e.total_r < 0][:EDGES_THIS_WEEK]
    ranking = list(figures.ranking)
    pairs = [p for p in figures.pairs if p.n >= 2]
    if figures.stars is not None:
        r, confidence = all_time["r"].to_numpy(dtype=float), all_time["confidence"].to_numpy()
        stars = calibration_of(figures.stars, confidence, r, min_n=min_n)
    else:
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
        live_vs_backtest=tuple(_live_vs_backtest(figures.live_by, figures.backtest_by)),
    )


def _what_if(done: pd.DataFrame, ranking: Sequence[EdgeRank]) -> list[WhatIfRow]:
    """All time without each of the worst-ranked edges (lowest score first). `done` is in
    close order, so each curve without an edge is the remaining R in the same order."""
    worst = sorted((e for e in ranking if e.ranked), key=lambda e: (e.score, e.edge))
    if not worst:
        return []
    r = done["r"].to_numpy(dtype=float)
    member = memberships(done, "edge")
    rows = []
    for edge in worst[:WHAT_IF_EDGES]:
        carried = np.zeros(len(done), dtype=bool)
        if edge.edge in member.labels:
            carried[member.rows[member.codes == member.labels.index(edge.edge)]] = True
        kept = r[~carried]
        rows.append(
            WhatIfRow(
                edge=edge.edge,
                removed=int(carried.sum()),
                total_r_all=float(r.sum()),
                total_r_without=float(kept.sum()),
                avg_r_all=float(r.mean()) if r.size else None,
                avg_r_without=float(kept.mean()) if kept.size else None,
                max_drawdown_all=max_drawdown(r),
                max_drawdown_without=max_drawdown(kept),
                curve=_equity_of(kept, done["closed_at"][~carried]),
            )
        )
    return rows


def _live_vs_backtest(
    live_by: Mapping[str, pd.DataFrame], backtest_by: Mapping[str, pd.DataFrame]
) -> list[LiveBacktestRow]:
    """Each edge and strategy that has backtest trades, with its live figures beside."""
    rows = []
    for scope in LIVE_VS_BACKTEST_KEYS:
        tested = backtest_by.get(scope)
        if tested is None or tested.empty:
            continue
        tested = tested.set_index("group")
        lived = live_by.get(scope)
        lived = lived.set_index("group") if lived is not None and not lived.empty else None
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
    """The cumulative R after each trade of `done` (in close order: in_close_order)."""
    return _equity_of(done["r"].to_numpy(dtype=float), done["closed_at"], buckets)


def _equity_of(
    r: np.ndarray, closed_at: pd.Series, buckets: int = EQUITY_BUCKETS
) -> tuple[EquityPoint, ...]:
    """The cumulative R after each of the R values (in close order, with their close
    times). A long history keeps, in each of `buckets` equal runs of trades, its lowest and
    highest points (and the last point), so the drawn curve keeps every peak and trough
    while the report stays small."""
    cumulative = np.cumsum(r)
    keep = np.arange(len(cumulative))
    if len(cumulative) > 2 * buckets:
        runs = np.array_split(keep, buckets)
        chosen = {int(run[np.argmin(cumulative[run])]) for run in runs}
        chosen |= {int(run[np.argmax(cumulative[run])]) for run in runs}
        keep = np.array(sorted(chosen | {len(cumulative) - 1}))
    times = closed_at.iloc[keep]  # only the points kept become datetimes
    return tuple(
        EquityPoint(at=at.to_pydatetime(), r=float(cumulative[i]))
        for at, i in zip(times, keep, strict=True)
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
