"""The weekly report as one self-contained HTML file: inline CSS, inline SVG charts, no
script and no network, so it opens anywhere, offline, on a phone (quantstats' single-file
tearsheet is the model). It draws a WeeklyReport; it computes no statistic."""

from __future__ import annotations

from edgeledger.core.report_data import WeeklyReport
from reports import charts
from reports.environment import environment

TEMPLATE = "weekly.html"


def render_html(report: WeeklyReport) -> str:
    """The report's HTML page. Every user text (edge names, rationale, notes) is escaped by
    the environment's autoescape; the charts are Markup drawn from the same report."""
    chart_svgs = {
        "equity_week": charts.equity_svg(
            report.equity_curve.week,
            chart_id="equity-week",
            title="Equity curve this week (cumulative R)",
            timezone=report.timezone,
        ),
        "equity_all": charts.equity_svg(
            report.equity_curve.all_time,
            chart_id="equity-all",
            title="Equity curve all time (cumulative R)",
            timezone=report.timezone,
        ),
        "equity_what_if": charts.equity_svg(
            report.equity_curve.all_time,
            chart_id="equity-what-if",
            title="Equity curve all time, and without each of the worst-ranked edges",
            timezone=report.timezone,
            others=[(f"without {w.edge}", w.curve) for w in report.what_if],
        ),
        "r_distribution": charts.r_distribution_svg(
            report.r_distribution,
            chart_id="r-distribution",
            title="R distribution of this week's closed trades",
        ),
    }
    return environment().get_template(TEMPLATE).render(report=report, charts=chart_svgs)
