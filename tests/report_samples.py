"""Hand-built weekly reports for the renderers' tests: a realistic week and an empty one.

The figures are literal (no statistics are computed here), chosen so that each one reads
distinctly once formatted (57.1%, +0.42R, 1,234 ...). Some user text holds markup, as a
rationale or an edge name may.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

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

WEEK_START = date(2026, 11, 23)
WEEK_END = date(2026, 11, 29)
GENERATED_AT = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 08:00 in New York

MARKUP_EDGE = "<b>VWAP</b> & reclaim"
MARKUP_RATIONALE = "<script>alert('x')</script> held the <i>open</i> @everyone"


def edge(
    name: str,
    n: int,
    wins: int,
    losses: int,
    avg_r: float,
    *,
    rank: int | None,
    verdict: str = "not yet distinguishable from luck",
    lift: float | None = 0.1,
) -> EdgeRow:
    decided = wins + losses
    rate = wins / decided if decided else None
    return EdgeRow(
        name=name,
        n=n,
        wins=wins,
        losses=losses,
        win_rate=rate,
        win_rate_lo=None if rate is None else max(0.0, rate - 0.2),
        win_rate_hi=None if rate is None else min(1.0, rate + 0.2),
        avg_r=avg_r,
        avg_r_lo=avg_r - 0.3,
        avg_r_hi=avg_r + 0.3,
        total_r=avg_r * n,
        lift=lift,
        verdict=verdict if rank is not None else "not enough data",
        ranked=rank is not None,
        rank=rank,
    )


def _curve(start: datetime, steps: list[float]) -> list[EquityPoint]:
    total, points = 0.0, []
    for i, step in enumerate(steps):
        total += step
        points.append(EquityPoint(at=start + timedelta(hours=7 * i + 1), r=round(total, 4)))
    return points


def sample_week() -> WeeklyReport:
    """A week of 23 closed trades: 12 wins, 9 losses, 2 expired, +9.66R."""
    week_start_utc = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    week_steps = [
        1.5,
        -1,
        2,
        -1,
        0.8,
        1.2,
        -1,
        -1,
        2.5,
        0.4,
        -1,
        1.1,
        2,
        -1,
        0.9,
        -1,
        1.6,
        2.2,
        -1,
        0.62,
        1.0,
        0.1,  # expired
        -0.26,  # expired
    ]
    all_steps = [0.5, -1, 1.2, 2, -1, -1, 0.3] * 30
    return WeeklyReport(
        week_start=WEEK_START,
        week_end=WEEK_END,
        generated_at=GENERATED_AT,
        empty=False,
        totals=Totals(
            this_week=PeriodTotals("This week", 34, 23, 12, 9, 2, 23, 12 / 21, 0.42, 9.66),
            previous_week=PeriodTotals("Previous week", 28, 19, 8, 10, 1, 19, 8 / 18, -0.12, -2.28),
            all_time=PeriodTotals(
                "All time", 1234, 870, 402, 398, 41, 841, 402 / 800, 0.071, 59.71
            ),
        ),
        equity_curve=EquityCurves(
            week=_curve(week_start_utc, week_steps),
            all_time=_curve(datetime(2026, 9, 28, 14, 30, tzinfo=UTC), all_steps),
        ),
        r_distribution=[
            RBin(-1.5, -1.0, 9),
            RBin(-1.0, -0.5, 0),
            RBin(-0.5, 0.0, 2),
            RBin(0.0, 0.5, 1),
            RBin(0.5, 1.0, 3),
            RBin(1.0, 1.5, 3),
            RBin(1.5, 2.0, 1),
            RBin(2.0, 2.5, 4),
        ],
        best_edges=[
            edge("Opening range breakout", 6, 5, 1, 1.12, rank=1),
            edge(MARKUP_EDGE, 5, 4, 1, 0.95, rank=2),
        ],
        worst_edges=[
            edge("Gap fill", 4, 1, 3, -0.55, rank=None),
            edge("Bull flag", 5, 2, 3, -0.21, rank=None),
        ],
        edge_ranking=[
            edge("Opening range breakout", 212, 121, 85, 0.31, rank=1, verdict="better", lift=0.27),
            edge(MARKUP_EDGE, 143, 74, 66, 0.12, rank=2),
            edge("Bull flag", 98, 44, 50, -0.05, rank=3),
            edge("Gap fill", 61, 19, 40, -0.42, rank=4, verdict="worse", lift=-0.51),
            edge("Earnings drift", 7, 4, 3, 0.3, rank=None),
        ],
        edge_pairs=[
            edge(f"Opening range breakout + {MARKUP_EDGE}", 44, 27, 16, 0.38, rank=1),
            edge("Bull flag + Gap fill", 9, 3, 6, -0.4, rank=None),
        ],
        confidence=Confidence(
            rows=[
                ConfidenceRow(s, n, wr, wr - 0.1, wr + 0.1, ar)
                for s, n, wr, ar in [
                    (1, 40, 0.41, -0.2),
                    (2, 120, 0.46, -0.05),
                    (3, 300, 0.5, 0.04),
                    (4, 280, 0.53, 0.11),
                    (5, 101, 0.52, 0.09),
                ]
            ],
            verdict="Higher stars did somewhat better (Spearman 0.21), but the 4- and 5-star "
            "intervals overlap: 5 stars are not yet distinguishable from 4.",
        ),
        breakdowns=Breakdowns(
            by_type=[
                BreakdownRow("Day", 15, 0.6, 0.51, 7.65),
                BreakdownRow("Swing", 8, 0.5, 0.25, 2.01),
            ],
            by_direction=[
                BreakdownRow("Long", 17, 0.625, 0.55, 9.35),
                BreakdownRow("Short", 6, 0.4, 0.05, 0.31),
            ],
        ),
        top_trades=[
            TradeRow(
                "T-1042",
                "NVDA",
                "day",
                "long",
                ("Opening range breakout",),
                2.5,
                datetime(2026, 11, 24, 19, 5, tzinfo=UTC),
                "Broke the OR high on volume.",
            ),
            TradeRow(
                "T-1051",
                "AMD",
                "swing",
                "long",
                (MARKUP_EDGE, "Bull flag"),
                2.2,
                datetime(2026, 11, 27, 15, 40, tzinfo=UTC),
                MARKUP_RATIONALE,
            ),
            TradeRow(
                "T-1047",
                "TSLA",
                "day",
                "short",
                ("Gap fill",),
                2.0,
                datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
                "Faded the gap into resistance.",
            ),
        ],
        bottom_trades=[
            TradeRow(
                "T-1044",
                "META",
                "day",
                "long",
                ("Bull flag",),
                -1.0,
                datetime(2026, 11, 24, 20, 55, tzinfo=UTC),
                "Flag failed at VWAP.",
            ),
            TradeRow(
                "T-1049",
                "AAPL",
                "swing",
                "short",
                ("Gap fill", "Earnings drift"),
                -1.0,
                datetime(2026, 11, 26, 18, 20, tzinfo=UTC),
                "Stopped on the squeeze.",
            ),
            TradeRow(
                "T-1053",
                "SPY",
                "day",
                "long",
                (),
                -1.0,
                datetime(2026, 11, 28, 17, 10, tzinfo=UTC),
                "",
            ),
        ],
        suggestions=[
            Finding(
                "4 of 9 losses first reached +1R: consider moving the stop to break-even at +1R.",
                {"losses": 9, "reached_1r": 4, "share": 0.444},
            ),
            Finding("Winners ran a median +0.80R past target 1.", {"median_run_r": 0.8, "n": 12}),
        ],
        recommendations=[
            Finding(
                "Consider removing edge Gap fill: 31% win rate, -0.42R over 24 trades (30 days)",
                {
                    "edge": "Gap fill",
                    "win_rate": 0.31,
                    "avg_r": -0.42,
                    "n": 24,
                    "window": "30d",
                    "profit_factor": 0.61,
                },
            ),
            Finding(
                "Review confidence scoring: 5-star trades did no better than 3-star",
                {"win_rate_5": 0.52, "win_rate_3": 0.5},
            ),
        ],
        data_quality=[
            "2 ambiguous outcomes (the bars could not order stop and target).",
            "Prices failed for 1 ticker: <XYZ>.",
            "3 bars dropped as invalid.",
            "Not triggered: 11 of 34 signals (32.4%).",
            "1 signal without price data (no_data) counts in no statistic.",
            "1 outcome set by hand (manual).",
        ],
        what_if=[
            WhatIfRow(
                "Gap fill",
                61,
                59.71,
                68.91,
                0.07,
                0.12,
                14.5,
                11.0,
                curve=tuple(
                    _curve(
                        datetime(2026, 9, 28, 14, 30, tzinfo=UTC),
                        [0.5, -0.4, 1.2, 2, -1, -0.6, 0.3] * 30,
                    )
                ),
            ),
            WhatIfRow(
                "Bull flag",
                98,
                59.71,
                64.61,
                0.07,
                0.08,
                14.5,
                12.25,
                curve=tuple(
                    _curve(
                        datetime(2026, 9, 28, 14, 30, tzinfo=UTC),
                        [0.5, -1, 1.2, 1.5, -1, -0.5, 0.3] * 30,
                    )
                ),
            ),
        ],
        live_vs_backtest=[
            LiveBacktestRow("edge", "Opening range breakout", 212, 0.587, 0.31, 1840, 0.61, 0.36),
            LiveBacktestRow("strategy", "momo-v2", 530, 0.52, 0.11, 4120, 0.58, 0.22),
        ],
    )


def empty_week() -> WeeklyReport:
    """A week in which nothing was logged or closed; all-time figures remain."""
    zero = PeriodTotals("This week", 0, 0, 0, 0, 0, 0, None, None, 0.0)
    full = sample_week()
    return replace(
        full,
        empty=True,
        totals=replace(full.totals, this_week=zero),
        equity_curve=EquityCurves(week=(), all_time=full.equity_curve.all_time),
        r_distribution=(),
        best_edges=(),
        worst_edges=(),
        top_trades=(),
        bottom_trades=(),
        suggestions=(),
        recommendations=(),
        data_quality=(),
        breakdowns=Breakdowns(by_type=(), by_direction=()),
    )
