"""Alpaca market data: stocks on /v2/stocks/bars, crypto on /v1beta3/crypto/us/bars.

Free accounts may only read the IEX feed (EDGELEDGER_ALPACA_FEED=iex, the default);
IEX carries a few percent of US volume, so its bars are thinner than SIP's. Pages
are followed through `next_page_token`. Prices are split-adjusted, as Yahoo's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from edgeledger.clock import utc_now
from edgeledger.core.markets import is_around_the_clock
from edgeledger.prices.base import columns_from_rows, empty_bars, is_24h, raw_bars
from edgeledger.prices.clean import text_starts
from edgeledger.prices.errors import BadResponse, NotAuthorized, TickerNotFound
from edgeledger.prices.http import HttpClient, json_or_none, read_json
from edgeledger.prices.provider import BarProvider, Clock

DEFAULT_URL = "https://data.alpaca.markets"
TIMEFRAME: dict[str, str] = {
    "1m": "1Min",
    "5m": "5Min",
    "15m": "15Min",
    "30m": "30Min",
    "1h": "1Hour",
    "1d": "1Day",
}
FEEDS = ("iex", "sip", "delayed_sip", "boats", "overnight", "otc")
PAGE_LIMIT = 10_000
MAX_PAGES = 200


def alpaca_symbol(ticker: str) -> tuple[str, bool]:
    """Alpaca's symbol and whether it is crypto: BTC-USD and BTC/USD both mean BTC/USD."""
    t = ticker.upper()
    if is_24h(t) and not t.endswith(("=X", "=F")):
        return t.replace("-", "/"), True
    return t, False


class AlpacaProvider(BarProvider):
    """Bars from Alpaca's historical bars endpoints, authenticated by key id and secret."""

    name = "alpaca"

    def __init__(
        self,
        http: HttpClient,
        *,
        key_id: str,
        secret_key: str,
        feed: str = "iex",
        base_url: str = DEFAULT_URL,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(clock=clock)
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.feed = feed
        self._headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key}

    def daily_zone(self, market: str, quote: Mapping[str, Any] | None) -> str:
        """Days of stocks are stamped at midnight New York time, of crypto at midnight UTC."""
        return "UTC" if is_around_the_clock(market) else self.daily_tz

    def native_interval(self, ticker: str, interval: str) -> str:
        # Alpaca's hours start at :00 and include extended hours; build 09:30-aligned hours.
        return "30m" if interval == "1h" and not is_24h(ticker) else interval

    def fetch_window(
        self, ticker: str, interval: str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        if ticker.upper().endswith(("=X", "=F")):
            raise TickerNotFound(self.name, ticker, "not served (Alpaca has no forex or futures)")
        symbol, crypto = alpaca_symbol(ticker)
        path = "/v1beta3/crypto/us/bars" if crypto else "/v2/stocks/bars"
        params: dict[str, Any] = {
            "symbols": symbol,
            "timeframe": TIMEFRAME[interval],
            "start": _rfc3339(start),
            "end": _rfc3339(end),
            "limit": PAGE_LIMIT,
            "sort": "asc",
        }
        if not crypto:
            params.update(feed=self.feed, adjustment="split")
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get(self.base_url + path, ticker, params)
            rows.extend((body.get("bars") or {}).get(symbol) or [])
            token = body.get("next_page_token")
            if not token:
                return parse_bars(rows, ticker)
            if token in seen:
                raise BadResponse(
                    self.name, ticker, "next_page_token repeats a page already fetched"
                )
            seen.add(token)
            params = {**params, "page_token": token}
        raise BadResponse(self.name, ticker, f"kept paginating past {MAX_PAGES} pages")

    def _get(self, url: str, ticker: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.http.get(url, ticker=ticker, params=params, headers=self._headers)
        status = response.status_code
        if status != 200:
            message = _message(json_or_none(response))
            if status in (401, 403):
                raise NotAuthorized(self.name, ticker, f"not authorized ({status}: {message})")
            if status == 404 or (status in (400, 422) and "symbol" in message.lower()):
                raise TickerNotFound(self.name, ticker, f"not found ({status}: {message})")
            raise BadResponse(self.name, ticker, f"request refused (HTTP {status}: {message})")
        body = read_json(response, self.name, ticker)
        if not isinstance(body, dict):
            raise BadResponse(self.name, ticker, "sent a body that is not an object")
        return body


def parse_bars(rows: list[dict[str, Any]], ticker: str) -> pd.DataFrame:
    """Raw rows from Alpaca bars: t is the bar start in RFC 3339."""
    if not rows:
        return empty_bars()
    # A bar time that is not RFC 3339 drops that bar alone (normalize_bars says why).
    return raw_bars(text_starts([r.get("t") for r in rows]), columns_from_rows(rows))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "no message")
    return "no message"
