"""CSV price directory: {price_dir}/{interval}/{TICKER}.csv."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from edgeledger.prices.csv_dir import CsvDirProvider
from edgeledger.prices.errors import BadResponse, TickerNotFound

HEADER = "timestamp,open,high,low,close,volume\n"
MONDAY = (datetime(2025, 2, 3, tzinfo=UTC), datetime(2025, 2, 4, tzinfo=UTC))


def write(root: Path, interval: str, ticker: str, body: str) -> Path:
    path = root / interval / f"{ticker}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + body)
    return path


def test_bars_are_read_and_offsets_converted_to_utc(tmp_path: Path) -> None:
    write(tmp_path, "5m", "AAPL", "2025-02-03T09:30:00-05:00,230,231,229,230.5,1000\n")
    bars = CsvDirProvider(tmp_path).fetch_bars("AAPL", "5m", *MONDAY)
    assert bars.to_dict("records") == [
        {
            "start": pd.Timestamp("2025-02-03 14:30", tz="UTC"),
            "open": 230.0,
            "high": 231.0,
            "low": 229.0,
            "close": 230.5,
            "volume": 1000.0,
        }
    ]


def test_timestamps_without_an_offset_are_utc(tmp_path: Path) -> None:
    write(tmp_path, "5m", "AAPL", "2025-02-03 14:35:00,230,231,229,230.5,1000\n")
    bars = CsvDirProvider(tmp_path).fetch_bars("AAPL", "5m", *MONDAY)
    assert list(bars["start"]) == [pd.Timestamp("2025-02-03 14:35", tz="UTC")]


def test_lowercase_ticker_reads_the_uppercase_file(tmp_path: Path) -> None:
    write(tmp_path, "5m", "AAPL", "2025-02-03T14:30:00Z,230,231,229,230.5,1000\n")
    assert len(CsvDirProvider(tmp_path).fetch_bars("aapl", "5m", *MONDAY)) == 1


def test_a_daily_row_is_stored_as_the_date_it_names(tmp_path: Path) -> None:
    write(tmp_path, "1d", "AAPL", "2025-02-03,230,231,229,230.5,1000\n")
    bars = CsvDirProvider(tmp_path).fetch_bars("AAPL", "1d", *MONDAY)
    assert list(bars["start"]) == [pd.Timestamp("2025-02-03", tz="UTC")]


@pytest.mark.parametrize(
    "stamp", ["2025-02-03", "2025-02-03T00:00:00Z", "2025-02-03T09:00:00+09:00", "2025-02-03T16:00"]
)
def test_a_daily_row_names_the_date_written_whatever_its_time_of_day(
    tmp_path: Path, stamp: str
) -> None:
    write(tmp_path, "1d", "7203.T", f"{stamp},230,231,229,230.5,1000\n")
    bars = CsvDirProvider(tmp_path).fetch_bars("7203.T", "1d", *MONDAY)
    assert list(bars["start"]) == [pd.Timestamp("2025-02-03", tz="UTC")]


def test_intraday_rows_are_used_as_written_outside_any_session(tmp_path: Path) -> None:
    rows = "2025-02-03T12:00:00Z,230,231,229,230.5,1000\n2025-02-03T22:00:00Z,230,231,229,230,1\n"
    write(tmp_path, "1h", "AAPL", rows)
    bars = CsvDirProvider(tmp_path).fetch_bars("AAPL", "1h", *MONDAY)
    assert list(bars["start"]) == [
        pd.Timestamp("2025-02-03 12:00", tz="UTC"),
        pd.Timestamp("2025-02-03 22:00", tz="UTC"),
    ]


def test_missing_file_is_an_error_naming_the_path(tmp_path: Path) -> None:
    expected = tmp_path / "5m" / "AAPLL.csv"
    with pytest.raises(
        TickerNotFound, match=re.escape(f"csv: AAPLL not found: no file {expected}")
    ):
        CsvDirProvider(tmp_path).fetch_bars("AAPLL", "5m", *MONDAY)


def test_missing_column_is_a_bad_response(tmp_path: Path) -> None:
    path = tmp_path / "5m" / "AAPL.csv"
    path.parent.mkdir()
    path.write_text("timestamp,open,high,low,close\n2025-02-03T14:30:00Z,1,2,0.5,1.5\n")
    with pytest.raises(BadResponse, match="lacks columns volume"):
        CsvDirProvider(tmp_path).fetch_bars("AAPL", "5m", *MONDAY)


def test_unreadable_timestamp_names_its_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "5m",
        "AAPL",
        "2025-02-03T14:30:00Z,230,231,229,230.5,1000\nyesterday,230,231,229,230.5,1000\n",
    )
    with pytest.raises(BadResponse, match="line 3: timestamp 'yesterday' is not ISO 8601"):
        CsvDirProvider(tmp_path).fetch_bars("AAPL", "5m", *MONDAY)


def test_bad_rows_are_dropped_with_their_reason(tmp_path: Path) -> None:
    write(
        tmp_path,
        "5m",
        "AAPL",
        "2025-02-03T14:30:00Z,230,231,229,230.5,1000\n2025-02-03T14:35:00Z,230,228,229,230,1000\n",
    )
    result = CsvDirProvider(tmp_path).fetch("AAPL", "5m", *MONDAY)
    assert len(result.bars) == 1
    assert [d.reason for d in result.dropped] == ["high below low"]


def test_slash_tickers_are_stored_with_a_dash(tmp_path: Path) -> None:
    assert CsvDirProvider(tmp_path).path_for("BTC/USD", "1h") == tmp_path / "1h" / "BTC-USD.csv"
