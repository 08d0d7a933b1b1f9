"""A provider that asks a second provider when the first one fails.

Only a PriceError triggers the fallback (unknown ticker, range outside the lookback,
rate limits, outages, bad credentials); an empty answer is an answer, and programming
errors such as a naive datetime still raise at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd

from edgeledger.core.markets import MarketChoice
from edgeledger.prices.base import FetchResult, PriceProvider, Window
from edgeledger.prices.errors import PriceError

logger = logging.getLogger(__name__)


class FallbackProvider:
    """Try `primary`; on a PriceError log it and try `secondary`."""

    def __init__(self, primary: PriceProvider, secondary: PriceProvider) -> None:
        self.primary = primary
        self.secondary = secondary
        self.name = f"{primary.name}+{secondary.name}"

    def fetch_bars(
        self,
        ticker: str,
        interval: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime | None = None,
        market: MarketChoice | None = None,
    ) -> pd.DataFrame:
        """Clean bars from whichever provider answered; `fetch` also says which."""
        return self.fetch(ticker, interval, start, end, now=now, market=market).bars

    def fetch(
        self,
        ticker: str,
        interval: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime | None = None,
        market: MarketChoice | None = None,
    ) -> FetchResult:
        """The primary's bars, or the secondary's when the primary raises a PriceError.

        If both fail the secondary's error is raised, chained from the primary's and
        with the primary's message added as a note, so neither reason is lost.
        """
        try:
            return self.primary.fetch(ticker, interval, start, end, now=now, market=market)
        except PriceError as first:
            logger.warning(
                "%s failed (%s); trying %s",
                self.primary.name,
                first,
                self.secondary.name,
                extra={"ticker": ticker, "provider": self.primary.name},
            )
            try:
                return self.secondary.fetch(ticker, interval, start, end, now=now, market=market)
            except PriceError as second:
                second.add_note(f"tried {self.primary.name} first: {first}")
                raise second from first

    def plan_requests(
        self, ticker: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Window]:
        """The primary's plan, or the secondary's when the primary cannot serve the span."""
        try:
            return self.primary.plan_requests(ticker, interval, start, end, now)
        except PriceError:
            return self.secondary.plan_requests(ticker, interval, start, end, now)
