"""Price bars from market-data providers, normalized so settlement never sees the difference.

The job builds a provider once from settings and asks it for bars:

    settings = PriceSettings.from_env(os.environ)
    provider = make_provider(settings)
    bars = provider.fetch_bars("AAPL", "5m", start, end)

See docs/price-providers.md for each provider's settings and limits.
"""

from __future__ import annotations

from edgeledger.prices.base import (
    DroppedBar,
    FetchResult,
    PriceProvider,
    is_24h,
    normalize_bars,
)
from edgeledger.prices.errors import (
    BadResponse,
    LoginRequired,
    NotAuthorized,
    PriceError,
    ProviderUnavailable,
    RangeNotAvailable,
    RateLimited,
    TickerNotFound,
)
from edgeledger.prices.factory import PriceSettings, make_provider
from edgeledger.prices.fallback import FallbackProvider

__all__ = [
    "BadResponse",
    "DroppedBar",
    "FallbackProvider",
    "FetchResult",
    "LoginRequired",
    "NotAuthorized",
    "PriceError",
    "PriceProvider",
    "PriceSettings",
    "ProviderUnavailable",
    "RangeNotAvailable",
    "RateLimited",
    "TickerNotFound",
    "is_24h",
    "make_provider",
    "normalize_bars",
]
