"""Polygon.io aggregates: one request per span, following `next_url` pages.

The free tier allows 5 calls a minute, so the HttpClient given here should carry a
RateLimiter (the factory builds one from EDGELEDGER_POLYGON_CALLS_PER_MINUTE). The key
travels in the Authorization header, never in a URL that could reach a log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd

from edgeledger.clock import utc_now
from edgeledger.core.markets import is_around_the_clock
from edgeledger.prices.base import columns_from_rows, empty_bars, is_24h, raw_bars
from edgeledger.prices.clean import epoch_starts
from edgeledger.prices.errors import BadResponse, NotAuthorized, TickerNotFound
from edgeledger.prices.http import HttpClient, json_or_none, read_json
from edgeledger.prices.provider import BarProvider, Clock

DEFAULT_URL = "https://api.polygon.io"
TIMESPAN: dict[str, tuple[int, str]] = {
    "1m": (1, "minute"),
    "5m": (5, "minute"),
    "15m": (15, "minute"),
    "30m": (30, "minute"),
    "1h": (1, "hour"),
    "1d": (1, "day"),
}
PAGE_LIMIT = 50_000
MAX_PAGES = 200


def polygon_ticker(ticker: str) -> str:
    """Polygon's symbol: X:BTCUSD for crypto, C:EURUSD for forex, equities unchanged."""
    t = ticker.upper()
    if t.endswith("=X"):
        return "C:" + t[:-2]
    if is_24h(t) and not t.endswith("=F"):
        return "X:" + t.replace("-", "").replace("/", "")
    return t


class PolygonProvider(BarProvider):
    """Bars from /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}."""

    name = "polygon"

    def __init__(
        self, http: HttpClient, *, api_key: str, base_url: str = DEFAULT_URL, clock: Clock = utc_now
    ) -> None:
        super().__init__(clock=clock)
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def daily_zone(self, market: str, quote: Mapping[str, Any] | None) -> str:
        """Days of stocks are stamped at midnight New York time, of crypto at midnight UTC."""
        return "UTC" if is_around_the_clock(market) else self.daily_tz

    def native_interval(self, ticker: str, interval: str) -> str:
        # Polygon's hours start at :00 and include pre-market; build 09:30-aligned hours.
        return "30m" if interval == "1h" and not is_24h(ticker) else interval

    def fetch_window(
        self, ticker: str, interval: str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        multiplier, timespan = TIMESPAN[interval]
        symbol = quote(polygon_ticker(ticker), safe=":")
        url = (
            f"{self.base_url}/v2/aggs/ticker/{symbol}/range/{multiplier}/{timespan}/"
            f"{_ms(start)}/{_ms(end)}"
        )
        params: dict[str, Any] | None = {"adjusted": "true", "sort": "asc", "limit": PAGE_LIMIT}
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get(url, ticker, params)
            rows.extend(body.get("results") or [])
            next_url = body.get("next_url")
            if not next_url:
                return parse_aggs(rows)
            self._check_next(next_url, seen, ticker)
            url, params = next_url, None
        raise BadResponse(self.name, ticker, f"kept paginating past {MAX_PAGES} pages")

    def _get(self, url: str, ticker: str, params: dict[str, Any] | None) -> dict[str, Any]:
        response = self.http.get(url, ticker=ticker, params=params, headers=self._headers)
        status = response.status_code
        if status != 200:
            body = json_or_none(response)
            message = _message(body)
            if status in (401, 403):
                raise NotAuthorized(self.name, ticker, f"not authorized ({status}: {message})")
            if status == 404:
                raise TickerNotFound(self.name, ticker, f"not found (404: {message})")
            raise BadResponse(self.name, ticker, f"request refused (HTTP {status}: {message})")
        body = read_json(response, self.name, ticker)
        if not isinstance(body, dict):
            raise BadResponse(self.name, ticker, "sent a body that is not an object")
        if body.get("status") in ("ERROR", "NOT_AUTHORIZED"):
            raise BadResponse(self.name, ticker, f"answered {body['status']}: {_message(body)}")
        return body

    def _check_next(self, url: str, seen: set[str], ticker: str) -> None:
        # The key goes with every page, so only ever send it back to our own host.
        here, there = urlsplit(self.base_url), urlsplit(url)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            raise BadResponse(
                self.name, ticker, f"next_url points at another host ({there.netloc})"
            )
        if url in seen:
            raise BadResponse(self.name, ticker, "next_url repeats a page already fetched")
        seen.add(url)


def parse_aggs(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Raw rows from Polygon results: t is the bar start in epoch milliseconds."""
    if not rows:
        return empty_bars()
    starts = epoch_starts([r.get("t") for r in rows], "ms", "float64")
    return raw_bars(starts, columns_from_rows(rows))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body.get("status") or "no message")
    return "no message"
