"""Yahoo Finance chart v8: free and keyless, with strict lookback limits per interval.

Yahoo keeps 1m bars for 30 days and serves at most 7 days of them per request, keeps
5m-30m bars for 60 days and 1h bars for 730 days. We split and refuse here, before a
request, so the job gets a clear RangeNotAvailable instead of a 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from edgeledger.clock import utc_now
from edgeledger.prices.base import Window, empty_bars, raw_bars, split_span
from edgeledger.prices.clean import epoch_starts
from edgeledger.prices.errors import (
    BadResponse,
    NotAuthorized,
    RangeNotAvailable,
    TickerNotFound,
)
from edgeledger.prices.http import HttpClient, json_or_none, read_json
from edgeledger.prices.provider import BarProvider, Clock

DEFAULT_URL = "https://query2.finance.yahoo.com"

# How far back Yahoo keeps each interval, and the longest span one request may cover.
LOOKBACK: dict[str, timedelta | None] = {
    "1m": timedelta(days=30),
    "5m": timedelta(days=60),
    "15m": timedelta(days=60),
    "30m": timedelta(days=60),
    "1h": timedelta(days=730),
    "1d": None,
}
MAX_SPAN: dict[str, timedelta | None] = {"1m": timedelta(days=7)}
# Epoch seconds past this (the year 2255) go through pandas, as they always did.
MAX_EPOCH_SECONDS = 9_000_000_000


def chart_query(start: datetime, end: datetime, interval: str) -> dict[str, str | int]:
    """The query of a chart v8 request for bars of [start, end)."""
    return {
        "period1": int(start.timestamp()),
        "period2": int(end.timestamp()),
        "interval": interval,
        "includePrePost": "false",
        "events": "div,splits",
    }


class YahooProvider(BarProvider):
    """Bars from query2.finance.yahoo.com/v8/finance/chart (regular session only)."""

    name = "yahoo"

    def __init__(
        self, http: HttpClient, *, base_url: str = DEFAULT_URL, clock: Clock = utc_now
    ) -> None:
        super().__init__(clock=clock)
        self.http = http
        self.base_url = base_url.rstrip("/")

    def earliest_start(self, interval: str, now: datetime) -> datetime | None:
        """The oldest bar start Yahoo will serve for this interval (None: no limit)."""
        lookback = LOOKBACK[interval]
        return None if lookback is None else now - lookback

    def split(
        self, ticker: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Window]:
        earliest = self.earliest_start(interval, now)
        if earliest is not None and start < earliest:
            raise RangeNotAvailable(
                self.name,
                ticker,
                f"{interval} bars are kept for the last {(now - earliest).days} days only: "
                f"asked from {start:%Y-%m-%d %H:%M}Z, earliest is {earliest:%Y-%m-%d %H:%M}Z",
            )
        step = MAX_SPAN.get(interval)
        return [(start, end)] if step is None else split_span(start, end, step)

    def daily_zone(self, market: str, quote: Mapping[str, Any] | None) -> str:
        """Yahoo stamps a day at the session open in the exchange's own zone."""
        zone = (quote or {}).get("exchangeTimezoneName")
        if zone:
            try:
                ZoneInfo(zone)
            except (ValueError, ZoneInfoNotFoundError):
                return self.daily_tz
            return zone
        return self.daily_tz

    def fetch_window(
        self, ticker: str, interval: str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        url = f"{self.base_url}/v8/finance/chart/{quote(ticker, safe='')}"
        response = self.http.get(url, ticker=ticker, params=chart_query(start, end, interval))
        if response.status_code != 200:
            raise self._error(ticker, response.status_code, json_or_none(response))
        return parse_chart(read_json(response, self.name, ticker), ticker)

    def _error(self, ticker: str, status: int, body: Any) -> Exception:
        description = _error_description(body)
        if status == 404:
            return TickerNotFound(self.name, ticker, f"not found (404: {description})")
        if status == 422:
            return RangeNotAvailable(self.name, ticker, f"range not available (422: {description})")
        if status in (401, 403):  # e.g. "Invalid Crumb" if Yahoo starts demanding a cookie
            return NotAuthorized(self.name, ticker, f"refused by Yahoo ({status}: {description})")
        return BadResponse(self.name, ticker, f"request refused (HTTP {status}: {description})")


def parse_chart(body: Any, ticker: str) -> pd.DataFrame:
    """Raw rows from a chart v8 body; a window without data has no `timestamp` key."""
    try:
        chart = body["chart"]
        if chart.get("error"):
            raise TickerNotFound("yahoo", ticker, f"not found ({_error_description(body)})")
        result = chart["result"][0]
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BadResponse("yahoo", ticker, f"sent a chart without a result ({exc!r})") from None
    stamps = result.get("timestamp")
    if not stamps:
        frame = empty_bars()
        frame.attrs["quote"] = _quote(result)
        return frame
    try:
        quote_ = result["indicators"]["quote"][0]
    except (KeyError, IndexError, TypeError):
        raise BadResponse("yahoo", ticker, "sent timestamps without quotes") from None
    for name in ("open", "high", "low", "close", "volume"):
        values = quote_.get(name)
        if values is not None and len(values) != len(stamps):
            raise BadResponse(
                "yahoo", ticker, f"sent {len(values)} {name} values for {len(stamps)} timestamps"
            )
    frame = raw_bars(_starts(stamps), quote_)
    frame.attrs["quote"] = _quote(result)
    return frame


def _quote(result: Any) -> dict[str, str]:
    """What the chart's `meta` says of the instrument: its type, exchange and zone."""
    meta = result.get("meta") if isinstance(result, dict) else None
    if not isinstance(meta, dict):
        return {}
    keys = ("instrumentType", "exchangeName", "exchangeTimezoneName")
    return {key: str(meta[key]) for key in keys if isinstance(meta.get(key), str)}


def _starts(stamps: list[Any]) -> pd.Series:
    """Bar starts from epoch seconds, as pd.to_datetime(unit="s", utc=True) reads them.

    Plain ints (what Yahoo sends) take a shortcut: pandas' parser cost more than the rest
    of the parse. Anything else goes through pandas; a stamp it cannot read becomes a
    BadStart, so that bar alone is dropped.
    """
    if set(map(type, stamps)) == {int}:
        try:
            seconds = np.array(stamps, dtype=np.int64)
        except OverflowError:
            seconds = None
        if seconds is not None and np.abs(seconds).max() <= MAX_EPOCH_SECONDS:
            micros = (seconds * 1_000_000).view("M8[us]")
            return pd.Series(pd.DatetimeIndex(micros).tz_localize("UTC"))
    return epoch_starts(stamps, "s", "int64")


def _error_description(body: Any) -> str:
    for envelope in ("chart", "finance"):
        try:
            return str(body[envelope]["error"]["description"])
        except (KeyError, TypeError):
            continue
    return "no description"
