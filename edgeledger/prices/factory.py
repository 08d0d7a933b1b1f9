"""Price settings from the environment, and the provider they describe.

The entry point reads the environment once (`PriceSettings.from_env(os.environ)`) and
passes the settings down; nothing here reads the environment at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests

from edgeledger.clock import utc_now
from edgeledger.errors import ConfigError
from edgeledger.prices import alpaca, polygon, schwab, yahoo
from edgeledger.prices.alpaca import AlpacaProvider
from edgeledger.prices.base import PriceProvider
from edgeledger.prices.csv_dir import CsvDirProvider
from edgeledger.prices.fallback import FallbackProvider
from edgeledger.prices.http import HttpClient, RateLimiter
from edgeledger.prices.polygon import PolygonProvider
from edgeledger.prices.provider import BarProvider
from edgeledger.prices.schwab import SchwabProvider
from edgeledger.prices.yahoo import YahooProvider

PROVIDERS = ("yahoo", "polygon", "alpaca", "schwab", "csv")

# The settings each provider cannot work without, by attribute and variable name.
_REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "yahoo": (),
    "polygon": (("polygon_api_key", "EDGELEDGER_POLYGON_API_KEY"),),
    "alpaca": (
        ("alpaca_key_id", "EDGELEDGER_ALPACA_KEY_ID"),
        ("alpaca_secret_key", "EDGELEDGER_ALPACA_SECRET_KEY"),
    ),
    "schwab": (
        ("schwab_app_key", "EDGELEDGER_SCHWAB_APP_KEY"),
        ("schwab_app_secret", "EDGELEDGER_SCHWAB_APP_SECRET"),
        ("schwab_refresh_token", "EDGELEDGER_SCHWAB_REFRESH_TOKEN"),
    ),
    "csv": (("price_dir", "EDGELEDGER_PRICE_DIR"),),
}


@dataclass(frozen=True)
class PriceSettings:
    """Which provider to use, its fallback, and their URLs and credentials.

    Secrets are left out of repr so a logged settings object leaks nothing.
    """

    provider: str = "yahoo"
    fallback: str | None = None
    price_dir: Path | None = None
    yahoo_url: str = yahoo.DEFAULT_URL
    polygon_url: str = polygon.DEFAULT_URL
    polygon_api_key: str | None = field(default=None, repr=False)
    polygon_calls_per_minute: int = 5
    alpaca_url: str = alpaca.DEFAULT_URL
    alpaca_key_id: str | None = field(default=None, repr=False)
    alpaca_secret_key: str | None = field(default=None, repr=False)
    alpaca_feed: str = "iex"
    schwab_url: str = schwab.DEFAULT_URL
    schwab_app_key: str | None = field(default=None, repr=False)
    schwab_app_secret: str | None = field(default=None, repr=False)
    schwab_refresh_token: str | None = field(default=None, repr=False)
    http_timeout: float = 10.0
    keep_extended_hours: bool = False  # keep intraday bars outside the market's sessions

    def __post_init__(self) -> None:
        for var, name in (
            ("EDGELEDGER_PRICE_PROVIDER", self.provider),
            ("EDGELEDGER_PRICE_FALLBACK", self.fallback),
        ):
            if name is not None and name not in PROVIDERS:
                raise ConfigError(f"{var}={name!r} is not one of {', '.join(PROVIDERS)}")
        if self.fallback == self.provider:
            raise ConfigError(
                "EDGELEDGER_PRICE_FALLBACK must differ from EDGELEDGER_PRICE_PROVIDER"
            )
        for name in filter(None, (self.provider, self.fallback)):
            for attribute, var in _REQUIRED[name]:
                if not getattr(self, attribute):
                    raise ConfigError(f"{var} is required when the {name} price provider is used")
        if self.polygon_calls_per_minute < 0:
            raise ConfigError("EDGELEDGER_POLYGON_CALLS_PER_MINUTE must be 0 (no limit) or more")
        if self.alpaca_feed not in alpaca.FEEDS:
            raise ConfigError(f"EDGELEDGER_ALPACA_FEED must be one of {', '.join(alpaca.FEEDS)}")
        if self.http_timeout <= 0:
            raise ConfigError("EDGELEDGER_HTTP_TIMEOUT must be a positive number of seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PriceSettings:
        """Settings from EDGELEDGER_* variables; empty values count as unset."""

        def get(var: str) -> str | None:
            value = environ.get(var, "").strip()
            return value or None

        def number(var: str, default: float, kind: Callable[[str], float]) -> float:
            value = get(var)
            if value is None:
                return default
            try:
                if not value.isascii() or "_" in value:  # int("٤") and int("1_0") read
                    raise ValueError(value)
                return kind(value)
            except ValueError:
                raise ConfigError(f"{var}={value!r} is not a number") from None

        price_dir = get("EDGELEDGER_PRICE_DIR")
        return cls(
            provider=(get("EDGELEDGER_PRICE_PROVIDER") or "yahoo").lower(),
            fallback=(get("EDGELEDGER_PRICE_FALLBACK") or "").lower() or None,
            price_dir=Path(price_dir) if price_dir else None,
            yahoo_url=get("EDGELEDGER_YAHOO_URL") or yahoo.DEFAULT_URL,
            polygon_url=get("EDGELEDGER_POLYGON_URL") or polygon.DEFAULT_URL,
            polygon_api_key=get("EDGELEDGER_POLYGON_API_KEY"),
            polygon_calls_per_minute=int(number("EDGELEDGER_POLYGON_CALLS_PER_MINUTE", 5, int)),
            alpaca_url=get("EDGELEDGER_ALPACA_URL") or alpaca.DEFAULT_URL,
            alpaca_key_id=get("EDGELEDGER_ALPACA_KEY_ID"),
            alpaca_secret_key=get("EDGELEDGER_ALPACA_SECRET_KEY"),
            alpaca_feed=(get("EDGELEDGER_ALPACA_FEED") or "iex").lower(),
            schwab_url=get("EDGELEDGER_SCHWAB_URL") or schwab.DEFAULT_URL,
            schwab_app_key=get("EDGELEDGER_SCHWAB_APP_KEY"),
            schwab_app_secret=get("EDGELEDGER_SCHWAB_APP_SECRET"),
            schwab_refresh_token=get("EDGELEDGER_SCHWAB_REFRESH_TOKEN"),
            http_timeout=number("EDGELEDGER_HTTP_TIMEOUT", 10.0, float),
            keep_extended_hours=_flag(environ, "EDGELEDGER_KEEP_EXTENDED_HOURS"),
        )


def make_provider(
    settings: PriceSettings,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
) -> PriceProvider:
    """The configured provider, wrapped with the fallback when one is set.

    session, sleep, clock and monotonic are for tests; production passes only settings.
    """
    primary = _build(settings.provider, settings, session, sleep, clock, monotonic)
    primary.keep_extended_hours = settings.keep_extended_hours
    if settings.fallback is None:
        return primary
    secondary = _build(settings.fallback, settings, session, sleep, clock, monotonic)
    secondary.keep_extended_hours = settings.keep_extended_hours
    return FallbackProvider(primary, secondary)


def _flag(environ: Mapping[str, str], var: str) -> bool:
    value = environ.get(var, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{var}={value!r} must be true or false")


def _build(
    name: str,
    s: PriceSettings,
    session: requests.Session | None,
    sleep: Callable[[float], None],
    clock: Callable[[], datetime],
    monotonic: Callable[[], float],
) -> BarProvider:
    def http(limiter: RateLimiter | None = None) -> HttpClient:
        return HttpClient(
            name, timeout=s.http_timeout, session=session, sleep=sleep, clock=clock, limiter=limiter
        )

    # Settings were checked in __post_init__; the `or ""` only satisfies the types.
    if name == "yahoo":
        return YahooProvider(http(), base_url=s.yahoo_url, clock=clock)
    if name == "polygon":
        calls = s.polygon_calls_per_minute
        limiter = RateLimiter(calls, 60.0, sleep=sleep, monotonic=monotonic) if calls else None
        return PolygonProvider(
            http(limiter), api_key=s.polygon_api_key or "", base_url=s.polygon_url, clock=clock
        )
    if name == "alpaca":
        return AlpacaProvider(
            http(),
            key_id=s.alpaca_key_id or "",
            secret_key=s.alpaca_secret_key or "",
            feed=s.alpaca_feed,
            base_url=s.alpaca_url,
            clock=clock,
        )
    if name == "schwab":
        return SchwabProvider(
            http(),
            app_key=s.schwab_app_key or "",
            app_secret=s.schwab_app_secret or "",
            refresh_token=s.schwab_refresh_token or "",
            base_url=s.schwab_url,
            clock=clock,
        )
    if name == "csv":
        assert s.price_dir is not None
        return CsvDirProvider(s.price_dir, clock=clock)
    raise ConfigError(f"unknown price provider {name!r}")
