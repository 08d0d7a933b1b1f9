"""The charts: small accessible SVG for the HTML, a PNG for Discord."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from edgeledger.core.report_data import EquityPoint, RBin
from reports import charts
from tests.report_samples import sample_week

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_equity_svg_has_a_title_and_a_description_that_reads_the_curve() -> None:
    svg = charts.equity_svg(
        sample_week().equity_curve.week, chart_id="eq", title="Equity", timezone="UTC"
    )
    assert 'role="img"' in svg and 'aria-labelledby="eq-title eq-desc"' in svg
    assert '<title id="eq-title">Equity</title>' in svg
    assert "over 23 closed trades" in svg and "ends at +9.66R" in svg


def test_the_equity_line_starts_at_zero_and_has_a_point_per_trade() -> None:
    points = [EquityPoint(datetime(2026, 11, 23, 15, tzinfo=UTC), 1.0),
              EquityPoint(datetime(2026, 11, 24, 15, tzinfo=UTC), 0.0)]  # fmt: skip
    svg = charts.equity_svg(points, chart_id="eq", title="t", timezone="UTC")
    coords = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(coords) == 3
    assert coords[0].split(",")[1] == coords[2].split(",")[1]  # 0 before, 0 after


def test_trades_closed_at_one_moment_are_spread_not_stacked() -> None:
    at = datetime(2026, 11, 23, 15, tzinfo=UTC)
    svg = charts.equity_svg([EquityPoint(at, 1), EquityPoint(at, 2)], chart_id="e", title="t",
                            timezone="UTC")  # fmt: skip
    xs = [c.split(",")[0] for c in re.search(r'points="([^"]+)"', svg).group(1).split()]
    assert len(set(xs)) == 3


def test_the_r_distribution_draws_a_bar_per_bin_with_its_count() -> None:
    svg = charts.r_distribution_svg(sample_week().r_distribution, chart_id="r", title="R")
    assert svg.count("<rect") == 8
    assert "-1.50R to -1.00R: 9" in svg


def test_chart_text_is_escaped() -> None:
    svg = charts.r_distribution_svg([RBin(0, 1, 1)], chart_id='x"><script>', title="<b>R</b>")
    assert "<script>" not in svg and "<b>" not in svg


def test_an_empty_chart_says_there_is_nothing_to_draw() -> None:
    svg = charts.equity_svg([], chart_id="e", title="t", timezone="UTC")
    assert "No closed trades in this period." in svg and "<polyline" not in svg


def test_the_equity_png_is_a_small_png_even_when_empty() -> None:
    week = sample_week().equity_curve.week
    for points in (week, ()):
        png = charts.equity_png(points, title="Cumulative R", timezone="America/New_York")
        assert png.startswith(PNG_MAGIC) and len(png) < 200_000
