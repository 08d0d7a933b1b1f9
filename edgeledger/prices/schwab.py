"""Schwab market data: /marketdata/v1/pricehistory behind an OAuth access token.

Access tokens live 30 minutes and are refreshed here from the refresh token in the
settings. Schwab's refresh tokens expire 7 days after the login that issued them, so
once a week a person must log in again (docs/price-providers.md); when Schwab rejects
the refresh token we raise LoginRequired saying exactly that.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pandas as pd

from edgeledger.clock import utc_now
from edgeledger.prices.base import (
    Window,
    columns_from_rows,
    empty_bars,
    is_24h,
    raw_bars,
    split_span,
)
from edgeledger.prices.clean import epoch_starts
from edgeledger.prices.errors import (
    BadResponse,
    LoginRequired,
    NotAuthorized,
    ProviderUnavailable,
    TickerNotFound,
)
from edgeledger.prices.http import HttpClient, json_or_none, read_json
from edgeledger.prices.provider import BarProvider, Clock

logger = logging.getLogger(__name__)

DEFAULT_URL = "https://api.schwabapi.com"
# (frequencyType, frequency) per interval; hours are built from 30-minute candles.
FREQUENCY: dict[str, tuple[str, int]] = {
    "1m": ("minute", 1),
    "5m": ("minute", 5),
    "15m": ("minute", 15),
    "30m": ("minute", 30),
    "1d": ("daily", 1),
}
# periodType=day allows at most 10 days; we keep each minute request within that.
INTRADAY_SPAN = timedelta(days=10)
TOKEN_MARGIN = timedelta(seconds=60)
RELOGIN_HINT = (
    "Schwab refresh tokens expire 7 days after login: log in again (`edgeledger prices "
    "schwab-login`, see docs/price-providers.md) and update EDGELEDGER_SCHWAB_REFRESH_TOKEN"
)
REFRESH_TOKEN_LIFETIME = timedelta(days=7)


class SchwabProvider(BarProvider):
    """Bars from Schwab's price history, regular session only."""

    name = "schwab"
    daily_tz = "America/Chicago"  # Schwab stamps a day at midnight Central

    def __init__(
        self,
        http: HttpClient,
        *,
        app_key: str,
        app_secret: str,
        refresh_token: str,
        base_url: str = DEFAULT_URL,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(clock=clock)
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._app = (app_key, app_secret)
        self._refresh_token = refresh_token
        self._access_token: str | None = None
        self._expires_at: datetime | None = None
        self._token_lock = threading.Lock()  # one refresh at a time across fetch threads

    def native_interval(self, ticker: str, interval: str) -> str:
        # Schwab has no hourly candles; 30-minute ones aggregate to 09:30-aligned hours.
        return "30m" if interval == "1h" else interval

    def split(
        self, ticker: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Window]:
        return [(start, end)] if interval == "1d" else split_span(start, end, INTRADAY_SPAN)

    def fetch_window(
        self, ticker: str, interval: str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        if is_24h(ticker):
            raise TickerNotFound(self.name, ticker, "not served (no crypto, forex or futures bars)")
        frequency_type, frequency = FREQUENCY[interval]
        params = {
            "symbol": ticker.upper(),
            "periodType": "day" if frequency_type == "minute" else "year",
            "frequencyType": frequency_type,
            "frequency": frequency,
            "startDate": _ms(start),
            "endDate": _ms(end),
            "needExtendedHoursData": "false",
            "needPreviousClose": "false",
        }
        body = self._get(f"{self.base_url}/marketdata/v1/pricehistory", ticker, params)
        return parse_candles(body, ticker)

    def _get(self, url: str, ticker: str, params: dict[str, Any]) -> Any:
        """GET with a bearer token, refreshing it once if Schwab answers 401."""
        for attempt in (1, 2):
            token = self._token()
            headers = {"Authorization": f"Bearer {token}"}
            response = self.http.get(url, ticker=ticker, params=params, headers=headers)
            if response.status_code != 401 or attempt == 2:
                break
            logger.info("schwab: access token refused; refreshing", extra={"ticker": ticker})
            with self._token_lock:
                if self._access_token == token:  # not already replaced by another thread
                    self._access_token = None
        status = response.status_code
        if status == 200:
            return read_json(response, self.name, ticker)
        detail = _detail(json_or_none(response))
        if status in (401, 403):
            raise NotAuthorized(self.name, ticker, f"not authorized ({status}: {detail})")
        if status == 404:
            raise TickerNotFound(self.name, ticker, f"not found (404: {detail})")
        raise BadResponse(self.name, ticker, f"request refused (HTTP {status}: {detail})")

    def _token(self) -> str:
        with self._token_lock:
            now = self._clock()
            if self._access_token is None or self._expires_at is None or now >= self._expires_at:
                return self._refresh(now)
            return self._access_token

    def _refresh(self, now: datetime) -> str:
        """Trade the refresh token for a 30-minute access token (HTTP Basic app key:secret)."""
        response = self.http.request(
            "POST",
            f"{self.base_url}/v1/oauth/token",
            ticker=None,
            data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
            auth=self._app,
        )
        status = response.status_code
        if status in (400, 401):
            error = _oauth_error(json_or_none(response))
            raise LoginRequired(
                self.name, None, f"refresh token rejected ({error}): {RELOGIN_HINT}"
            )
        if status != 200:
            raise ProviderUnavailable(self.name, None, f"token refresh failed (HTTP {status})")
        body = read_json(response, self.name, None)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise BadResponse(self.name, None, "token refresh answered without an access_token")
        lifetime = timedelta(seconds=float(body.get("expires_in") or 1800))
        self._access_token = str(token)
        self._expires_at = now + lifetime - TOKEN_MARGIN
        # Schwab normally returns the same refresh token; keep whichever it sends.
        self._refresh_token = str(body.get("refresh_token") or self._refresh_token)
        logger.info("schwab: access token refreshed", extra={"provider": self.name})
        return self._access_token


def parse_candles(body: Any, ticker: str) -> pd.DataFrame:
    """Raw rows from a pricehistory body: datetime is the candle start in epoch ms."""
    if not isinstance(body, dict):
        raise BadResponse("schwab", ticker, "sent a body that is not an object")
    candles = body.get("candles") or []
    if not candles:
        return empty_bars()
    starts = epoch_starts([c.get("datetime") for c in candles], "ms", "float64")
    keys = {name: name for name in ("open", "high", "low", "close", "volume")}
    return raw_bars(starts, columns_from_rows(candles, keys))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _oauth_error(body: Any) -> str:
    # Only the error code: the description can quote a digest of the token.
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return "no error code"


def _detail(body: Any) -> str:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("detail") or errors[0].get("title") or "no detail")
        return str(body.get("message") or body.get("error") or "no detail")
    return "no detail"


# --- the weekly login -----------------------------------------------------------------------


def authorize_url(app_key: str, callback_url: str, base_url: str = DEFAULT_URL) -> str:
    """Where a person logs in to Schwab and approves the app."""
    query = urlencode({"client_id": app_key, "redirect_uri": callback_url})
    return f"{base_url.rstrip('/')}/v1/oauth/authorize?{query}"


def code_from_redirect(pasted: str) -> str:
    """The authorization code from the address Schwab sent the browser to (or from the
    bare code), URL-decoded (%40 becomes @)."""
    text = pasted.strip()
    if "://" in text or "code=" in text:
        codes = parse_qs(urlsplit(text).query).get("code")
        if not codes or not codes[0]:
            raise ValueError("the address has no code= parameter: paste the whole address")
        return codes[0]
    if not text:
        raise ValueError("nothing was pasted")
    return unquote(text)


@dataclass(frozen=True)
class SchwabLogin:
    """What a login gives: the refresh token for EDGELEDGER_SCHWAB_REFRESH_TOKEN."""

    refresh_token: str
    expires_at: datetime


def exchange_code(
    http: HttpClient,
    *,
    app_key: str,
    app_secret: str,
    code: str,
    callback_url: str,
    now: datetime,
    base_url: str = DEFAULT_URL,
) -> SchwabLogin:
    """Trade an authorization code for tokens (HTTP Basic app key:secret)."""
    response = http.request(
        "POST",
        f"{base_url.rstrip('/')}/v1/oauth/token",
        ticker=None,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url},
        auth=(app_key, app_secret),
    )
    status = response.status_code
    if status in (400, 401):
        error = _oauth_error(json_or_none(response))
        raise LoginRequired(
            "schwab",
            None,
            f"the code was refused ({error}): a code is good for about 30 seconds and once "
            "only, and the callback URL must be the one registered for the app; log in again",
        )
    if status != 200:
        raise ProviderUnavailable("schwab", None, f"token exchange failed (HTTP {status})")
    body = read_json(response, "schwab", None)
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if not token:
        raise BadResponse("schwab", None, "token exchange answered without a refresh_token")
    return SchwabLogin(refresh_token=str(token), expires_at=now + REFRESH_TOKEN_LIFETIME)
