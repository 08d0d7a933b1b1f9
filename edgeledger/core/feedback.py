"""Feedback decisions: the deterministic rules of docs/metrics.md ("Feedback rules"), per
edge and strategy, over the last 30 days of live trades.

A decision is a recommendation to people, never an action: it carries the rule names
that fired, the figures that made them fire and the rule version, so a sentence in a
report can be traced back to its numbers. Change a threshold here and bump RULE_VERSION.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from edgeledger.core.breakdown import metrics_by
from edgeledger.core.metrics import Metrics, capped_profit_factor
from edgeledger.core.trades import closed

RULE_VERSION = "2026-12-01"
"""The version of the rules below, stored with every decision."""

WINDOW_DAYS = 30
LOW_WIN_RATE = 0.40
PROFIT_FACTOR_FLOOR = 1.0
LOSING_STREAK = 5
DEVIATION_WARNING = 0.10  # live win rate this far (10 points) from backtest: warning
DEVIATION_CRITICAL = 0.20  # 20 points: critical

KEEP, MONITOR, DISABLE, REOPTIMIZE = "keep", "monitor", "disable", "re-optimize"
SCOPES = ("edge", "strategy")

_FINDING_WORDS = {
    "low_win_rate": "win rate below 40%",
    "unprofitable": "profit factor below 1",
    "losing_streak": "{streak} losses in a row",
    "live_vs_backtest": "live win rate {points:.0f} points off backtest",
}


@dataclass(frozen=True)
class Decision:
    """One decision about an edge or strategy. `findings` are rule names (low_win_rate,
    unprofitable, losing_streak, live_vs_backtest), `figures` the numbers behind them
    (JSON-safe: an infinite profit factor is stored as PROFIT_FACTOR_CAP)."""

    scope: str
    key: str
    action: str
    findings: tuple[str, ...]
    figures: dict[str, Any]
    rule_version: str
    as_of: datetime
    text: str


def feedback_decisions(
    live_30d: pd.DataFrame,
    backtest: pd.DataFrame,
    *,
    as_of: datetime,
    min_n: int = 10,
    window_metrics: Mapping[str, Mapping[str, Metrics]] | None = None,
) -> list[Decision]:
    """Decisions for each edge and strategy with at least `min_n` live trades closed in
    (as_of − 30 days, as_of], ordered by scope (edges first) and key. `live_30d`: counted
    live trades (a longer frame is cut to the window here); `backtest`: counted backtest
    trades, compared where the same scope has at least `min_n` closed ones.
    `window_metrics` (scope -> key -> the live metrics of that window, e.g. the 30-day rows
    of core.rolling) decides only those keys, from those figures, without measuring again."""
    end = pd.Timestamp(as_of)
    if end.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    live = closed(live_30d)
    live = live[
        (live["closed_at"] > end - timedelta(days=WINDOW_DAYS)) & (live["closed_at"] <= end)
    ]
    decisions = []
    for scope in SCOPES:
        reference = _by_group(backtest, scope)
        measured = (
            dict(window_metrics.get(scope, {}))
            if window_metrics is not None
            else _by_group(live, scope)
        )
        for key, metrics in sorted(measured.items()):
            if metrics.n >= min_n:
                test = reference.get(key)
                decisions.append(
                    decide(
                        scope,
                        key,
                        metrics,
                        test if test is not None and test.n >= min_n else None,
                        as_of=end.to_pydatetime(),
                    )
                )
    return decisions


def decide(
    scope: str, key: str, live: Metrics, backtest: Metrics | None, *, as_of: datetime
) -> Decision:
    """The rules applied to one scope's 30-day live metrics (and its backtest's)."""
    findings: list[str] = []
    figures: dict[str, Any] = {
        "window_days": WINDOW_DAYS,
        "n": live.n,
        "wins": live.wins,
        "losses": live.losses,
        "win_rate": live.win_rate,
        "avg_r": live.avg_r,
        "total_r": live.total_r,
        "profit_factor": capped_profit_factor(live.profit_factor),
        "current_streak": live.current_streak,
    }
    if live.win_rate is not None and live.win_rate < LOW_WIN_RATE:
        findings.append("low_win_rate")
    if live.profit_factor is not None and live.profit_factor < PROFIT_FACTOR_FLOOR:
        findings.append("unprofitable")
    if live.current_streak <= -LOSING_STREAK:
        findings.append("losing_streak")
    severity = None
    if backtest is not None and backtest.win_rate is not None and live.win_rate is not None:
        deviation = live.win_rate - backtest.win_rate
        figures.update(
            backtest_n=backtest.n, backtest_win_rate=backtest.win_rate, deviation=deviation
        )
        points = round(abs(deviation), 9)  # 0.8 - 0.7 is 0.10000000000000009: not > 10 points
        if points > DEVIATION_CRITICAL:
            severity = "critical"
        elif points > DEVIATION_WARNING:
            severity = "warning"
        if severity:
            findings.append("live_vs_backtest")
            figures["deviation_severity"] = severity
    if severity == "critical":
        action = REOPTIMIZE
    elif "losing_streak" in findings or {"unprofitable", "low_win_rate"} <= set(findings):
        action = DISABLE
    elif findings:
        action = MONITOR
    else:
        action = KEEP
    return Decision(
        scope=scope,
        key=key,
        action=action,
        findings=tuple(findings),
        figures=figures,
        rule_version=RULE_VERSION,
        as_of=as_of,
        text=_text(scope, key, action, findings, live, figures),
    )


def _by_group(trades: pd.DataFrame, scope: str) -> dict[str, Metrics]:
    table = metrics_by(trades, scope)
    return {
        str(row["group"]): Metrics.from_row(row)
        for _, row in table.iterrows()
        if row["group"] is not None
    }


def _text(
    scope: str, key: str, action: str, findings: list[str], live: Metrics, figures: dict
) -> str:
    """The decision worded for people, e.g. "Consider removing edge X: 31.0% win rate,
    -0.42R over 24 trades (30 days)"."""
    rate = "no win rate" if live.win_rate is None else f"{live.win_rate:.1%} win rate"
    summary = f"{rate}, {live.avg_r:+.2f}R over {live.n} trades ({WINDOW_DAYS} days)"
    reasons = "; ".join(
        _FINDING_WORDS[name].format(
            streak=-live.current_streak, points=abs(figures.get("deviation", 0.0)) * 100
        )
        for name in findings
    )
    if action == REOPTIMIZE:
        return (
            f"Re-optimize {scope} {key}: live win rate {live.win_rate:.1%} vs "
            f"{figures['backtest_win_rate']:.1%} in backtest over {live.n} trades "
            f"({WINDOW_DAYS} days)"
        )
    if action == DISABLE:
        verb = "Consider removing edge" if scope == "edge" else "Consider pausing strategy"
        streak = f"; {-live.current_streak} losses in a row" if "losing_streak" in findings else ""
        return f"{verb} {key}: {summary}{streak}"
    if action == MONITOR:
        return f"Monitor {scope} {key} ({reasons}): {summary}"
    return f"Keep {scope} {key}: {summary}"
