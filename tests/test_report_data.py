"""The weekly report's data: stored as JSON, read back equal, immutable."""

from __future__ import annotations

import dataclasses
import json
from contextlib import nullcontext
from dataclasses import replace
from datetime import date, datetime

import pytest
from freezegun import freeze_time

from edgeledger.core import report_data
from edgeledger.core.report_data import SCHEMA_VERSION, Finding, WeeklyReport
from tests.report_samples import empty_week, sample_week


@pytest.mark.parametrize("build", [sample_week, empty_week])
def test_a_report_survives_a_trip_through_strict_json(build) -> None:
    report = build()
    text = json.dumps(report.to_json(), allow_nan=False)
    assert WeeklyReport.from_json(json.loads(text)) == report


def test_the_json_is_plain_data_with_a_schema_version() -> None:
    data = json.loads(json.dumps(sample_week().to_json()))
    assert data["schema"] == SCHEMA_VERSION
    assert data["week_start"] == "2026-11-23"
    assert data["generated_at"] == "2026-11-30T13:00:00+00:00"
    assert data["totals"]["this_week"]["wins"] == 12
    assert data["top_trades"][1]["edges"] == ["<b>VWAP</b> & reclaim", "Bull flag"]


def test_an_infinite_figure_is_stored_as_strict_json_and_read_back() -> None:
    report = replace(sample_week(), recommendations=(Finding("No loss yet", {"pf": float("inf")}),))
    text = json.dumps(report.to_json(), allow_nan=False)
    assert WeeklyReport.from_json(json.loads(text)).recommendations[0].figures["pf"] == float("inf")


def test_nan_is_refused_because_a_missing_figure_is_none() -> None:
    report = replace(sample_week(), recommendations=(Finding("?", {"x": float("nan")}),))
    with pytest.raises(ValueError, match="NaN"):
        report.to_json()


def test_a_naive_time_is_refused() -> None:
    report = replace(sample_week(), generated_at=datetime(2026, 11, 30, 8, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        report.to_json()


def test_a_report_of_another_schema_is_refused() -> None:
    data = sample_week().to_json() | {"schema": SCHEMA_VERSION + 1}
    with pytest.raises(ValueError, match="schema"):
        WeeklyReport.from_json(data)


def test_an_unknown_field_is_refused_rather_than_dropped() -> None:
    data = sample_week().to_json()
    data["totals"]["this_week"]["sharpe"] = 1.2
    with pytest.raises(ValueError, match="sharpe"):
        WeeklyReport.from_json(data)


def test_whole_numbers_read_back_as_floats_where_a_float_is_expected() -> None:
    data = sample_week().to_json()
    data["totals"]["this_week"]["total_r"] = 9  # as a database may hand back 9.0
    assert WeeklyReport.from_json(data).totals.this_week.total_r == 9.0
    assert isinstance(WeeklyReport.from_json(data).totals.this_week.total_r, float)


def test_the_report_is_immutable_and_lists_become_tuples() -> None:
    report = sample_week()
    assert isinstance(report.top_trades, tuple)
    assert isinstance(report.equity_curve.week, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.empty = True  # type: ignore[misc]


@pytest.mark.parametrize("frozen_first", [False, True])
def test_a_stored_report_reads_back_under_frozen_time_too(frozen_first) -> None:
    """The decoder's type hints are cached at first use, and freezegun swaps `date` and
    `datetime` while it runs: dates come back as dates whichever came first."""
    data = json.loads(json.dumps(sample_week().to_json()))
    report_data._HINTS.clear()
    reads = []
    for frozen in (frozen_first, not frozen_first):
        with freeze_time("2026-11-22 22:00:00") if frozen else nullcontext():
            reads.append(WeeklyReport.from_json(data))
    for read in reads:
        assert read == sample_week()
        assert isinstance(read.week_start, date) and isinstance(read.generated_at, datetime)
