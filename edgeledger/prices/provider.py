"""The steps every provider shares: plan the requests, fetch each window, normalize.

A provider subclass only says how to fetch one window of raw rows (`fetch_window`),
how to cut a span into windows it accepts (`split`), and which interval it must
really ask for (`native_interval`); planning, windowing and cleaning live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pandas as pd

from edgeledger.clock import utc_now
from edgeledger.core.markets import (
    MarketBook,
    MarketChoice,
    market_from_quote,
    refine,
)
from edgeledger.prices.base import (
    FetchResult,
    Window,
    aggregate_hourly,
    check_request,
    empty_bars,
    hour_bounds,
    normalize_bars,
)
from edgeledger.prices.errors import BadResponse

Clock = Callable[[], datetime]

# What reading a JSON answer of an unexpected shape raises (a number where a list was, a
# list where an object was): a BadResponse for that ticker, not an error that stops the run.
_SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, ArithmeticError)

# Providers that stamp a day at midnight of their zone need the neighbouring dates
# in the request; bars outside [start, end) are cut after restamping.
DAILY_PAD = timedelta(days=1)


class BarProvider(ABC):
    """Base class of the HTTP and file providers."""

    name: ClassVar[str] = ""
    # Zone in which the provider stamps daily bars (see base.restamp_daily).
    daily_tz: ClassVar[str] = "America/New_York"
    # Whether intraday bars outside the market's sessions are dropped (extended hours).
    # Files are used as written, so the csv provider sets this False.
    filters_sessions: ClassVar[bool] = True

    def __init__(self, *, clock: Clock = utc_now, keep_extended_hours: bool = False) -> None:
        self._clock = clock
        self.keep_extended_hours = keep_extended_hours

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
        """Clean bars for [start, end); see `fetch` for the dropped bars too."""
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
        """Fetch every planned window and normalize the lot in one pass.

        `market` is the instrument's market as decided so far (default: by the ticker rules);
        what the provider says of the instrument refines it (edgeledger.core.markets.refine) and
        is returned as the result's `market`.
        """
        windows = self.plan_requests(ticker, interval, start, end, now or self._clock())
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        native = self.native_interval(ticker, interval)
        try:
            frames = [self.fetch_window(ticker, native, lo, hi) for lo, hi in windows]
        except _SHAPE_ERRORS as exc:  # reading an answer shaped other than documented
            raise BadResponse(
                self.name,
                ticker,
                f"sent an answer of a shape we could not read ({type(exc).__name__})",
            ) from exc
        quote = next((f.attrs["quote"] for f in frames if "quote" in f.attrs), None)
        said = market_from_quote(quote) if quote else None
        chosen = refine(market or MarketBook().choose(ticker), said).market
        read = {
            "daily_tz": self.daily_zone(chosen, quote),
            "sessions": None if self.keep_extended_hours or not self.filters_sessions else chosen,
        }
        frames = [f for f in frames if not f.empty]
        if len(frames) > 1:
            raw = pd.concat(frames, ignore_index=True)
        else:  # normalize_bars reads columns by position: one frame needs no copy
            raw = frames[0] if frames else empty_bars()
        if native == interval:
            result = normalize_bars(
                raw, provider=self.name, ticker=ticker, interval=interval, start=start, end=end,
                **read,
            )  # fmt: skip
            return replace(result, market=said)
        parts = normalize_bars(
            raw, provider=self.name, ticker=ticker, interval=native, start=windows[0][0],
            end=windows[-1][1], **read,
        )  # fmt: skip
        hourly = aggregate_hourly(parts.bars)
        inside = (hourly["start"] >= pd.Timestamp(start)) & (hourly["start"] < pd.Timestamp(end))
        return FetchResult(hourly[inside].reset_index(drop=True), parts.dropped, self.name, said)

    def daily_zone(self, market: str, quote: Mapping[str, Any] | None) -> str:
        """The zone this provider stamps the days of this market's daily bars in."""
        return self.daily_tz

    def plan_requests(
        self, ticker: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Window]:
        """The (start, end) windows `fetch` will request, in order; pure, so the job can plan.

        Raises RangeNotAvailable when the provider cannot serve the span at all.
        """
        check_request(ticker, interval, start, end)
        lo, hi = start.astimezone(UTC), end.astimezone(UTC)
        native = self.native_interval(ticker, interval)
        if native != interval:
            lo, hi = hour_bounds(lo, hi)
        elif interval == "1d":
            lo, hi = lo - DAILY_PAD, hi + DAILY_PAD
        return self.split(ticker, native, lo, hi, now)

    def native_interval(self, ticker: str, interval: str) -> str:
        """The interval really requested; "30m" where hours are built from half-hours."""
        return interval

    def split(
        self, ticker: str, interval: str, start: datetime, end: datetime, now: datetime
    ) -> list[Window]:
        """Cut a span into windows the provider accepts (default: one request)."""
        return [(start, end)]

    @abstractmethod
    def fetch_window(
        self, ticker: str, interval: str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        """Raw rows for one window: a `start` column plus open/high/low/close/volume."""
