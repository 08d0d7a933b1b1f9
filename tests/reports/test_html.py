"""The weekly report as HTML: every section, figures as specified, user text as text,
one self-contained file."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from jinja2 import StrictUndefined, UndefinedError

from edgeledger.core.report_data import WeeklyReport
from reports.environment import environment
from reports.html import render_html
from tests.report_samples import empty_week, sample_week

SECTIONS = [
    "totals", "equity", "distribution", "edges-week", "edge-ranking", "edge-pairs",
    "confidence", "breakdowns", "trades", "suggestions", "recommendations", "data-quality",
]  # fmt: skip


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_week())


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and spaces folded, for reading figures."""
    html = re.sub(r"<(style|title|desc)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_section_of_the_issue_is_present(page: str) -> None:
    for section in SECTIONS:
        assert f'<section id="{section}">' in page


def test_the_weeks_totals_read_as_specified(page: str) -> None:
    text = text_of(page)
    assert "Win rate 57.1% 44.4% 50.2%" in text
    assert "Avg R +0.42R -0.12R +0.07R" in text
    assert "Total R +9.66R -2.28R +59.71R" in text
    assert "Signals 34 28 1,234" in text


def test_edge_rows_show_n_intervals_and_verdict(page: str) -> None:
    text = text_of(page)
    assert (
        "1 Opening range breakout 212 121–85 58.7% 38.7–78.7% +0.31R +0.01R to +0.61R "
        "+65.72R +0.27R better"
    ) in text
    assert "– Earnings drift 7 4–3 57.1%" in text and "not enough data" in text


def test_confidence_trades_findings_and_notes_are_drawn(page: str) -> None:
    text = text_of(page)
    assert "5★ 101 52.0% 42.0–62.0% +0.09R" in text
    assert "NVDA day · long · T-1042 +2.50R Tue Nov 24, 14:05 EST" in text
    assert "Consider removing edge Gap fill" in text
    assert "win rate 31.0%" in text and "avg r -0.42R" in text and "n 24" in text
    assert "Not triggered: 11 of 34 signals (32.4%)." in text
    assert "Day 15 60.0% +0.51R +7.65R" in text


def test_markup_in_edge_names_rationale_and_notes_shows_as_text(page: str) -> None:
    assert "<script>" not in page and "<b>VWAP" not in page and "<XYZ>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;VWAP&lt;/b&gt; &amp; reclaim" in page
    assert "&lt;XYZ&gt;" in page
    assert text_of(page).count("&lt;b&gt;VWAP") >= 4  # weekly, ranking, pairs, trades


def test_the_page_is_one_self_contained_file(page: str) -> None:
    assert not re.search(r"<(script|link|iframe|img)\b", page)
    assert not re.search(r"(src|href)\s*=|url\(|@import|https?://", page)
    assert page.count("<svg") == 4  # equity this week, all time, what-if; R distribution
    assert len(page.encode()) < 1024 * 1024  # well under 10 MiB


def test_an_empty_week_says_so_plainly() -> None:
    page = render_html(empty_week())
    assert "No signals were logged and no trades closed this week." in page
    assert "No closed trades in this period." in page
    for section in SECTIONS:
        assert f'<section id="{section}">' in page


def test_a_full_week_does_not_claim_to_be_empty(page: str) -> None:
    assert "No signals were logged" not in page


def test_the_shared_environment_autoescapes_and_is_strict() -> None:
    env = environment()
    assert env is environment()
    assert env.autoescape is True and env.undefined is StrictUndefined
    with pytest.raises(UndefinedError):
        env.from_string("{{ report.no_such_field }}").render(report=sample_week())


def test_a_huge_week_stays_well_under_ten_mebibytes() -> None:
    report = sample_week()
    many = report.edge_ranking * 200
    big = replace(report, edge_ranking=many, equity_curve=replace(
        report.equity_curve, all_time=report.equity_curve.all_time * 50))  # fmt: skip
    assert len(render_html(big).encode()) < 10 * 1024 * 1024 // 2


def test_a_stored_report_draws_the_same_page_as_the_one_built() -> None:
    report = sample_week()
    stored = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert render_html(WeeklyReport.from_json(stored)) == render_html(report)


def test_the_what_if_chart_names_each_edge_left_out_as_text() -> None:
    report = sample_week()
    marked = replace(report.what_if[0], edge="<b>Gap</b> fill")
    html = render_html(replace(report, what_if=(marked, *report.what_if[1:])))
    assert "without &lt;b&gt;Gap&lt;/b&gt; fill: +" in html  # the legend, escaped
    assert "<b>Gap</b>" not in html
