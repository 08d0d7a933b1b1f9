"""The weekly report in a terminal: its headline figures and best edges as plain lines.

A renderer like the HTML and the Discord summary: it draws a WeeklyReport and computes
nothing (the demo prints it; so may any command that wants the gist).
"""

from __future__ import annotations

from edgeledger.core.report_data import EdgeRow, PeriodTotals, WeeklyReport
from reports import formatting

TOP_EDGES = 3


def headline(report: WeeklyReport) -> list[str]:
    """The week, the week before and all time, a line each; the best ranked edges of all
    time with n, intervals and verdict; the stars' verdict; how many recommendations."""
    lines = [
        f"Weekly report, {report.week_start:%b %d} to {report.week_end:%b %d, %Y}"
        + (" (nothing was logged or closed this week)" if report.empty else ""),
    ]
    totals = report.totals
    for period in (totals.this_week, totals.previous_week, totals.all_time):
        lines.append("  " + _totals(period))
    ranked = [edge for edge in report.edge_ranking if edge.ranked][:TOP_EDGES]
    if ranked:
        lines.append("Best edges, all time (ranked by a score that shrinks small samples):")
        lines += ["  " + _edge(edge) for edge in ranked]
    else:
        lines.append(f"No edge has {report.min_sample} closed trades yet: none is ranked.")
    lines.append(f"Stars: {report.confidence.verdict}")
    if report.recommendations:
        lines.append(f"{formatting.count(len(report.recommendations))} recommendation(s):")
        lines += [f"  - {finding.text}" for finding in report.recommendations]
    return lines


def _totals(period: PeriodTotals) -> str:
    return (
        f"{period.label + ':':<15}{formatting.count(period.signals):>6} signals,"
        f" {formatting.count(period.n_closed):>5} closed, win rate"
        f" {formatting.pct(period.win_rate):>6}, avg {formatting.r(period.avg_r):>7},"
        f" total {formatting.r(period.total_r):>8}"
    )


def _edge(edge: EdgeRow) -> str:
    win_rates = formatting.pct_range(edge.win_rate_lo, edge.win_rate_hi)
    avg_rs = formatting.r_range(edge.avg_r_lo, edge.avg_r_hi)
    return (
        f"{edge.rank}. {edge.name}: n {formatting.count(edge.n)}, win rate"
        f" {formatting.pct(edge.win_rate)} ({win_rates}), avg {formatting.r(edge.avg_r)}"
        f" ({avg_rs}): {edge.verdict}"
    )
