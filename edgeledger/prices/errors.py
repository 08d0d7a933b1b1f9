"""Why a price provider could not give bars, in words that name the provider and ticker.

Each class docstring says when it is raised; its `reason` is the default message tail,
so `TickerNotFound("yahoo", "NVDAX", "not found (404)")` reads "yahoo: NVDAX not found (404)".
"""

from __future__ import annotations

from edgeledger.errors import EdgeLedgerError


class PriceError(EdgeLedgerError):
    """A price provider failed; the fallback provider, if any, is tried next."""

    reason = "failed"

    def __init__(self, provider: str, ticker: str | None = None, reason: str | None = None) -> None:
        self.provider = provider
        self.ticker = ticker
        self.reason = reason or type(self).reason
        subject = f"{ticker} " if ticker else ""
        super().__init__(f"{provider}: {subject}{self.reason}")


class TickerNotFound(PriceError):
    """The provider does not know the ticker (a typo, or delisted)."""

    reason = "not found"


class RangeNotAvailable(PriceError):
    """The provider does not keep bars of that interval for that span (lookback limits)."""

    reason = "has no bars of that interval for that span"


class RateLimited(PriceError):
    """The provider kept answering 429 after the retries we allow."""

    reason = "rate limited (429); try again later"


class ProviderUnavailable(PriceError):
    """The provider timed out, refused the connection or kept answering 5xx."""

    reason = "unavailable"


class BadResponse(PriceError):
    """The provider answered something we cannot read (malformed JSON, missing fields)."""

    reason = "sent a response we could not read"


class NotAuthorized(PriceError):
    """The provider rejected our credentials or our plan does not cover the request."""

    reason = "rejected our credentials (check the API key settings)"


class LoginRequired(NotAuthorized):
    """The stored refresh token was rejected: a person must log in again (Schwab, weekly)."""

    reason = "refresh token rejected: log in again"
