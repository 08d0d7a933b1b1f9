"""Bars from CSV files on disk: `{price_dir}/{interval}/{TICKER}.csv`.

For backtests, offline runs and data bought elsewhere. Each file has the header
`timestamp,open,high,low,close,volume`; timestamps are ISO 8601 bar starts, with an
offset or Z, and a timestamp without one is UTC (never the machine's local zone,
so a file means the same thing on every computer). A missing file is an error naming
the path (TickerNotFound: for the primary interval its signals wait for prices; for
finer bars it means there are none).

Intraday rows are used as written: no restamping and no session filter. A daily row
names the date written at the start of its timestamp ("2024-01-02",
"2024-01-02T00:00:00Z", "2024-01-02T09:00:00+09:00" all name 2 January), which the
outcome rules read as that date's session of the instrument's market.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from edgeledger.clock import utc_now
from edgeledger.prices.base import raw_bars
from edgeledger.prices.errors import BadResponse, TickerNotFound
from edgeledger.prices.provider import BarProvider, Clock

HEADER = ("timestamp", "open", "high", "low", "close", "volume")


class CsvDirProvider(BarProvider):
    """Reads one file per ticker and interval; the request window is cut after reading."""

    name = "csv"
    daily_tz = "UTC"  # daily rows are restamped at midnight UTC of their written date first
    filters_sessions = False

    def __init__(self, price_dir: Path | str, *, clock: Clock = utc_now) -> None:
        super().__init__(clock=clock)
        self.price_dir = Path(price_dir)

    def path_for(self, ticker: str, interval: str) -> Path:
        """Where the bars of a ticker live: BTC/USD is stored as BTC-USD.csv."""
        stem = ticker.upper().replace("/", "-")
        if not stem or stem.startswith(".") or "\\" in stem:
            raise TickerNotFound(self.name, ticker, "is not a usable file name")
        return self.price_dir / interval / f"{stem}.csv"

    def fetch_window(
        self, ticker: str, interval: str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        path = self.path_for(ticker, interval)
        if not path.is_file():
            raise TickerNotFound(self.name, ticker, f"not found: no file {path}")
        try:
            table = pd.read_csv(path, dtype=str, skipinitialspace=True)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise BadResponse(self.name, ticker, f"cannot read {path}: {exc}") from None
        except pd.errors.EmptyDataError:
            raise BadResponse(self.name, ticker, f"{path} is empty (no header)") from None
        missing = [c for c in HEADER if c not in table.columns]
        if missing:
            raise BadResponse(self.name, ticker, f"{path} lacks columns {', '.join(missing)}")
        starts = _parse_timestamps(table["timestamp"], path, ticker)
        if interval == "1d":
            starts = _written_dates(table["timestamp"], starts)
        return raw_bars(starts, {c: table[c] for c in HEADER[1:]})


def _written_dates(values: pd.Series, starts: pd.Series) -> pd.Series:
    """Midnight UTC of the date each daily row's timestamp is written with (its UTC date
    where the text does not start with a date)."""
    text = values.astype(str).str.strip().str[:10]
    written = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce", utc=True)
    return written.fillna(starts.dt.floor("D"))


def _parse_timestamps(values: pd.Series, path: Path, ticker: str) -> pd.Series:
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        pass
    for offset, value in enumerate(values):  # find the line to name
        try:
            pd.to_datetime(value, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            line = offset + 2  # 1-based, after the header
            raise BadResponse(
                "csv", ticker, f"{path} line {line}: timestamp {value!r} is not ISO 8601"
            ) from None
    raise BadResponse("csv", ticker, f"{path}: timestamps could not be read")
