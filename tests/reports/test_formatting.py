"""How figures read: one way for each kind of number, everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports import formatting


@pytest.mark.parametrize(
    ("rate", "text"), [(0.5714, "57.1%"), (0.0, "0.0%"), (1.0, "100.0%"), (None, "–")]
)
def test_a_win_rate_reads_as_a_percentage_with_one_decimal(rate, text) -> None:
    assert formatting.pct(rate) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.42, "+0.42R"), (-1.0, "-1.00R"), (0.0, "0.00R"), (-0.001, "0.00R"), (12.345, "+12.35R"),
     (None, "–"), (float("inf"), "+∞R")],
)  # fmt: skip
def test_r_reads_with_its_sign_and_two_decimals(value, text) -> None:
    assert formatting.r(value) == text


def test_counts_have_thousands_separators() -> None:
    assert formatting.count(1234567) == "1,234,567"
    assert formatting.count(None) == "–"


def test_intervals_read_without_a_dash_that_looks_like_a_minus() -> None:
    assert formatting.pct_range(0.41, 0.702) == "41.0–70.2%"
    assert formatting.r_range(-0.1, 0.52) == "-0.10R to +0.52R"
    assert formatting.r_range(None, 0.5) == "–"


def test_times_read_in_the_reports_timezone() -> None:
    at = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    assert formatting.when(at, "America/New_York") == "Mon Nov 30, 08:00 EST"


def test_a_week_spanning_new_year_names_both_years() -> None:
    assert formatting.week_span(date(2026, 12, 28), date(2027, 1, 3)) == (
        "Dec 28, 2026 – Jan 03, 2027"
    )


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [("win_rate", 0.31, "31.0%"), ("share", 0.444, "44.4%"), ("avg_r", -0.42, "-0.42R"),
     ("n", 1200, "1,200"), ("profit_factor", 0.612, "0.61"), ("window", "30d", "30d"),
     ("profit_factor", float("inf"), "∞")],
)  # fmt: skip
def test_a_findings_figure_reads_by_its_name(name, value, text) -> None:
    assert formatting.figure(name, value) == text
